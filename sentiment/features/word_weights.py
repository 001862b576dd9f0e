"""Per-word weights for averaging word vectors, and the sparse product that averages with them.

A review's feature vector is ``sum_w c(w) a(w) v(w) / sum_w c(w) a(w)`` over
the words ``w`` it contains ``c(w)`` times, for a weighting ``a``:

* ``uniform``: ``a = 1``, the plain mean;
* ``idf``: ``log((1 + N) / (1 + df(w))) + 1`` over the fitting texts;
* ``sif``: smooth inverse frequency, ``a / (a + p(w))`` with ``a = 1e-3`` and
  ``p`` the word's share of the fitting corpus (Arora et al. 2017; the
  optional removal of the first principal component did not measure better);
* ``nb``: ``|r(w)|``, the absolute naive Bayes log-count ratio of the word on
  the training labels (Wang & Manning 2012): words that separate the classes
  count more. With more classes, the largest one-vs-rest ``|r|``;
* ``nbs``: the signed ratio ``r(w)`` itself, so that a word's vector counts
  towards the class it points to and against the other: the average is then
  ``sum c(w) r(w) v(w) / sum c(w) |r(w)|``. With more classes, one block per
  class (its one-vs-rest ratio). Beside the plain mean it lifted IMDB from
  0.883 to 0.901 held-out (docs/embeddings-vs-onehot.md).

A weighting may give several rows (``nbs`` with more than two classes): each
row is one averaged block of the features.

The average is one sparse (documents x vocabulary) matrix times the vectors,
so no tokens x dimensions array is ever built. Training word vectors is
``sentiment.embeddings``' job; this module only weighs and averages them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from sentiment.tokenize import known_ids

__all__ = ["WEIGHTINGS", "count_matrix", "weighted_means", "word_weights"]

WEIGHTINGS = ("uniform", "idf", "sif", "nb", "nbs")
SIF_A = 1e-3


def count_matrix(token_lists: Sequence[list[str]], key_to_index: dict[str, int], n_words: int) -> sparse.csr_matrix:
    """Documents x vocabulary counts of the known words (unknown words are left out).

    >>> count_matrix([["good", "good", "xyz"], []], {"good": 0, "bad": 1}, 2).toarray().tolist()
    [[2.0, 0.0], [0.0, 0.0]]
    """
    rows, ids = known_ids(token_lists, key_to_index)
    counts = sparse.csr_matrix((np.ones(len(ids), dtype=np.float32), (rows, ids)), shape=(len(token_lists), n_words))
    counts.sum_duplicates()
    return counts


def word_weights(weighting: str, counts: sparse.csr_matrix, labels=None) -> np.ndarray:
    """The weight of every vocabulary word under ``weighting`` (module docstring), from fitting ``counts``.

    One row per averaged block: ``(1, vocabulary)``, or ``(classes, vocabulary)`` for ``nbs`` with more than
    two classes.

    >>> counts = sparse.csr_matrix(np.array([[2.0, 1.0, 0.0], [1.0, 0.0, 1.0]]))
    >>> word_weights("idf", counts).astype(float).round(3).tolist()
    [[1.0, 1.405, 1.405]]
    >>> word_weights("nb", counts, np.array(["pos", "neg"])).astype(float).round(3).tolist()
    [[0.0, 0.693, 0.693]]
    >>> word_weights("nbs", counts, np.array(["pos", "neg"])).astype(float).round(3).tolist()
    [[0.0, 0.693, -0.693]]
    """
    return np.atleast_2d(_weights(weighting, counts, labels)).astype(np.float32)


def _weights(weighting: str, counts: sparse.csr_matrix, labels) -> np.ndarray:
    n_docs, n_words = counts.shape
    if weighting == "uniform":
        return np.ones(n_words, dtype=np.float32)
    if weighting == "idf":
        df = np.asarray((counts > 0).sum(axis=0), dtype=np.float64).ravel()
        return (np.log((1 + n_docs) / (1 + df)) + 1).astype(np.float32)
    if weighting == "sif":
        frequency = np.asarray(counts.sum(axis=0), dtype=np.float64).ravel()
        return (SIF_A / (SIF_A + frequency / max(frequency.sum(), 1.0))).astype(np.float32)
    if weighting in ("nb", "nbs"):
        if labels is None:
            raise ValueError(f"the {weighting} weighting is learned from labels: pass y to fit")
        labels = np.asarray(labels)
        classes = np.unique(labels)
        if len(classes) < 2:
            raise ValueError(f"the {weighting} weighting needs at least two classes")
        from sentiment.features.nb_ngrams import nb_log_count_ratio  # scikit-learn: needed only for fitting

        binary = (counts > 0).astype(np.float32)
        positives = classes[1:] if len(classes) == 2 else classes  # two classes: the ratio of classes[1]
        ratios = np.vstack([nb_log_count_ratio(binary, labels == c) for c in positives])
        return ratios if weighting == "nbs" else np.abs(ratios).max(axis=0)
    raise ValueError(f"unknown weighting {weighting!r}: choose from {', '.join(WEIGHTINGS)}")


def weighted_means(counts: sparse.csr_matrix, weights: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Each row's weighted average of ``vectors`` (divided by the sum of ``|weight|``); zeros where no word weighs.

    >>> counts = sparse.csr_matrix(np.array([[2.0, 1.0], [0.0, 0.0]]))
    >>> weighted_means(counts, np.array([1.0, 2.0]), np.array([[1.0, 0.0], [0.0, 1.0]])).tolist()
    [[0.5, 0.5], [0.0, 0.0]]
    >>> weighted_means(counts, np.array([1.0, -2.0]), np.array([[1.0, 0.0], [0.0, 1.0]])).tolist()
    [[0.5, -0.5], [0.0, 0.0]]
    """
    weights = np.asarray(weights, dtype=counts.dtype)
    weighted = counts @ sparse.diags(weights)
    totals = np.asarray((counts @ sparse.diags(np.abs(weights))).sum(axis=1)).ravel()
    means = np.asarray(weighted @ vectors)
    np.divide(means, totals[:, None], out=means, where=totals[:, None] > 0)
    return means.astype(np.float32, copy=False)
