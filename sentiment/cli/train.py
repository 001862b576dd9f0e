"""``sentiment train``: fit the embeddings model and the one-hot baseline on DATA, report both, save the model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentiment.cli.console import note, print_json, say, stdout
from sentiment.cli.exits import handle_errors
from sentiment.cli.inputs import default_model_dir, read_data
from sentiment.cli.options import (
    DEFAULT_VECTOR_SIZE,
    AsJson,
    ChosenC,
    Doc2VecEpochs,
    Doc2VecNgrams,
    Download,
    LabelColumn,
    Normalize,
    Phrases,
    Pooling,
    PriorTokens,
    Quiet,
    Seed,
    TextColumn,
    Unlabeled,
    Vectors,
    Weighting,
    check_calibration,
    check_test_size,
    check_train_features,
    doc2vec_params,
    word2vec_options,
)
from sentiment.outputs import check_model_dir
from sentiment.progress import Progress


@handle_errors
@word2vec_options(vector_size=DEFAULT_VECTOR_SIZE)
def train(
    data: Annotated[Path, typer.Argument(help="Labelled reviews (CSV/TSV, optionally .gz) or a dataset name.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Model folder (models/<data name>).")] = None,
    unlabeled: Unlabeled = None,
    test: Annotated[Path | None, typer.Option("--test", help="Held-out labelled file (default: split DATA).")] = None,
    test_size: Annotated[
        float, typer.Option("--test-size", help="Held-out share of DATA without --test.", callback=check_test_size)
    ] = 0.2,
    text_column: TextColumn = None,
    label_column: LabelColumn = None,
    features: Annotated[
        str,
        typer.Option(
            "--features",
            help="both (embeddings + one-hot baseline), embeddings, onehot, nbngrams (NB-weighted 1-3-grams), "
            "doc2vec (PV-DBOW document vectors), or stack (embeddings and nbngrams combined, weights chosen on "
            "out-of-fold probabilities of the training reviews).",
            callback=check_train_features,
        ),
    ] = "both",
    weighting: Weighting = None,
    pooling: Pooling = None,
    phrases: Phrases = 0,
    normalize: Normalize = None,
    prior_tokens: PriorTokens = None,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            help="With --features stack: its components, a comma list of embeddings, nbngrams, doc2vec "
            "(default embeddings,nbngrams: doc2vec measured no gain on IMDB at 2.7x the time).",
        ),
    ] = None,
    doc2vec_ngrams: Doc2VecNgrams = 1,
    doc2vec_epochs: Doc2VecEpochs = None,
    vectors: Vectors = None,
    calibration: Annotated[
        str | None,
        typer.Option(
            "--calibration",
            help="none, or sigmoid (Platt scaling fitted on the dev split of the training rows; default chosen by "
            "measurement, README 'Calibration').",
            callback=check_calibration,
        ),
    ] = None,
    seed: Seed = 0,
    C: ChosenC = None,
    download: Download = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
    word2vec: dict | None = None,
):
    """Train on DATA: SGNS word vectors + logistic regression, beside the one-hot baseline; save the model."""
    from sentiment.cli.tables import comparison_table
    from sentiment.data.reviews import load_reviews
    from sentiment.train import train as train_model

    target = check_model_dir(output or default_model_dir(data), inputs=[data, test, *(unlabeled or [])])
    progress = Progress(enabled=not quiet)
    pretrained = None
    if vectors is not None:
        from sentiment.embeddings.formats import FORMATS, load_pretrained

        with progress.task(f"Reading {vectors.name}"):
            pretrained = load_pretrained(vectors)
        note(f"{vectors.name}: {FORMATS[pretrained.format]}, {len(pretrained.wv):,} words x "
             f"{pretrained.wv.vector_size} dimensions, used as fixed word vectors (no SGNS training)")  # fmt: skip
    reviews, held_out, extra_texts = read_data(
        data, unlabeled=unlabeled, text_column=text_column, label_column=label_column, download=download,
        progress=progress,
    )  # fmt: skip
    if test is not None:
        with progress.task(f"Reading {test.name}"):
            held_out = load_reviews(test, text_column=text_column, label_column=label_column)
    result = train_model(
        reviews, test=held_out, test_size=test_size, unlabeled=extra_texts, features=features,
        word2vec=word2vec, C=C, weighting=weighting, pooling=pooling, phrases=phrases, seed=seed,
        progress=progress, normalize=normalize, vectors=pretrained, calibration=calibration, prior_tokens=prior_tokens,
        stack=tuple(part.strip() for part in stack.split(",")) if stack else None,
        doc2vec_params=doc2vec_params(doc2vec_ngrams, doc2vec_epochs),
    )  # fmt: skip
    for kind, metrics in result.metrics.items():
        undefined = [name for name, value in metrics.items() if value is None]
        if undefined:
            note(f"{kind}: {', '.join(undefined)} undefined: a class is missing from the held-out reviews (n/a, null)")
    with progress.task(f"Saving {target}"):
        result.model.save(target)
    if as_json:
        print_json({"model": str(target), "metrics": result.metrics, "fit_seconds": result.fit_seconds})
        return
    stdout().print(comparison_table(result.metrics, result.fit_seconds, title=f"Held-out results ({data.name})"))
    say(f"Model saved to {target}")
