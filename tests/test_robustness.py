"""Untrusted input and interruptions: only SentimentError escapes, nothing is lost."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import as_at_a_terminal, interrupt, wait_until_the_command_runs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentiment.data.reviews import load_reviews
from sentiment.embeddings.vectors import WordVectors
from sentiment.embeddings.word2vec import Word2Vec
from sentiment.errors import DataError, ModelError, TrainingError
from sentiment.model import SentimentModel
from sentiment.tokenize import tokenize

FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.text())
def test_tokenizer_never_fails_and_yields_clean_lower_case_tokens(text):
    tokens = tokenize(text)
    for token in tokens:
        assert token and not any(ch.isspace() for ch in token)
        assert token == token.lower() or token != text  # lower-cased where case exists


@FUZZ
@given(st.binary(max_size=600))
def test_review_reader_raises_only_data_errors_on_random_bytes(tmp_path, content):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    try:
        reviews = load_reviews(path)
    except DataError:
        return
    assert len(reviews.texts) == len(reviews.labels) > 0


@FUZZ
@given(st.binary(max_size=400), st.booleans())
def test_word2vec_reader_raises_only_model_errors_on_random_bytes(tmp_path, content, binary):
    path = tmp_path / "fuzz.w2v"
    path.write_bytes(content)
    try:
        wv = WordVectors.load_word2vec_format(path, binary=binary)
    except ModelError:
        return
    assert wv.vectors.shape == (len(wv.index_to_key), wv.vector_size)


@FUZZ
@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=5), st.integers(1, 20))
def test_word2vec_reader_after_a_valid_header_with_fuzzed_rows(tmp_path, words, dim):
    path = tmp_path / "rows.txt"
    rows = "".join(f"{w} {' '.join(['0.5'] * dim)}\n" for w in words)
    path.write_text(f"{len(words)} {dim}\n{rows}", encoding="utf-8")
    try:
        wv = WordVectors.load_word2vec_format(path)
    except ModelError:
        return  # e.g. whitespace inside a fuzzed word
    assert wv.vectors.shape == (len(words), dim)


def test_a_vocabulary_too_big_for_memory_is_refused_before_allocating():
    with pytest.raises(TrainingError, match="GiB"):
        Word2Vec(vector_size=10**9, min_count=1).fit([["a", "b", "c"]])


def test_only_one_class_is_a_clear_error(tmp_path):
    from sentiment.train import train

    path = tmp_path / "one.csv"
    path.write_text("text,label\ngood,1\nfine,1\n")
    with pytest.raises(DataError, match="need two classes"):
        train(load_reviews(path))


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupting_training_keeps_the_previous_model(shared_data, tmp_path, signum, status):
    data = shared_data / "uci" / "yelp_labelled.txt"
    model_dir = tmp_path / "model"
    command = [sys.executable, "-m", "sentiment", "train", str(data), "-o", str(model_dir), "--quiet"]
    subprocess.run([*command, "--min-count", "2", "--epochs", "2"], check=True, capture_output=True)
    probe = ["great food", "rude staff"]
    before = SentimentModel.load(model_dir).predict_proba(probe)
    files_before = {p.name: p.read_bytes() for p in model_dir.iterdir()}

    # A long run (many epochs) interrupted while it trains.
    slow = subprocess.Popen(
        [*command, "--min-count", "1", "--epochs", "100000"],
        stderr=subprocess.PIPE, text=True, env=os.environ, preexec_fn=as_at_a_terminal,
    )  # fmt: skip
    wait_until_the_command_runs(slow)
    time.sleep(3)  # well into reading and training
    assert slow.poll() is None, "training finished before it could be interrupted"
    stderr = interrupt(slow, signum)
    assert slow.returncode == status
    last_words = [line for line in stderr.strip().splitlines() if not line.startswith("note: ")]
    assert "Traceback" not in stderr and len(last_words) == 1
    assert {p.name: p.read_bytes() for p in model_dir.iterdir()} == files_before
    np.testing.assert_array_equal(SentimentModel.load(model_dir).predict_proba(probe), before)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary directories left
