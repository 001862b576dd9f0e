"""WordVectors: lookup, most_similar, and word2vec formats read and written by gensim too."""

import numpy as np
import pytest
from gensim.models import KeyedVectors

from sentiment.embeddings.intrinsic import analogy_accuracy, word_pair_spearman
from sentiment.embeddings.vectors import WordVectors
from sentiment.errors import ModelError

WORDS = ["good", "bad", "café", "日本", "naïve"]


@pytest.fixture
def wv():
    rng = np.random.default_rng(0)
    return WordVectors(WORDS, rng.normal(size=(len(WORDS), 6)).astype(np.float32))


def test_lookup_and_membership(wv):
    assert "café" in wv and "missing" not in wv
    assert np.array_equal(wv["bad"], wv.vectors[1])
    with pytest.raises(KeyError):
        wv["missing"]


def test_most_similar_is_cosine_and_leaves_out_the_query():
    wv = WordVectors(["a", "b", "c"], np.array([[1.0, 0.0], [0.9, 0.1], [-1.0, 0.0]]))
    result = wv.most_similar("a", topn=2)
    assert [w for w, _ in result] == ["b", "c"]
    assert result[0][1] == pytest.approx(0.9 / np.hypot(0.9, 0.1), abs=1e-6)
    assert result[1][1] == pytest.approx(-1.0)


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_our_files_and_we_read_gensims(tmp_path, wv, binary):
    ours = tmp_path / "ours.w2v"
    wv.save_word2vec_format(ours, binary=binary)
    theirs = KeyedVectors.load_word2vec_format(ours, binary=binary)
    assert theirs.index_to_key == WORDS
    np.testing.assert_array_equal(theirs.vectors, wv.vectors)

    gensim_file = tmp_path / "gensim.w2v"
    theirs.save_word2vec_format(gensim_file, binary=binary)
    back = WordVectors.load_word2vec_format(gensim_file, binary=binary)
    assert back.index_to_key == WORDS
    np.testing.assert_array_equal(back.vectors, wv.vectors)


def test_a_header_claiming_huge_sizes_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_text("1000000000000 1000000000\nword 0.1\n")
    with pytest.raises(ModelError, match="more than"):
        WordVectors.load_word2vec_format(path)


@pytest.mark.parametrize("binary", [False, True])
def test_fewer_rows_than_the_header_says_is_an_error(tmp_path, wv, binary):
    path = tmp_path / "short.w2v"
    wv.save_word2vec_format(path, binary=binary)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"5 6\n", b"6 6\n", 1))  # one row short
    with pytest.raises(ModelError, match="ends"):
        WordVectors.load_word2vec_format(path, binary=binary)


def test_not_a_word2vec_file(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("hello world\n")
    with pytest.raises(ModelError, match="not a word2vec file"):
        WordVectors.load_word2vec_format(path)


def test_analogy_and_pair_evaluation_on_hand_made_vectors(tmp_path):
    # king - man + woman = queen holds exactly in these vectors.
    words = ["king", "man", "woman", "queen", "apple"]
    vectors = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1], [-1, -1, -1]], dtype=np.float32)
    wv = WordVectors(words, vectors)
    questions = tmp_path / "q.txt"
    questions.write_text(": family\nman king woman queen\nman king woman apple\nman king unknown queen\n")
    result = analogy_accuracy(wv, questions)
    assert (result.correct, result.answered, result.total) == (1, 2, 3)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# comment\nking\tqueen\t5\nking\tman\t9\nking\tapple\t1\nking\tmissing\t3\n")
    pair_result = word_pair_spearman(wv, pairs)
    assert pair_result.pairs_used == 3 and pair_result.spearman == pytest.approx(1.0)


def test_the_one_scan_binary_reader_reads_vectors_whose_bytes_look_like_spaces_and_newlines(tmp_path):
    from sentiment.embeddings.vectors import _binary_rows_at_once

    # 0x20 (space) and 0x0A (newline) bytes inside the float32 rows, the last row ending in 0x0A.
    awkward = np.frombuffer(bytes([0x20, 0x0A, 0x20, 0x0A] * 3 + [0x0A] * 4), dtype="<f4").reshape(2, 2)
    wv = WordVectors(["naïve", "b"], awkward.copy())
    wv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    body = (tmp_path / "v.bin").read_bytes().split(b"\n", 1)[1]
    assert _binary_rows_at_once(body, 2, 2) is not None
    loaded = WordVectors.load_word2vec_format(tmp_path / "v.bin", binary=True)
    assert loaded.index_to_key == wv.index_to_key
    np.testing.assert_array_equal(loaded.vectors, wv.vectors)
