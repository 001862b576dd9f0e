"""``MeanEmbeddingVectorizer``: each review as a weighted average (and optionally the max) of its word vectors.

Its ``fit`` trains our ``Word2Vec`` on the texts it is given (plus any
``unlabeled_texts``), or adopts fixed ``word_vectors``, then learns the word
weights (``word_weights.py``: uniform, idf, sif, or nb from the labels given
to ``fit``). ``weighting`` may join several with ``+`` (``"nb+uniform"``):
the feature vector is then their averages side by side; ``pooling="mean_max"``
appends the element-wise maximum over the review's words; ``phrases=N``
joins frequent word pairs (``embeddings/phrases.py``, N passes) before the
vectors are trained and averaged. It follows
scikit-learn's estimator rules, so ``clone``, ``Pipeline`` and
``GridSearchCV`` work. ``normalize=True`` makes each block unit length;
``prior_tokens=k`` pulls a review of ``n`` known words towards the average
training review, by ``n / (n + k)`` (calibrated probabilities on short texts).
The one-hot baseline is ``onehot.py``; classifiers and persistence are
``model.py``'s job.
"""

from __future__ import annotations

import inspect

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sentiment.data.corpus import TextCorpus
from sentiment.embeddings.params import WORD2VEC_PARAMS, as_parameters, keyword_init
from sentiment.embeddings.phrases import DELIMITER, Phrases
from sentiment.embeddings.vectors import WordVectors
from sentiment.embeddings.word2vec import Word2Vec
from sentiment.features.pooling import embedding_features, kept_share, known_words, max_vectors, mean_vectors, unit_rows
from sentiment.features.word_weights import WEIGHTINGS, count_matrix, word_weights
from sentiment.progress import Progress
from sentiment.tokenize import tokenize, tokenize_all

__all__ = ["POOLINGS", "MeanEmbeddingVectorizer", "max_vectors", "mean_vectors", "unit_rows"]

POOLINGS = ("mean", "mean_max")


class MeanEmbeddingVectorizer(TransformerMixin, BaseEstimator):
    """Reviews to weighted mean word vectors; trains SGNS in ``fit`` unless ``word_vectors`` is given.

    Word2Vec parameters keep gensim's names. ``unlabeled_texts`` are added to
    the texts passed to ``fit`` for training the vectors (and the idf/sif
    statistics) only, never held-out texts: pass those to ``transform``; a
    ``TextCorpus`` there is streamed from its files on every pass instead of
    being read into memory (phrases and the idf/sif statistics then come from
    the texts held in memory only). The
    ``nb`` weighting needs the labels: ``fit(X, y)``. ``normalize=True`` scales
    each block (each weighted mean, the max) of every review to unit length, so
    the features' scale does not depend on how many words the review has: a
    mean of 3 word vectors is far longer than a mean of 230, and without this a
    short text lands outside the range the classifier was fitted on.
    ``prior_tokens=k`` treats every review as if it also held ``k`` words of
    the average training review: its features become ``center + n / (n + k)
    * (features - center)`` for ``n`` known words, where ``center_`` is the
    mean of the training reviews' features. A 230-word review barely moves; a
    3-word text, whose mean says little, lands near the average review instead
    of far outside the training range, so its probability stays moderate
    (``train.py`` chooses ``k`` on sentences of dev reviews).
    """

    __init__ = keyword_init(
        inspect.Parameter("word_vectors", inspect.Parameter.KEYWORD_ONLY, default=None),
        inspect.Parameter("unlabeled_texts", inspect.Parameter.KEYWORD_ONLY, default=None),
        inspect.Parameter("weighting", inspect.Parameter.KEYWORD_ONLY, default="uniform"),
        inspect.Parameter("pooling", inspect.Parameter.KEYWORD_ONLY, default="mean"),
        inspect.Parameter("normalize", inspect.Parameter.KEYWORD_ONLY, default=False),
        inspect.Parameter("prior_tokens", inspect.Parameter.KEYWORD_ONLY, default=0.0),
        inspect.Parameter("phrases", inspect.Parameter.KEYWORD_ONLY, default=0),
        *as_parameters(WORD2VEC_PARAMS),  # gensim's names and defaults, declared once in embeddings/params.py
        inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=None),
    )

    def word2vec_params(self) -> dict:
        """This transformer's settings for ``Word2Vec``."""
        return {p.name: getattr(self, p.name) for p in WORD2VEC_PARAMS}

    @property
    def weightings(self) -> list[str]:
        return self.weighting.split("+")

    def fit(self, X, y=None):
        """Train word vectors on ``X`` (+ ``unlabeled_texts``), or take ``word_vectors``; learn the word weights."""
        self.fit_transform(X, y)
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "wv_")
        return self._features(self._phrased(_tokens(X, self.progress)))

    def transform_before_prior(self, X) -> tuple[np.ndarray, np.ndarray]:
        """The features of ``X`` without ``prior_tokens``, and each review's known words: ``toward_center``'s
        arguments, so that several priors can be tried on one tokenizing and averaging."""
        check_is_fitted(self, "wv_")
        return self._unshrunk_features(self._phrased(_tokens(X, self.progress)))

    def toward_center(self, features: np.ndarray, known: np.ndarray, prior_tokens: float) -> np.ndarray:
        """``transform``'s features at ``prior_tokens`` from ``transform_before_prior``'s output."""
        check_is_fitted(self, "center_")
        return self._toward_center(features, known, prior_tokens)

    def fit_transform(self, X, y=None, **fit_params) -> np.ndarray:
        tokens = _tokens(X, self.progress)  # tokenize once for both steps
        tokens = self._fit_tokens(tokens, y)  # the tokens as fitted: phrases joined once
        features, known = self._unshrunk_features(tokens)
        # The average training review: what `prior_tokens` pulls towards (kept for any k, set_params may change it).
        self.center_ = features.mean(axis=0, dtype=np.float64).astype(features.dtype)
        return self._toward_center(features, known)

    def _phrased(self, tokens: list[list[str]]) -> list[list[str]]:
        return tokens if self.phrases_ is None else self.phrases_.transform(tokens)

    def _fit_tokens(self, tokens: list[list[str]], y) -> list[list[str]]:
        """Fit on ``tokens``; returns them with phrases joined, as ``transform`` would see them."""
        unknown = [w for w in self.weightings if w not in WEIGHTINGS]
        if unknown or self.pooling not in POOLINGS:
            raise ValueError(
                f"weighting {self.weighting!r} / pooling {self.pooling!r}: weightings are {', '.join(WEIGHTINGS)} "
                f"(joined with +), poolings {', '.join(POOLINGS)}"
            )
        streamed = self.unlabeled_texts if isinstance(self.unlabeled_texts, TextCorpus) else None
        in_memory = streamed.texts if streamed is not None else self.unlabeled_texts
        unlabeled = [] if in_memory is None else _tokens(in_memory, self.progress)
        self.phrases_ = None
        if self.phrases:  # joined pairs learned from all the (unlabelled) text the vectors see
            self.phrases_ = Phrases(passes=self.phrases).fit(tokens + unlabeled)
            tokens, unlabeled = self.phrases_.transform(tokens), self.phrases_.transform(unlabeled)
        if self.word_vectors is not None:
            self.wv_ = self.word_vectors
            self.word2vec_ = None
        else:
            corpus = tokens + unlabeled
            if streamed is not None:  # read from disk on every pass, never held
                streamed = TextCorpus(streamed.paths, text_column=streamed.text_column)
                corpus = _Chained(tokens, unlabeled, streamed)
            self.word2vec_ = Word2Vec(**self.word2vec_params()).fit(corpus, progress=self.progress)
            if streamed is not None:
                self.unlabeled_texts.rows_read = streamed.rows_read  # what was read from the files, for the model card
            self.wv_ = self.word2vec_.wv
        labelled_counts = count_matrix(tokens, self.wv_.key_to_index, len(self.wv_))
        all_counts = None
        rows = []
        for weighting in self.weightings:
            if weighting in ("idf", "sif"):  # corpus statistics: every text the vectors were fitted on
                if all_counts is None:
                    all_counts = labelled_counts
                    if unlabeled:
                        unlabeled_counts = count_matrix(unlabeled, self.wv_.key_to_index, len(self.wv_))
                        all_counts = sparse.vstack([labelled_counts, unlabeled_counts]).tocsr()
                rows.append(word_weights(weighting, all_counts))
            else:
                rows.append(word_weights(weighting, labelled_counts, y))
        self.word_weights_ = np.vstack(rows)  # one row per averaged block
        return tokens

    def _features(self, tokens: list[list[str]]) -> np.ndarray:
        return self._toward_center(*self._unshrunk_features(tokens))

    def _unshrunk_features(self, tokens: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """The features before ``prior_tokens``, and each review's number of known words (phrases count once)."""
        features = embedding_features(
            tokens, self.wv_, self.word_weights_, pooling=self.pooling, normalize=self.normalize
        )
        return features, known_words(tokens, self.wv_)

    def _kept_share(self, known: np.ndarray) -> np.ndarray:
        """``n / (n + k)``: how much of a review's own features ``prior_tokens`` keeps (1 when k is 0)."""
        return kept_share(known, self.prior_tokens)

    def _toward_center(self, features: np.ndarray, known: np.ndarray, prior_tokens: float | None = None):
        prior = self.prior_tokens if prior_tokens is None else prior_tokens
        if not prior:
            return features
        if not float(prior) >= 0:
            raise ValueError(f"prior_tokens must be >= 0, got {prior!r}")
        kept = kept_share(known, prior).astype(features.dtype)[:, None]
        return self.center_ + kept * (features - self.center_)

    def token_contributions(self, text: str, reference=None) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Each token's share of the features (the contract: ``features/contributions.py``).

        In each weighted-mean block a known unit ``u`` (a word, or a joined
        phrase) gets ``a(u) / sum(a) * (v_u - reference)``, and the block's
        constant is the reference (zero rows and zero constant where no word
        carries weight); in the max block each dimension goes to the unit that
        holds the maximum. A phrase's row is shared equally by its words, so
        rows line up with ``tokenize(text)``.
        """
        check_is_fitted(self, "wv_")
        if not isinstance(text, str):
            raise TypeError(f"token_contributions expects one text, got {type(text).__name__}")
        tokens = tokenize(text)
        units = self._phrased([tokens])[0]
        widths = np.array([unit.count(DELIMITER) + 1 for unit in units], dtype=np.int64)  # tokens never hold "_"
        dim = self.wv_.vector_size
        blocks = len(self.word_weights_) + (self.pooling == "mean_max")
        reference = np.zeros(dim * blocks) if reference is None else np.asarray(reference, dtype=np.float64)
        ids = np.array([self.wv_.key_to_index.get(unit, -1) for unit in units], dtype=np.int64)
        known = ids >= 0
        vectors = np.zeros((len(units), dim))
        vectors[known] = self.wv_.vectors[ids[known]]
        rows = np.zeros((len(units), dim * blocks))
        constant = np.zeros(dim * blocks)
        for b, weights in enumerate(self.word_weights_):
            share = np.where(known, weights[np.maximum(ids, 0)], 0.0).astype(np.float64)
            if np.abs(share).sum() > 0:
                block = slice(b * dim, (b + 1) * dim)
                # Signed weights (nbs) are divided by the sum of |weight|; the reference is shared by |weight|.
                share, size = share / np.abs(share).sum(), np.abs(share) / np.abs(share).sum()
                # With `normalize` the block is the mean over its length: for one text that is a constant factor.
                scale = _unit_scale(share @ vectors) if self.normalize else 1.0
                rows[:, block] = (share[:, None] * vectors * scale - size[:, None] * reference[block]) * known[:, None]
                constant[block] = reference[block]
        if self.pooling == "mean_max" and known.any():
            block = slice((blocks - 1) * dim, blocks * dim)
            holder = np.flatnonzero(known)[vectors[known].argmax(axis=0)]  # the first unit holding each maximum
            maxima = vectors[holder, np.arange(dim)]
            scale = _unit_scale(maxima) if self.normalize else 1.0
            rows[holder, np.arange(dim) + block.start] = maxima * scale - reference[block]
            constant[block] = reference[block]
        if self.prior_tokens:  # features = kept * own + (1 - kept) * center: the center's part is a constant
            kept = float(self._kept_share(np.array([float(known.sum())]))[0])
            rows, constant = rows * kept, constant * kept + (1 - kept) * self.center_
        per_token = np.repeat(rows / widths[:, None], widths, axis=0)
        return tokens, per_token, constant

    @classmethod
    def from_arrays(
        cls, wv: WordVectors, word_weights: np.ndarray, *, weighting: str, pooling: str, phrases=None,
        normalize: bool = False, prior_tokens: float = 0.0, center: np.ndarray | None = None,
    ):  # fmt: skip
        """A fitted vectorizer rebuilt from what a model directory stores (``phrases``: a fitted ``Phrases``)."""
        vectorizer = cls(
            word_vectors=wv, weighting=weighting, pooling=pooling, phrases=phrases.passes if phrases else 0,
            normalize=normalize, prior_tokens=prior_tokens,
        )  # fmt: skip
        vectorizer.wv_, vectorizer.word2vec_, vectorizer.phrases_ = wv, None, phrases
        vectorizer.word_weights_ = np.asarray(word_weights, dtype=np.float32).reshape(-1, len(wv))
        if center is None and prior_tokens:
            raise ValueError("prior_tokens needs the center it pulls towards")
        vectorizer.center_ = np.zeros(vectorizer.n_features_out, np.float32) if center is None else center
        return vectorizer

    @property
    def n_features_out(self) -> int:
        return self.wv_.vector_size * (len(self.word_weights_) + (self.pooling == "mean_max"))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "wv_")
        names = [w for w in self.weightings for _ in range(len(self.word_weights_) // len(self.weightings))]
        blocks = [*names, *(["max"] if self.pooling == "mean_max" else [])]
        return np.array([f"{block}{i}" for block in blocks for i in range(self.wv_.vector_size)], dtype=object)


def _unit_scale(vector: np.ndarray) -> float:
    """The factor ``unit_rows`` applies to one row: ``1 / |vector|``, or 1 for a zero row."""
    norm = float(np.linalg.norm(vector))
    return 1.0 / norm if norm > 0 else 1.0


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
