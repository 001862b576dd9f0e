"""``DocVectorizer``: each review as its PV-DBOW document vector (``embeddings/doc2vec.py``).

``fit`` trains ``Doc2Vec`` on the texts it is given plus any
``unlabeled_texts`` (no labels are used), or adopts a fitted ``doc2vec``.
``transform`` *infers* a vector for every review against the frozen word side,
training texts included: inferred vectors measured better as classifier
features than the ones learned during training (0.847 vs 0.826 held-out on
8,000 IMDB reviews), and it keeps held-out and test reviews out of training.
Inference is deterministic for a given batch of texts and seed. Classifiers and
persistence are ``train.py`` and ``model.py``'s job.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sentiment.data.corpus import TextCorpus
from sentiment.embeddings.doc2vec import Doc2Vec
from sentiment.embeddings.params import keyword_init
from sentiment.tokenize import tokenize_all

__all__ = ["DocVectorizer"]

_DOC2VEC_PARAMETERS = [p for p in inspect.signature(Doc2Vec.__init__).parameters.values() if p.name != "self"]


class DocVectorizer(TransformerMixin, BaseEstimator):
    """Reviews to inferred PV-DBOW vectors; trains ``Doc2Vec`` in ``fit`` unless ``doc2vec`` is given."""

    # Doc2Vec's own parameters (names and defaults), then what this transformer adds.
    __init__ = keyword_init(
        inspect.Parameter("doc2vec", inspect.Parameter.KEYWORD_ONLY, default=None),
        inspect.Parameter("unlabeled_texts", inspect.Parameter.KEYWORD_ONLY, default=None),
        *_DOC2VEC_PARAMETERS,
        inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=None),
    )

    def fit(self, X, y=None):
        if isinstance(X, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        if self.doc2vec is not None:
            self.doc2vec_ = self.doc2vec
            return self
        extra = self.unlabeled_texts
        # A streamed TextCorpus yields token lists; document vectors need every document in memory anyway.
        extra = list(extra) if isinstance(extra, TextCorpus) else tokenize_all(list(extra or []))
        documents = tokenize_all(list(X)) + extra
        params = {p.name: getattr(self, p.name) for p in _DOC2VEC_PARAMETERS}
        self.doc2vec_ = Doc2Vec(**params).fit(documents, progress=self.progress)
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "doc2vec_")
        if isinstance(X, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        return self.doc2vec_.infer(tokenize_all(list(X)), progress=self.progress)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "doc2vec_")
        return np.array([f"doc{i}" for i in range(self.doc2vec_.vector_size)], dtype=object)
