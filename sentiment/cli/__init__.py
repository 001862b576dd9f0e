"""The ``sentiment`` command line: thin typer wrappers over the library, one module per command.

Each command parses options, calls one library function, and prints: results
on stdout (a rich table, or one JSON document with ``--json``), progress and
errors on stderr. ``commands.py`` assembles the typer application; ``exits.py``
maps errors and interruptions to exit statuses, ``options.py`` holds the
shared option types (the word2vec group comes from
``sentiment/embeddings/params.py``), ``inputs.py`` reads DATA, ``console.py``
prints and ``tables.py`` builds tables. No ML logic here; nothing below the
command line imports it.

``main`` sends ``sentiment predict MODEL TEXT...`` down ``fast_predict.py``'s
typer-free path (building typer's parser costs more than scoring a text) and
everything else to typer. ``app`` is imported on first use, so that path
never loads typer.
"""

from __future__ import annotations

import sys

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    args = optional_values(sys.argv[1:])
    from sentiment.cli import fast_predict

    if (request := fast_predict.parse(args)) is not None:
        fast_predict.run(request)
        return
    from sentiment.cli.commands import app

    app(args=args)


def __getattr__(name: str):
    if name == "app":  # ``from sentiment.cli import app`` (tests, embedding the CLI) without importing typer here
        from sentiment.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
