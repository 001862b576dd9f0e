"""Where the commands print: results on stdout (tables, literal lines, JSON), notes on stderr.

Everything printed here is literal text: paths, names and texts come from
users and data and are never read as rich markup. Building tables is
``tables.py``'s job.
"""

from __future__ import annotations

import json
import math
import sys

from rich.console import Console

__all__ = ["note", "print_json", "say", "stdout"]


def stdout() -> Console:
    # Piped or redirected, rich would cut tables to 80 columns: the reader of a file wants every cell whole.
    width = None if sys.stdout.isatty() else 10_000
    return Console(file=sys.stdout, soft_wrap=False, width=width)


def say(message: str) -> None:
    """A line of results on stdout, printed literally: paths and names are never rich markup."""
    stdout().print(message, markup=False, highlight=False)


def note(message: str) -> None:
    """Something the user should hear about, on one unwrapped line of stderr."""
    sys.stderr.write(f"note: {message}\n")


def print_json(value) -> None:
    """One JSON document on stdout; NaN (an undefined metric) becomes null."""
    sys.stdout.write(json.dumps(_json_safe(value), indent=2, ensure_ascii=False) + "\n")


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
