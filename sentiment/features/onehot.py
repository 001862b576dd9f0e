"""The baseline features: a binary bag of words over the tokenizer the embeddings use.

A review becomes 1 in the column of each word it contains and 0 elsewhere
(scikit-learn's ``CountVectorizer`` with ``binary=True``), so the baseline and
the embeddings see exactly the same tokens. ``OneHotVectorizer`` is that
``CountVectorizer`` plus ``token_contributions`` (``contributions.py``), so
its predictions can be explained word by word. Classifiers are ``train.py``'s job.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils.validation import check_is_fitted

from sentiment.features.contributions import ngram_contributions
from sentiment.tokenize import tokenize

__all__ = ["OneHotVectorizer", "one_hot_vectorizer"]


class OneHotVectorizer(CountVectorizer):
    """``CountVectorizer`` (same parameters, same features) that can share each column among the tokens."""

    def token_contributions(self, text: str, reference=None) -> tuple[list[str], sp.csr_matrix, np.ndarray]:
        """Each word occurrence's share of the bag of words (``contributions.py``).

        A present column's value is split equally among the occurrences of its word (or n-gram, whose share is
        split again among its words); unknown words get an empty row. ``reference`` is ignored: an absent word is
        no one's contribution.
        """
        check_is_fitted(self, "vocabulary_")
        if not isinstance(text, str):
            raise TypeError(f"token_contributions expects one text, got {type(text).__name__}")
        if self.analyzer != "word" or self.stop_words is not None:
            raise NotImplementedError("token contributions need analyzer='word' and no stop words")
        tokens = self.build_tokenizer()(self.build_preprocessor()(text))
        rows = ngram_contributions(tokens, self.vocabulary_, self.ngram_range, binary=self.binary)
        return tokens, rows, np.zeros(len(self.vocabulary_), dtype=np.float64)


def one_hot_vectorizer(min_df: int = 1) -> OneHotVectorizer:
    """1 where a word occurs in the review, 0 elsewhere, with our tokenizer."""
    return OneHotVectorizer(binary=True, tokenizer=tokenize, lowercase=False, token_pattern=None, min_df=min_df)
