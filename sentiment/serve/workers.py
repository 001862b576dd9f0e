"""``sentiment serve --workers N``: N uvicorn worker processes, each with its own listening socket on the port.

Why not uvicorn's own ``--workers``: its workers share one listening socket,
and whichever is idle when connections arrive accepts them all. Clients that
keep their connections open (every HTTP client library, a reverse proxy's
pool) then stay on one worker: measured with 8 keep-alive clients, one of
two workers did all the work (5.6 CPU seconds against 0.0). Here every
worker binds its own socket with ``SO_REUSEPORT``, and the kernel spreads new
connections over the sockets (by a hash of their addresses), so both cores
serve. Where the kernel does not balance that way (anything but Linux),
``supported()`` is False and the command line uses uvicorn's supervisor.

The supervisor (``run_workers``) starts the workers (fresh ``spawn``
interpreters: each loads the model itself), stops them on Ctrl-C or SIGTERM
with a graceful shutdown (SIGTERM, at most ``GRACE`` seconds, then SIGKILL;
the command then exits 130 or 143, as every command does),
and replaces a worker that dies while serving. A worker that fails before it
is ready (a model deleted since the command checked it, a port taken) stops
them all: the command exits 1 after the worker's own one-line error. What the
workers serve is ``app.py``'s; this module only runs processes and sockets.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import time
from dataclasses import dataclass

__all__ = ["GRACE", "WorkerSettings", "run_workers", "supported"]

GRACE = 10  # seconds a stopping worker gets before SIGKILL (uvicorn's own graceful shutdown is 5 s)
_READY_TIMEOUT = 120  # seconds a worker may take to load the model and listen
_POLL = 0.2


@dataclass(frozen=True)
class WorkerSettings:
    """What each worker needs: the model directory, where to listen, and the API key's variable name."""

    model: str
    host: str
    port: int
    api_key_env: str | None
    access_log: bool


def supported() -> bool:
    """Whether the kernel spreads connections over ``SO_REUSEPORT`` sockets: Linux's does.

    macOS and the BSDs accept the option without balancing (FreeBSD has a
    separate ``SO_REUSEPORT_LB``), Windows lacks it: there uvicorn's own
    supervisor runs the workers.
    """
    return hasattr(socket, "SO_REUSEPORT") and sys.platform.startswith("linux")


def run_workers(settings: WorkerSettings, workers: int) -> int:
    """Serve with ``workers`` processes until Ctrl-C or SIGTERM; the exit status (1: a worker failed to start)."""
    context = multiprocessing.get_context("spawn")
    stop = {"signal": None}

    def on_signal(signum, frame):
        stop["signal"] = signum

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    running: list[tuple[multiprocessing.Process, multiprocessing.Event]] = []
    try:
        running = [_start(context, settings) for _ in range(workers)]
        for process, ready in running:  # all start at once; each loads the model in about a second
            if not _wait_until_ready(process, ready, stop):
                if stop["signal"] is not None:
                    return 128 + stop["signal"]
                sys.stderr.write(f"error: a server worker failed to start (exit status {process.exitcode})\n")
                return 1
        url_host = f"[{settings.host}]" if ":" in settings.host else settings.host
        sys.stderr.write(
            f"INFO:     Serving on http://{url_host}:{settings.port} with {workers} worker processes, "
            "one socket each (Press CTRL+C to quit)\n"
        )
        while stop["signal"] is None:
            time.sleep(_POLL)
            for index, (process, _) in enumerate(running):
                if not process.is_alive() and stop["signal"] is None:
                    code = process.exitcode
                    sys.stderr.write(f"note: server worker {process.pid} exited ({code}); starting another\n")
                    running[index] = replacement = _start(context, settings)
                    if not _wait_until_ready(*replacement, stop) and stop["signal"] is None:
                        sys.stderr.write("error: the replacement server worker failed to start\n")
                        return 1
        return 128 + stop["signal"]  # stopped as asked: 130 after Ctrl-C, 143 after SIGTERM, as every command
    finally:
        _stop_all([process for process, _ in running])
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start(context, settings: WorkerSettings):
    ready = context.Event()
    process = context.Process(target=_serve_one, args=(settings, ready), name="sentiment-serve-worker")
    # Started with Ctrl-C ignored (an ignored signal stays ignored across exec): a Ctrl-C while a worker loads
    # is the supervisor's to handle, not a traceback in the worker. Once serving, uvicorn handles it itself
    # (a graceful shutdown, as the supervisor's SIGTERM).
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process.start()
    finally:
        signal.signal(signal.SIGINT, handler)
    return process, ready


def _wait_until_ready(process, ready, stop: dict) -> bool:
    deadline = time.monotonic() + _READY_TIMEOUT
    while not ready.wait(_POLL):
        if not process.is_alive() or time.monotonic() > deadline or stop["signal"] is not None:
            return False
    return True


def _stop_all(processes: list) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()  # SIGTERM: uvicorn finishes the requests in hand, then exits
    deadline = time.monotonic() + GRACE
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # one socket per worker, the kernel balances
    sock.bind((host, port))
    return sock


def _serve_one(settings: WorkerSettings, ready) -> None:
    """A worker process: load the model, listen on its own socket, serve until SIGTERM."""
    import os

    import uvicorn

    from sentiment.errors import SentimentError
    from sentiment.model import SentimentModel
    from sentiment.serve.app import create_app

    api_key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
    try:
        app = create_app(SentimentModel.load(settings.model), api_key=api_key)
        sock = _listening_socket(settings.host, settings.port)
    except (SentimentError, OSError) as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        raise SystemExit(1) from None
    app.router.on_startup.append(_set_later(ready))
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, access_log=settings.access_log, log_level="info",
        timeout_graceful_shutdown=5,
    )  # fmt: skip
    uvicorn.Server(config).run(sockets=[sock])


def _set_later(event):
    async def set_event():
        event.set()

    return set_event
