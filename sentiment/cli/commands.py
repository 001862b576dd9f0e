"""The ``sentiment`` typer application: every command and its options.

``sentiment/cli/__init__.py``'s ``main`` runs it (after giving the one-text
``predict`` its typer-free fast path, ``fast_predict.py``).
"""

from __future__ import annotations

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

__all__ = ["app"]

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
