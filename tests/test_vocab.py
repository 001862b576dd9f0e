import numpy as np
import pytest

from sentiment.embeddings.vocab import build_vocab, keep_probabilities, noise_distribution
from sentiment.errors import TrainingError


def test_min_count_and_order_most_frequent_first_ties_first_seen():
    vocab = build_vocab([["b", "a", "c", "a"], ["c", "d"]], min_count=2)
    assert vocab.index_to_key == ["a", "c"]
    assert vocab.counts.tolist() == [2, 2]
    assert vocab.total_words == 6 and vocab.corpus_count == 2


def test_max_vocab_size_prunes_rare_words_while_counting():
    sentences = [["common"] * 5 + [f"rare{i}"] for i in range(10)]
    vocab = build_vocab(sentences, min_count=1, max_vocab_size=3)
    assert "common" in vocab.index_to_key
    assert len(vocab) <= 3


def test_a_string_instead_of_a_token_list_is_refused():
    with pytest.raises(TrainingError):
        build_vocab(["not tokenized"], min_count=1)


def test_keep_probability_matches_word2vec_formula_by_hand():
    counts = np.array([1000, 100, 1])
    total = counts.sum()  # 1101
    t = 1e-2 * total  # 11.01
    expected = [(np.sqrt(1000 / t) + 1) * t / 1000, (np.sqrt(100 / t) + 1) * t / 100, 1.0]
    assert keep_probabilities(counts, 1e-2) == pytest.approx(expected)
    assert keep_probabilities(counts, 0).tolist() == [1.0, 1.0, 1.0]


def test_noise_distribution_is_count_to_the_three_quarters():
    p = noise_distribution(np.array([16, 1]), 0.75)
    assert p == pytest.approx([8 / 9, 1 / 9])
