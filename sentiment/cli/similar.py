"""``sentiment similar``: the nearest words to a word in a model's SGNS vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentiment.cli.console import print_json, stdout
from sentiment.cli.exits import handle_errors
from sentiment.cli.options import AsJson


@handle_errors
def similar(
    model: Annotated[Path, typer.Argument(help="A model directory with word vectors.")],
    word: Annotated[str, typer.Argument(help="The word to look up.")],
    topn: Annotated[int, typer.Option("--topn", help="How many neighbours.", min=1)] = 10,
    as_json: AsJson = False,
):
    """Nearest words to WORD by cosine similarity of the model's SGNS vectors."""
    from sentiment.cli.tables import similar_table
    from sentiment.errors import ModelError
    from sentiment.model import SentimentModel
    from sentiment.tokenize import tokenize

    wv = SentimentModel.load(model).word_vectors
    if wv is None:
        raise ModelError(f"{model}: was trained with one-hot features only and has no word vectors")
    key = word if word in wv else " ".join(tokenize(word))
    if key not in wv:
        raise ModelError(f"{word!r} is not in the model's vocabulary of {len(wv):,} words")
    neighbours = wv.most_similar(key, topn=topn)
    if as_json:
        print_json({"word": key, "neighbours": [{"word": w, "similarity": s} for w, s in neighbours]})
        return
    stdout().print(similar_table(key, neighbours))
