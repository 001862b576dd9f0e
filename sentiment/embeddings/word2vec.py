"""``Word2Vec``: our NumPy skip-gram with negative sampling (SGNS) trainer.

The estimator owns training state (vocabulary, both weight matrices, the noise
distribution, the learning-rate schedule, per-epoch loss); what it produces and
what gets saved is a ``WordVectors`` (``.wv``), as in gensim's split of
``Word2Vec`` and ``KeyedVectors``. Parameters carry gensim's names and
defaults, except ``sg=1``: skip-gram is the default here (``sg=0`` is CBOW,
with gensim's ``cbow_mean``); hierarchical softmax is not offered.

Differences from gensim, on purpose:

* ``loss_history_`` holds the mean negative-sampling loss per pair of each
  epoch (float64), not a running total overwritten by threads;
* with ``workers=1`` (the default) the same ``seed`` gives bit-identical
  vectors on every run; ``workers=N`` trains with N threads over shared
  weights (Hogwild, as gensim), which is faster on N cores but, like gensim's,
  not reproducible run to run (see ``_train_epoch_threads``);
* sentences are never truncated (gensim cuts them at 10,000 tokens);
* ``optimizer`` may be ``adagrad`` or ``adam`` besides word2vec's SGD
  (``optimizers.py``), and ``alpha``/``min_alpha`` left unset (``None``) mean
  that optimizer's own learning rate and schedule (``alpha_``/``min_alpha_``
  after ``fit``; for SGD gensim's 0.025 falling to 0.0001);
* 16 neighbouring tokens share one pool of noise words (see ``sgns.py``):
  word2vec's gradient in expectation, as matrix products;
* updates are applied per block of about a thousand tokens (see
  ``_block_size``), not per pair;
* a window wider than the longest sentence is narrowed to it (``window_``,
  with a ``SentimentWarning``): no pair is farther apart, and offsets that can
  never pair would only cost time and noise samples; and a window or
  ``negative`` whose noise samples would not fit one block in memory (see
  ``_check_block_memory``) is refused before training.

The corpus may be any re-iterable of token lists (a list, or an object whose
``__iter__`` streams from disk, such as ``sentiment.data.corpus.TextCorpus``):
it is read once for the vocabulary and once per epoch, and memory stays at
vocabulary x dimensions plus one chunk (and, for lists and corpora that say
they are ``cacheable``, the corpus encoded at 2 bytes a token while it stays
under ``_CACHE_BYTES``).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import queue
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from sentiment.embeddings.optimizers import OPTIMIZERS, make_optimizer
from sentiment.embeddings.params import (
    PARAMS,
    WORD2VEC_PARAMS,
    as_parameters,
    check_word2vec_params,
    keyword_init,
    learning_rates,
)
from sentiment.embeddings.processes import (
    HeldInterruptions,
    drain,
    prepare_worker,
    release_free_heap,
    shared_copy,
    shared_zeros,
    worker_peak_bytes,
)
from sentiment.embeddings.sgns import NOISE_GROUP, block_gradients, cbow_block_gradients, noise_pool_size, row_sums
from sentiment.embeddings.vectors import WordVectors
from sentiment.embeddings.vocab import Vocabulary, build_vocab, keep_probabilities, noise_distribution
from sentiment.errors import SentimentWarning, TrainingError
from sentiment.progress import Progress

__all__ = ["Word2Vec", "effective_window", "learning_rate"]

# Refuse to allocate weight matrices taking more than this share of free memory.
_MAX_MEMORY_SHARE = 0.8
# Refuse settings whose work arrays for one block (noise samples, pair scores) exceed this. Ordinary settings
# (negative 5-20, window 5-10, 300 dimensions) need 5-50 MB; more than this only comes from a runaway parameter.
_MAX_BLOCK_BYTES = 2**30
# Blocks shrink so that no row takes more than about this many stale steps in one (see _block_size);
# a run that diverges anyway starts again with blocks half as big, down to _MIN_BLOCK_WORDS.
_STALE_STEPS_PER_BLOCK = 600
_MIN_BLOCK_WORDS = 32
# A block whose loss per pair exceeds this many times that of all-zero vectors is diverging (see _diverging).
_DIVERGED_LOSS_FACTOR = 10
# Sentences are encoded and subsampled this many tokens at a time.
_CHUNK_WORDS = 100_000
# Encoded corpora are kept between epochs up to this size (2 bytes a token: 128M tokens); beyond it, re-read.
_CACHE_BYTES = 256 * 2**20
# Blocks (threads) or jobs (processes) waiting, per worker: enough to keep it busy.
_QUEUED_PER_WORKER = 4
# Raw words of the encoded corpus in one job sent to a worker process (gensim's job size, batch_words).
_JOB_WORDS = 10_000
# What a skip-gram block allocates at once, per kept token and dimension (processes.keep_freed_memory keeps twice
# it): tracemalloc measured a median of 40 bytes at 100 dimensions (1.9 MiB for 487 tokens; CBOW 44), the biggest
# blocks 2x that. 48 and 64 trained as fast at 300 dimensions (at 100 the 4 MiB floor applies).
_BYTES_PER_TOKEN_DIMENSION = 48
# How workers > 1 run: forked processes over weights in shared memory where the platform forks (no GIL to
# share; see docs/trainer.md for the measurements), else threads.
PARALLELISM = "processes" if "fork" in multiprocessing.get_all_start_methods() else "threads"


class _WordIds(dict):
    """Word -> index, and ``unknown`` for any other word: ``map(ids.__getitem__, sentence)`` encodes a sentence
    in C (a fifth faster than a comprehension calling ``dict.get`` with a default)."""

    def __init__(self, key_to_index: dict[str, int], unknown: int):
        super().__init__(key_to_index)
        self.unknown = unknown

    def __missing__(self, word: str) -> int:
        return self.unknown


class _Diverged(Exception):
    """A block's loss stopped being finite (internal: training restarts with smaller blocks, or stops)."""

    def __init__(self, loss: float):
        super().__init__(loss)
        self.loss = loss


@dataclass
class _Chunk:
    ids: np.ndarray  # word indices of consecutive sentences, len(vocabulary) where out of vocabulary
    lengths: np.ndarray  # tokens per sentence (before any filtering)


@dataclass
class _Block:
    tokens: np.ndarray  # word indices after subsampling
    sentence: np.ndarray  # sentence number of each token (only equality between tokens matters)
    raw_words: int  # tokens read from the corpus for this block, before any filtering


def learning_rate(alpha: float, min_alpha: float, words_done: int, total_words: int) -> float:
    """Linear decay from ``alpha`` to ``min_alpha`` over ``total_words`` (words read over all epochs).

    ``words_done`` counts the words of every block handed out so far, by all
    workers together, so N workers follow the same schedule as one.

    >>> [round(learning_rate(0.025, 0.0001, done, 100), 6) for done in (0, 50, 100, 120)]
    [0.025, 0.01255, 0.0001, 0.0001]
    """
    return alpha - (alpha - min_alpha) * (min(words_done, total_words) / total_words)


def effective_window(window: int, longest_sentence: int) -> int:
    """``window``, or the widest distance inside the longest sentence if that is smaller (with a warning).

    >>> effective_window(5, 40), effective_window(5, 0)
    (5, 5)
    """
    widest = max(1, longest_sentence - 1)
    if longest_sentence and window > widest:
        warnings.warn(
            SentimentWarning(
                f"--window {window} is wider than the longest sentence ({longest_sentence} tokens): "
                f"training with window {widest}, since no pair is farther apart"
            ),
            stacklevel=2,
        )
        return widest
    return window


def _process_worker(model: Word2Vec, jobs, finished, seed) -> None:
    """A forked worker: train the blocks of ``jobs`` into the shared weights until ``None``; report to ``finished``.

    The blocks are trained on a thread of the worker's own. glibc's malloc gives a new thread its own arena,
    so the block arrays come from fresh pages; on the main thread they would fill the free holes of the heap
    inherited from the parent, and writing to a hole copies the parent's page into the worker: measured on
    the benchmark corpus, 31 MiB of private memory for two workers on the main thread, 20 MiB on their own.
    A thread's arena gives freed memory back beyond the trim threshold, so that is sized to the block.
    """
    # Signal handlers can only be set on the main thread: the worker is prepared before its training thread starts.
    start = prepare_worker(block_bytes=_BYTES_PER_TOKEN_DIMENSION * model.block_words_ * model.vector_size)
    trainer = threading.Thread(target=_train_jobs, args=(model, jobs, finished, seed, start), name="sgns-blocks")
    trainer.start()
    trainer.join()


def _train_jobs(model: Word2Vec, jobs, finished, seed, start) -> None:
    """``_process_worker``'s loop: jobs from ``jobs`` until ``None``, then ``("done", private bytes)``."""
    rng = np.random.default_rng(seed)
    try:
        while (job := jobs.get()) is not None:
            finished.put(model._train_job(*job, rng))
        finished.put(("done", worker_peak_bytes(start)))
    except BaseException as error:
        finished.put(("error", f"{type(error).__name__}: {error}"))


class Word2Vec(BaseEstimator):
    """Skip-gram with negative sampling, trained with NumPy.

    >>> corpus = [["good", "film"], ["bad", "film"]] * 50
    >>> model = Word2Vec(vector_size=8, window=1, min_count=1, epochs=2, seed=1).fit(corpus)
    >>> model.wv.vectors.shape, model.wv.vectors.dtype.name
    ((3, 8), 'float32')
    """

    # Parameters, defaults and checks: ``embeddings/params.py`` (gensim's names).
    __init__ = keyword_init(*as_parameters(WORD2VEC_PARAMS))

    # ------------------------------------------------------------------ API

    @property
    def wv(self) -> WordVectors:
        """The trained word vectors (gensim's name)."""
        if not hasattr(self, "wv_"):
            raise NotFittedError("This Word2Vec instance is not fitted yet: call fit(sentences) first.")
        return self.wv_

    def fit(self, sentences: Iterable[list[str]], y=None, *, progress: Progress | None = None) -> Word2Vec:
        """Build the vocabulary from ``sentences`` and train ``epochs`` passes over them."""
        self._check_params()
        rates = learning_rates({name: getattr(self, name) for name in PARAMS})
        self.alpha_, self.min_alpha_ = rates["alpha"], rates["min_alpha"]  # alpha=None: the optimizer's own
        if isinstance(sentences, str):
            raise TrainingError("sentences must be an iterable of token lists, not a single string")
        progress = progress or Progress(enabled=False)
        rng = np.random.default_rng(self.seed)
        started = time.perf_counter()

        with progress.task("Building vocabulary") as bar:
            vocab = build_vocab(
                sentences,
                min_count=self.min_count,
                max_vocab_size=self.max_vocab_size,
                progress=lambda n: bar.advance(n),
            )
        release_free_heap()  # counting every distinct word took megabytes that training can do without
        if len(vocab) == 0:
            raise TrainingError(
                f"no word occurs {self.min_count} or more times in {vocab.total_words:,} tokens: "
                "lower --min-count or give more text"
            )
        self._check_memory(len(vocab))
        self.window_ = effective_window(self.window, vocab.longest_sentence)
        self.vocabulary_ = vocab
        self._keep_probability = keep_probabilities(vocab.counts, self.sample)
        self._noise_cdf = np.cumsum(noise_distribution(vocab.counts, self.ns_exponent))
        self._noise_cdf /= self._noise_cdf[-1]
        self.block_words_ = self._block_size(vocab)
        self._check_block_memory()
        self.block_restarts_ = 0
        self._chunk_cache = None  # filled by the first epoch when the corpus is in memory
        try:
            while True:
                try:
                    self._initialise_weights(len(vocab), rng)
                    self._worker_rngs = [
                        np.random.default_rng(s)
                        for s in np.random.SeedSequence(self.seed).spawn(self.workers if self.workers > 1 else 0)
                    ]
                    self._run_epochs(sentences, vocab, rng, progress)
                    break
                except _Diverged as diverged:
                    # Start again, from the same seed, with blocks half as big (see _block_size).
                    if self.block_words_ <= _MIN_BLOCK_WORDS:
                        self._diverged(diverged.loss)
                    self.block_words_ = max(_MIN_BLOCK_WORDS, self.block_words_ // 2)
                    self.block_restarts_ += 1
                    rng = np.random.default_rng(self.seed)
        finally:
            self._chunk_cache = None
            self._worker_rngs = None
        self.training_seconds_ = time.perf_counter() - started
        self.wv_ = WordVectors(vocab.index_to_key, self.syn0_, counts=vocab.counts)  # shares syn0_, no copy
        return self

    # ------------------------------------------------------------- internals

    def _initialise_weights(self, n_words: int, rng) -> None:
        dim = self.vector_size
        # Worker processes write into the same pages: both matrices (and any optimizer state) in shared memory,
        # the zeros untouched until trained (as np.zeros), so memory grows as rows are used, with no extra copy.
        shared = self._parallelism() == "processes"
        # word2vec.c's initialisation: inputs uniform in [-0.5, 0.5) / dim, outputs zero.
        if shared:  # in place, without temporaries (workers > 1 is not reproducible anyway)
            self.syn0_ = shared_zeros((n_words, dim), np.float32)
            rng.random(dtype=np.float32, out=self.syn0_)
            self.syn0_ -= np.float32(0.5)
            self.syn0_ /= np.float32(dim)
        else:
            self.syn0_ = ((rng.random((n_words, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
        self.syn1neg_ = shared_zeros((n_words, dim), np.float32) if shared else np.zeros((n_words, dim), np.float32)
        self._input_optimizer = make_optimizer(self.optimizer, n_words, dim)
        self._output_optimizer = make_optimizer(self.optimizer, n_words, dim)
        if shared:
            for optimizer in (self._input_optimizer, self._output_optimizer):
                for name, value in vars(optimizer).items():
                    if isinstance(value, np.ndarray):
                        setattr(optimizer, name, shared_copy(value))

    def _parallelism(self) -> str | None:
        return PARALLELISM if self.workers > 1 else None

    def _run_epochs(self, sentences, vocab: Vocabulary, rng, progress: Progress) -> None:
        """The training loop: ``epochs`` passes, learning rate falling linearly by words read."""
        self.loss_history_: list[float] = []
        self.epoch_seconds_: list[float] = []
        self.words_per_second_: list[float] = []
        self.pairs_per_epoch_: list[int] = []
        self.worker_peak_bytes_ = 0  # worker processes' own memory (beyond the shared weights), at most at once
        total_raw = vocab.total_words * self.epochs
        # Forked workers bring objects whose __del__ runs at any moment (pipes, finalizers); a Ctrl-C landing in
        # one is swallowed. Held over the whole run, it lands where _train_epoch_processes checks.
        parallelism = self._parallelism()
        with HeldInterruptions() if parallelism == "processes" else contextlib.nullcontext() as interruptions:
            for epoch in range(self.epochs):
                epoch_start = time.perf_counter()
                arguments = (epoch, sentences, vocab, rng, progress, epoch * vocab.total_words, total_raw)
                if parallelism == "processes":
                    loss_sum, pairs, epoch_raw = self._train_epoch_processes(*arguments, interruptions)
                elif parallelism == "threads":
                    loss_sum, pairs, epoch_raw = self._train_epoch_threads(*arguments)
                else:
                    loss_sum, pairs, epoch_raw = self._train_epoch(*arguments)
                seconds = time.perf_counter() - epoch_start
                self.loss_history_.append(loss_sum / max(pairs, 1))
                self.pairs_per_epoch_.append(pairs)
                self.epoch_seconds_.append(seconds)
                self.words_per_second_.append(epoch_raw / max(seconds, 1e-9))

    def _train_epoch(self, epoch, sentences, vocab, rng, progress, done_raw, total_raw) -> tuple[float, int, int]:
        """One pass over the corpus; raises ``_Diverged`` as soon as a block's loss is not finite."""
        epoch_start = time.perf_counter()
        loss_sum, pairs, epoch_raw = 0.0, 0, 0
        with progress.task(f"SGNS epoch {epoch + 1}/{self.epochs}", total=vocab.total_words) as bar:
            for block in self._blocks(sentences, vocab, rng):
                # Linear decay over all epochs, by words read (as word2vec.c and gensim).
                lr = learning_rate(self.alpha_, self.min_alpha_, done_raw + epoch_raw, total_raw)
                with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked just below
                    block_loss, block_pairs = self._train_block(block, lr, rng)
                if self._diverging(block_loss, block_pairs):
                    raise _Diverged(block_loss)
                loss_sum += block_loss
                pairs += block_pairs
                epoch_raw += block.raw_words
                elapsed = time.perf_counter() - epoch_start
                bar.advance(
                    block.raw_words,
                    status=f"{epoch_raw / max(elapsed, 1e-9):,.0f} words/s  loss {loss_sum / max(pairs, 1):.4f}",
                )
        if not self._weights_finite():
            raise _Diverged(float("nan"))
        return loss_sum, pairs, epoch_raw

    def _train_epoch_threads(self, epoch, sentences, vocab, rng, progress, done_raw, total_raw):
        """One pass with ``workers`` threads updating the shared weights in place (Hogwild).

        This thread reads, encodes and subsamples the corpus and hands out
        blocks, each with the learning rate of the words handed out so far by
        all workers together (``learning_rate``), through a bounded queue; each
        worker draws windows and noise words from its own generator and updates
        ``syn0_`` and ``syn1neg_`` without locks. NumPy and scipy release the
        GIL in the gathers, products and scatters, which is what runs in
        parallel; BLAS is held to one thread so that workers do not
        oversubscribe the cores. Two workers may update the same row at the
        same moment and one of the two updates can be lost, as in gensim and
        word2vec.c: results vary run to run, quality does not (measured in
        docs/benchmark.md). Losses, pairs and words are summed over workers as
        blocks finish; a non-finite loss stops every worker (``_Diverged``), and
        so does an exception or Ctrl-C here, before it propagates: no thread
        outlives the epoch.
        """
        from threadpoolctl import threadpool_limits

        jobs: queue.Queue = queue.Queue(maxsize=_QUEUED_PER_WORKER * self.workers)
        finished: queue.SimpleQueue = queue.SimpleQueue()
        stop = threading.Event()

        def work(worker_rng):
            try:
                while (job := jobs.get()) is not None:
                    if stop.is_set():
                        continue  # drain, so that the producer is never blocked
                    block, lr = job
                    with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked by the producer
                        block_loss, block_pairs = self._train_block(block, lr, worker_rng)
                    finished.put((block_loss, block_pairs, block.raw_words))
            except BaseException as error:  # handed to the producer, which raises it
                stop.set()
                finished.put(error)

        epoch_start = time.perf_counter()
        totals = {"loss": 0.0, "pairs": 0, "raw": 0}
        threads = [
            threading.Thread(target=work, args=(worker_rng,), name=f"sgns-worker-{k}", daemon=True)
            for k, worker_rng in enumerate(self._worker_rngs)
        ]

        def collect(bar) -> None:
            while True:
                try:
                    result = finished.get_nowait()
                except queue.Empty:
                    return
                if isinstance(result, BaseException):
                    raise result
                block_loss, block_pairs, raw_words = result
                if self._diverging(block_loss, block_pairs):
                    stop.set()
                    raise _Diverged(block_loss)
                totals["loss"] += block_loss
                totals["pairs"] += block_pairs
                self._advance(bar, totals, raw_words, epoch_start)

        with (
            progress.task(f"SGNS epoch {epoch + 1}/{self.epochs}", total=vocab.total_words) as bar,
            threadpool_limits(limits=1, user_api="blas"),
        ):
            for thread in threads:
                thread.start()
            handed_out = 0
            try:
                for block in self._blocks(sentences, vocab, rng):
                    lr = learning_rate(self.alpha_, self.min_alpha_, done_raw + handed_out, total_raw)
                    while True:
                        try:
                            jobs.put((block, lr), timeout=0.1)
                            break
                        except queue.Full:
                            collect(bar)  # raises what stopped a worker
                    handed_out += block.raw_words
                    collect(bar)
            except BaseException:
                stop.set()  # the workers drop what is queued
                raise
            finally:
                if stop.is_set():
                    while True:
                        try:
                            jobs.get_nowait()
                        except queue.Empty:
                            break
                for _ in threads:
                    jobs.put(None)  # fits: the queue holds more blocks than there are workers
                for thread in threads:
                    thread.join()
            collect(bar)
        if not self._weights_finite():
            raise _Diverged(float("nan"))
        return totals["loss"], totals["pairs"], totals["raw"]

    def _train_epoch_processes(self, epoch, sentences, vocab, rng, progress, done_raw, total_raw, interruptions):
        """One pass with ``workers`` forked processes updating the shared weights in place (Hogwild).

        As ``_train_epoch_threads`` (each worker has its own generator; races
        between workers on a row are accepted), but the workers are processes:
        ``syn0_`` and ``syn1neg_`` live in anonymous shared memory
        (``shared_copy``) that the forked workers write to, and no GIL is
        shared, so the whole block step runs in parallel. This process reads
        and encodes the corpus and hands out jobs of encoded sentences through
        a bounded queue (``_jobs``, with the words handed out before each);
        the workers subsample them and cut and train the blocks. Workers ignore
        Ctrl-C and die with this process; an error, a non-finite loss or an
        interruption (held by the caller in ``interruptions``, raised here
        between steps) kills them before it propagates, and shared
        memory is anonymous, so nothing outlives the run. Each worker reports
        its own private memory when it finishes (``worker_peak_bytes_``).
        """
        from threadpoolctl import threadpool_limits

        self._encode_before_forking(sentences, vocab)
        context = multiprocessing.get_context("fork")
        jobs = context.Queue(maxsize=_QUEUED_PER_WORKER * self.workers)
        finished = context.Queue()
        seeds = np.random.SeedSequence(self.seed, spawn_key=(self.block_restarts_, epoch)).spawn(self.workers)
        workers = [
            context.Process(target=_process_worker, args=(self, jobs, finished, seed), name=f"sgns-worker-{k}")
            for k, seed in enumerate(seeds)
        ]
        epoch_start = time.perf_counter()
        totals = {"loss": 0.0, "pairs": 0, "raw": 0, "done": 0, "memory": 0}

        def collect(bar, wait: bool = False) -> None:
            while True:
                interruptions.raise_if_received()
                try:
                    result = finished.get(timeout=0.1) if wait else finished.get_nowait()
                except queue.Empty:
                    if any(not w.is_alive() and w.exitcode for w in workers):
                        codes = [w.exitcode for w in workers]
                        raise TrainingError(f"an SGNS worker process died (exit codes {codes})") from None
                    if wait:
                        continue
                    return
                if isinstance(result, tuple) and result[0] == "error":  # a job's results are a list
                    raise TrainingError(f"an SGNS worker failed: {result[1]}")
                if isinstance(result, tuple) and result[0] == "done":
                    totals["done"] += 1
                    totals["memory"] += result[1]
                    if totals["done"] == len(workers):
                        return
                    continue
                raw_words = 0
                for block_loss, block_pairs, block_raw in result:
                    if self._diverging(block_loss, block_pairs):
                        raise _Diverged(block_loss)
                    totals["loss"] += block_loss
                    totals["pairs"] += block_pairs
                    raw_words += block_raw
                self._advance(bar, totals, raw_words, epoch_start)

        def hand_out(job) -> None:
            while True:
                interruptions.raise_if_received()
                try:
                    jobs.put(job, timeout=0.1)
                    return
                except queue.Full:
                    collect(bar)

        with (
            progress.task(f"SGNS epoch {epoch + 1}/{self.epochs}", total=vocab.total_words) as bar,
            threadpool_limits(limits=1, user_api="blas"),  # inherited by the workers
        ):
            completed = False
            try:
                # The workers' collector leaves inherited objects alone, and the free heap goes back to the system
                # first (rather than workers copying its pages as they allocate): their pages stay shared.
                release_free_heap()
                gc.freeze()
                try:
                    with warnings.catch_warnings():  # Python 3.12+ warns on fork with threads; the workers use none
                        warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*fork.*")
                        for worker in workers:
                            worker.start()
                finally:
                    gc.unfreeze()
                for job in self._jobs(sentences, vocab, done_raw, total_raw):
                    hand_out(job)
                    collect(bar)
                for _ in workers:
                    hand_out(None)
                collect(bar, wait=True)  # until every worker said it is done
                completed = True
            finally:
                with HeldInterruptions():  # a second Ctrl-C must not cut this short (and leave a feeder thread)
                    for worker in workers:
                        if not completed and worker.is_alive():
                            worker.kill()  # SIGKILL: a worker still starting up has the inherited handlers
                        worker.join()
                    if completed:
                        jobs.close()
                        jobs.join_thread()
                    else:
                        drain(jobs)  # the queue's feeder thread ends even though no worker reads any more
                    finished.close()
        self.worker_peak_bytes_ = max(self.worker_peak_bytes_, totals["memory"])
        if not self._weights_finite():
            raise _Diverged(float("nan"))
        return totals["loss"], totals["pairs"], totals["raw"]

    def _weights_finite(self) -> bool:
        """No NaN or infinity in either weight matrix.

        Their float64 sum is finite exactly when every weight is (float32
        values cannot overflow it), and numpy sums in small buffers, where
        ``isfinite(...).all()`` makes a boolean copy of each matrix (2.6 MB on
        the benchmark corpus, the parent's biggest allocation while training).
        """
        return all(np.isfinite(matrix.sum(dtype=np.float64)) for matrix in (self.syn0_, self.syn1neg_))

    def _diverging(self, block_loss: float, block_pairs: int) -> bool:
        """A block's loss is not finite, or far above what all-zero vectors give (``(1 + negative) log 2`` a pair).

        Training starts near that loss and only goes down; a block ten times
        above it means vectors are blowing up (they can grow large for a while
        before anything overflows), and training restarts with smaller blocks.
        """
        ceiling = _DIVERGED_LOSS_FACTOR * (1 + self.negative) * np.log(2) * max(block_pairs, 1)
        return not np.isfinite(block_loss) or block_loss > ceiling

    def _advance(self, bar, totals: dict, raw_words: int, epoch_start: float) -> None:
        """Count ``raw_words`` more into the totals of all workers and show them on the progress bar."""
        totals["raw"] += raw_words
        elapsed = time.perf_counter() - epoch_start
        bar.advance(
            raw_words,
            status=f"{totals['raw'] / max(elapsed, 1e-9):,.0f} words/s  "
            f"loss {totals['loss'] / max(totals['pairs'], 1):.4f}  ({self.workers} workers)",
        )

    def _check_params(self) -> None:
        check_word2vec_params({name: getattr(self, name) for name in PARAMS})

    def _block_size(self, vocab: Vocabulary) -> int:
        """Tokens per block: ``batch_words``, or fewer where one row would take too many stale steps.

        A block is updated from its starting weights, so a row touched m times
        in it takes m stale steps at once. The most touched row is the most
        frequent word: as a token (share ``p`` after subsampling, about
        ``2 (window + 1)`` pairs per occurrence) and as a noise word (share
        ``q``, ``negative (window + 1)`` draws per token). Blocks are sized so
        that this row gets about ``_STALE_STEPS_PER_BLOCK`` steps at
        ``alpha=0.025`` (fewer at higher rates): on IMDB with gensim's defaults
        that is about 950 tokens, and 3,000 diverged in our runs. Adagrad and
        Adam scale each row's summed gradient to about ``lr`` per weight
        whatever the number of pairs behind it, so for them the budget does
        not shrink with the learning rate. With ``workers`` > 1 that many
        blocks are trained at once from the same weights, so a row's stale
        steps add up over them: each block gets its share of the budget (with
        the whole budget, two workers diverged in every run on IMDB and
        started again with half-size blocks after a few seconds).
        """
        kept = vocab.counts * self._keep_probability
        p_top = float(kept.max() / kept.sum())
        q_top = float(noise_distribution(vocab.counts, self.ns_exponent).max())
        steps_per_token = (self.window_ + 1) * (2 * p_top + self.negative * q_top)
        budget = _STALE_STEPS_PER_BLOCK * (min(1.0, 0.025 / self.alpha_) if self.optimizer == "sgd" else 1.0)
        budget /= max(1, self.workers)
        return int(np.clip(budget / steps_per_token, _MIN_BLOCK_WORDS, self.batch_words))

    def _diverged(self, loss: float) -> None:
        """Drop the broken weights (so no NaN vector can be saved) and stop with advice."""
        del self.syn0_, self.syn1neg_
        raise TrainingError(
            f"training diverged (loss {loss}) even with {_MIN_BLOCK_WORDS}-token blocks: "
            f"lower --alpha (now {self.alpha_:g})"
        )

    def _check_memory(self, vocab_size: int) -> None:
        """Refuse a vocabulary x dimensions that cannot fit, before allocating it (optimizer state included).

        Two float32 weight matrices, and for each the optimizer's state
        (``state_bytes``: none for SGD, one float per row for Adagrad, two
        more matrices of the same size and a count per row for Adam).
        """
        state = OPTIMIZERS[self.optimizer].state_bytes(vocab_size, self.vector_size)
        needed = 2 * vocab_size * self.vector_size * 4 + 2 * state
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # not on every platform
            return
        if needed > _MAX_MEMORY_SHARE * available:
            raise TrainingError(
                f"{vocab_size:,} words x {self.vector_size} dimensions needs {needed / 2**30:.1f} GiB "
                f"{' with ' + self.optimizer + ' state' if state else ''} but only {available / 2**30:.1f} GiB "
                "is free: raise --min-count or lower --vector-size"
                + (" (or use --optimizer sgd, which keeps no state)" if state else "")
            )

    def _check_block_memory(self) -> None:
        """Refuse, before training, a window or ``negative`` whose per-block work arrays cannot fit.

        A block of ``block_words_`` tokens draws ``noise_pool_size`` noise words
        per group of ``NOISE_GROUP`` tokens and holds, for each, its output
        vector, its gradient and (a margin kept from an earlier layout that
        copied them) a third float32 vector, plus its scores against the group (float32, about
        four arrays) and its index (three 8-byte arrays while drawing); pairs
        take a (tokens x 2 window) mask and about four float32 arrays.
        """
        pool = noise_pool_size(self.negative, self.window_)
        groups = -(-self.block_words_ // NOISE_GROUP)
        noise = groups * pool * (3 * 4 * self.vector_size + 4 * 4 * NOISE_GROUP + 24)
        pairs = self.block_words_ * 2 * self.window_ * (1 + 4 * 4)
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # not on every platform
            available = float("inf")
        limit = min(_MAX_BLOCK_BYTES, _MAX_MEMORY_SHARE * available)
        if noise + pairs <= limit:
            return
        blame = "--negative" if noise >= pairs and self.negative / 5 >= (self.window_ + 1) / 6 else "--window"
        value = self.negative if blame == "--negative" else self.window_
        raise TrainingError(
            f"{blame} {value} needs ~{(noise + pairs) / 2**30:.1f} GiB for the noise samples and pairs of each "
            f"{self.block_words_}-token block (at most {limit / 2**30:.1f} GiB): lower {blame} "
            "(word2vec's usual values: negative 5-20, window 5-10)"
        )

    def _encoded_chunks(
        self, sentences: Iterable[list[str]], vocab: Vocabulary, *, keep_all: bool = False
    ) -> Iterator[_Chunk]:
        """Word indices (``len(vocab)`` for words out of vocabulary) of runs of whole sentences.

        An in-memory corpus (list or tuple), or one that says it is
        ``cacheable`` (yields the same tokens every pass, as ``TextCorpus``),
        is encoded once and kept, as uint16 where the vocabulary allows (2
        bytes a token, far less than its token lists), while it stays under
        ``_CACHE_BYTES`` and more than one epoch is left; any other iterable,
        or one bigger than that, is re-read and re-encoded each epoch, so
        memory stays bounded by one chunk. ``keep_all`` keeps it whatever its
        size and the epochs left (``_encode_before_forking``).
        """
        cache = getattr(self, "_chunk_cache", None)
        if cache is not None:
            yield from cache
            return
        cacheable = isinstance(sentences, list | tuple) or getattr(sentences, "cacheable", False)
        keep = keep_all or (cacheable and self.epochs > 1)
        chunks = [] if keep else None
        cached_bytes = 0
        unknown = len(vocab)
        lookup = _WordIds(vocab.key_to_index, unknown).__getitem__
        dtype = np.uint16 if unknown <= np.iinfo(np.uint16).max else np.int32
        # One small array per sentence, not a list of Python ints per chunk (which took 2.5 MB at a time)
        pieces: list[np.ndarray] = []
        lengths: list[int] = []
        words = 0
        for sentence in sentences:
            pieces.append(np.fromiter(map(lookup, sentence), dtype=dtype, count=len(sentence)))
            lengths.append(len(sentence))
            words += len(sentence)
            if words >= _CHUNK_WORDS:
                chunk = _Chunk(np.concatenate(pieces), np.array(lengths, dtype=np.int32))
                if keep:
                    chunks.append(chunk)
                    cached_bytes += chunk.ids.nbytes + chunk.lengths.nbytes
                    if cached_bytes > _CACHE_BYTES and not keep_all:
                        keep, chunks = False, None  # too big to keep: stream every epoch
                yield chunk
                pieces, lengths, words = [], [], 0
        if lengths:
            chunk = _Chunk(np.concatenate(pieces), np.array(lengths, dtype=np.int32))
            if keep:
                chunks.append(chunk)
            yield chunk
        if keep:
            self._chunk_cache = chunks

    def _encode_before_forking(self, sentences: Iterable[list[str]], vocab: Vocabulary) -> None:
        """Encode token lists held in memory once, before worker processes are forked.

        Encoding reads every token, which writes its reference count: done
        while forked workers run, each page of token lists they share would be
        copied (4.7M tokens: 300 MB more, measured). Encoded first, the
        workers and this process only read the encoded arrays. Corpora read
        from disk make new token lists each pass and are encoded as they come.
        """
        if getattr(self, "_chunk_cache", None) is None and isinstance(sentences, list | tuple):
            for _ in self._encoded_chunks(sentences, vocab, keep_all=True):
                pass

    def _blocks(self, sentences: Iterable[list[str]], vocab: Vocabulary, rng) -> Iterator[_Block]:
        """Subsampled blocks of whole sentences, about ``block_words_`` kept tokens each.

        A block ends at the sentence boundary nearest to ``block_words_`` kept
        tokens (not the first one past it): blocks come close to the size asked
        for on average, and the biggest, which sets a worker's memory, is a
        fifth smaller (999 against 1,250 tokens on the benchmark corpus). A
        block never spans two chunks (nor, with worker processes, two jobs of
        ``_jobs``), so each chunk or job ends with a shorter block, and with
        processes no block holds more than a job's kept tokens. Tokens and sentence
        numbers are int32: half the bytes of the platform's 64-bit indices.
        """
        for chunk in self._encoded_chunks(sentences, vocab):
            yield from self._chunk_blocks(chunk, rng)

    def _chunk_blocks(self, chunk: _Chunk, rng) -> Iterator[_Block]:
        """``_blocks`` of one encoded chunk: subsample it with ``rng``, cut it at sentence boundaries."""
        n_sentences = chunk.lengths.size
        sentence_of = np.repeat(np.arange(n_sentences, dtype=np.int32), chunk.lengths)
        # Drop unknown words and subsample before windowing, as word2vec does:
        # dropped words bring farther words into the window.
        known = chunk.ids < len(self._keep_probability)
        keep = known.copy()
        keep[known] = rng.random(int(known.sum())) < self._keep_probability[chunk.ids[known]]
        tokens, sentence_of = chunk.ids[keep].astype(np.int32), sentence_of[keep]
        kept_before = np.concatenate(([0], np.cumsum(np.bincount(sentence_of, minlength=n_sentences))))
        raw_before = np.concatenate(([0], np.cumsum(chunk.lengths)))
        first = 0  # first sentence of the next block
        while first < n_sentences:
            # The first boundary at or past block_words_ kept tokens, or the one before it if that is nearer.
            target = kept_before[first] + self.block_words_
            last = min(int(np.searchsorted(kept_before, target, side="left")), n_sentences)
            if last - 1 > first and target - kept_before[last - 1] < kept_before[last] - target:
                last -= 1
            last = max(last, first + 1)
            lo, hi = kept_before[first], kept_before[last]
            yield _Block(
                tokens=tokens[lo:hi],
                sentence=sentence_of[lo:hi],
                raw_words=int(raw_before[last] - raw_before[first]),
            )
            first = last

    def _jobs(self, sentences, vocab: Vocabulary, done_raw: int, total_raw: int) -> Iterator[tuple]:
        """What the parent hands to worker processes: runs of encoded sentences, about ``_JOB_WORDS`` raw words.

        Each job is ``(ids, lengths, words_before, total_words)``: ``words_before``
        counts the words of all earlier epochs and of every job handed out
        before it, by all workers together, and the worker gives each block
        the learning rate of that count plus the words of the job's earlier
        blocks (``_train_job``): one schedule over all workers, to within a
        job, as gensim's. The workers subsample and cut the blocks themselves,
        in parallel, and the parent holds only the encoded corpus and the jobs
        queued (2 bytes a word, where blocks were 8).
        """
        handed_out = done_raw
        for chunk in self._encoded_chunks(sentences, vocab):
            raw_before = np.concatenate(([0], np.cumsum(chunk.lengths)))
            first = 0
            while first < chunk.lengths.size:  # a job ends with the sentence that brings it to _JOB_WORDS
                last = int(np.searchsorted(raw_before, raw_before[first] + _JOB_WORDS, side="left"))
                last = max(min(last, chunk.lengths.size), first + 1)
                yield chunk.ids[raw_before[first] : raw_before[last]], chunk.lengths[first:last], handed_out, total_raw
                handed_out += int(raw_before[last] - raw_before[first])
                first = last

    def _train_job(self, ids, lengths, words_before: int, total_words: int, rng) -> list[tuple[float, int, int]]:
        """Train one job of ``_jobs`` (in a worker process): ``(loss, pairs, raw words)`` of each of its blocks."""
        results = []
        done = words_before
        for block in self._chunk_blocks(_Chunk(ids, lengths), rng):
            lr = learning_rate(self.alpha_, self.min_alpha_, done, total_words)
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked by the parent
                block_loss, block_pairs = self._train_block(block, lr, rng)
            results.append((block_loss, block_pairs, block.raw_words))
            done += block.raw_words
        return results

    def _train_block(self, block: _Block, lr: float, rng) -> tuple[float, int]:
        tokens = block.tokens.astype(np.intp)  # once: each fancy index by an int32 array would convert it
        n_tokens = tokens.size
        if n_tokens < 2:
            return 0.0, 0
        windows = rng.integers(1, self.window_ + 1, size=n_tokens)
        n_groups = -(-n_tokens // NOISE_GROUP)
        noise = self._draw_noise(rng, (n_groups, noise_pool_size(self.negative, self.window_)))
        vectors = [self.syn0_[tokens], self.syn1neg_[tokens], self.syn1neg_[noise], block.sentence, windows]
        if self.sg:
            grads = block_gradients(*vectors, self.window_, self.negative)
        else:
            grads = cbow_block_gradients(*vectors, self.window_, self.negative, cbow_mean=bool(self.cbow_mean))
        # Each array is let go as soon as it is used: a worker's memory is what its biggest block holds at once.
        vectors.clear()
        loss, pairs, grad_input, grad_outputs = grads.loss, grads.pairs, grads.grad_input, grads.grad_outputs
        del grads
        # One update per matrix: the output rows of the block's tokens and of its noise words together.
        ones = np.ones(n_tokens + noise.size, dtype=np.float32)
        every_row = np.arange(n_tokens + noise.size)
        rows, sums = row_sums(tokens, grad_input, every_row[:n_tokens], ones[:n_tokens])
        del grad_input
        self._input_optimizer.step(self.syn0_, rows, sums, lr)
        del rows, sums
        output_rows = np.concatenate((tokens, noise.ravel()))
        rows, sums = row_sums(output_rows, grad_outputs, every_row, ones)
        del grad_outputs
        self._output_optimizer.step(self.syn1neg_, rows, sums, lr)
        return loss, pairs

    def _draw_noise(self, rng, shape: tuple[int, ...]) -> np.ndarray:
        """Word indices drawn from the noise distribution (inverse CDF)."""
        noise = np.searchsorted(self._noise_cdf, rng.random(shape), side="right")
        return np.minimum(noise, len(self._noise_cdf) - 1)  # guard the float edge at 1.0
