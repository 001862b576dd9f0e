"""Intrinsic quality of word vectors: Google analogies and word-pair similarity.

``analogy_accuracy`` follows word2vec's compute-accuracy (and gensim's
``evaluate_word_analogies``): 3CosAdd over unit vectors, questions restricted
to the 30,000 most frequent words, case-insensitive, a question counted only
when all four words are known. ``word_pair_spearman`` is gensim's
``evaluate_word_pairs``: Spearman correlation between cosine similarity and
human scores over the pairs whose words are both known. The data files ship
with gensim (``gensim.test.utils.datapath``); this module only reads them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from sentiment.embeddings.vectors import WordVectors

__all__ = ["AnalogyResult", "PairResult", "analogy_accuracy", "gensim_test_file", "word_pair_spearman"]


@dataclass(frozen=True)
class AnalogyResult:
    accuracy: float  # over answerable questions; nan when none is
    correct: int
    answered: int
    total: int


@dataclass(frozen=True)
class PairResult:
    spearman: float  # nan when fewer than 3 pairs are known
    pairs_used: int
    total: int


def gensim_test_file(name: str) -> str:
    """Path of one of gensim's bundled evaluation files (e.g. ``questions-words.txt``)."""
    from gensim.test.utils import datapath

    return datapath(name)


def analogy_accuracy(wv: WordVectors, path: str | os.PathLike, restrict_vocab: int = 30_000) -> AnalogyResult:
    """Share of "a : b :: c : ?" questions whose nearest word to b - a + c is the answer."""
    index = {word.lower(): i for i, word in reversed(list(enumerate(wv.index_to_key[:restrict_vocab])))}
    questions, total = [], 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith(":") or not line.strip():
                continue
            total += 1
            words = line.lower().split()
            if len(words) == 4 and all(w in index for w in words):
                questions.append([index[w] for w in words])
    if not questions:
        return AnalogyResult(float("nan"), 0, 0, total)
    ids = np.array(questions)
    unit = wv.unit_vectors[: min(restrict_vocab, len(wv))]
    correct = 0
    for start in range(0, len(ids), 2048):  # batches keep the score matrix small
        a, b, c, d = ids[start : start + 2048].T
        scores = (unit[b] - unit[a] + unit[c]) @ unit.T
        rows = np.arange(len(a))
        for excluded in (a, b, c):
            scores[rows, excluded] = -np.inf
        correct += int((scores.argmax(axis=1) == d).sum())
    return AnalogyResult(correct / len(ids), correct, len(ids), total)


def word_pair_spearman(wv: WordVectors, path: str | os.PathLike) -> PairResult:
    """Spearman correlation of cosine similarity with human ratings (tab-separated, ``#`` comments)."""
    index = {word.lower(): i for i, word in reversed(list(enumerate(wv.index_to_key)))}
    model_scores, human_scores, total = [], [], 0
    unit = wv.unit_vectors
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            total += 1
            first, second = parts[0].lower(), parts[1].lower()
            if first in index and second in index:
                model_scores.append(float(unit[index[first]] @ unit[index[second]]))
                human_scores.append(float(parts[2]))
    if len(model_scores) < 3:
        return PairResult(float("nan"), len(model_scores), total)
    return PairResult(float(spearmanr(model_scores, human_scores).statistic), len(model_scores), total)
