"""Choosing hyperparameters honestly: on a dev split cut from the training data, never on held-out data.

``dev_split`` cuts a stratified ``DEV_SHARE`` of the training rows.
``choose_C`` fits a pipeline's feature step on the rest (supervised parts such
as NB ratios see only those labels; word vectors are passed in already
trained, since they use no labels), then scores each C of the grid on the dev
rows by accuracy, ties broken by log loss. ``choose_stack_weights`` picks the
weights of a stacked model's components from their probabilities on a
simplex grid, the same way, on probabilities of every training row from
``out_of_fold_proba`` over ``stack_folds`` (each row scored by the
component fitted on the other folds). ``choose_prior_tokens`` picks how strongly the
embeddings pull a short text towards the average review: the setting whose
probabilities on single sentences of the dev reviews (labelled as their
review) have the lowest log loss. Fitting the final pipelines is
``train.py``'s job.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
from sklearn.base import clone
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline

__all__ = [
    "C_GRID",
    "DEV_SHARE",
    "PRIOR_TOKENS_GRID",
    "STACK_FOLDS",
    "accuracy",
    "choose_C",
    "choose_prior_tokens",
    "choose_stack_weights",
    "dev_split",
    "one_sentence_each",
    "out_of_fold_proba",
    "stack_folds",
    "weighted_vote",
]

C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
PRIOR_TOKENS_GRID = (0.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)  # starts with 0.0: no prior, the reference
# A whole review scored with a prior may lose at most this much dev accuracy against none (about one standard
# error on IMDB's 3,000 dev reviews at 90%): the prior is for short texts, not a trade of accuracy for calibration.
_PRIOR_ACCURACY_TOLERANCE = 0.005
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|<br\s*/?>", re.IGNORECASE)
DEV_SHARE = 0.15
_MIN_DEV_PER_CLASS = 5  # fewer dev rows of a class than this cannot rank settings: keep the defaults
# Folds for a stack's weights: they are read off the difference between two good models, which the 3,000 rows
# of a dev split blur. On IMDB's 20,000 training reviews five folds chose 0.3 / 0.7 (embeddings / NB n-grams)
# where the dev split chose 0.5 / 0.5; held-out accuracy was level (0.9238 against 0.9242, one standard error
# 0.004), for 2.6 more minutes of fitting.
STACK_FOLDS = 5


def dev_split(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Sorted (fit rows, dev rows) of a stratified ``DEV_SHARE`` split; None when the data are too small.

    >>> labels = np.array(["a", "b"] * 50)
    >>> fit, dev = dev_split(labels, seed=0)
    >>> len(fit), len(dev), sorted(labels[dev].tolist())[::7]
    (85, 15, ['a', 'a', 'b'])
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    _, counts = np.unique(labels, return_counts=True)
    if len(counts) < 2 or (counts * DEV_SHARE).min() < _MIN_DEV_PER_CLASS:
        return None
    fit, dev = train_test_split(np.arange(len(labels)), test_size=DEV_SHARE, random_state=seed, stratify=labels)
    return np.sort(fit), np.sort(dev)


def stack_folds(labels: np.ndarray, seed: int, n_folds: int = STACK_FOLDS) -> list[tuple] | None:
    """Stratified ``n_folds`` (fit rows, held rows) pairs covering the training rows; None when too few rows.

    >>> folds = stack_folds(np.array(["a", "b"] * 50), seed=0)
    >>> len(folds), sorted(np.concatenate([held for _, held in folds]).tolist()) == list(range(100))
    (5, True)
    """
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    _, counts = np.unique(labels, return_counts=True)
    if len(counts) < 2 or counts.min() < n_folds * _MIN_DEV_PER_CLASS:
        return None
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return [(np.sort(fit), np.sort(held)) for fit, held in splitter.split(np.zeros((len(labels), 1)), labels)]


def out_of_fold_proba(
    make_features, head: Pipeline, texts: list[str], labels: np.ndarray, folds, matrix=None, on_fold=None
) -> np.ndarray:
    """Class probabilities of every training row, each from the pipeline fitted on the other folds.

    ``make_features()`` gives a fresh, unfitted feature step for each fold (as
    ``choose_C``'s ``features``: supervised parts such as NB ratios see only
    that fold's fit rows); ``head`` (the pipeline after it, its C chosen) is
    cloned for each fold. Label-free features may come as the ``matrix`` of
    every training row. Rows stay in the order of ``labels``; columns are the
    sorted classes, checked the same in every fold. ``on_fold()`` is called
    after each fold (progress).
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    proba = np.full((len(labels), len(classes)), np.nan)
    for fit_rows, held_rows in folds:
        if matrix is not None:
            fit_matrix, held_matrix = matrix[fit_rows], matrix[held_rows]
        else:
            features = make_features()
            fit_matrix = features.fit_transform([texts[i] for i in fit_rows], labels[fit_rows])
            held_matrix = features.transform([texts[i] for i in held_rows])
        model = clone(head).fit(fit_matrix, labels[fit_rows])
        if not np.array_equal(model[-1].classes_, classes):
            raise ValueError("a fold is missing a class: the folds must be stratified")
        proba[held_rows] = model.predict_proba(held_matrix)
        if on_fold is not None:
            on_fold()
    if np.isnan(proba).any():
        raise ValueError("the folds must hold out every training row")
    return proba


def _rank(proba: np.ndarray, truth: np.ndarray, classes: np.ndarray) -> tuple[float, float]:
    """(accuracy, -log loss): larger is better, accuracy first."""
    return accuracy(proba, truth, classes), -float(log_loss(truth, np.clip(proba, 1e-12, 1.0), labels=classes))


def choose_C(
    features, head: Pipeline, texts: list[str], labels: np.ndarray, split, grid=C_GRID, matrix=None
) -> tuple[float, np.ndarray, dict[float, float]]:
    """Best C for ``head`` (the pipeline after its feature step) on the dev rows of ``split``.

    ``features`` is a fresh, unfitted feature step (used as given, not cloned: it may hold fitted word or
    document vectors, which cloning would copy or reset); it is fitted on the fit rows only.
    Features that use no labels at all may instead come as the ``matrix`` of
    every training row (document vectors: inferring them again would only cost
    time). Returns the C, the dev probabilities at that C, and the dev
    accuracy of every C tried.
    """
    fit_rows, dev_rows = split
    labels = np.asarray(labels)
    if matrix is not None:
        fit_matrix, dev_matrix = matrix[fit_rows], matrix[dev_rows]
    else:
        fit_matrix = features.fit_transform([texts[i] for i in fit_rows], labels[fit_rows])
        dev_matrix = features.transform([texts[i] for i in dev_rows])
    best, scores = None, {}
    for C in grid:
        model = clone(head).set_params(classifier__C=C).fit(fit_matrix, labels[fit_rows])
        proba = model.predict_proba(dev_matrix)
        rank = _rank(proba, labels[dev_rows], model[-1].classes_)
        scores[C] = rank[0]
        if best is None or rank > best[0]:
            best = (rank, C, proba)
    return best[1], best[2], scores


def choose_stack_weights(probas: list[np.ndarray], truth: np.ndarray, classes: np.ndarray, step: float = 0.1):
    """Weights (summing to 1, multiples of ``step``) of the components' log-probabilities, best on ``truth``'s rows.

    ``probas`` are the components' probabilities of the same rows (out of
    fold), in the same order, columns in ``classes`` order.

    >>> truth = np.array(["a", "b", "a", "b"])
    >>> good = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
    >>> bad = good[:, ::-1]
    >>> choose_stack_weights([good, bad], truth, np.array(["a", "b"]))
    [1.0, 0.0]
    """
    units = round(1 / step)
    best = None
    for parts in itertools.product(range(units + 1), repeat=len(probas)):
        if sum(parts) != units:
            continue
        weights = [p / units for p in parts]
        rank = _rank(weighted_vote(probas, weights), truth, classes)
        if best is None or rank > best[0]:
            best = (rank, weights)
    return best[1]


def weighted_vote(probas: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """The stack's probabilities: the normalised exponential of the weighted sum of log-probabilities.

    The same formula as ``SentimentModel.predict_proba`` for a stack.

    >>> weighted_vote([np.array([[0.9, 0.1]]), np.array([[0.5, 0.5]])], [1.0, 0.0]).round(3).tolist()
    [[0.9, 0.1]]
    """
    combined = sum(w * np.log(np.clip(p, 1e-12, 1.0)) for w, p in zip(weights, probas, strict=True))
    combined = np.exp(combined - combined.max(axis=1, keepdims=True))
    return combined / combined.sum(axis=1, keepdims=True)


def accuracy(proba: np.ndarray, truth: np.ndarray, classes: np.ndarray) -> float:
    """Share of rows whose most probable class (columns in ``classes`` order) is the truth."""
    return float(np.mean(classes[proba.argmax(axis=1)] == truth))


def one_sentence_each(texts: list[str], seed: int) -> list[str]:
    """One sentence (of at least 3 words) drawn from each text; a text with none stays whole.

    >>> one_sentence_each(["Great cast. Dull plot, slow start!", "ok"], seed=0)
    ['Dull plot, slow start!', 'ok']
    """
    rng = np.random.default_rng(seed)
    sentences = []
    for text in texts:
        candidates = [s for s in _SENTENCE_END.split(text) if len(s.split()) >= 3]
        sentences.append(candidates[int(rng.integers(len(candidates)))].strip() if candidates else text)
    return sentences


def choose_prior_tokens(
    features, head: Pipeline, texts: list[str], labels: np.ndarray, split, seed: int, grid=PRIOR_TOKENS_GRID
) -> tuple[float, np.ndarray, dict[float, dict[str, float]]]:
    """Best ``prior_tokens`` of a ``MeanEmbeddingVectorizer`` (``features``, unfitted) on the dev rows of ``split``.

    Short texts have no labels of their own in the training data; single
    sentences of the dev reviews, labelled as their review, stand in for them
    (about 17 words; a sentence of a positive review may well be neutral, and
    that uncertainty is what a calibrated probability should show). The
    setting with the lowest log loss on them wins, among those whose accuracy
    on the whole dev reviews is within ``_PRIOR_ACCURACY_TOLERANCE`` of no
    prior. ``head`` (scaler and classifier, C already chosen) is refitted on
    the fit rows for each setting. Returns the choice, the dev probabilities
    with it, and, per setting, the dev accuracy and the sentences' log loss.
    """
    fit_rows, dev_rows = split
    labels = np.asarray(labels)
    fit_texts, dev_texts = [texts[i] for i in fit_rows], [texts[i] for i in dev_rows]
    sentences = one_sentence_each(dev_texts, seed)
    features.fit(fit_texts, labels[fit_rows])
    # Tokenized and averaged once; each prior is then one multiply-add per set.
    fit_set, dev_set, sentence_set = (features.transform_before_prior(t) for t in (fit_texts, dev_texts, sentences))
    scores, dev_probas = {}, {}
    for prior in grid:
        model = clone(head).fit(features.toward_center(*fit_set, prior), labels[fit_rows])
        classes = model[-1].classes_
        dev_probas[prior] = model.predict_proba(features.toward_center(*dev_set, prior))
        accuracy, _ = _rank(dev_probas[prior], labels[dev_rows], classes)
        sentence_proba = model.predict_proba(features.toward_center(*sentence_set, prior))
        _, negative_log_loss = _rank(sentence_proba, labels[dev_rows], classes)
        scores[prior] = {"dev_accuracy": accuracy, "sentence_log_loss": -negative_log_loss}
    floor = scores[0.0]["dev_accuracy"] - _PRIOR_ACCURACY_TOLERANCE
    eligible = [prior for prior in grid if scores[prior]["dev_accuracy"] >= floor]
    best = min(eligible, key=lambda prior: scores[prior]["sentence_log_loss"])
    return best, dev_probas[best], scores
