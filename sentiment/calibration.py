"""How far predicted probabilities are from observed frequencies: ECE, Brier score, reliability bins.

``expected_calibration_error`` uses ``N_BINS`` = 15 equal-width bins over
[0, 1] of the *predicted class's* probability (the confidence), as Guo et al.
(2017) do: the share-weighted mean, over non-empty bins, of
|accuracy in the bin - mean confidence in the bin|. 0 is perfect; a model that
says 0.9 and is right 80% of the time there contributes 0.1 times that bin's
share. ``brier_score`` is the mean squared error of the probabilities: for two
classes scikit-learn's ``brier_score_loss`` on the second class (0 perfect,
0.25 for always 0.5), for more the original multi-class form (the sum over
classes). ``reliability_bins`` gives the per-bin counts, confidences and
accuracies a reliability diagram draws. ``SigmoidCalibrator`` is the optional
calibration step (Platt scaling, fitted by ``train.py`` on the dev split of
the training rows only, applied by ``model.py``). Metrics beside accuracy are
``evaluate.py``'s; plots are ``experiments/report.py``'s.
"""

from __future__ import annotations

import numpy as np

__all__ = ["N_BINS", "SigmoidCalibrator", "brier_score", "expected_calibration_error", "reliability_bins"]

N_BINS = 15


def reliability_bins(y_true, proba: np.ndarray, classes, n_bins: int = N_BINS) -> dict[str, list]:
    """Per equal-width confidence bin: its edges, row count, mean confidence and accuracy (None when empty).

    >>> bins = reliability_bins(np.array(["a", "b"]), np.array([[0.9, 0.1], [0.7, 0.3]]), np.array(["a", "b"]), 2)
    >>> bins["count"], bins["confidence"], bins["accuracy"]
    ([0, 2], [None, 0.8], [None, 0.5])
    """
    proba = np.asarray(proba, dtype=np.float64)
    classes = np.asarray(classes)
    confidence = proba.max(axis=1)
    correct = classes[proba.argmax(axis=1)] == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bin i holds confidences in (edges[i], edges[i + 1]]; a confidence of exactly 0 goes to the first bin.
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    conf_sum = np.bincount(index, weights=confidence, minlength=n_bins)
    hits = np.bincount(index, weights=correct.astype(np.float64), minlength=n_bins)
    return {
        "edges": edges.tolist(),
        "count": count.tolist(),
        "confidence": [float(s / c) if c else None for s, c in zip(conf_sum, count, strict=True)],
        "accuracy": [float(h / c) if c else None for h, c in zip(hits, count, strict=True)],
    }


def expected_calibration_error(y_true, proba: np.ndarray, classes, n_bins: int = N_BINS) -> float:
    """ECE over ``n_bins`` equal-width bins of the predicted class's probability (see the module docstring).

    Two rows at confidence 0.9 and 0.7, the first right and the second wrong, fall in bins (0.867, 0.933]
    and (0.667, 0.733]: ECE = 0.5 * |1 - 0.9| + 0.5 * |0 - 0.7| = 0.4.

    >>> round(expected_calibration_error(np.array(["a", "a"]), np.array([[0.9, 0.1], [0.3, 0.7]]), ["a", "b"]), 6)
    0.4
    """
    bins = reliability_bins(y_true, proba, classes, n_bins)
    n = sum(bins["count"])
    if n == 0:
        return float("nan")
    rows = zip(bins["count"], bins["accuracy"], bins["confidence"], strict=True)
    return float(sum(c / n * abs(a - f) for c, a, f in rows if c))


def brier_score(y_true, proba: np.ndarray, classes) -> float:
    """Mean squared error of the probabilities (two classes: of the second class's, as scikit-learn's).

    >>> brier_score(np.array(["a", "b"]), np.array([[0.5, 0.5], [0.5, 0.5]]), ["a", "b"])
    0.25
    """
    proba = np.asarray(proba, dtype=np.float64)
    onehot = (np.asarray(y_true)[:, None] == np.asarray(classes)[None, :]).astype(np.float64)
    if proba.shape[1] == 2:
        return float(np.mean((proba[:, 1] - onehot[:, 1]) ** 2))
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


class SigmoidCalibrator:
    """Platt scaling of a classifier's probabilities, fitted on a dev split (as CalibratedClassifierCV's sigmoid).

    Two classes: ``p = sigmoid(a * z + b)`` on the log-odds ``z = log(p1 / p0)``, fitted by log loss on
    Platt's smoothed targets ((N+ + 1) / (N+ + 2) and 1 / (N- + 2)); more classes: temperature scaling,
    ``softmax(a * log p)``. ``params`` is ``[a, b]`` or ``[a]``; saved as an array (no pickle).

    >>> cal = SigmoidCalibrator(np.array([0.5, 0.0]))
    >>> cal.apply(np.array([[0.1, 0.9]])).round(3).tolist()
    [[0.25, 0.75]]
    """

    def __init__(self, params: np.ndarray | None = None):
        self.params = None if params is None else np.asarray(params, dtype=np.float64)

    def fit(self, proba: np.ndarray, y_true, classes) -> SigmoidCalibrator:
        from scipy.optimize import minimize

        logp = np.log(np.clip(np.asarray(proba, dtype=np.float64), 1e-12, 1.0))
        onehot = (np.asarray(y_true)[:, None] == np.asarray(classes)[None, :]).astype(np.float64)
        if logp.shape[1] == 2:
            z = logp[:, 1] - logp[:, 0]
            positive = onehot[:, 1] > 0
            n_pos, n_neg = positive.sum(), (~positive).sum()
            target = np.where(positive, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

            def loss(params):
                s = params[0] * z + params[1]
                # log(1 + e^s) - target * s, with its gradient
                value = np.mean(np.logaddexp(0, s) - target * s)
                g = 1 / (1 + np.exp(-s)) - target
                return value, np.array([np.mean(g * z), np.mean(g)])

            start = np.array([1.0, 0.0])
        else:

            def loss(params):
                s = params[0] * logp
                s = s - s.max(axis=1, keepdims=True)
                log_soft = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
                soft = np.exp(log_soft)
                return -np.mean(np.sum(onehot * log_soft, axis=1)), np.array(
                    [-np.mean(np.sum((onehot - soft) * logp, axis=1))]
                )

            start = np.array([1.0])
        self.params = minimize(loss, start, jac=True, method="L-BFGS-B").x
        return self

    def apply(self, proba: np.ndarray) -> np.ndarray:
        logp = np.log(np.clip(np.asarray(proba, dtype=np.float64), 1e-12, 1.0))
        if logp.shape[1] == 2 and self.params.shape == (2,):
            p1 = 1 / (1 + np.exp(-(self.params[0] * (logp[:, 1] - logp[:, 0]) + self.params[1])))
            return np.column_stack([1 - p1, p1])
        s = self.params[0] * logp
        s = np.exp(s - s.max(axis=1, keepdims=True))
        return s / s.sum(axis=1, keepdims=True)
