"""The error and exit-code wrapper every command runs in.

A ``SentimentError`` becomes one line on stderr and exit status 1; Ctrl-C exits
130 and SIGTERM 143 after the library's cleanup (``finally`` blocks) has run;
warnings meant for users become ``note:`` lines; typer's usage errors keep
status 2 (typer raises them before the command runs). ``--debug`` lets the
original traceback through. Printing results is ``console.py``'s job. The exit is
a plain ``SystemExit`` (typer lets it through), so ``fast_predict.py`` runs
commands here without importing typer.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import warnings

from sentiment.cli.console import note
from sentiment.errors import SentimentError

__all__ = ["handle_errors", "settings"]

settings = {"debug": False}  # set by the --debug option of the sentiment command


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` cleans up."""


def _on_sigterm(signum, frame):
    raise _Terminated()


@contextlib.contextmanager
def _warnings_as_notes():
    """Warnings meant for users (scikit-learn's ConvergenceWarning, our SentimentWarning, NumPy's RuntimeWarning)
    become one ``note:`` line each, once per distinct message; other categories keep Python's handling."""
    seen = set()
    show_other = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, UserWarning | RuntimeWarning):
            return show_other(message, category, filename, lineno, file, line)
        text = " ".join(str(message).split())
        if text not in seen:
            seen.add(text)
            note(text)

    with warnings.catch_warnings():
        warnings.filterwarnings("always", category=UserWarning)  # "always": deduplicated above, by message
        warnings.filterwarnings("always", category=RuntimeWarning)
        warnings.showwarning = show
        yield


def handle_errors(command):
    """Map library errors and interruptions to one line on stderr and an exit status."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            with _warnings_as_notes():
                return command(*args, **kwargs)
        except SentimentError as error:
            if settings["debug"]:
                raise
            line = " ".join(str(error).split())  # one line, never wrapped, even if a cause spans several
            sys.stderr.write(f"error: {line}\n")
            raise SystemExit(1) from None
        except _Terminated:
            sys.stderr.write("terminated: unfinished work was dropped; existing files are as they were\n")
            raise SystemExit(143) from None
        except KeyboardInterrupt:
            sys.stderr.write("interrupted: unfinished work was dropped; existing files are as they were\n")
            raise SystemExit(130) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper
