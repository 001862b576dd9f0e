"""The contract that makes a feature transformer explainable: ``token_contributions(text)``.

A transformer that can say how much each token of a text adds to its feature
vector implements::

    token_contributions(text, reference=None) -> (tokens, per_token, constant)

- ``tokens``: the text's tokens in order, as ``sentiment.tokenize`` yields them
  (one entry per occurrence, unknown words included), so they can be matched to
  places in the text;
- ``per_token``: an ``n_tokens x n_features`` matrix (a NumPy array, or a SciPy
  sparse matrix when the features are many), row ``i`` being token ``i``'s share;
- ``constant``: an ``n_features`` vector, the part of the features that belongs
  to no token (zeros for the transformers here; a bias or a prior elsewhere);

such that ``per_token.sum(axis=0) + constant == transform([text])[0]``.

``reference`` (optional, ``n_features``) is a point the explanation may be
relative to: the training mean of the features when the pipeline standardises
them. A transformer may then give each token its departure from that point
and put the point in ``constant`` (mean embeddings do: otherwise every word of
an average review would push the same way, by a lot, cancelled by a large
constant); one that has no use for it ignores it. The sum must hold either way.

That is all ``SentimentModel.explain`` needs: the steps after the features
(a scaler, the classifier) are linear, so pushing every row through them gives
each token's exact share of the classifier's logit. How a transformer shares
a feature among tokens is its own choice, as long as the sum holds: mean
embeddings give each known token ``vector / n_known``; the one-hot bag of
words splits each present column equally among that word's occurrences; a word
n-gram's value is split equally among its words (``ngram_contributions``), so
a weighted or NB-scaled variant only multiplies the rows by its weights.
``check_contributions`` checks the sum for any transformer (use it in tests).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import scipy.sparse as sp

__all__ = ["check_contributions", "ngram_contributions"]


def ngram_contributions(
    tokens: list[str], vocabulary: dict[str, int], ngram_range: tuple[int, int] = (1, 1), *, binary: bool = False
) -> sp.csr_matrix:
    """Each token's share of a bag of word n-grams (``CountVectorizer``'s space-joined n-grams).

    Each occurrence of an n-gram counts 1 (``binary``: the column's 1 is shared by all its occurrences),
    split equally among the n tokens it spans.

    >>> m = ngram_contributions(["not", "bad", "not"], {"not": 0, "bad": 1, "not bad": 2}, (1, 2), binary=True)
    >>> m.toarray().round(2).tolist()
    [[0.5, 0.0, 0.5], [0.0, 1.0, 0.5], [0.5, 0.0, 0.0]]
    """
    low, high = ngram_range
    entries = []  # (token row, column, value)
    for n in range(low, high + 1):
        grams = [(i, " ".join(tokens[i : i + n])) for i in range(len(tokens) - n + 1)]
        grams = [(i, vocabulary[g]) for i, g in grams if g in vocabulary]
        occurrences = Counter(column for _, column in grams)
        for i, column in grams:
            share = (1.0 / occurrences[column] if binary else 1.0) / n
            entries.extend((i + k, column, share) for k in range(n))
    rows, columns, values = zip(*entries, strict=True) if entries else ((), (), ())
    return sp.csr_matrix((values, (rows, columns)), shape=(len(tokens), len(vocabulary)), dtype=np.float64)


def check_contributions(transformer, text: str, *, reference=None, atol: float = 1e-6) -> None:
    """Raise ``AssertionError`` unless ``transformer.token_contributions(text)`` adds up to ``transform([text])[0]``."""
    tokens, per_token, constant = transformer.token_contributions(text, reference=reference)
    if per_token.shape != (len(tokens), len(constant)):
        raise AssertionError(f"per-token matrix is {per_token.shape}, expected {(len(tokens), len(constant))}")
    total = np.asarray(per_token.sum(axis=0)).ravel() + constant
    features = transformer.transform([text])
    expected = np.asarray(features[0].toarray() if sp.issparse(features) else features[0], dtype=np.float64).ravel()
    if not np.allclose(total, expected, rtol=1e-5, atol=atol):
        raise AssertionError(f"contributions add up to {total}, the features are {expected}")
