"""The ``sentiment`` command line: thin typer wrappers over the library, one module per command.

Each command parses options, calls one library function, and prints: results
on stdout (a rich table, or one JSON document with ``--json``), progress and
errors on stderr. ``exits.py`` maps errors and interruptions to exit statuses,
``options.py`` holds the shared option types (the word2vec group comes from
``sentiment/embeddings/params.py``), ``inputs.py`` reads DATA, ``console.py``
prints and ``tables.py`` builds tables. No ML logic here; nothing below the
command line imports it.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from sentiment.cli import (
    compare,
    datasets,
    evaluate,
    explain,
    predict,
    serve,
    similar,
    sweep,
    train,
    validate,
    word2vec,
)
from sentiment.cli.exits import settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="sentiment",
    help="Train sentiment classifiers from review text: our NumPy SGNS word vectors vs a one-hot baseline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks on errors.")] = False):
    settings["debug"] = debug


for command in (train.train, evaluate.evaluate, predict.predict, explain.explain, similar.similar,
                validate.validate, compare.compare, sweep.sweep, word2vec.word2vec, serve.serve):  # fmt: skip
    app.command()(command)
app.add_typer(datasets.app, name="datasets")


def main() -> None:
    """Console-script entry point."""
    app(args=optional_values(sys.argv[1:]))


def optional_values(args: list[str]) -> list[str]:
    """``--dask`` given without an address means a local cluster: spell it out for the parser.

    >>> optional_values(["predict", "m", "--input", "x", "--dask", "--output", "y"])[4:6]
    ['--dask', 'local']
    >>> optional_values(["predict", "m", "--dask", "tcp://h:8786"])[2:]
    ['--dask', 'tcp://h:8786']
    """
    out = []
    for i, arg in enumerate(args):
        out.append(arg)
        if arg == "--dask" and (i + 1 == len(args) or args[i + 1].startswith("-")):
            out.append("local")
    return out
