"""Review -> feature transformers (scikit-learn conventions): weighted SGNS means, PV-DBOW document
vectors, NB n-grams, one-hot.

Each transformer takes raw review texts and tokenizes them with
``sentiment.tokenize``; word vectors come from ``sentiment.embeddings``.
Classifiers, pipelines and persistence are ``sentiment.train`` and
``sentiment.model``'s job. A transformer that implements ``token_contributions``
(the contract is in ``contributions.py``) can be explained word by word.
"""

from __future__ import annotations

import importlib

# Imported on first use (PEP 562): the transformers need scikit-learn, and the lean scoring path
# (``sentiment.scoring``) imports ``sentiment.features.word_weights`` without it.
_WHERE = {
    "DocVectorizer": "doc_vectors",
    "MeanEmbeddingVectorizer": "mean_embeddings",
    "NBNgramVectorizer": "nb_ngrams",
    "OneHotVectorizer": "onehot",
    "check_contributions": "contributions",
    "mean_vectors": "pooling",
    "ngram_contributions": "contributions",
    "one_hot_vectorizer": "onehot",
}

__all__ = [
    "DocVectorizer",
    "MeanEmbeddingVectorizer",
    "NBNgramVectorizer",
    "OneHotVectorizer",
    "check_contributions",
    "mean_vectors",
    "ngram_contributions",
    "one_hot_vectorizer",
]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"sentiment.features.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'sentiment.features' has no attribute {name!r}")
