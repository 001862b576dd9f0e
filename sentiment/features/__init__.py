"""Review -> feature transformers (scikit-learn conventions): mean SGNS embeddings and the one-hot baseline.

Each transformer takes raw review texts and tokenizes them with
``sentiment.tokenize``; word vectors come from ``sentiment.embeddings``.
Classifiers, pipelines and persistence are ``sentiment.train`` and
``sentiment.model``'s job.
"""

from sentiment.features.mean_embeddings import MeanEmbeddingVectorizer, mean_vectors
from sentiment.features.onehot import one_hot_vectorizer

__all__ = ["MeanEmbeddingVectorizer", "mean_vectors", "one_hot_vectorizer"]
