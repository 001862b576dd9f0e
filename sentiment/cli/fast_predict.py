"""``sentiment predict MODEL TEXT...`` without typer: the hot path of scripts that label one text at a time.

typer 0.29 builds a pydantic validator for each parameter of the command it
runs: that alone costs more than loading a model and scoring a text with it
(issue 13 asks for a one-text predict within 3x ``python -c "import numpy"``).
So ``sentiment.cli.main`` offers the command line here first. Exactly
``[--debug] predict MODEL TEXT... [--json] [--quiet | -q]`` (flags anywhere
after ``predict``) runs here, through the same ``handle_errors`` and the same
``label_texts`` as the typer command; anything else, any other option,
``--help`` or a text that starts with ``-``, is left to typer, so its usage
errors and help stay typer's.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sentiment.cli.console import print_json, stdout
from sentiment.cli.exits import handle_errors, settings

__all__ = ["Request", "label_texts", "parse", "run"]

_FLAGS = ("--json", "--quiet", "-q")  # --quiet only silences progress, and labelling texts shows none


@dataclass(frozen=True)
class Request:
    model: Path
    texts: list[str]
    as_json: bool
    debug: bool


def parse(args: list[str]) -> Request | None:
    """The request, if ``args`` is a plain one-or-more-texts predict; None leaves it to typer.

    >>> parse(["predict", "model", "great film", "--json"])
    Request(model=PosixPath('model'), texts=['great film'], as_json=True, debug=False)
    >>> parse(["predict", "model", "--input", "reviews.csv"]) is None
    True
    """
    debug = args[:1] == ["--debug"]
    args = args[1:] if debug else args
    if args[:1] != ["predict"]:
        return None
    positional = [arg for arg in args[1:] if arg not in _FLAGS]
    if len(positional) < 2 or any(arg.startswith("-") for arg in positional):
        return None
    return Request(Path(positional[0]), positional[1:], as_json="--json" in args[1:], debug=debug)


def run(request: Request) -> None:
    """Label the texts as ``sentiment predict`` does: one line and exit 1 on a bad model, 130 on Ctrl-C."""
    settings["debug"] = request.debug
    try:
        handle_errors(label_texts)(request.model, request.texts, request.as_json)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`| head`): exit 1 quietly, as click does for typer's commands
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        raise SystemExit(1) from None


def label_texts(model: Path, texts: list[str], as_json: bool) -> None:
    """Load MODEL, label TEXTs and print them: a table, or one JSON document."""
    from sentiment.model import SentimentModel
    from sentiment.predict import predict_texts

    predictions = predict_texts(SentimentModel.load(model), texts)
    if as_json:
        print_json({"predictions": predictions})
        return
    from sentiment.cli.tables import predictions_table

    stdout().print(predictions_table(predictions))
