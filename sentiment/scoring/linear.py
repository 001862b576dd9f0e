"""Lean scorers: a saved pipeline's stored arrays as NumPy arithmetic, without scikit-learn.

Every pipeline a model directory holds ends in a linear model (logistic
regression, optionally after standardising), so scoring is tokens -> vocabulary
indices -> per-document sums of per-word numbers (``np.bincount``) -> probabilities, the way
scikit-learn's ``LogisticRegression.predict_proba`` computes them (the
logistic function of the decision for two classes, the softmax for more).

* ``embeddings`` with plain weighted means (``pooling="mean"``, no
  ``normalize``): the standardising and the classifier are folded into one
  number per word and block, ``u_b(w) = a_b(w) v(w) . (coef_b / scale_b)``,
  so the decision is ``sum_b (C u_b) / (C |a_b|) + const`` for the counts
  ``C``: no tokens x dimensions and no documents x dimensions array is built.
  With ``prior_tokens=k`` the features are ``s f + (1 - s) center`` for
  ``s = n / (n + k)`` and ``n`` known words, so the decision is ``s`` times
  the sums plus ``(1 - s)`` times the center's (folded once). Model
  directories of format 4 store these folded numbers and the words
  (``embeddings_scorer.npz``), so a one-text ``sentiment predict`` reads
  about 2 MB (the IMDB model) instead of the 59 MB of vectors.
  With max pooling or unit-length blocks the features are computed as the
  vectorizer computes them (``features/pooling.py``, SciPy's sparse
  product), then standardised. SciPy is imported only then.
* ``onehot`` and ``nbngrams``: binary bags of words / n-grams times one
  folded weight per column; NB n-grams with ``norm="l2"`` divide each
  document's sum by its row's length, the square root of the sum of its
  n-grams' squared ratios.
* ``doc2vec`` is not covered: inferring a document vector trains it against
  the stored word side, which is ``sentiment.embeddings.doc2vec``'s job;
  ``make_scorer`` returns None and the model falls back to its pipeline.

Results equal the scikit-learn pipeline's to float rounding (tests/test_scoring.py
holds them to 1e-6). Calibration and stacks are applied by ``model.py`` on top.
"""

from __future__ import annotations

import numpy as np

from sentiment.tokenize import known_ids, tokenize

__all__ = ["EmbeddingsScorer", "NgramScorer", "fold_mean_embeddings", "linear_proba", "make_scorer"]

# Texts tokenized at a time: their token lists (Python strings, about 14 MB per 1,000 IMDB reviews) are what
# scoring holds beyond the model, so a caller's chunk of 5,000 is scored in slices of this many.
SLICE = 1_000


def _in_slices(decide, texts: list[str]) -> np.ndarray:
    """``decide(texts)`` over ``SLICE`` texts at a time, stacked."""
    if len(texts) <= SLICE:
        return decide(texts)
    return np.vstack([decide(texts[start : start + SLICE]) for start in range(0, len(texts), SLICE)])


def _row_sums(rows: np.ndarray, values: np.ndarray, n_rows: int) -> np.ndarray:
    """``values`` (tokens x columns) summed per document: documents x columns."""
    sums = [np.bincount(rows, weights=column, minlength=n_rows) for column in values.T]
    return np.column_stack(sums).astype(np.float64, copy=False)  # bincount of nothing is int64 zeros


def linear_proba(decision: np.ndarray) -> np.ndarray:
    """Class probabilities from a (documents x 1) or (documents x classes) decision, as ``LogisticRegression``.

    >>> linear_proba(np.array([[0.0], [np.log(3.0)]])).round(3).tolist()
    [[0.5, 0.5], [0.25, 0.75]]
    """
    if decision.shape[1] == 1:
        positive = 1.0 / (1.0 + np.exp(-decision[:, 0]))  # scipy.special.expit, without importing scipy.special
        return np.column_stack([1 - positive, positive])
    shifted = np.exp(decision - decision.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def fold_mean_embeddings(
    vectors: np.ndarray, weights: np.ndarray, coef, intercept, scaler_mean, scaler_scale, center=None
) -> dict[str, np.ndarray]:
    """What a plain weighted-mean embeddings pipeline (``pooling="mean"``, no ``normalize``) reduces to.

    ``per_word`` (vocabulary x blocks * rows): ``a_b(w) v(w) . (coef_b / scale_b)``; ``sizes``
    (vocabulary x blocks): ``|a_b(w)|``, what each block's weighted mean divides by; ``constant``: the
    intercept less the standardising's shift; ``center_part`` (with ``center``, for ``prior_tokens``): the
    center's share of the decision. The model directory stores these (format 4) so that scoring never reads
    the vectors; ``EmbeddingsScorer`` folds them itself for older models.
    """
    coef = np.asarray(coef, dtype=np.float64)
    scaled = coef / np.asarray(scaler_scale, dtype=np.float64)  # (classes or 1) x features
    dim = vectors.shape[1]
    # einsum sums the float32 vectors times float64 coefficients in float64 without a float64 copy of
    # the vectors (a matmul would make one: a tenth of a second for 300 dimensions).
    blocks = [
        block_weights.astype(np.float64)[:, None] * np.einsum("vd,kd->vk", vectors, scaled[:, b * dim : (b + 1) * dim])
        for b, block_weights in enumerate(weights)
    ]  # each vocabulary x (classes or 1)
    folded = {
        "per_word": np.hstack(blocks),
        "sizes": np.ascontiguousarray(np.abs(weights.astype(np.float64)).T),
        "constant": np.asarray(intercept, dtype=np.float64) - scaled @ np.asarray(scaler_mean, dtype=np.float64),
    }
    if center is not None:
        folded["center_part"] = scaled @ np.asarray(center, dtype=np.float64)
    return folded


class EmbeddingsScorer:
    """Weighted (and pooled) mean word vectors -> standardised -> logistic regression, as arithmetic.

    A format-4 model stores the folded numbers (``spec["folded"]``, see
    ``fold_mean_embeddings``) beside its vectors, so scoring it never reads
    ``vectors.bin``; for older models they are folded here from ``spec["wv"]``.
    """

    def __init__(self, spec: dict):
        self.classes_ = spec["classes"]
        self.phrases = spec["phrases"]
        self.weights, self.pooling, self.normalize = spec["weights"], spec["pooling"], spec["normalize"]
        self.prior_tokens = float(spec.get("prior_tokens") or 0.0)
        self.folded = self.pooling == "mean" and not self.normalize
        coef = np.asarray(spec["coef"], dtype=np.float64)
        self.rows = coef.shape[0]
        center = None if spec.get("center") is None else np.asarray(spec["center"], dtype=np.float64)
        folded = spec.get("folded") if self.folded else None
        if folded is not None:  # format 4: stored, with its words
            self.vocabulary = folded["key_to_index"]
        else:
            self.wv = spec["wv"]
            self.vocabulary = self.wv.key_to_index
            if self.folded:
                folded = fold_mean_embeddings(
                    self.wv.vectors, self.weights, coef, spec["intercept"], spec["scaler_mean"],
                    spec["scaler_scale"], center if self.prior_tokens else None,
                )  # fmt: skip
        if self.folded:
            self.per_word, self.sizes = folded["per_word"], folded["sizes"]
            self.constant, self.center_part = folded["constant"], folded.get("center_part")
        else:
            self.coef, self.center = coef, center
            self.intercept = np.asarray(spec["intercept"], dtype=np.float64)
            self.mean = np.asarray(spec["scaler_mean"], dtype=np.float64)
            self.scale = np.asarray(spec["scaler_scale"], dtype=np.float64)

    def tokens(self, texts: list[str]) -> list[list[str]]:
        tokens = list(map(tokenize, texts))
        return tokens if self.phrases is None else self.phrases.transform(tokens)

    def decision_function(self, texts: list[str]) -> np.ndarray:
        return _in_slices(self._decide, list(texts))

    def _decide(self, texts: list[str]) -> np.ndarray:
        tokens = self.tokens(texts)
        if not self.folded:
            from sentiment.features.pooling import (
                embedding_features,  # SciPy's sparse product
                kept_share,
                known_words,
            )

            features = embedding_features(
                tokens, self.wv, self.weights, pooling=self.pooling, normalize=self.normalize
            ).astype(np.float64)
            if self.prior_tokens:
                kept = kept_share(known_words(tokens, self.wv), self.prior_tokens)[:, None]
                features = self.center + kept * (features - self.center)
            return ((features - self.mean) / self.scale) @ self.coef.T + self.intercept
        rows, ids = known_ids(tokens, self.vocabulary)
        sums = _row_sums(rows, self.per_word[ids], len(texts))  # documents x (blocks * rows)
        totals = _row_sums(rows, self.sizes[ids], len(texts))  # documents x blocks: what each mean divides by
        own = np.zeros((len(texts), self.rows))
        for b in range(totals.shape[1]):
            part, total = sums[:, b * self.rows : (b + 1) * self.rows], totals[:, b : b + 1]
            own += np.divide(part, total, out=np.zeros_like(part), where=total > 0)
        if self.prior_tokens:
            known = np.bincount(rows, minlength=len(texts)).astype(np.float64)
            kept = (known / (known + self.prior_tokens))[:, None]  # features/pooling.py's kept_share
            return self.constant + kept * own + (1 - kept) * self.center_part
        return self.constant + own

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return linear_proba(self.decision_function(texts))


class NgramScorer:
    """Binary bag of words or n-grams (times NB ratios) -> logistic regression, as one sparse product."""

    def __init__(self, spec: dict):
        self.classes_ = spec["classes"]
        terms = spec["vocabulary"]
        self.vocabulary = {term: i for i, term in enumerate(terms)}
        self.ngram_range = tuple(spec.get("ngram_range", (1, 1)))
        coef = np.asarray(spec["coef"], dtype=np.float64)
        ratios = spec.get("ratios")
        if ratios is None:  # one-hot: the coefficients are the per-column weights
            self.per_term = coef.T
        else:  # NB n-grams: one copy of the columns per ratio row, each times its ratio
            n = len(terms)
            self.per_term = sum(
                ratio.astype(np.float64)[:, None] * coef[:, b * n : (b + 1) * n].T for b, ratio in enumerate(ratios)
            )
        # norm="l2" (NB n-grams): a document's row length is the root of the sum of its terms' squared ratios
        self.squared_ratios = None
        if ratios is not None and spec.get("norm") == "l2":
            self.squared_ratios = np.square(np.asarray(ratios, dtype=np.float64)).sum(axis=0)[:, None]
        self.intercept = np.asarray(spec["intercept"], dtype=np.float64)

    def terms(self, tokens: list[str]) -> list[str]:
        """The n-grams (tokens joined by spaces) in ``ngram_range``, as scikit-learn's ``CountVectorizer``."""
        low, high = self.ngram_range
        grams = tokens if low == 1 else []
        for n in range(max(low, 2), high + 1):
            grams = [*grams, *map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))]  # shortest tail ends
        return grams

    def decision_function(self, texts: list[str]) -> np.ndarray:
        return _in_slices(self._decide, list(texts))

    def _decide(self, texts: list[str]) -> np.ndarray:
        tokens = list(map(tokenize, texts))
        if self.ngram_range != (1, 1):
            tokens = list(map(self.terms, tokens))
        rows, ids = known_ids(list(map(set, tokens)), self.vocabulary)  # binary: each term once per document
        sums = _row_sums(rows, self.per_term[ids], len(texts))
        if self.squared_ratios is not None:
            length = np.sqrt(_row_sums(rows, self.squared_ratios[ids], len(texts)))
            sums = np.divide(sums, length, out=np.zeros_like(sums), where=length > 0)
        return sums + self.intercept

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return linear_proba(self.decision_function(texts))


def make_scorer(spec: dict):
    """The lean scorer for one stored pipeline, or None where it needs the full path (``doc2vec``)."""
    features = spec["features"]
    if features == "embeddings":
        return EmbeddingsScorer(spec)
    if features in ("onehot", "nbngrams"):
        return NgramScorer(spec)
    return None
