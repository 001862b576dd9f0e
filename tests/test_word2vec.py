"""Our Word2Vec trainer: statistics against formulas, determinism, and parity with gensim."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sentiment.embeddings.vocab import keep_probabilities, noise_distribution
from sentiment.embeddings.word2vec import Word2Vec
from sentiment.errors import TrainingError


def _toy_corpus(seed=0, n_sentences=400):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(50)]
    p = 1 / np.arange(1, 51)
    p /= p.sum()
    return [list(rng.choice(words, size=20, p=p)) for _ in range(n_sentences)]


def test_same_seed_gives_bit_identical_vectors_and_other_seeds_differ():
    corpus = _toy_corpus()
    a = Word2Vec(vector_size=16, min_count=1, epochs=2, seed=7).fit(corpus)
    b = Word2Vec(vector_size=16, min_count=1, epochs=2, seed=7).fit(corpus)
    c = Word2Vec(vector_size=16, min_count=1, epochs=2, seed=8).fit(corpus)
    assert np.array_equal(a.wv.vectors, b.wv.vectors)
    assert a.loss_history_ == b.loss_history_
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)


def test_subsampling_keeps_each_word_at_the_formula_rate():
    corpus = _toy_corpus(n_sentences=2000)
    model = Word2Vec(vector_size=4, min_count=1, sample=1e-2, epochs=1, seed=0).fit(corpus)
    vocab = model.vocabulary_
    kept = np.zeros(len(vocab))
    for block in model._blocks(corpus, vocab, np.random.default_rng(1)):
        kept += np.bincount(block.tokens, minlength=len(vocab))
    expected = keep_probabilities(vocab.counts, 1e-2)
    # Binomial standard error per word; 5 sigma keeps the test from flaking.
    sigma = np.sqrt(expected * (1 - expected) / vocab.counts) + 1e-12
    assert (expected < 1).sum() >= 5  # the test must exercise real subsampling
    assert np.all(np.abs(kept / vocab.counts - expected) <= 5 * sigma + 1e-9)


def test_noise_words_follow_count_to_the_three_quarters():
    corpus = _toy_corpus()
    model = Word2Vec(vector_size=4, min_count=1, epochs=1, seed=0).fit(corpus)
    draws = model._draw_noise(np.random.default_rng(0), (200_000,))
    observed = np.bincount(draws, minlength=len(model.vocabulary_)) / draws.size
    expected = noise_distribution(model.vocabulary_.counts, 0.75)
    sigma = np.sqrt(expected * (1 - expected) / draws.size)
    assert np.all(np.abs(observed - expected) <= 5 * sigma)


def test_reduced_windows_give_window_plus_one_pairs_per_token():
    # One long sentence, no subsampling: each token is the context of (window + 1) pairs on average.
    rng = np.random.default_rng(0)
    sentence = [f"w{i}" for i in rng.integers(0, 30, size=20_000)]
    model = Word2Vec(vector_size=4, window=5, min_count=1, sample=0, epochs=1, seed=0).fit([sentence])
    pairs = model.pairs_per_epoch_[0]
    assert pairs / len(sentence) == pytest.approx(6.0, rel=0.02)


def test_loss_falls_epoch_after_epoch_on_real_reviews(imdb_unsup_tokens):
    model = Word2Vec(vector_size=50, epochs=3, seed=0).fit(imdb_unsup_tokens[:1500])
    first, second, third = model.loss_history_
    assert first > second > third
    assert 0 < third < np.log(2) * 6  # below the loss of all-zero vectors (1 + negative) * log 2


def test_learning_rate_too_high_stops_with_a_clear_error_and_no_vectors(imdb_unsup_tokens):
    model = Word2Vec(vector_size=50, epochs=1, alpha=2.0, seed=0)
    with pytest.raises(TrainingError, match="diverged"):
        model.fit(imdb_unsup_tokens[:500])
    assert not hasattr(model, "wv_") and not hasattr(model, "syn0_")


@pytest.mark.parametrize("params", [
    {"vector_size": 0}, {"window": 0}, {"negative": 0}, {"epochs": 0}, {"alpha": -1.0}, {"sample": -0.1},
    {"min_count": 0}, {"sg": 2}, {"cbow_mean": 3},
])  # fmt: skip
def test_out_of_range_parameters_are_refused(params):
    with pytest.raises(TrainingError):
        Word2Vec(**params).fit(_toy_corpus())


def test_empty_vocabulary_is_a_clear_error():
    with pytest.raises(TrainingError, match="min-count"):
        Word2Vec(min_count=100_000).fit(_toy_corpus())


def test_estimator_contract():
    model = Word2Vec(vector_size=8, negative=3)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.wv  # noqa: B018
    with pytest.raises(TrainingError):
        model.fit("a bare string")


def test_streams_a_reiterable_corpus_without_holding_it():
    corpus = _toy_corpus()

    class Streamed:
        passes = 0

        def __iter__(self):
            Streamed.passes += 1
            yield from corpus

    streamed = Word2Vec(vector_size=8, min_count=1, epochs=2, seed=3).fit(Streamed())
    in_memory = Word2Vec(vector_size=8, min_count=1, epochs=2, seed=3).fit(corpus)
    assert Streamed.passes == 3  # vocabulary + one per epoch
    assert np.array_equal(streamed.wv.vectors, in_memory.wv.vectors)


def test_long_texts_are_not_truncated():
    sentence = ["a", "b"] * 15_000  # 30,000 tokens; gensim would cut at 10,000
    model = Word2Vec(vector_size=4, min_count=1, sample=0, window=1, epochs=1, seed=0).fit([sentence])
    assert model.pairs_per_epoch_[0] == 2 * (len(sentence) - 1)


@pytest.mark.slow
def test_quality_is_on_par_with_gensim_on_real_reviews(imdb_unsup_tokens):
    """Neighbour lists of frequent words agree with gensim's about as well as gensim agrees with itself."""
    from gensim.models import Word2Vec as GensimWord2Vec

    params = dict(vector_size=50, window=5, min_count=5, negative=5, sample=1e-3, epochs=3)
    ours = Word2Vec(seed=0, **params).fit(imdb_unsup_tokens).wv
    gensim_runs = [GensimWord2Vec(imdb_unsup_tokens, sg=1, hs=0, workers=1, seed=seed, **params).wv for seed in (0, 1)]
    frequent = [w for w in gensim_runs[0].index_to_key[20:220] if w in ours]

    def overlap(a_neighbours, b_neighbours):
        return np.mean([len(set(a_neighbours(w)) & set(b_neighbours(w))) / 10 for w in frequent])

    ours_top = lambda w: [n for n, _ in ours.most_similar(w, topn=10)]  # noqa: E731
    g0_top = lambda w: [n for n, _ in gensim_runs[0].most_similar(w, topn=10)]  # noqa: E731
    g1_top = lambda w: [n for n, _ in gensim_runs[1].most_similar(w, topn=10)]  # noqa: E731
    gensim_vs_gensim = overlap(g0_top, g1_top)
    ours_vs_gensim = overlap(ours_top, g0_top)
    assert gensim_vs_gensim > 0.3  # the corpus is big enough for stable neighbours
    assert ours_vs_gensim >= 0.8 * gensim_vs_gensim, (ours_vs_gensim, gensim_vs_gensim)


def test_adagrad_trains_deterministically_and_lowers_the_loss(imdb_unsup_tokens):
    runs = [Word2Vec(vector_size=30, epochs=2, optimizer="adagrad", seed=0).fit(imdb_unsup_tokens[:800]) for _ in "ab"]
    assert np.array_equal(runs[0].wv.vectors, runs[1].wv.vectors)
    first, second = runs[0].loss_history_
    assert second < first < (1 + 5) * np.log(2)  # below all-zero vectors' loss, and still falling


def test_unknown_optimizer_is_refused():
    with pytest.raises(TrainingError, match="optimizer"):
        Word2Vec(optimizer="rmsprop").fit(_toy_corpus())


def test_cbow_trains_deterministically_and_lowers_the_loss(imdb_unsup_tokens):
    runs = [Word2Vec(vector_size=30, epochs=3, sg=0, seed=0).fit(imdb_unsup_tokens[:800]) for _ in "ab"]
    assert np.array_equal(runs[0].wv.vectors, runs[1].wv.vectors)
    first, second, third = runs[0].loss_history_
    assert first > second > third


@pytest.mark.slow
def test_cbow_quality_is_on_par_with_gensim_cbow(imdb_unsup_tokens):
    from gensim.models import Word2Vec as GensimWord2Vec

    params = dict(vector_size=50, window=5, min_count=5, negative=5, sample=1e-3, epochs=3)
    ours = Word2Vec(sg=0, seed=0, **params).fit(imdb_unsup_tokens).wv
    theirs = [GensimWord2Vec(imdb_unsup_tokens, sg=0, hs=0, workers=1, seed=s, **params).wv for s in (0, 1)]
    frequent = [w for w in theirs[0].index_to_key[20:220] if w in ours]

    def overlap(a, b):
        return np.mean(
            [len({n for n, _ in a.most_similar(w)} & {n for n, _ in b.most_similar(w)}) / 10 for w in frequent]
        )

    gensim_vs_gensim, ours_vs_gensim = overlap(theirs[0], theirs[1]), overlap(ours, theirs[0])
    assert ours_vs_gensim >= 0.8 * gensim_vs_gensim, (ours_vs_gensim, gensim_vs_gensim)
