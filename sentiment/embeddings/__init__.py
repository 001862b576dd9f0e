"""Word embeddings: the word2vec parameters, vocabulary, SGNS maths, the ``Word2Vec`` trainer, word vectors.

This package owns everything about learning and storing word vectors from
token lists; it knows nothing of reviews, labels or classifiers (that is
``sentiment.features.mean_embeddings`` and above).
"""
