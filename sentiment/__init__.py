"""sentiment: sentiment classifiers from review text.

Our own NumPy skip-gram negative-sampling word vectors, averaged per review and
fed to logistic regression, always reported beside a one-hot bag-of-words
baseline. See README.md for the command line; the Python API is below.
"""

from __future__ import annotations

import importlib
import sys
import types

# Where each public name lives. They are imported on first use (PEP 562), so that
# `import sentiment.<module>` (for instance the scoring path behind `sentiment predict`)
# does not pay for scikit-learn, SciPy and pandas it may never need.
_PUBLIC = {
    "MeanEmbeddingVectorizer": "sentiment.features.mean_embeddings",
    "SentimentError": "sentiment.errors",
    "SentimentModel": "sentiment.model",
    "Word2Vec": "sentiment.embeddings.word2vec",
    "WordVectors": "sentiment.embeddings.vectors",
    "evaluate": "sentiment.evaluate",
    "load_reviews": "sentiment.data.reviews",
    "tokenize": "sentiment.tokenize",
    "train": "sentiment.train",
}

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


class _Package(types.ModuleType):
    """This package's module type: importing the submodule ``sentiment.train`` (or ``evaluate``, ``tokenize``)
    binds it as an attribute of the package, which would hide the public function of the same name."""

    def __setattr__(self, name, value):
        if name in _PUBLIC and isinstance(value, types.ModuleType):
            return  # `sentiment.train` stays the function, as it was when this file imported it eagerly
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value  # imported once
        return value
    raise AttributeError(f"module 'sentiment' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
