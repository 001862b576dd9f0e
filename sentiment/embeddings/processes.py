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
    "prepare_worker",
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


def prepare_worker() -> tuple[int, int] | None:
    """Set up a freshly forked worker; return its memory at the start, for ``worker_peak_bytes``.

    The worker ignores Ctrl-C (the parent handles it and kills the workers),
    takes the default SIGTERM instead of the parent's handler, dies with the
    parent if that is killed outright (Linux), and resets its peak-memory
    counter.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux
        pass
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # peak RSS from now on
        return status_kib("VmRSS"), status_kib("RssShmem")
    except OSError:
        return None


def worker_peak_bytes(start: tuple[int, int] | None) -> int:
    """The rise of this worker's peak memory since ``prepare_worker``, less shared pages (the parent counts those)."""
    if start is None:
        return 0
    return max(0, status_kib("VmHWM") - start[0] - (status_kib("RssShmem") - start[1])) * 1024


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
