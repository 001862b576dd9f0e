"""Waiting for real subprocesses in tests: a CLI command that has started, a server that is ready."""

import signal
import subprocess
import time

import httpx
import pytest


def as_at_a_terminal() -> None:
    """``preexec_fn`` for a command a test will Ctrl-C: SIGINT at its default, as in a terminal.

    A test runner started in the background by a shell without job control
    inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until_the_command_runs(process, timeout=180.0):
    """Wait until the CLI has installed its SIGTERM handler: imports are done and the command runs.

    On a loaded machine starting Python with pandas and scikit-learn can take
    seconds; a signal before then would hit the interpreter, not our code.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{process.pid}/status") as status:
            caught = next(int(line.split()[1], 16) for line in status if line.startswith("SigCgt:"))
        if caught & (1 << (signal.SIGTERM - 1)):
            return
        assert process.poll() is None, "the command ended before it could be interrupted"
        time.sleep(0.1)
    process.kill()
    process.communicate()
    raise AssertionError("the command did not start in time")


def interrupt(process, signum, timeout=60.0) -> str:
    """Send ``signum`` and wait for the command to end; return its stderr.

    A command still running ``timeout`` seconds later is killed and the test
    fails with what it printed, so that no process outlives the test.
    """
    process.send_signal(signum)
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        stderr = process.communicate()[1]
        pytest.fail(f"the command still ran {timeout:.0f} s after signal {signum}: {stderr[-2000:]}")


def wait_until_ready(base: str, process, timeout=60.0) -> None:
    """Poll ``base``/readyz until the server answers 200; fail with its stderr if it dies or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"the server did not become ready: {process.communicate(timeout=10)[1][-2000:]}")
