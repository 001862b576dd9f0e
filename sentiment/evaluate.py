"""Classification metrics for a model on labelled reviews, as plain JSON-ready dicts.

``classification_metrics`` works for two or more classes: accuracy, macro-F1,
ROC AUC (binary, or one-vs-rest macro for more classes), calibration (ECE over
15 equal-width confidence bins, Brier score, the reliability bins; see
``calibration.py``), per-class precision,
recall and F1, and the confusion matrix. ``evaluate`` scores every pipeline of
a ``SentimentModel`` (the model and its baseline) on the same reviews, their
labels read with the model's own label mapping. ``unseen_rows`` keeps, of the
data a model was trained on, only the rows it held out. Printing is
``report.py``'s job.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support, roc_auc_score

from sentiment.calibration import N_BINS, brier_score, expected_calibration_error, reliability_bins
from sentiment.data.reviews import Reviews, index_sha256, split_indices
from sentiment.errors import DataError
from sentiment.model import SentimentModel

__all__ = ["classification_metrics", "evaluate", "unseen_rows"]


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict:
    """Metrics of predicted probabilities ``proba`` (columns in ``classes`` order) against ``y_true``.

    >>> m = classification_metrics(np.array(["a", "b"]), np.array([[0.9, 0.1], [0.4, 0.6]]), np.array(["a", "b"]))
    >>> m["accuracy"], m["roc_auc"], m["confusion_matrix"]
    (1.0, 1.0, [[1, 0], [0, 1]])
    """
    classes = np.asarray(classes)
    y_pred = classes[np.argmax(proba, axis=1)]
    labels = classes.tolist()
    # Undefined scores (recall of a class absent from the truth, precision of one never predicted) are NaN,
    # shown as n/a and null, and left out of the macro average, instead of a 0 that reads as a failure.
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=np.nan
    )
    present = np.isin(classes, y_true)
    if present.sum() < 2:
        auc = float("nan")  # undefined with one class in the truth
    elif len(classes) == 2:
        auc = float(roc_auc_score(y_true == classes[1], proba[:, 1]))
    else:
        # One-vs-rest macro AUC over the classes present (what sklearn's ovr averages, when all are present).
        auc = float(np.mean([roc_auc_score(y_true == c, proba[:, i]) for i, c in enumerate(classes) if present[i]]))
    return {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=np.nan)),
        "roc_auc": auc,
        # Calibration: ECE over N_BINS equal-width bins of the predicted class's probability, and Brier score.
        "ece": expected_calibration_error(y_true, proba, classes),
        "ece_bins": N_BINS,
        "brier": brier_score(y_true, proba, classes),
        "reliability": reliability_bins(y_true, proba, classes),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "classes": labels,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def evaluate(model: SentimentModel, reviews: Reviews, progress=None) -> dict[str, dict]:
    """Metrics of each pipeline of ``model`` (primary first) on labelled ``reviews``."""
    if reviews.labels is None:
        raise DataError(f"{reviews.source}: has no labels to evaluate against")
    reviews = reviews.relabelled(model.label_mapping, model.classes_.tolist())
    unknown = sorted(set(reviews.labels.tolist()) - set(model.classes_.tolist()))
    if unknown:
        raise DataError(
            f"{reviews.source}: labels {unknown} are not among the model's classes {model.classes_.tolist()}"
        )
    results = {}
    for kind in model.kinds:
        started = time.perf_counter()
        proba = model.predict_proba(reviews.texts, kind=kind)
        seconds = time.perf_counter() - started
        metrics = classification_metrics(reviews.labels, proba, model.classes_)
        metrics["predict_seconds"] = seconds
        metrics["reviews_per_second"] = len(reviews) / max(seconds, 1e-9)
        results[kind] = metrics
    return results


def unseen_rows(model: SentimentModel, reviews: Reviews) -> tuple[Reviews, dict]:
    """The rows of ``reviews`` to score ``model`` on, and what they are.

    Data the model was not trained on (another sha256) is scored whole. The training data itself is cut
    to the rows held out at training, found again from meta.json's split (seed, test size, and a hash that
    proves the same rows came out). When that cannot be done (the model was held out on a separate file,
    or the split does not reproduce) every row is scored and flagged as trained on. The dict has
    ``rows`` ("all", "held_out" or "trained_on"), ``trained_on`` and ``note`` (or None).
    """

    data = model.meta.get("data", {})
    name = Path(reviews.source).name or reviews.source
    if not reviews.sha256 or reviews.sha256 != data.get("sha256"):
        return reviews, {"rows": "all", "trained_on": False, "note": None}
    same_columns = (reviews.text_column, reviews.label_column) == (data.get("text_column"), data.get("label_column"))
    split = data.get("split")
    if split is None and "split" not in data and data.get("held_out_source") == "split":
        # Saved before the split was stored: the default test size with the training seed, if the counts agree.
        split = {"seed": model.meta.get("parameters", {}).get("seed", 0), "test_size": 0.2, "rows": len(reviews)}
    if split is not None and same_columns and split.get("rows") == len(reviews):
        try:
            _, test_idx = split_indices(reviews, split["test_size"], split["seed"])
        except DataError:
            test_idx = None
        expected = split.get("held_out_sha256")
        if test_idx is not None and (
            index_sha256(test_idx) == expected if expected else len(test_idx) == data.get("held_out_rows")
        ):
            note = (
                f"{name} is the model's training data: scoring only the {len(test_idx):,} rows held out at "
                f"training (seed {split['seed']}, test size {split['test_size']})"
            )
            return reviews.rows(test_idx), {"rows": "held_out", "trained_on": False, "note": note}
    if split is None:
        why = f"its held-out rows came from {data.get('held_out_source', 'another file')}"
    else:
        why = "the split it held out cannot be reproduced"
    note = (
        f"{name} is the data the model was trained on and {why}: all {len(reviews):,} rows are scored, "
        "and they were trained on, so these scores are not held-out results"
    )
    return reviews, {"rows": "trained_on", "trained_on": True, "note": note}
