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
    """Labelled reviews, the dataset's own held-out split (or None) and extra texts for the word vectors."""
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
    extra = list(extra)
    for path in unlabeled or []:
        with progress.task(f"Reading {path.name}"):
            extra.extend(load_reviews(path, text_column=text_column, require_labels=False).texts)
    return reviews, held_out, extra


def read_for_experiment(data, unlabeled, text_column, label_column, download, progress):
    """Labelled reviews and extra texts; a built-in dataset's test split stays unseen (compare/sweep split train)."""
    reviews, _, extra = read_data(
        data, unlabeled=unlabeled, text_column=text_column, label_column=label_column, download=download,
        progress=progress,
    )  # fmt: skip
    return reviews, extra
