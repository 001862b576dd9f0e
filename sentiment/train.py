"""``train``: fit the embeddings classifier and the one-hot baseline, and score both.

Word vectors are trained on the training texts plus any unlabelled texts,
never on held-out ones. Both classifiers see the same split. The result is a
``SentimentModel`` (saving it is the caller's choice) and its held-out
metrics; its meta.json keeps the label mapping (applied to every file the
model scores, a separate test file included) and the split (seed, test size
and a hash of the held-out rows), so ``evaluate`` can tell training rows from
held-out ones. Reading files is ``data.py``'s job, printing is ``report.py``'s.
"""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sentiment.data.corpus import TextCorpus
from sentiment.data.reviews import Reviews, index_sha256, split_indices
from sentiment.errors import DataError, TrainingError
from sentiment.evaluate import evaluate
from sentiment.features import MeanEmbeddingVectorizer, one_hot_vectorizer
from sentiment.model import SentimentModel
from sentiment.progress import Progress
from sentiment.tokenize import tokenize

__all__ = ["FEATURES", "TrainResult", "library_versions", "train"]

FEATURES = ("embeddings", "onehot", "both")


@dataclass
class TrainResult:
    model: SentimentModel
    metrics: dict[str, dict]  # held-out metrics per pipeline
    fit_seconds: dict[str, float]  # wall time to fit each pipeline (SGNS included for embeddings)


def build_pipeline(
    kind: str, *, C: float = 1.0, word2vec: dict | None = None, word_vectors=None, unlabeled=None, progress=None
) -> Pipeline:
    """An unfitted pipeline ending in logistic regression.

    ``embeddings``: mean SGNS vectors (trained in ``fit`` from ``word2vec``
    parameters, or the fixed ``word_vectors``), standardised; ``onehot``: the
    binary bag of words; ``tfidf``: sublinear TF-IDF over the same tokenizer.
    """
    classifier = LogisticRegression(C=C, max_iter=2000)
    if kind == "embeddings":
        vectorizer = MeanEmbeddingVectorizer(
            word_vectors=word_vectors, unlabeled_texts=unlabeled, progress=progress, **(word2vec or {})
        )
        return Pipeline([("features", vectorizer), ("scale", StandardScaler()), ("classifier", classifier)])
    if kind == "onehot":
        return Pipeline([("features", one_hot_vectorizer()), ("classifier", classifier)])
    if kind == "tfidf":
        tfidf = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None, sublinear_tf=True)
        return Pipeline([("features", tfidf), ("classifier", classifier)])
    raise TrainingError(f"unknown features {kind!r}: choose from embeddings, onehot, tfidf")


def train(
    reviews: Reviews,
    *,
    test: Reviews | None = None,
    test_size: float = 0.2,
    unlabeled: list[str] | TextCorpus | None = None,
    features: str = "both",
    word2vec: dict | None = None,
    C: float = 1.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> TrainResult:
    """Train on ``reviews`` and score on ``test`` (or a stratified ``test_size`` split of ``reviews``)."""
    if features not in FEATURES:
        raise TrainingError(f"unknown features {features!r}: choose from {', '.join(FEATURES)}")
    if reviews.labels is None:
        raise DataError(f"{reviews.source}: has no labels to train on")
    if len(reviews.classes) < 2:
        raise DataError(f"{reviews.source}: every review has the label {reviews.classes[0]!r}; need two classes")
    if not C > 0:
        raise TrainingError("C must be > 0")
    progress = progress or Progress(enabled=False)
    word2vec = {"seed": seed, **(word2vec or {})}
    mapping = reviews.label_mapping or {label: label for label in reviews.classes}
    split = None
    if test is not None:
        train_part, test_part = reviews, test.relabelled(mapping, reviews.classes)  # read as training labels are
    else:
        train_idx, test_idx = split_indices(reviews, test_size, seed)
        train_part, test_part = reviews.rows(train_idx), reviews.rows(test_idx)
        split = {"seed": seed, "test_size": test_size, "rows": len(reviews), "held_out_sha256": index_sha256(test_idx)}
    unseen = sorted(set(test_part.classes) - set(train_part.classes)) if test_part.labels is not None else []
    if unseen:  # refused now: scoring would fail only after all the training
        raise DataError(
            f"{test_part.source}: held-out labels {unseen} never occur in the training reviews; "
            "give each class at least two reviews, or drop it"
        )

    kinds = ["embeddings", "onehot"] if features == "both" else [features]
    pipelines, fit_seconds = {}, {}
    for kind in kinds:
        started = time.perf_counter()
        pipeline = build_pipeline(kind, C=C, word2vec=word2vec, unlabeled=unlabeled, progress=progress)
        features_step = pipeline[0]
        features_matrix = features_step.fit_transform(train_part.texts)
        with progress.task(f"Fitting logistic regression on {kind}"):
            pipeline[1:].fit(features_matrix, train_part.labels)
        if isinstance(features_step, MeanEmbeddingVectorizer):
            features_step.set_params(unlabeled_texts=None, progress=None)  # do not keep 50k texts alive
        pipelines[kind] = pipeline
        fit_seconds[kind] = time.perf_counter() - started

    model = SentimentModel(pipelines, primary=kinds[0], meta={"data": {"label_mapping": mapping}})
    with progress.task("Scoring the held-out reviews"):
        metrics = _finite(evaluate(model, test_part))
    model.meta = _meta(model, reviews, train_part, test_part, unlabeled, word2vec, C, seed, metrics, fit_seconds)
    model.meta["data"].update(label_mapping=mapping, split=split)
    return TrainResult(model, metrics, fit_seconds)


def _finite(value):
    """NaN (ROC AUC with one class held out) as null: meta.json is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for name in ("sentiment", "numpy", "scipy", "scikit-learn", "pandas"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def _rows(unlabeled) -> int | None:
    """Unlabelled texts used: counted on the last pass for a streamed ``TextCorpus`` (None if never read)."""
    if unlabeled is None or hasattr(unlabeled, "__len__"):
        return len(unlabeled or [])
    rows = unlabeled.rows_read
    return None if rows is None else rows + len(unlabeled.texts)


def _meta(model, reviews, train_part, test_part, unlabeled, word2vec, C, seed, metrics, fit_seconds) -> dict:
    meta = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": library_versions(),
        "classes": model.classes_.tolist(),
        "parameters": {"features": list(model.pipelines), "C": C, "seed": seed, "word2vec": word2vec},
        "data": {
            "source": reviews.source,
            "sha256": reviews.sha256,
            "text_column": reviews.text_column,
            "label_column": reviews.label_column,
            "held_out_source": test_part.source if test_part.source != reviews.source else "split",
            "held_out_sha256": test_part.sha256,
            "train_rows": len(train_part),
            "held_out_rows": len(test_part),
            "unlabeled_rows": _rows(unlabeled),
            "dropped_rows": reviews.dropped,
        },
        "metrics": _finite(metrics),
        "fit_seconds": fit_seconds,
    }
    embeddings = model.pipelines.get("embeddings")
    if embeddings is not None:
        trainer = embeddings[0].word2vec_
        meta["word2vec"] = {
            "vocabulary_size": len(trainer.wv),
            "loss_per_epoch": trainer.loss_history_,
            "words_per_second": float(np.mean(trainer.words_per_second_)),
            "training_seconds": trainer.training_seconds_,
        }
    return meta
