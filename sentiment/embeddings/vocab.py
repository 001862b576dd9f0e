"""Vocabulary, frequent-word subsampling and the noise distribution for SGNS.

Pure functions over word counts, with the formulas of word2vec.c / gensim 4.4.
This module counts and derives probabilities; it does not train, draw pairs or
hold vectors (``word2vec.py`` and ``vectors.py`` do).

>>> vocab = build_vocab([["a", "b", "a"], ["a", "c"]], min_count=1)
>>> vocab.index_to_key, vocab.counts.tolist()
(['a', 'b', 'c'], [3, 1, 1])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sentiment.errors import TrainingError

__all__ = ["Vocabulary", "build_vocab", "keep_probabilities", "noise_distribution"]


@dataclass(frozen=True)
class Vocabulary:
    """Words kept for training, most frequent first, with their corpus counts."""

    index_to_key: list[str]
    counts: np.ndarray  # int64, aligned with index_to_key
    total_words: int  # every token seen, in vocabulary or not
    corpus_count: int  # number of sentences
    longest_sentence: int = 0  # tokens in the longest sentence, in vocabulary or not

    @property
    def key_to_index(self) -> dict[str, int]:
        return {word: index for index, word in enumerate(self.index_to_key)}

    def __len__(self) -> int:
        return len(self.index_to_key)


def _prune(counts: dict[str, int], min_reduce: int) -> None:
    """Drop words seen fewer than ``min_reduce`` times (gensim's ``prune_vocab``)."""
    for word in [w for w, c in counts.items() if c < min_reduce]:
        del counts[word]


def build_vocab(
    sentences: Iterable[list[str]],
    *,
    min_count: int = 5,
    max_vocab_size: int | None = None,
    progress=None,
) -> Vocabulary:
    """Count words in one pass and keep those seen at least ``min_count`` times.

    Like gensim, when ``max_vocab_size`` is set the running count is pruned
    whenever it grows past that many words (dropping words with count < 1, then
    < 2, ...), so memory stays bounded on huge corpora at the cost of exact
    counts for rare words. Ties in frequency keep first-seen order, as gensim's.
    ``progress`` is called with the number of tokens in each sentence counted.
    """
    counts: Counter[str] = Counter()
    total_words = 0
    corpus_count = 0
    longest = 0
    min_reduce = 1
    for sentence in sentences:
        if isinstance(sentence, str):
            raise TrainingError("each sentence must be a list of tokens, not a string")
        counts.update(sentence)  # a loop in C (twice as fast as one in Python); new words in first-seen order
        total_words += len(sentence)
        corpus_count += 1
        longest = max(longest, len(sentence))
        if progress is not None:
            progress(len(sentence))
        if max_vocab_size and len(counts) > max_vocab_size:
            _prune(counts, min_reduce)
            min_reduce += 1
    kept = [(w, c) for w, c in counts.items() if c >= min_count]
    kept.sort(key=lambda item: -item[1])  # stable: ties stay in first-seen order
    return Vocabulary(
        index_to_key=[w for w, _ in kept],
        counts=np.array([c for _, c in kept], dtype=np.int64),
        total_words=total_words,
        corpus_count=corpus_count,
        longest_sentence=longest,
    )


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Probability of keeping each occurrence of a word under subsampling.

    word2vec's formula with ``t = sample * total`` (``sample`` >= 1 is an
    absolute count, as in gensim): ``p = (sqrt(c / t) + 1) * t / c``, capped at 1.
    ``sample=0`` keeps everything.

    >>> keep_probabilities(np.array([1000, 10]), 1e-2).round(3).tolist()
    [0.111, 1.0]
    """
    counts = np.asarray(counts, dtype=np.float64)
    if not sample or counts.size == 0:
        return np.ones(counts.shape, dtype=np.float64)
    threshold = sample if sample >= 1.0 else sample * counts.sum()
    keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    return np.minimum(keep, 1.0)


def noise_distribution(counts: np.ndarray, ns_exponent: float = 0.75) -> np.ndarray:
    """Negative-sampling probabilities: ``count ** ns_exponent``, normalised.

    >>> noise_distribution(np.array([16, 1]), 0.5).tolist()
    [0.8, 0.2]
    """
    weights = np.asarray(counts, dtype=np.float64) ** ns_exponent
    return weights / weights.sum()
