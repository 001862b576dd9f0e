"""Reading what the commands are given: labelled reviews, a built-in dataset's splits, extra unlabelled text.

DATA is a file or the name of a built-in dataset (``sentiment datasets
list``). The notes the readers collect (how labels or the encoding were read)
are printed here, once. Parsing files is ``sentiment.data``'s job.
"""

from __future__ import annotations

from pathlib import Path

from sentiment.cli.console import note

__all__ = ["default_model_dir", "read_data", "read_for_experiment"]


def default_model_dir(data: Path) -> Path:
    """``models/<data name>``, without the data file's extensions."""
    name = data.name
    for suffix in (".gz", ".csv", ".tsv", ".txt"):
        name = name.removesuffix(suffix)
    return Path("models") / (name or "model")


def read_data(data: Path, *, unlabeled=None, text_column=None, label_column=None, download=False, progress):
    """Labelled reviews, the dataset's own held-out split (or None) and extra texts for the word vectors.

    The extra texts are a list (a dataset's unlabelled split), or with ``unlabeled`` files a ``TextCorpus``
    that streams them (after the dataset's texts) on every pass.
    """
    from sentiment.data.corpus import TextCorpus
    from sentiment.data.datasets import is_dataset, training_data
    from sentiment.data.reviews import load_reviews

    if is_dataset(data):
        with progress.task(f"Loading dataset {data}"):
            reviews, held_out, extra = training_data(str(data), auto_download=download, progress=progress)
        if held_out is None:
            note(f"this copy of {data} has no test split: holding out a stratified share of train")
    else:
        with progress.task(f"Reading {data.name}"):
            reviews = load_reviews(data, text_column=text_column, label_column=label_column)
        held_out, extra = None, []
    for message in reviews.notes:
        note(message)
    if unlabeled:
        # Streamed from disk on every pass of the word-vector training, never read into memory.
        return reviews, held_out, TextCorpus(unlabeled, texts=extra, text_column=text_column)
    return reviews, held_out, list(extra)


def read_for_experiment(data, unlabeled, text_column, label_column, download, progress):
    """Labelled reviews and extra texts; a built-in dataset's test split stays unseen (compare/sweep split train).

    ``compare`` and ``sweep`` train word vectors many times over: they read
    ``--unlabeled`` files into memory once rather than stream them.
    """
    reviews, _, extra = read_data(
        data, unlabeled=unlabeled, text_column=text_column, label_column=label_column, download=download,
        progress=progress,
    )  # fmt: skip
    from sentiment.data.corpus import TextCorpus

    if isinstance(extra, TextCorpus):
        with progress.task("Reading " + ", ".join(path.name for path in extra.paths)):
            extra = [text for text in extra.raw_texts() if text.strip()]
    return reviews, extra
