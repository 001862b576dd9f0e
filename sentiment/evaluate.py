"""Classification metrics for a model on labelled reviews, as plain JSON-ready dicts.

``classification_metrics`` works for two or more classes: accuracy, macro-F1,
ROC AUC (binary, or one-vs-rest macro for more classes), per-class precision,
recall and F1, and the confusion matrix. ``evaluate`` scores every pipeline of
a ``SentimentModel`` (the model and its baseline) on the same reviews.
Printing is ``report.py``'s job.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support, roc_auc_score

from sentiment.data import Reviews
from sentiment.errors import DataError
from sentiment.model import SentimentModel

__all__ = ["classification_metrics", "evaluate"]


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict:
    """Metrics of predicted probabilities ``proba`` (columns in ``classes`` order) against ``y_true``.

    >>> m = classification_metrics(np.array(["a", "b"]), np.array([[0.9, 0.1], [0.4, 0.6]]), np.array(["a", "b"]))
    >>> m["accuracy"], m["roc_auc"], m["confusion_matrix"]
    (1.0, 1.0, [[1, 0], [0, 1]])
    """
    classes = np.asarray(classes)
    y_pred = classes[np.argmax(proba, axis=1)]
    labels = classes.tolist()
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    present = np.isin(classes, y_true)
    if present.sum() < 2:
        auc = float("nan")  # undefined with one class in the truth
    elif len(classes) == 2:
        auc = float(roc_auc_score(y_true == classes[1], proba[:, 1]))
    else:
        auc = float(roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=labels))
    return {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "roc_auc": auc,
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
    unknown = sorted(set(reviews.labels.tolist()) - set(model.classes_.tolist()))
    if unknown:
        raise DataError(
            f"{reviews.source}: labels {unknown} are not among the model's classes {model.classes_.tolist()}"
        )
    results = {}
    for kind in [model.primary] + ([model.baseline] if model.baseline else []):
        started = time.perf_counter()
        proba = model.predict_proba(reviews.texts, kind=kind)
        seconds = time.perf_counter() - started
        metrics = classification_metrics(reviews.labels, proba, model.pipelines[kind][-1].classes_)
        metrics["predict_seconds"] = seconds
        metrics["reviews_per_second"] = len(reviews) / max(seconds, 1e-9)
        results[kind] = metrics
    return results
