"""``MeanEmbeddingVectorizer``: each review as the average of its words' SGNS vectors.

Its ``fit`` trains our ``Word2Vec`` on the texts it is given (plus any
``unlabeled_texts``), or adopts fixed ``word_vectors``; it follows scikit-learn's
estimator rules, so ``clone``, ``Pipeline`` and ``GridSearchCV`` work. The
one-hot baseline is ``onehot.py``; classifiers and persistence are
``model.py``'s job.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sentiment.data.corpus import TextCorpus
from sentiment.embeddings.params import WORD2VEC_PARAMS, as_parameters, keyword_init
from sentiment.embeddings.vectors import WordVectors
from sentiment.embeddings.word2vec import Word2Vec
from sentiment.progress import Progress
from sentiment.tokenize import tokenize_all

__all__ = ["MeanEmbeddingVectorizer", "mean_vectors"]


def mean_vectors(token_lists: list[list[str]], wv: WordVectors) -> np.ndarray:
    """Average vector of each token list's known words; a row of zeros where none is known.

    >>> wv = WordVectors(["good", "bad"], np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> mean_vectors([["good", "good", "bad", "unknown"], ["unknown"]], wv).astype(float).round(3).tolist()
    [[0.667, 0.333], [0.0, 0.0]]
    """
    key_to_index = wv.key_to_index
    ids = [
        np.fromiter((key_to_index[w] for w in tokens if w in key_to_index), dtype=np.int64) for tokens in token_lists
    ]
    lengths = np.array([len(i) for i in ids], dtype=np.int64)
    features = np.zeros((len(ids), wv.vector_size), dtype=np.float32)
    known = lengths > 0
    if known.any():
        flat = np.concatenate([i for i in ids if len(i)])
        starts = np.concatenate(([0], np.cumsum(lengths[known])[:-1]))
        features[known] = np.add.reduceat(wv.vectors[flat], starts, axis=0) / lengths[known, None]
    return features


class MeanEmbeddingVectorizer(TransformerMixin, BaseEstimator):
    """Reviews to mean word vectors; trains SGNS in ``fit`` unless ``word_vectors`` is given.

    Word2Vec parameters keep gensim's names. ``unlabeled_texts`` are added to
    the texts passed to ``fit`` for training the vectors only (never held-out
    texts: pass those to ``transform``); a ``TextCorpus`` there is streamed
    from its files on every pass instead of being read into memory.
    """

    __init__ = keyword_init(
        inspect.Parameter("word_vectors", inspect.Parameter.KEYWORD_ONLY, default=None),
        inspect.Parameter("unlabeled_texts", inspect.Parameter.KEYWORD_ONLY, default=None),
        *as_parameters(WORD2VEC_PARAMS),  # gensim's names and defaults, declared once in embeddings/params.py
        inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=None),
    )

    def word2vec_params(self) -> dict:
        """This transformer's settings for ``Word2Vec``."""
        return {p.name: getattr(self, p.name) for p in WORD2VEC_PARAMS}

    def fit(self, X, y=None):
        """Train word vectors on ``X`` (+ ``unlabeled_texts``), or take ``word_vectors``."""
        return self._fit_tokens(_tokens(X, self.progress))

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "wv_")
        return mean_vectors(_tokens(X, self.progress), self.wv_)

    def fit_transform(self, X, y=None, **fit_params) -> np.ndarray:
        tokens = _tokens(X, self.progress)  # tokenize once for both steps
        return mean_vectors(tokens, self._fit_tokens(tokens).wv_)

    def _fit_tokens(self, tokens: list[list[str]]) -> MeanEmbeddingVectorizer:
        if self.word_vectors is not None:
            self.wv_ = self.word_vectors
            self.word2vec_ = None
            return self
        corpus = tokens
        if isinstance(self.unlabeled_texts, TextCorpus):  # streamed from disk on every pass, never held
            streamed = TextCorpus(self.unlabeled_texts.paths, text_column=self.unlabeled_texts.text_column)
            corpus = _Chained(tokens, _tokens(self.unlabeled_texts.texts, self.progress), streamed)
        elif self.unlabeled_texts is not None:
            corpus = tokens + _tokens(self.unlabeled_texts, self.progress)
        self.word2vec_ = Word2Vec(**self.word2vec_params()).fit(corpus, progress=self.progress)
        if isinstance(self.unlabeled_texts, TextCorpus):
            self.unlabeled_texts.rows_read = streamed.rows_read  # what was read from the files, for the model card
        self.wv_ = self.word2vec_.wv
        return self

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "wv_")
        return np.array([f"embedding{i}" for i in range(self.wv_.vector_size)], dtype=object)


class _Chained:
    """Re-iterable: the token lists of each part in turn (lists, or a cacheable ``TextCorpus``)."""

    cacheable = True

    def __init__(self, *parts):
        self.parts = parts

    def __iter__(self):
        for part in self.parts:
            yield from part


def _tokens(texts, progress: Progress | None) -> list[list[str]]:
    if isinstance(texts, str):
        raise ValueError("Iterable over raw text documents expected, string object received.")
    texts = list(texts)
    if progress is None or len(texts) < 5_000:
        return tokenize_all(texts)
    with progress.task("Tokenizing", total=len(texts)) as bar:
        tokens = []
        for start in range(0, len(texts), 2_000):
            tokens.extend(tokenize_all(texts[start : start + 2_000]))
            bar.advance(min(2_000, len(texts) - start))
        return tokens
