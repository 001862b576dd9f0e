"""``Doc2Vec``: paragraph vectors, PV-DBOW (Le & Mikolov 2014), trained with our SGNS kernel.

Each document ``d`` has a vector ``D[d]`` that predicts every word of ``d``
against ``negative`` noise words, exactly skip-gram's objective with the
document in the place of the context word (``sgns.pair_gradients``); the
word side (``syn1neg``, one output vector per word) is shared by all
documents. Documents are visited in a fresh random order each epoch (Le &
Mikolov's unshuffled order is why their IMDB result never reproduced), in
blocks of about ``batch_words`` tokens, with word2vec's linear learning-rate
decay. A block's updates are computed from its starting weights, so a
document whose 240 tokens all sat in one block would take 240 stale steps at
once (and diverge, measured); documents are therefore cut into pieces of at
most ``_PIECE`` tokens, and the pieces shuffled into blocks, so that a
document's vector moves between its pieces as in word2vec's one-pair-at-a-time
updates. Parameter names follow gensim's ``Doc2Vec(dm=0)``.

``ngrams=n`` makes every run of 2..n neighbouring words (joined by a space,
as ``features/nb_ngrams.py`` joins them) a target too, beside the words: the
n-gram document vectors of Li et al. (2016). Measured on IMDB (20,000
training + 50,000 unlabelled reviews, 100 dimensions, inferred, logistic
regression on 5,000 held-out reviews): words and word pairs, 10 epochs, 0.902
against words alone, 20 epochs, 0.888, in about the same time; but the word
side grows with every pair seen ``min_count`` times (993,277 targets at
``min_count=2``, 379 MiB at 100 dimensions, against 34 MB), so the default is
words alone. The n-grams are made one document at a time, never held for the
whole corpus.

``infer_vector``-style inference (``infer``) gives unseen documents a fresh
vector trained for ``epochs`` passes against the frozen word side, so held-out
and test reviews are never part of training; the same ``seed`` gives the same
vectors. Building review features from this is ``features/doc_vectors.py``'s
job.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import numpy as np
from sklearn.base import BaseEstimator

from sentiment.embeddings.sgns import NOISE_GROUP, pair_gradients, row_sums
from sentiment.embeddings.vocab import build_vocab, keep_probabilities, noise_distribution
from sentiment.errors import TrainingError
from sentiment.progress import Progress

__all__ = ["Doc2Vec", "with_ngrams"]

# Noise words per group of NOISE_GROUP pairs, as a multiple of `negative` (see sgns.pair_gradients).
_POOL_PER_NEGATIVE = 4
# Tokens of one document per piece: bounds the stale steps a document vector takes in one block.
_PIECE = 32
# The loss is measured on one block in this many (its exponentials cost as much as the gradients').
_LOSS_EVERY = 8


def with_ngrams(tokens: list[str], ngrams: int) -> list[str]:
    """``tokens`` followed by every run of 2..``ngrams`` neighbouring tokens, joined by a space.

    >>> with_ngrams(["not", "bad", "at", "all"], 2)
    ['not', 'bad', 'at', 'all', 'not bad', 'bad at', 'at all']
    """
    if ngrams < 2:
        return tokens  # words alone: no copy
    targets = list(tokens)
    for n in range(2, ngrams + 1):
        targets += map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))  # shortest tail ends
    return targets


class Doc2Vec(BaseEstimator):
    """PV-DBOW document vectors; ``fit(documents)`` then ``dv_`` (trained) or ``infer(new_documents)``.

    >>> docs = [["good", "fun", "film"], ["bad", "dull", "film"]] * 20
    >>> model = Doc2Vec(vector_size=8, min_count=1, epochs=2, seed=1).fit(docs)
    >>> model.dv_.shape, model.infer([["good", "fun"]]).shape
    ((40, 8), (1, 8))
    """

    def __init__(
        self,
        *,
        vector_size: int = 100,
        min_count: int = 2,
        negative: int = 5,
        ns_exponent: float = 0.75,
        sample: float = 0.0,
        alpha: float = 0.025,
        min_alpha: float = 0.0001,
        epochs: int = 20,
        batch_words: int = 1_000,
        seed: int = 1,
        ngrams: int = 1,
    ):
        self.vector_size = vector_size
        self.min_count = min_count
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.sample = sample
        self.alpha = alpha
        self.min_alpha = min_alpha
        self.epochs = epochs
        self.batch_words = batch_words
        self.seed = seed
        self.ngrams = ngrams

    def fit(self, documents: Sequence[list[str]], y=None, *, progress: Progress | None = None) -> Doc2Vec:
        """Learn the word side and one vector per document of ``documents`` (a list of token lists)."""
        if isinstance(documents, str):
            raise TrainingError("documents must be a list of token lists, not a single string")
        for name in ("vector_size", "min_count", "negative", "epochs", "batch_words", "ngrams"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise TrainingError(f"{name} must be an integer >= 1")
        if not 0 < self.alpha <= 10 or not 0 <= self.min_alpha <= self.alpha or self.sample < 0:
            raise TrainingError("doc2vec needs 0 < alpha <= 10, 0 <= min_alpha <= alpha and sample >= 0")
        progress = progress or Progress(enabled=False)
        started = time.perf_counter()
        vocab = build_vocab(self._targets(documents), min_count=self.min_count)
        if len(vocab) == 0:
            raise TrainingError(f"no word occurs {self.min_count} or more times: lower min_count or give more text")
        self._set_vocabulary(vocab.index_to_key, vocab.counts)
        rng = np.random.default_rng(self.seed)
        encoded = self._encode(documents)
        self.syn1neg_ = np.zeros((len(vocab), self.vector_size), dtype=np.float32)
        self.dv_ = self._initial_vectors(len(encoded), rng)
        self.loss_history_ = self._train(encoded, self.dv_, rng, progress, "Training document vectors", words=True)
        self.training_seconds_ = time.perf_counter() - started
        return self

    def infer(self, documents: Sequence[list[str]], *, progress: Progress | None = None) -> np.ndarray:
        """Vectors for ``documents`` trained against the frozen word side (same seed, same vectors)."""
        if not hasattr(self, "syn1neg_"):
            raise TrainingError("this Doc2Vec is not fitted yet: call fit(documents) first")
        rng = np.random.default_rng([self.seed, len(documents)])
        vectors = self._initial_vectors(len(documents), rng)
        self._train(self._encode(documents), vectors, rng, progress or Progress(enabled=False), "Inferring", False)
        return vectors

    @classmethod
    def from_arrays(cls, index_to_key: list[str], counts: np.ndarray, syn1neg: np.ndarray, **params) -> Doc2Vec:
        """A fitted model (for inference) rebuilt from what a model directory stores."""
        model = cls(**params)
        model._set_vocabulary(list(index_to_key), np.asarray(counts, dtype=np.int64))
        model.syn1neg_ = np.asarray(syn1neg, dtype=np.float32)
        return model

    # ------------------------------------------------------------- internals

    def _set_vocabulary(self, index_to_key: list[str], counts: np.ndarray) -> None:
        self.index_to_key_, self.counts_ = index_to_key, counts
        self.key_to_index_ = {word: i for i, word in enumerate(index_to_key)}
        self._keep = keep_probabilities(counts, self.sample)
        noise_cdf = np.cumsum(noise_distribution(counts, self.ns_exponent))
        self._noise_cdf = noise_cdf / noise_cdf[-1]

    def _initial_vectors(self, n_docs: int, rng) -> np.ndarray:
        # As word2vec's input vectors: uniform in [-0.5, 0.5) / dim.
        return ((rng.random((n_docs, self.vector_size), dtype=np.float32) - 0.5) / self.vector_size).astype(np.float32)

    def _targets(self, documents: Sequence[list[str]]) -> Iterator[list[str]]:
        """What each document's vector predicts: its words, then (``ngrams`` > 1) its runs of 2..n words."""
        for document in documents:
            yield with_ngrams(document, self.ngrams)

    def _encode(self, documents: Sequence[list[str]]) -> list[np.ndarray]:
        key_to_index = self.key_to_index_
        return [
            np.fromiter((key_to_index[w] for w in targets if w in key_to_index), dtype=np.int64)
            for targets in self._targets(documents)
        ]

    def _train(self, encoded, doc_vectors, rng, progress, title: str, words: bool) -> list[float]:
        """``epochs`` passes over ``encoded``; updates ``doc_vectors`` (and the word side when ``words``)."""
        total = max(1, sum(len(d) for d in encoded)) * self.epochs
        done, history = 0, []
        with progress.task(title, total=total) as bar:
            for _ in range(self.epochs):
                loss_sum, pairs = 0.0, 0
                for number, (doc_ids, word_ids) in enumerate(self._blocks(encoded, rng)):
                    lr = self.alpha - (self.alpha - self.min_alpha) * done / total
                    measure = number % _LOSS_EVERY == 0
                    loss, n = self._train_block(doc_ids, word_ids, doc_vectors, lr, rng, words, measure)
                    if measure:
                        loss_sum, pairs = loss_sum + loss, pairs + n
                    done += len(word_ids)
                    bar.advance(len(word_ids))
                if not np.isfinite(loss_sum):
                    raise TrainingError(f"document vectors diverged: lower alpha (now {self.alpha})")
                history.append(loss_sum / max(pairs, 1))
        return history

    def _blocks(self, encoded, rng):
        """(document index, word index) pairs of about ``batch_words`` tokens: document pieces in random order."""
        lengths = np.array([len(d) for d in encoded], dtype=np.int64)
        flat = np.concatenate(encoded) if lengths.sum() else np.zeros(0, dtype=np.int64)
        doc_starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        pieces_per_doc = -(-lengths // _PIECE)
        piece_doc = np.repeat(np.arange(len(encoded)), pieces_per_doc)
        first_piece = np.concatenate(([0], np.cumsum(pieces_per_doc)[:-1]))
        piece_start = doc_starts[piece_doc] + (np.arange(len(piece_doc)) - first_piece[piece_doc]) * _PIECE
        piece_end = np.minimum(piece_start + _PIECE, (doc_starts + lengths)[piece_doc])
        order = rng.permutation(len(piece_doc))
        sizes = np.cumsum(piece_end[order] - piece_start[order])
        cuts = np.searchsorted(sizes, np.arange(self.batch_words, sizes[-1] if len(sizes) else 0, self.batch_words))
        for chosen in np.split(order, cuts + 1):
            if not len(chosen):
                continue
            spans = [np.arange(piece_start[i], piece_end[i]) for i in chosen]
            positions = np.concatenate(spans)
            doc_ids = np.repeat(piece_doc[chosen], [len(span) for span in spans])
            word_ids = flat[positions]
            if self.sample > 0:
                kept = rng.random(len(word_ids)) < self._keep[word_ids]
                doc_ids, word_ids = doc_ids[kept], word_ids[kept]
            if len(word_ids):
                yield doc_ids, word_ids

    def _train_block(self, doc_ids, word_ids, doc_vectors, lr, rng, words: bool, measure: bool) -> tuple[float, int]:
        n_groups = -(-len(word_ids) // NOISE_GROUP)
        noise = np.searchsorted(self._noise_cdf, rng.random((n_groups, _POOL_PER_NEGATIVE * self.negative)))
        noise = np.minimum(noise, len(self._noise_cdf) - 1)
        # A piece is a run of one document's tokens: gather and sum per run, then add up repeated documents.
        starts = np.flatnonzero(np.concatenate(([True], doc_ids[1:] != doc_ids[:-1])))
        runs = np.diff(np.append(starts, len(doc_ids)))
        inputs = np.repeat(doc_vectors[doc_ids[starts]], runs, axis=0)
        grads = pair_gradients(inputs, self.syn1neg_[word_ids], self.syn1neg_[noise], self.negative, loss=measure)
        run_sums = np.add.reduceat(grads.grad_input, starts, axis=0)
        rows, sums = row_sums(doc_ids[starts], run_sums, np.arange(len(starts)), np.ones(len(starts), np.float32))
        doc_vectors[rows] -= np.float32(lr) * sums
        ones = np.ones(len(word_ids) + noise.size, dtype=np.float32)
        every = np.arange(len(word_ids) + noise.size)
        if words:
            output_rows = np.concatenate((word_ids, noise.ravel()))
            rows, sums = row_sums(output_rows, grads.grad_outputs, every, ones)
            self.syn1neg_[rows] -= np.float32(lr) * sums
        return grads.loss, grads.pairs
