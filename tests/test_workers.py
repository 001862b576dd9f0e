"""Word2Vec with several worker threads, and corpora streamed from disk (issue 12)."""

import gzip
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
from helpers import as_at_a_terminal, interrupt, wait_until_the_command_runs
from typer.testing import CliRunner

import sentiment.embeddings.word2vec as word2vec_module
from sentiment.cli import app
from sentiment.cli.options import AVAILABLE_CORES
from sentiment.data.corpus import TextCorpus
from sentiment.data.reviews import load_reviews
from sentiment.embeddings.processes import HeldInterruptions
from sentiment.embeddings.word2vec import Word2Vec, learning_rate
from sentiment.experiments.validate import sgns_loss
from sentiment.progress import Progress
from sentiment.tokenize import tokenize_all

runner = CliRunner()


class _Recorder(Progress):
    """A Progress that keeps, for each task, its total, the sum of its advances and its last status."""

    def __init__(self):
        super().__init__(enabled=False)
        self.tasks = []

    @contextmanager
    def task(self, description, total=None, unit=""):
        record = {"description": description, "total": total, "advanced": 0, "status": None}
        self.tasks.append(record)

        class Handle:
            def advance(self, amount=1, status=None):
                record["advanced"] += amount
                record["status"] = status or record["status"]

            def update(self, *, total=None, status=None):
                pass

        yield Handle()


def test_learning_rate_falls_linearly_with_the_words_of_all_workers():
    assert learning_rate(0.025, 0.0001, 0, 1000) == 0.025
    assert learning_rate(0.025, 0.0001, 500, 1000) == pytest.approx((0.025 + 0.0001) / 2)
    assert learning_rate(0.025, 0.0001, 1000, 1000) == pytest.approx(0.0001)
    assert learning_rate(0.025, 0.0001, 1500, 1000) == pytest.approx(0.0001)  # never below min_alpha


@pytest.fixture(params=["processes", "threads"])
def parallelism(request, monkeypatch):
    """Run a test with worker processes (the default on Linux) and with worker threads."""
    monkeypatch.setattr(word2vec_module, "PARALLELISM", request.param)
    return request.param


def test_each_block_gets_the_rate_of_the_words_handed_out_before_it_by_all_worker_threads(
    imdb_unsup_tokens, monkeypatch
):
    monkeypatch.setattr(word2vec_module, "PARALLELISM", "threads")
    asked = []

    def recording(alpha, min_alpha, words_done, total_words):
        asked.append(words_done)
        return learning_rate(alpha, min_alpha, words_done, total_words)

    monkeypatch.setattr(word2vec_module, "learning_rate", recording)
    handed = []
    blocks = Word2Vec._blocks

    def counted_blocks(self, sentences, vocab, rng):
        for block in blocks(self, sentences, vocab, rng):
            handed.append(block.raw_words)
            yield block

    monkeypatch.setattr(Word2Vec, "_blocks", counted_blocks)
    model = Word2Vec(vector_size=10, epochs=2, workers=2, seed=0).fit(imdb_unsup_tokens[:400])
    total = model.vocabulary_.total_words * 2
    # One rate per block, from the words of every block handed out before it, whichever worker trains it.
    assert asked == np.concatenate(([0], np.cumsum(handed)[:-1])).tolist()
    assert asked[-1] + handed[-1] == total


def test_worker_processes_get_jobs_that_carry_the_words_handed_out_before_them(imdb_unsup_tokens, monkeypatch):
    monkeypatch.setattr(word2vec_module, "_JOB_WORDS", 2_000)
    sentences = imdb_unsup_tokens[:400]
    model = Word2Vec(vector_size=10, epochs=2, workers=2, seed=0).fit(sentences)
    vocab = model.vocabulary_
    epoch_words = vocab.total_words
    jobs = list(model._jobs(sentences, vocab, done_raw=epoch_words, total_raw=2 * epoch_words))  # the second epoch
    words = [int(lengths.sum()) for _, lengths, _, _ in jobs]
    # In corpus order, whole sentences, about _JOB_WORDS words each (the last one less).
    assert np.concatenate([lengths for _, lengths, _, _ in jobs]).tolist() == [len(s) for s in sentences]
    assert all(2_000 <= w < 2_000 + max(map(len, sentences)) for w in words[:-1]) and words[-1] > 0
    assert [ids.size for ids, *_ in jobs] == words
    # Each job starts from the words of the earlier epochs and of every job before it, and ends at the total.
    assert [before for _, _, before, _ in jobs] == (epoch_words + np.cumsum([0, *words[:-1]])).tolist()
    assert {total for *_, total in jobs} == {2 * epoch_words}
    assert jobs[-1][2] + words[-1] == 2 * epoch_words


def test_each_epoch_of_worker_processes_hands_out_jobs_after_the_words_of_the_epochs_before(
    imdb_unsup_tokens, monkeypatch
):
    monkeypatch.setattr(word2vec_module, "PARALLELISM", "processes")
    asked = []
    jobs = Word2Vec._jobs

    def recorded(self, sentences, vocab, done_raw, total_raw):
        asked.append((done_raw, total_raw))
        yield from jobs(self, sentences, vocab, done_raw, total_raw)

    monkeypatch.setattr(Word2Vec, "_jobs", recorded)  # called in this process, which hands out the jobs
    model = Word2Vec(vector_size=10, epochs=3, workers=2, seed=0).fit(imdb_unsup_tokens[:200])
    words = model.vocabulary_.total_words
    assert asked == [(0, 3 * words), (words, 3 * words), (2 * words, 3 * words)]


def test_a_worker_process_gives_each_block_of_a_job_the_rate_of_the_words_before_it(imdb_unsup_tokens, monkeypatch):
    sentences = imdb_unsup_tokens[:400]
    model = Word2Vec(vector_size=10, epochs=1, workers=2, seed=0).fit(sentences)
    ids, lengths, _, total = next(model._jobs(sentences, model.vocabulary_, done_raw=0, total_raw=10**6))
    asked = []

    def recording(alpha, min_alpha, words_done, total_words):
        asked.append((words_done, total_words))
        return learning_rate(alpha, min_alpha, words_done, total_words)

    monkeypatch.setattr(word2vec_module, "learning_rate", recording)
    results = model._train_job(ids, lengths, 5_000, total, np.random.default_rng(0))  # run here, as a worker does
    raw = [raw_words for _, _, raw_words in results]
    assert len(results) > 1 and sum(raw) == lengths.sum()
    assert asked == [(5_000 + done, 10**6) for done in np.cumsum([0, *raw[:-1]]).tolist()]
    assert all(np.isfinite(loss) and pairs > 0 for loss, pairs, _ in results)


def test_both_worker_threads_train(imdb_unsup_tokens, monkeypatch):
    monkeypatch.setattr(word2vec_module, "PARALLELISM", "threads")
    seen = set()
    train_block = Word2Vec._train_block

    def recording(self, block, lr, rng):
        seen.add(threading.current_thread().name)
        return train_block(self, block, lr, rng)

    monkeypatch.setattr(Word2Vec, "_train_block", recording)
    Word2Vec(vector_size=10, epochs=1, workers=2, seed=0).fit(imdb_unsup_tokens[:400])
    assert seen == {"sgns-worker-0", "sgns-worker-1"}


def test_two_workers_train_finite_vectors_and_report_totals_over_workers(imdb_unsup_tokens, parallelism):
    progress = _Recorder()
    model = Word2Vec(vector_size=20, epochs=2, workers=2, seed=0).fit(imdb_unsup_tokens[:600], progress=progress)
    assert np.isfinite(model.wv.vectors).all() and np.isfinite(model.syn1neg_).all()
    epochs = [t for t in progress.tasks if t["description"].startswith("SGNS epoch")]
    assert len(epochs) == 2
    for task in epochs:
        assert task["advanced"] == task["total"] == model.vocabulary_.total_words  # every worker's words counted
        assert "words/s" in task["status"] and "loss" in task["status"] and "2 workers" in task["status"]
    # words/s and epoch seconds describe all the words of the epoch
    for rate, seconds in zip(model.words_per_second_, model.epoch_seconds_, strict=True):
        assert rate * seconds == pytest.approx(model.vocabulary_.total_words)
    first, second = model.loss_history_
    assert 0 < second < first < 6 * np.log(2)


def test_pairs_and_loss_are_summed_over_workers(parallelism):
    # One long sentence, no subsampling: each token is the context of (window + 1) pairs on average,
    # so a worker's pairs left out of the total would show as about half that.
    # (3,000 words: on a vocabulary of 30, where every block updates every row hundreds of times, two workers
    # at once diverge even with 32-token blocks, and training stops with an error: see docs/trainer.md.)
    rng = np.random.default_rng(0)
    sentences = [[f"w{i}" for i in rng.integers(0, 3000, size=200)] for _ in range(200)]
    model = Word2Vec(vector_size=8, window=5, min_count=1, sample=0, epochs=1, workers=2, seed=0).fit(sentences)
    single = Word2Vec(vector_size=8, window=5, min_count=1, sample=0, epochs=1, seed=0).fit(sentences)
    assert model.pairs_per_epoch_[0] == pytest.approx(single.pairs_per_epoch_[0], rel=0.02)
    assert model.pairs_per_epoch_[0] / (200 * 200) == pytest.approx(6.0, rel=0.05)  # edges of sentences: a bit fewer
    assert model.loss_history_[0] == pytest.approx(single.loss_history_[0], rel=0.05)


def test_two_workers_learn_as_well_as_one_on_real_reviews(imdb_unsup_tokens):
    params = dict(vector_size=40, epochs=3, seed=0)
    one = Word2Vec(**params).fit(imdb_unsup_tokens)
    two = Word2Vec(workers=2, **params).fit(imdb_unsup_tokens)
    other_seed = Word2Vec(**{**params, "seed": 1}).fit(imdb_unsup_tokens)
    assert one.wv.index_to_key == two.wv.index_to_key
    # The same held-out-style loss on the same sampled pairs and noise words.
    counts = one.vocabulary_.counts
    index = one.wv.key_to_index
    sample = [np.array([index[w] for w in s if w in index]) for s in imdb_unsup_tokens[::10]]

    def loss(model):
        return sgns_loss(model.syn0_, model.syn1neg_, sample, counts, window=5, negative=5, seed=0)

    assert loss(two) <= loss(one) * 1.02, (loss(two), loss(one))

    frequent = one.wv.index_to_key[20:220]

    def overlap(a, b):
        return np.mean(
            [len({w for w, _ in a.most_similar(x)} & {w for w, _ in b.most_similar(x)}) / 10 for x in frequent]
        )

    # Two workers differ from one worker about as much as another seed does.
    assert overlap(one.wv, two.wv) >= 0.85 * overlap(one.wv, other_seed.wv)


def test_an_interruption_stops_every_worker(imdb_unsup_tokens, parallelism):
    class Interrupting(_Recorder):
        @contextmanager
        def task(self, description, total=None, unit=""):
            with super().task(description, total, unit) as handle:
                if description.startswith("SGNS epoch"):
                    calls = [0]

                    def advance(amount=1, status=None):
                        calls[0] += 1
                        if calls[0] == 5:
                            raise KeyboardInterrupt

                    handle.advance = advance
                yield handle

    before = threading.active_count()
    with pytest.raises(KeyboardInterrupt):
        Word2Vec(vector_size=20, epochs=1, workers=2, seed=0).fit(imdb_unsup_tokens[:600], progress=Interrupting())
    assert threading.active_count() == before
    assert not any(t.name.startswith("sgns-worker") for t in threading.enumerate())
    assert multiprocessing.active_children() == []


def test_held_interruptions_land_where_checked_and_restore_the_handlers():
    ignored_before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (see helpers)
    try:
        _check_held_interruptions()
    finally:
        signal.signal(signal.SIGINT, ignored_before)


def _check_held_interruptions():
    handler_before = signal.getsignal(signal.SIGINT)
    with HeldInterruptions() as held:
        held.raise_if_received()  # nothing received: nothing happens
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the interpreter has run the (recording) handler: no KeyboardInterrupt here
        assert signal.getsignal(signal.SIGINT) is not handler_before
        with pytest.raises(KeyboardInterrupt):
            held.raise_if_received()
        assert signal.getsignal(signal.SIGINT) is handler_before
    assert signal.getsignal(signal.SIGINT) is handler_before

    with pytest.raises(KeyboardInterrupt), HeldInterruptions():  # received, never checked: delivered at the end
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is handler_before


def test_ctrl_c_with_workers_running_exits_130_and_leaves_nothing(shared_data, tmp_path):
    data = shared_data / "uci" / "yelp_labelled.txt"
    model_dir = tmp_path / "model"
    command = [sys.executable, "-m", "sentiment", "train", str(data), "-o", str(model_dir), "--quiet"]
    slow = subprocess.Popen(
        [*command, "--min-count", "1", "--epochs", "100000", "--workers", "2"],
        stderr=subprocess.PIPE, text=True, env=os.environ, preexec_fn=as_at_a_terminal,
    )  # fmt: skip
    try:
        wait_until_the_command_runs(slow)
        time.sleep(3)
        workers = _children_while_training(slow)
        assert len(workers) >= 2, "no worker processes seen"
    except BaseException:
        slow.kill()  # a failure here must not leave the run going into the next test
        slow.communicate()
        raise
    stderr = interrupt(slow, signal.SIGINT)
    assert slow.returncode == 130
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []  # no model, no temporary directory
    time.sleep(0.5)
    assert [pid for pid in workers if os.path.exists(f"/proc/{pid}")] == []  # no worker left running


def _children_while_training(process, timeout=60.0) -> list[int]:
    """The worker processes of ``process``, once two of them run (each epoch forks its own)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "training finished before it could be interrupted"
        children = []
        for task in os.listdir(f"/proc/{process.pid}/task"):
            try:
                with open(f"/proc/{process.pid}/task/{task}/children") as listed:
                    children += [int(pid) for pid in listed.read().split()]
            except FileNotFoundError:  # a thread (a queue's feeder) ended since the listing
                continue
        if len(children) >= 2:
            return children
        time.sleep(0.01)
    return []


@pytest.fixture(scope="module")
def reviews_file(shared_data, tmp_path_factory):
    """The first 300 IMDB unlabelled reviews as a gzip-compressed CSV (in a temporary folder)."""
    table = pd.read_csv(shared_data / "imdb" / "imdb_unsup.csv.gz", nrows=300)
    path = tmp_path_factory.mktemp("corpus") / "reviews.csv.gz"
    table.to_csv(path, index=False, compression="gzip")
    return path


def test_a_streamed_file_gives_the_vectors_of_the_same_texts_in_memory(reviews_file):
    in_memory = tokenize_all(load_reviews(reviews_file, require_labels=False).texts)
    streamed = TextCorpus(reviews_file, chunk_rows=64)
    assert list(streamed) == in_memory and streamed.rows_read == 300
    params = dict(vector_size=16, min_count=2, epochs=2, seed=5)
    a = Word2Vec(**params).fit(in_memory)
    b = Word2Vec(**params).fit(streamed)
    assert np.array_equal(a.wv.vectors, b.wv.vectors) and a.loss_history_ == b.loss_history_


def test_plain_text_and_tsv_files_stream_too(tmp_path):
    lines = ["A good film.", "", "A <br />bad, bad film!"]
    (tmp_path / "lines.txt.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    (tmp_path / "table.tsv").write_text("id\treview\n1\tA good film.\n2\tA bad, bad film!\n")
    expected = [["a", "good", "film"], ["a", "bad", "bad", "film", "!"]]
    assert list(TextCorpus(tmp_path / "lines.txt.gz")) == expected
    assert list(TextCorpus(tmp_path / "table.tsv")) == expected
    assert list(TextCorpus([tmp_path / "table.tsv"], texts=["Great."])) == [["great"], *expected]


def test_a_corpus_over_the_cache_budget_is_read_again_every_epoch(monkeypatch):
    monkeypatch.setattr(word2vec_module, "_CACHE_BYTES", 1000)
    monkeypatch.setattr(word2vec_module, "_CHUNK_WORDS", 500)
    rng = np.random.default_rng(0)
    sentences = [[f"w{i}" for i in rng.integers(0, 30, size=20)] for _ in range(200)]

    class Counted:
        cacheable = True
        passes = 0

        def __iter__(self):
            Counted.passes += 1
            yield from sentences

    model = Word2Vec(vector_size=4, min_count=1, epochs=3, seed=0).fit(Counted())
    assert Counted.passes == 1 + 3  # vocabulary, then every epoch: nothing kept
    monkeypatch.setattr(word2vec_module, "_CACHE_BYTES", 10**6)
    Counted.passes = 0
    cached = Word2Vec(vector_size=4, min_count=1, epochs=3, seed=0).fit(Counted())
    assert Counted.passes == 1 + 1  # vocabulary, first epoch; then the encoded copy
    assert np.array_equal(model.wv.vectors, cached.wv.vectors)


def test_train_streams_unlabeled_files_and_takes_workers(shared_data, reviews_file, tmp_path):
    target = tmp_path / "m"
    data = shared_data / "uci" / "yelp_labelled.txt"
    fast = ["--vector-size", "10", "--min-count", "2", "--epochs", "2", "--quiet", "--features", "embeddings"]
    result = runner.invoke(
        app, ["train", str(data), "-o", str(target), "--unlabeled", str(reviews_file), "--workers", "2", *fast]
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((target / "meta.json").read_text())
    assert meta["data"]["unlabeled_rows"] == 300
    assert meta["parameters"]["word2vec"]["workers"] == 2


def test_workers_default_to_the_available_cores_on_the_command_line():
    for command in ("train", "compare", "sweep", "validate"):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert "--workers" in result.stdout
    assert len(os.sched_getaffinity(0)) == AVAILABLE_CORES
    assert Word2Vec().workers == 1  # the Python API stays deterministic by default


def test_validation_measures_both_trainers_at_each_worker_count(imdb_unsup_tokens):
    from sentiment.experiments.validate import compare_to_gensim, scaling_markdown

    params = dict(vector_size=10, window=3, negative=3, min_count=5, sample=1e-3, epochs=1, seed=0, workers=2)
    report = compare_to_gensim(imdb_unsup_tokens[:400], params=params)
    assert [row["workers"] for row in report["scaling"]] == [1, 2]
    for row in report["scaling"]:
        assert row["ours_words_per_second"] > 0 and row["gensim_words_per_second"] > 0
    assert report["scaling"][0]["ours_speedup"] == 1.0
    assert report["workers"] == 2 and report["results"]["ours"]["peak_memory_mib"] > 0
    assert scaling_markdown(report).count("\n") == 3  # header, rule, two rows
