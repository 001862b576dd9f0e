"""Review -> feature transformers (scikit-learn conventions): weighted SGNS means, PV-DBOW document
vectors, NB n-grams, one-hot.

Each transformer takes raw review texts and tokenizes them with
``sentiment.tokenize``; word vectors come from ``sentiment.embeddings``.
Classifiers, pipelines and persistence are ``sentiment.train`` and
``sentiment.model``'s job. A transformer that implements ``token_contributions``
(the contract is in ``contributions.py``) can be explained word by word.
"""

from sentiment.features.contributions import check_contributions, ngram_contributions
from sentiment.features.doc_vectors import DocVectorizer
from sentiment.features.mean_embeddings import MeanEmbeddingVectorizer, mean_vectors
from sentiment.features.nb_ngrams import NBNgramVectorizer
from sentiment.features.onehot import OneHotVectorizer, one_hot_vectorizer

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
