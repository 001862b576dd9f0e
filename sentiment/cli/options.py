"""Option types shared by the commands, and the word2vec option group built from ``embeddings/params.py``.

``word2vec_options`` gives a command one ``--name`` option per word2vec
parameter (names, defaults and help from ``WORD2VEC_PARAMS``) and hands them
to it as one ``word2vec`` dict, so a new parameter needs no edit here. The
other types (``TextColumn``, ``Quiet``, ...) are typer ``Annotated`` aliases;
checks that make a bad value a usage error (exit 2) are typer callbacks.
"""

from __future__ import annotations

import functools
import inspect
import os
from pathlib import Path
from typing import Annotated

import typer

from sentiment.embeddings.params import WORD2VEC_PARAMS

__all__ = [
    "AVAILABLE_CORES",
    "DEFAULT_VECTOR_SIZE",
    "AsJson",
    "ChosenC",
    "Doc2VecEpochs",
    "Doc2VecNgrams",
    "Download",
    "InverseRegularisation",
    "LabelColumn",
    "Normalize",
    "Phrases",
    "Pooling",
    "PriorTokens",
    "Quiet",
    "Seed",
    "TextColumn",
    "Unlabeled",
    "Vectors",
    "Weighting",
    "check_calibration",
    "check_compare_features",
    "check_test_size",
    "check_train_features",
    "doc2vec_params",
    "representations",
    "word2vec_options",
]

# The classifier's default: measured on IMDB (word vectors from train + unsup, 5 epochs, held-out 20% of
# train), mean vectors of 100 dimensions reached 0.851 accuracy and 300 dimensions 0.865 (README).
# `validate` keeps gensim's 100, the setting it compares at.
DEFAULT_VECTOR_SIZE = 300
# The commands' default --workers: every core this process may run on (the Python API's default stays 1).
AVAILABLE_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

TextColumn = Annotated[str | None, typer.Option("--text-column", help="Column holding the review text.")]
LabelColumn = Annotated[str | None, typer.Option("--label-column", help="Column holding the label.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout instead of tables.")]
InverseRegularisation = Annotated[float, typer.Option("--C", help="Inverse regularisation strength of the classifier.")]
ChosenC = Annotated[
    float | None,
    typer.Option("--C", help="Inverse regularisation strength (default: chosen per pipeline on a dev split)."),
]
Weighting = Annotated[
    str,
    typer.Option(
        "--weighting", help="How words are weighted in the average: uniform, idf, sif, nb, or several joined by +."
    ),
]
Pooling = Annotated[str, typer.Option("--pooling", help="mean, or mean_max (the element-wise max appended).")]
Phrases = Annotated[
    int, typer.Option("--phrases", help="Join frequent word pairs into phrases first: 0 (off), 1 or 2 passes.", min=0)
]
Seed = Annotated[int, typer.Option("--seed", help="Random seed (splits, SGNS).")]
Download = Annotated[
    bool, typer.Option("--download", help="Download a built-in dataset given as DATA if it is not cached.")
]
Unlabeled = Annotated[
    list[Path] | None, typer.Option("--unlabeled", help="More text for the word vectors (repeatable).")
]


Vectors = Annotated[
    Path | None,
    typer.Option(
        "--vectors",
        help="Fixed pretrained word vectors instead of training SGNS: word2vec text or binary, GloVe .txt, "
        "fastText .vec (format detected).",
    ),
]
PriorTokens = Annotated[
    float | None,
    typer.Option(
        "--prior-tokens",
        min=0,
        help="Pull each review's averaged vector towards the average training review as if it held this many "
        "more words: keeps short texts from extreme probabilities (default: chosen on sentences of dev reviews).",
    ),
]
Doc2VecNgrams = Annotated[
    int,
    typer.Option(
        "--doc2vec-ngrams",
        min=1,
        max=3,
        help="Document vectors predict runs of up to this many words beside the words (2: word pairs; on IMDB "
        "0.902 vs 0.888 alone, with a word side ten times larger).",
    ),
]
Doc2VecEpochs = Annotated[
    int | None, typer.Option("--doc2vec-epochs", min=1, help="Passes for the document vectors (default 20).")
]


def doc2vec_params(ngrams: int, epochs: int | None) -> dict | None:
    """The document-vector settings given on the command line (None: all defaults)."""
    given = {"ngrams": ngrams} if ngrams != 1 else {}
    if epochs is not None:
        given["epochs"] = epochs
    return given or None


Normalize = Annotated[
    bool | None,
    typer.Option(
        "--normalize/--no-normalize",
        help="Scale each averaged vector to unit length before standardising (length-independent features; "
        "default chosen by measurement, README 'Calibration').",
    ),
]


def word2vec_options(**defaults):
    """Decorator: add an option for every word2vec parameter offered on the command line.

    The command declares ``word2vec: dict`` and receives the chosen values
    there; ``defaults`` override the parameters' own defaults for this command
    (``train`` uses 300 dimensions, for example). ``--workers`` defaults to
    ``AVAILABLE_CORES`` on every command unless ``defaults`` say otherwise.
    """
    defaults = {"workers": AVAILABLE_CORES, **defaults}
    offered = [p for p in WORD2VEC_PARAMS if p.on_cli]

    def decorate(command):
        signature = inspect.signature(command, eval_str=True)  # typer needs evaluated annotations
        own = [p for p in signature.parameters.values() if p.name != "word2vec"]
        added = [
            inspect.Parameter(
                p.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=defaults.get(p.name, p.default),
                annotation=Annotated[
                    p.type, typer.Option(f"--{p.name.replace('_', '-')}", help=p.help, rich_help_panel="Word2Vec")
                ],
            )
            for p in offered
        ]

        @functools.wraps(command)
        def wrapper(**kwargs):
            word2vec = {p.name: kwargs.pop(p.name) for p in offered}
            return command(**kwargs, word2vec=word2vec)

        wrapper.__signature__ = signature.replace(parameters=[*own, *added])
        return wrapper

    return decorate


def check_test_size(value: float) -> float:
    """A held-out share in (0, 1), or a whole number of held-out rows."""
    if not (0 < value < 1 or (value >= 1 and value.is_integer())):
        raise typer.BadParameter(f"{value:g} is neither a share in (0, 1) nor a whole number of rows (1 or more)")
    return value


def check_calibration(value: str | None) -> str | None:
    from sentiment.train import CALIBRATIONS

    if value is not None and value not in CALIBRATIONS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(CALIBRATIONS)}")
    return value


def check_train_features(value: str) -> str:
    from sentiment.train import FEATURES

    if value not in FEATURES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(FEATURES)}")
    return value


def representations(features: str) -> tuple[str, ...]:
    """``"both,tfidf"`` -> ``("embeddings", "onehot", "tfidf")``: ``both`` means embeddings and one-hot.

    >>> representations("both,tfidf,onehot")
    ('embeddings', 'onehot', 'tfidf')
    """
    names: list[str] = []
    for name in (f.strip() for f in features.split(",")):
        for expanded in ("embeddings", "onehot") if name == "both" else (name,):
            if expanded and expanded not in names:
                names.append(expanded)
    return tuple(names)


def check_compare_features(value: str) -> str:
    from sentiment.experiments.compare import REPRESENTATIONS

    unknown = [name for name in representations(value) if name not in REPRESENTATIONS]
    if unknown or not representations(value):
        raise typer.BadParameter(f"{', '.join(unknown) or value!r}: choose from both, {', '.join(REPRESENTATIONS)}")
    return value
