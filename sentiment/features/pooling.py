"""Review features from word vectors, with NumPy and SciPy only: weighted means, max pooling, unit length.

``embedding_features`` is what ``MeanEmbeddingVectorizer`` (``mean_embeddings.py``)
computes for fitted word vectors and word weights, and what the lean scorer
(``sentiment/scoring/linear.py``) computes without scikit-learn. The means are
one sparse (documents x vocabulary) product (``word_weights.py``); only max
pooling gathers tokens x dimensions, a bounded number of reviews at a time.
Fitting the weights and the vectors is not done here.
"""

from __future__ import annotations

import numpy as np

from sentiment.embeddings.vectors import WordVectors
from sentiment.features.word_weights import count_matrix, weighted_means

__all__ = ["embedding_features", "kept_share", "known_words", "max_vectors", "mean_vectors", "unit_rows"]

_MAX_POOL_ROWS = 2_000  # reviews per max-pooling step: bounds the tokens x dimensions gather


def embedding_features(
    token_lists: list[list[str]], wv: WordVectors, word_weights: np.ndarray, *, pooling: str, normalize: bool
) -> np.ndarray:
    """One weighted mean per row of ``word_weights``, then the max (``mean_max``), each unit length if ``normalize``."""
    counts = count_matrix(token_lists, wv.key_to_index, len(wv))
    parts = [weighted_means(counts, weights, wv.vectors) for weights in word_weights]
    if pooling == "mean_max":
        parts.append(max_vectors(token_lists, wv))
    if normalize:
        parts = [unit_rows(part) for part in parts]
    return parts[0] if len(parts) == 1 else np.hstack(parts)


def known_words(token_lists: list[list[str]], wv: WordVectors) -> np.ndarray:
    """How many tokens of each list have a vector (float64: the ``n`` of ``kept_share``).

    >>> wv = WordVectors(["good", "bad"], np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> known_words([["good", "good", "unknown"], []], wv).tolist()
    [2.0, 0.0]
    """
    vocabulary = wv.key_to_index
    return np.fromiter((sum(map(vocabulary.__contains__, tokens)) for tokens in token_lists), np.float64)


def kept_share(known: np.ndarray, prior_tokens: float) -> np.ndarray:
    """``n / (n + k)``: the share of a review's own features that ``prior_tokens=k`` keeps (all of it for k = 0).

    >>> kept_share(np.array([0.0, 3.0, 30.0]), 10.0).round(3).tolist()
    [0.0, 0.231, 0.75]
    """
    if not prior_tokens:
        return np.ones_like(known, dtype=np.float64)
    return known / (known + float(prior_tokens))


def mean_vectors(token_lists: list[list[str]], wv: WordVectors) -> np.ndarray:
    """Average vector of each token list's known words; a row of zeros where none is known.

    >>> wv = WordVectors(["good", "bad"], np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> mean_vectors([["good", "good", "bad", "unknown"], ["unknown"]], wv).astype(float).round(3).tolist()
    [[0.667, 0.333], [0.0, 0.0]]
    """
    counts = count_matrix(token_lists, wv.key_to_index, len(wv))
    return weighted_means(counts, np.ones(len(wv), dtype=np.float32), wv.vectors)


def max_vectors(token_lists: list[list[str]], wv: WordVectors) -> np.ndarray:
    """Element-wise maximum of each token list's known word vectors; zeros where none is known.

    >>> wv = WordVectors(["good", "bad"], np.array([[1.0, -2.0], [0.0, 1.0]]))
    >>> max_vectors([["good", "bad", "unknown"], ["unknown"]], wv).tolist()
    [[1.0, 1.0], [0.0, 0.0]]
    """
    features = np.zeros((len(token_lists), wv.vector_size), dtype=np.float32)
    key_to_index = wv.key_to_index
    for start in range(0, len(token_lists), _MAX_POOL_ROWS):
        ids = [
            [key_to_index[w] for w in tokens if w in key_to_index]
            for tokens in token_lists[start : start + _MAX_POOL_ROWS]
        ]
        lengths = np.array([len(i) for i in ids])
        known = np.flatnonzero(lengths)
        if known.size:
            flat = np.fromiter((i for row in ids for i in row), dtype=np.int64, count=int(lengths.sum()))
            starts = np.concatenate(([0], np.cumsum(lengths[known])[:-1]))
            features[start + known] = np.maximum.reduceat(wv.vectors[flat], starts, axis=0)
    return features


def unit_rows(features: np.ndarray) -> np.ndarray:
    """Each row scaled to unit L2 length; zero rows stay zero.

    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32)).tolist()
    [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return np.divide(features, norms, out=np.zeros_like(features), where=norms > 0)
