"""``Phrases``: word2phrase-style bigram detection, so that "not_good" or "waste_of_time" get their own vectors.

Mikolov et al. (2013) score a pair of adjacent tokens ``a b`` by

    score(a, b) = (count(ab) - delta) / (count(a) * count(b)) * total

(``total``: tokens in the corpus; ``delta`` discounts rare pairs) and join
``a_b`` wherever the score exceeds ``threshold``. Each further pass repeats
the counting on the joined text, so two passes can make ``waste_of_time``.
Joining is greedy from the left, as in word2phrase and gensim's ``Phrases``.
Learning uses unlabelled text only; the result is a list of joined pairs per
pass, saved as JSON in a model directory. Training vectors on the joined
tokens is ``word2vec.py``'s job.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

__all__ = ["Phrases", "phrase_scores"]

DELIMITER = "_"


def phrase_scores(token_lists: Sequence[list[str]], *, delta: float, min_count: int) -> dict[tuple[str, str], float]:
    """The word2phrase score of every adjacent pair seen at least ``min_count`` times.

    >>> corpus = [["new", "york", "is", "big"], ["new", "york", "city"], ["new", "ideas"]]
    >>> phrase_scores(corpus, delta=1, min_count=2)  # (2 - 1) / (3 * 2) * 9 tokens
    {('new', 'york'): 1.5}
    """
    unigrams: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    for tokens in token_lists:
        unigrams.update(tokens)
        bigrams.update(itertools.pairwise(tokens))
    total = sum(unigrams.values())
    return {
        (a, b): (n - delta) / (unigrams[a] * unigrams[b]) * total for (a, b), n in bigrams.items() if n >= min_count
    }


class Phrases:
    """Learn which adjacent tokens to join (``fit``), then join them (``transform``).

    >>> corpus = [["not", "good", "at", "all"], ["not", "good"], ["very", "good"], ["not", "bad"]] * 5
    >>> phrases = Phrases(min_count=5, threshold=1.0, delta=5).fit(corpus)
    >>> phrases.transform([["it", "was", "not", "good"]])
    [['it', 'was', 'not_good']]
    """

    def __init__(self, *, min_count: int = 5, threshold: float = 100.0, delta: float = 5.0, passes: int = 1):
        self.min_count = min_count
        self.threshold = threshold
        self.delta = delta
        self.passes = passes

    def fit(self, token_lists: Sequence[list[str]]) -> Phrases:
        if self.passes < 1 or self.min_count < 1:
            raise ValueError("Phrases needs passes >= 1 and min_count >= 1")
        self.pairs_: list[list[tuple[str, str]]] = []
        current = list(token_lists)
        for _ in range(self.passes):
            scores = phrase_scores(current, delta=self.delta, min_count=self.min_count)
            joined = sorted(pair for pair, score in scores.items() if score > self.threshold)
            self.pairs_.append(joined)
            current = _join(current, set(joined))
        return self

    def transform(self, token_lists: Sequence[list[str]]) -> list[list[str]]:
        current = list(token_lists)
        for joined in self.pairs_:
            current = _join(current, set(map(tuple, joined)))
        return current

    @classmethod
    def from_pairs(cls, pairs: list[list[list[str]]], **params) -> Phrases:
        """A fitted ``Phrases`` from the joined pairs of each pass (as a model directory stores them)."""
        phrases = cls(**params)
        phrases.pairs_ = [[(a, b) for a, b in joined] for joined in pairs]
        phrases.passes = len(phrases.pairs_)
        return phrases


def _join(token_lists: Sequence[list[str]], pairs: set[tuple[str, str]]) -> list[list[str]]:
    if not pairs:
        return [list(tokens) for tokens in token_lists]
    firsts = {a for a, _ in pairs}
    joined_lists = []
    for tokens in token_lists:
        out, i, n = [], 0, len(tokens)
        while i < n:
            if i + 1 < n and tokens[i] in firsts and (tokens[i], tokens[i + 1]) in pairs:
                out.append(tokens[i] + DELIMITER + tokens[i + 1])
                i += 2
            else:
                out.append(tokens[i])
                i += 1
        joined_lists.append(out)
    return joined_lists
