"""The baseline features: a binary bag of words over the tokenizer the embeddings use.

A review becomes 1 in the column of each word it contains and 0 elsewhere
(scikit-learn's ``CountVectorizer`` with ``binary=True``), so the baseline and
the embeddings see exactly the same tokens. Classifiers are ``train.py``'s job.
"""

from __future__ import annotations

from sklearn.feature_extraction.text import CountVectorizer

from sentiment.tokenize import tokenize

__all__ = ["one_hot_vectorizer"]


def one_hot_vectorizer(min_df: int = 1) -> CountVectorizer:
    """1 where a word occurs in the review, 0 elsewhere, with our tokenizer."""
    return CountVectorizer(binary=True, tokenizer=tokenize, lowercase=False, token_pattern=None, min_df=min_df)
