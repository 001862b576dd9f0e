"""``sentiment validate``: our SGNS and gensim's on the same tokens, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentiment.cli.console import print_json, stdout
from sentiment.cli.exits import handle_errors
from sentiment.cli.inputs import read_data
from sentiment.cli.options import AsJson, Download, Quiet, Seed, word2vec_options
from sentiment.progress import Progress


@handle_errors
@word2vec_options(epochs=3)  # gensim's 100 dimensions: the setting the comparison is made at; --workers: both trainers
def validate(
    corpus: Annotated[
        Path, typer.Argument(help="Review text to train both on (CSV/TSV/.gz, or a dataset name).")
    ] = Path("imdb"),
    labelled: Annotated[
        Path | None, typer.Option("--labelled", help="Labelled reviews for downstream accuracy.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Use the first N texts of CORPUS (0: all).", min=0)] = 20_000,
    labelled_limit: Annotated[int, typer.Option("--labelled-limit", help="Use N labelled reviews.", min=0)] = 5_000,
    seed: Seed = 0,
    download: Download = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
    word2vec: dict | None = None,
):
    """Train our SGNS and gensim's on the same tokens and compare speed, memory, loss and quality.

    Both train with --workers threads for the comparison, and the scaling table gives the words/s of both at
    1, 2, 4, ... up to --workers, in the same run.
    """
    from sentiment.cli.tables import scaling_table, validation_table
    from sentiment.data.datasets import is_dataset, training_data
    from sentiment.data.reviews import load_reviews, split_reviews
    from sentiment.experiments.validate import compare_to_gensim
    from sentiment.tokenize import tokenize_all

    progress = Progress(enabled=not quiet)
    labelled_reviews = None
    if is_dataset(corpus):
        train_part, _, unsup = training_data(str(corpus), auto_download=download, progress=progress)
        texts = unsup or train_part.texts
        labelled_reviews = train_part  # downstream accuracy on the dataset's own labels, unless --labelled
    else:
        with progress.task(f"Reading {corpus.name}"):
            texts = load_reviews(corpus, require_labels=False).texts
    sentences = tokenize_all(texts[:limit] if limit else texts)
    if labelled is not None:
        labelled_reviews, _, _ = read_data(labelled, download=download, progress=progress)
    if labelled_reviews is not None and labelled_limit and len(labelled_reviews) > labelled_limit:
        labelled_reviews, _ = split_reviews(labelled_reviews, 1 - labelled_limit / len(labelled_reviews), seed)
    report = compare_to_gensim(
        sentences, params={**word2vec, "seed": seed}, labelled=labelled_reviews, progress=progress,
    )  # fmt: skip
    if as_json:
        print_json(report)
        return
    stdout().print(validation_table(report))
    stdout().print(scaling_table(report))
