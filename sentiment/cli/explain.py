"""``sentiment explain``: each word's exact contribution to a model's decision on one text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentiment.cli.console import print_json, say, stdout
from sentiment.cli.exits import handle_errors
from sentiment.cli.options import AsJson


@handle_errors
def explain(
    model: Annotated[Path, typer.Argument(help="A model directory from `sentiment train`.")],
    text: Annotated[str, typer.Argument(help="The text to explain.")],
    kind: Annotated[
        str | None, typer.Option("--pipeline", help="embeddings or onehot (default: the model's primary).")
    ] = None,
    as_json: AsJson = False,
):
    """Explain the label of TEXT: each word's share of the classifier's logit (exact for these linear models)."""
    from sentiment.cli.tables import explanation_table
    from sentiment.model import SentimentModel

    explanation = SentimentModel.load(model).explain(text, kind)
    if as_json:
        print_json(explanation.to_dict())
        return
    say(f"{explanation.label} ({explanation.probability:.3f}) by the {explanation.pipeline} pipeline")
    stdout().print(explanation_table(explanation))
