"""The operating-system plumbing under ``Word2Vec(workers=N)``'s forked worker processes.

Anonymous shared memory for the weights, a worker's own signal set-up and
memory accounting, closing a queue whose readers are gone, and holding Ctrl-C
and SIGTERM so that they land only where the parent can clean up. What the
workers compute, and how blocks are handed out, is ``word2vec.py``'s.
"""

from __future__ import annotations

import mmap
import signal
import threading
import time

import numpy as np

__all__ = [
    "HeldInterruptions",
    "drain",
    "keep_freed_memory",
    "prepare_worker",
    "private_kib",
    "release_free_heap",
    "shared_copy",
    "shared_zeros",
    "status_kib",
    "worker_peak_bytes",
]


def shared_copy(array: np.ndarray) -> np.ndarray:
    """``array`` copied into anonymous shared memory: processes forked afterwards write into the same pages.

    ``mmap(-1, n)`` is ``MAP_SHARED | MAP_ANONYMOUS``: no file, no name, freed
    with the last process that maps it, so an interrupted run leaves nothing.
    """
    shared = shared_zeros(array.shape, array.dtype)
    shared[...] = array
    return shared


def shared_zeros(shape: tuple[int, ...], dtype) -> np.ndarray:
    """Zeros in anonymous shared memory (see ``shared_copy``); pages take memory only once written."""
    size = int(np.prod(shape))
    buffer = mmap.mmap(-1, max(size * np.dtype(dtype).itemsize, 1))
    return np.frombuffer(buffer, dtype=dtype, count=size).reshape(shape)


class HeldInterruptions:
    """Ctrl-C and SIGTERM recorded, not raised, inside the ``with``; raised where the owner checks, or at its end.

    A ``KeyboardInterrupt`` can land anywhere: inside ``os.fork``'s Python
    hooks (logging's lock release), where it is swallowed ("Exception
    ignored") and the interruption is lost; or inside a queue's ``put``
    between taking and releasing its lock, after which closing that queue
    waits for good. Held, a signal is only recorded. ``raise_if_received``
    (called where nothing is half done) and the end of the block put the
    previous handlers back and deliver it to them, so the CLI's exit codes and
    every ``finally`` work as usual; cleanup that a second Ctrl-C must not cut
    short holds them again in a nested ``HeldInterruptions`` (what arrives
    meanwhile is delivered when it ends). Forked children inherit the harmless
    recorder and set their own handlers first thing (``prepare_worker``).
    Handlers belong to the main thread: elsewhere nothing is held.
    """

    _HELD = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self._received: list[int] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> HeldInterruptions:
        if threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._record) for signum in self._HELD}
        return self

    def __exit__(self, *exc_info) -> None:
        self._release()

    def _record(self, signum, frame) -> None:
        self._received.append(signum)

    def raise_if_received(self) -> None:
        """Deliver a held signal now (its handler raises ``KeyboardInterrupt``, or whatever it does)."""
        if self._received:
            self._release()

    def _release(self) -> None:
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        received, self._received = list(dict.fromkeys(self._received)), []
        for signum in received:
            signal.raise_signal(signum)  # the handler runs before this returns


def prepare_worker(block_bytes: int = 0) -> int | None:
    """Set up a freshly forked worker; return its private memory at the start, for ``worker_peak_bytes``.

    The worker ignores Ctrl-C (the parent handles it and kills the workers),
    takes the default SIGTERM instead of the parent's handler, dies with the
    parent if that is killed outright (Linux), and keeps the memory its blocks
    of about ``block_bytes`` free between them (``keep_freed_memory``).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _call_libc("prctl", 1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    keep_freed_memory(block_bytes)
    return private_kib()


def keep_freed_memory(block_bytes: int = 0) -> None:
    """Let glibc's malloc keep what a block frees, for the next block, instead of giving it back.

    Each block allocates and frees the same arrays, ``block_bytes`` at most
    at once. With malloc's adaptive defaults, a worker maps the big ones
    afresh and trims its heap after each block, so every block faults its
    pages in again: measured in a newly spawned process, 6 million page
    faults over three epochs and 20% more worker CPU time. Fixed thresholds
    keep them: arrays up to 4 MiB come from the heap, and the heap is trimmed
    only beyond 4 MiB free or twice ``block_bytes``, whichever is more. What
    is kept is memory the worker holds: at 100 dimensions a fixed 8 MiB cost
    two workers 6 MiB more than 4 MiB, for no speed, and 2 MiB brought the
    faults back (13% slower); at 300 dimensions, where a block needs several
    megabytes, a threshold below a block's size had every block trimmed and
    re-faulted (half speed). Elsewhere than glibc, nothing.
    """
    _call_libc("mallopt", -3, 4 * 2**20)  # M_MMAP_THRESHOLD
    _call_libc("mallopt", -1, max(4 * 2**20, 2 * int(block_bytes)))  # M_TRIM_THRESHOLD


def worker_peak_bytes(start: int | None) -> int:
    """What this worker added to the machine's memory since ``prepare_worker``: its private pages.

    A forked worker starts with every page shared with its parent, so its own
    cost is what became private since: pages it allocated and inherited pages
    it wrote to (copied on write, free heap reused included). The weights in
    shared memory stay shared and are counted by the parent. Measured when the
    worker finishes; its memory only grows while it trains (the block arrays
    have the same size each block), so that is its peak.
    """
    end = private_kib()
    return 0 if start is None or end is None else max(0, end - start) * 1024


def private_kib() -> int | None:
    """Pages of this process's own mappings that no other process maps, in KiB (Linux ``/proc/self/smaps``).

    Shared-memory mappings (the weights) are left out even where only this
    process still maps a page: they belong to the whole run, which counts
    them once. None where ``/proc`` has no smaps.
    """
    total, own_mapping = 0, False
    try:
        with open("/proc/self/smaps") as smaps:
            for line in smaps:
                field = line.split(maxsplit=2)
                if not field[0].endswith(":"):  # a mapping's first line: address range, permissions, ...
                    own_mapping = field[1].endswith("p")  # "rw-p": private (copy on write); "rw-s": shared
                elif own_mapping and field[0] in ("Private_Clean:", "Private_Dirty:"):
                    total += int(field[1])
    except OSError:
        return None
    return total


def release_free_heap() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    Called before a peak is measured as a rise of the resident size: pages
    freed earlier and still resident would otherwise be reused without the
    resident size rising, and the measurement would depend on what ran before.
    """
    _call_libc("malloc_trim", 0)


def _call_libc(function: str, *args) -> None:
    """``function(*args)`` from the C library this process runs on, where it has one (glibc, Linux); else nothing."""
    try:
        import ctypes

        getattr(ctypes.CDLL(None), function)(*args)
    except (OSError, AttributeError, TypeError):  # no such function, or no CDLL(None) (Windows)
        pass


def status_kib(field: str) -> int:
    """A ``/proc/self/status`` field in KiB (``VmRSS``, ``VmHWM``, ...); 0 where it is missing."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def drain(channel) -> None:
    """Close a ``multiprocessing.Queue`` whose readers are gone, reading what its feeder thread still writes.

    The feeder thread writes the queued messages into a pipe and exits after
    the last; with no worker left to read, it would block on a full pipe for
    good. Reading the pipe here (the queue's own reader end, for at most 5 s)
    lets it finish, so no thread outlives the epoch.
    """
    feeder = getattr(channel, "_thread", None)
    reader = getattr(channel, "_reader", None)
    channel.cancel_join_thread()
    channel.close()
    deadline = time.monotonic() + 5
    while feeder is not None and reader is not None and feeder.is_alive() and time.monotonic() < deadline:
        try:
            if reader.poll(0.05):
                reader.recv_bytes()
        except (OSError, EOFError, TypeError):  # the feeder closed the pipe (mid-read: TypeError): it is done
            break
    if feeder is not None:
        feeder.join(timeout=1)
