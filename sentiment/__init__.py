"""sentiment: sentiment classifiers from review text.

Our own NumPy skip-gram negative-sampling word vectors, averaged per review and
fed to logistic regression, always reported beside a one-hot bag-of-words
baseline. See README.md for the command line; the Python API is below.
"""

from sentiment.data.reviews import load_reviews
from sentiment.embeddings.vectors import WordVectors
from sentiment.embeddings.word2vec import Word2Vec
from sentiment.errors import SentimentError
from sentiment.evaluate import evaluate
from sentiment.features.mean_embeddings import MeanEmbeddingVectorizer
from sentiment.model import SentimentModel
from sentiment.tokenize import tokenize
from sentiment.train import train

__all__ = [
    "MeanEmbeddingVectorizer",
    "SentimentError",
    "SentimentModel",
    "Word2Vec",
    "WordVectors",
    "evaluate",
    "load_reviews",
    "tokenize",
    "train",
]
__version__ = "0.1.0"
