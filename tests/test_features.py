"""The document features beyond plain means: weighted/pooled embeddings, NB n-grams, PV-DBOW, the stack.

Formulas are checked against hand computations, transformers against
scikit-learn's contract, persistence for bit-identical probabilities, and
PV-DBOW inference against the vectors training learned.
"""

import json
from functools import partial

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sentiment.data import load_reviews
from sentiment.data.reviews import split_indices
from sentiment.embeddings.doc2vec import Doc2Vec
from sentiment.embeddings.vectors import WordVectors
from sentiment.errors import ModelError, TrainingError
from sentiment.features import DocVectorizer, MeanEmbeddingVectorizer, NBNgramVectorizer
from sentiment.features.nb_ngrams import nb_log_count_ratio
from sentiment.features.word_weights import count_matrix, weighted_means, word_weights
from sentiment.model import FORMAT_VERSION, SentimentModel
from sentiment.selection import STACK_FOLDS, accuracy, choose_stack_weights, out_of_fold_proba, stack_folds
from sentiment.tokenize import tokenize_all
from sentiment.train import _refittable, train

SMALL_W2V = {"vector_size": 20, "min_count": 2, "epochs": 3}


@pytest.fixture(scope="module")
def yelp(shared_data):
    return load_reviews(shared_data / "uci" / "yelp_labelled.txt")


def test_nb_ratio_matches_the_formula_on_real_reviews(yelp):
    counts = count_matrix(tokenize_all(yelp.texts), {"great": 0, "bad": 1, "the": 2}, 3)
    binary = (counts > 0).astype(np.float64)
    positive = yelp.labels == "positive"
    ratio = nb_log_count_ratio(binary, positive, alpha=1.0)
    for column in range(3):
        p = 1 + binary[positive, column].sum()
        q = 1 + binary[~positive, column].sum()
        total_p = 3 + binary[positive].sum()
        total_q = 3 + binary[~positive].sum()
        assert ratio[column] == pytest.approx(np.log((p / total_p) / (q / total_q)))
    assert ratio[0] > 1 and ratio[1] < -1 and abs(ratio[2]) < 0.5  # "great" positive, "bad" negative


def test_weightings_by_hand():
    counts = sparse.csr_matrix(np.array([[3.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 2.0]]))
    sif = word_weights("sif", counts)[0]
    share = np.array([3.0, 2.0, 3.0]) / 8
    np.testing.assert_allclose(sif, 1e-3 / (1e-3 + share), rtol=1e-6)
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    means = weighted_means(counts, np.array([1.0, 3.0, 0.0]), vectors)
    np.testing.assert_allclose(means, [[0.5, 0.5], [0.0, 1.0], [0.0, 0.0]])  # row 3: only a zero-weight word


@pytest.mark.parametrize("weighting", ["uniform", "idf", "sif", "nb", "nbs", "nbs+uniform", "nb+uniform"])
@pytest.mark.parametrize("pooling", ["mean", "mean_max"])
def test_mean_embeddings_with_every_weighting_follow_scikit_learn_rules(yelp, weighting, pooling):
    wv = WordVectors(["great", "bad", "food"], np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], dtype=np.float32))
    vectorizer = MeanEmbeddingVectorizer(word_vectors=wv, weighting=weighting, pooling=pooling)
    assert clone(vectorizer).get_params()["weighting"] == weighting
    features = vectorizer.fit_transform(yelp.texts, yelp.labels)
    blocks = len(weighting.split("+")) + (pooling == "mean_max")
    assert features.shape == (len(yelp), 2 * blocks) and np.isfinite(features).all()
    np.testing.assert_array_equal(vectorizer.transform(yelp.texts[:7]), features[:7])
    if weighting == "uniform":
        np.testing.assert_allclose(vectorizer.transform(["great food"])[0][:2], [0.75, 0.25])


def test_the_nb_weighting_needs_labels(yelp):
    with pytest.raises(ValueError, match="labels"):
        MeanEmbeddingVectorizer(weighting="nb", **SMALL_W2V).fit(yelp.texts)


def test_nb_ngrams_follow_scikit_learn_rules_and_use_only_training_labels(yelp):
    pipeline = Pipeline([("features", NBNgramVectorizer(min_df=1)), ("classifier", LogisticRegression(max_iter=500))])
    search = GridSearchCV(pipeline, {"features__ngram_range": [(1, 1), (1, 2)]}, cv=2)
    search.fit(yelp.texts[:600], yelp.labels[:600])
    assert search.best_params_["features__ngram_range"] in ((1, 1), (1, 2))
    vectorizer = NBNgramVectorizer(ngram_range=(1, 2), min_df=1).fit(yelp.texts[:600], yelp.labels[:600])
    assert "not good" in vectorizer.vocabulary_ or "very good" in vectorizer.vocabulary_  # bigrams are there
    again = NBNgramVectorizer(ngram_range=(1, 2), min_df=1).fit(yelp.texts[:600], yelp.labels[:600])
    np.testing.assert_array_equal(vectorizer.ratios_, again.ratios_)  # the ratio depends on fit's data only
    with pytest.raises(ValueError, match="labels"):
        NBNgramVectorizer().fit(yelp.texts)


def test_pv_dbow_inference_lands_near_the_trained_vectors(imdb_unsup_tokens):
    documents = imdb_unsup_tokens[:1500]
    model = Doc2Vec(vector_size=24, epochs=8, min_count=3, seed=3).fit(documents)
    assert model.loss_history_[-1] < model.loss_history_[1]  # it learns
    inferred = model.infer(documents[:200])
    np.testing.assert_array_equal(inferred, model.infer(documents[:200]))  # deterministic for a seed

    def unit(m):
        return m / np.linalg.norm(m, axis=1, keepdims=True)

    similarity = unit(inferred) @ unit(model.dv_).T
    own = similarity[np.arange(200), np.arange(200)]
    assert np.median(own) > 0.5
    # An inferred vector is closer to its own document's trained vector than to most others'.
    rank = (similarity > own[:, None]).sum(axis=1)
    assert np.mean(rank < 15) > 0.8, np.median(rank)


def test_pv_dbow_with_word_pairs_predicts_them_and_saves_them(imdb_unsup_tokens, yelp, tmp_path):
    documents = imdb_unsup_tokens[:600]
    model = Doc2Vec(vector_size=16, epochs=3, min_count=3, seed=3, ngrams=2).fit(documents)
    pairs = [target for target in model.index_to_key_ if " " in target]
    assert "of the" in model.key_to_index_ and len(pairs) > 1000  # word pairs are targets beside the words
    assert all(len(pair.split(" ")) == 2 for pair in pairs)
    words_only = Doc2Vec(vector_size=16, epochs=3, min_count=3, seed=3).fit(documents)
    assert set(words_only.index_to_key_) == set(model.index_to_key_) - set(pairs)
    np.testing.assert_array_equal(model.infer(documents[:20]), model.infer(documents[:20]))

    result = train(yelp, features="doc2vec", seed=0, C=1.0, doc2vec_params={"ngrams": 2, "epochs": 2, "vector_size": 8})
    result.model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["pipelines"]["doc2vec"]["ngrams"] == 2
    loaded = SentimentModel.load(tmp_path / "m")
    np.testing.assert_array_equal(
        loaded.predict_proba(yelp.texts[:30], "doc2vec"), result.model.predict_proba(yelp.texts[:30], "doc2vec")
    )
    with pytest.raises(TrainingError, match="doc2vec settings apply to document vectors"):
        train(yelp, features="nbngrams", doc2vec_params={"ngrams": 2})


def test_doc_vectorizer_follows_scikit_learn_rules(yelp):
    vectorizer = DocVectorizer(vector_size=8, epochs=2, min_count=2)
    assert clone(vectorizer).get_params() == vectorizer.get_params()
    features = vectorizer.fit_transform(yelp.texts[:300])
    assert features.shape == (300, 8) and np.isfinite(features).all()
    with pytest.raises(ValueError, match="string object"):
        vectorizer.transform("one text")


def test_stack_weights_are_chosen_on_dev_probabilities():
    truth = np.array(["a", "b"] * 20)
    perfect = np.where((truth == "a")[:, None], [0.8, 0.2], [0.2, 0.8])
    noise = np.random.default_rng(0).dirichlet([1, 1], size=40)
    assert choose_stack_weights([noise, perfect], truth, np.array(["a", "b"])) == [0.0, 1.0]


@pytest.fixture(scope="module")
def stacked(yelp):
    return train(yelp, features="stack", word2vec=SMALL_W2V, seed=0, stack=("embeddings", "nbngrams", "doc2vec"))


def test_a_stacked_model_reports_every_part_and_keeps_the_baseline(stacked):
    model = stacked.model
    assert model.primary == "stack" and model.baseline == "onehot"
    assert set(stacked.metrics) == {"stack", "embeddings", "nbngrams", "doc2vec", "onehot"}
    weights = model.stack["weights"]
    assert len(weights) == 3 and sum(weights) == pytest.approx(1.0)
    selection = model.meta["selection"]
    assert selection["chosen_on"] == "dev split of the training rows" and selection["dev_rows"] > 0
    assert set(selection["C"]) == {"embeddings", "nbngrams", "doc2vec", "onehot"}
    # The dev rows come out of the training rows: the held-out rows are untouched by any choice.
    assert model.meta["data"]["train_rows"] + model.meta["data"]["held_out_rows"] == 1000
    # The weights come from every training row scored out of fold, and the record says how well each part did.
    stack = selection["stack"]
    assert stack["chosen_on"] == "5-fold out-of-fold probabilities of the training rows"
    assert stack["rows"] == model.meta["data"]["train_rows"]
    assert set(stack["out_of_fold_accuracy"]) == {"embeddings", "nbngrams", "doc2vec", "stack"}


def test_the_stack_weights_are_the_best_vote_of_its_parts_scored_out_of_fold(yelp):
    model = train(yelp, features="stack", word2vec=SMALL_W2V, seed=0, C=1.0, prior_tokens=0.0).model
    # The training rows of that run, and each part scored again on the same five folds of them.
    train_rows, _ = split_indices(yelp, 0.2, 0)
    train_part = yelp.rows(train_rows)
    folds = stack_folds(train_part.labels, seed=0)
    probas = {}
    for kind in ("embeddings", "nbngrams"):
        fresh, head = partial(_refittable, model.pipelines[kind][0]), Pipeline(model.pipelines[kind].steps[1:])
        probas[kind] = out_of_fold_proba(fresh, head, train_part.texts, train_part.labels, folds)
    classes = model.classes_
    assert model.stack["weights"] == choose_stack_weights(list(probas.values()), train_part.labels, classes)
    recorded = model.meta["selection"]["stack"]["out_of_fold_accuracy"]
    for kind, proba in probas.items():
        assert recorded[kind] == pytest.approx(accuracy(proba, train_part.labels, classes))


def test_out_of_fold_probabilities_come_from_models_that_never_saw_the_row(yelp):
    texts, labels = yelp.texts[:400], yelp.labels[:400]
    folds = stack_folds(labels, seed=0)
    assert len(folds) == STACK_FOLDS
    held = np.concatenate([rows for _, rows in folds])
    assert sorted(held.tolist()) == list(range(400))  # every row held out exactly once
    for fit_rows, held_rows in folds:
        assert not set(fit_rows) & set(held_rows)
        assert set(labels[held_rows]) == set(labels)  # stratified
    head = Pipeline([("classifier", LogisticRegression(C=3.0, max_iter=1000))])
    proba = out_of_fold_proba(lambda: NBNgramVectorizer(), head, texts, labels, folds)
    # Row by row, what NB ratios and a classifier fitted on the other folds alone give.
    fit_rows, held_rows = folds[2]
    features = NBNgramVectorizer().fit([texts[i] for i in fit_rows], labels[fit_rows])
    alone = clone(head).fit(features.transform([texts[i] for i in fit_rows]), labels[fit_rows])
    expected = alone.predict_proba(features.transform([texts[i] for i in held_rows]))
    np.testing.assert_allclose(proba[held_rows], expected, rtol=1e-6)
    # Fitted on all the rows instead, the same model scores its own rows better than out of fold (it saw them).
    classes = np.unique(labels)
    seen = clone(head).fit(NBNgramVectorizer().fit_transform(texts, labels), labels)
    in_sample = seen.predict_proba(NBNgramVectorizer().fit(texts, labels).transform(texts))
    assert accuracy(in_sample, labels, classes) > accuracy(proba, labels, classes)
    assert stack_folds(labels[:40], seed=0) is None  # 20 a class: too few for 5 folds of 5 each


def test_the_default_stack_is_embeddings_and_nb_ngrams_and_bad_stacks_are_refused(yelp):
    model = train(yelp, features="stack", word2vec=SMALL_W2V, seed=0, C=1.0).model
    assert model.stack["components"] == ["embeddings", "nbngrams"] and set(model.kinds) == {
        "stack", "embeddings", "nbngrams", "onehot"}  # fmt: skip
    for bad in [("embeddings",), ("embeddings", "embeddings"), ("embeddings", "tfidf")]:
        with pytest.raises(TrainingError, match="two or more distinct components"):
            train(yelp, features="stack", stack=bad)
    with pytest.raises(TrainingError, match="--stack chooses the parts of --features stack"):
        train(yelp, features="both", stack=("embeddings", "nbngrams"))


def test_a_stacked_model_saves_and_loads_with_identical_probabilities(stacked, yelp, tmp_path):
    stacked.model.save(tmp_path / "m")
    loaded = SentimentModel.load(tmp_path / "m")
    for kind in stacked.model.kinds:
        before = stacked.model.predict_proba(yelp.texts[:40], kind)
        np.testing.assert_allclose(loaded.predict_proba(yelp.texts[:40], kind), before, rtol=0, atol=1e-6)
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION and meta["pipelines"]["embeddings"]["weighting"] == "nbs+uniform"
    assert meta["pipelines"]["nbngrams"]["norm"] == "l2"
    meta["pipelines"]["nbngrams"]["norm"] = "l1"  # not one this version scores: refused, not scored unscaled
    (tmp_path / "m" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="norm 'l1'"):
        SentimentModel.load(tmp_path / "m")


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_an_older_model_still_loads_and_predicts_as_before(version):
    """tests/data/model_v{1,2,3,4} were saved by earlier builds (formats 1-4; v4 holds NB n-grams without
    ``norm``); their probabilities were recorded then."""
    from pathlib import Path

    folder = Path(__file__).parent / "data" / f"model_v{version}"
    expected = pd.read_csv(folder.parent / f"model_v{version}_probabilities.csv")
    model = SentimentModel.load(folder)
    assert model.meta["format_version"] == version
    for kind in expected.columns.drop("text"):
        proba = model.predict_proba(expected["text"].tolist(), kind)[:, 1]
        np.testing.assert_allclose(proba, expected[kind], rtol=1e-5, atol=1e-6)


def test_phrase_scores_by_hand():
    from sentiment.embeddings.phrases import Phrases, phrase_scores

    corpus = [["not", "good", "at", "all"], ["not", "good"], ["very", "good"], ["not", "bad"]] * 5
    # not: 15, good: 15, total 50 tokens; (not, good) 10 times: (10 - 5) / (15 * 15) * 50
    assert phrase_scores(corpus, delta=5, min_count=5)[("not", "good")] == pytest.approx(5 / 225 * 50)
    two_passes = Phrases(min_count=5, threshold=1.0, delta=5, passes=2).fit(corpus + [["not", "good", "at"]] * 10)
    assert ("not", "good") in two_passes.pairs_[0]
    assert ("not_good", "at") in two_passes.pairs_[1]
    assert two_passes.transform([["not", "good", "at", "home"]]) == [["not_good_at", "home"]]


def test_embeddings_with_phrases_save_and_load(yelp, tmp_path):
    result = train(yelp, features="embeddings", word2vec=SMALL_W2V, seed=0, C=1.0)
    model = result.model
    vectorizer = MeanEmbeddingVectorizer(phrases=1, **SMALL_W2V)
    vectorizer.set_params(weighting="uniform")
    # A pair that always comes together ("vegas buffet" style) scores far above word2phrase's threshold of 100.
    texts = yelp.texts + ["we ate at the zyx qwv place"] * 30
    features = vectorizer.fit_transform(texts, np.concatenate([yelp.labels, ["positive", "negative"] * 15]))[
        : len(yelp)
    ]
    assert ("zyx", "qwv") in vectorizer.phrases_.pairs_[0] and "zyx_qwv" in vectorizer.wv_
    model.pipelines["embeddings"].steps[0] = ("features", vectorizer)
    model.pipelines["embeddings"][1:].fit(features, yelp.labels)
    model.save(tmp_path / "m")
    loaded = SentimentModel.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(yelp.texts[:30]), model.predict_proba(yelp.texts[:30]), atol=1e-6)
    assert loaded.pipelines["embeddings"][0].phrases_.pairs_ == vectorizer.phrases_.pairs_


def test_compare_runs_the_new_representations(shared_data):
    from typer.testing import CliRunner

    from sentiment.cli import app

    data = shared_data / "uci" / "yelp_labelled.txt"
    args = ["compare", str(data), "--features", "nbngrams,doc2vec,onehot", "--repeats", "1", "--json", "--quiet",
            "--vector-size", "16", "--min-count", "2", "--epochs", "2"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = {row["features"]: row for row in json.loads(result.stdout)["summary"]}
    assert set(summary) == {"nbngrams", "doc2vec", "onehot"}
    assert all(0.5 < row["accuracy_mean"] <= 1 for row in summary.values())


@pytest.mark.parametrize("text", ["The food was great, not bad at all!", "cold and bland", "zzqx", ""])
def test_every_explainable_part_of_a_stack_adds_up(stacked, text):
    from sentiment.features import check_contributions

    model = stacked.model
    for kind in ("embeddings", "nbngrams", "onehot"):
        features = model.pipelines[kind][0]
        check_contributions(features, text)
    explanation = model.explain(text)
    proba = model.predict_proba([text])[0]
    # A two-class stack's log-odds are the weighted sum of its parts' logits: the explanation is exact.
    assert explanation.logit == pytest.approx(np.log(proba[1] / proba[0]), rel=1e-4, abs=1e-4)
    assert explanation.logit == pytest.approx(sum(t.contribution for t in explanation.tokens) + explanation.constant)
    assert [t.token for t in explanation.tokens] == tokenize_all([text])[0]


def test_phrases_and_max_pooling_explanations_add_up(yelp):
    from sentiment.features import check_contributions

    texts = [*yelp.texts, *["we ate at the zyx qwv place"] * 30]
    labels = np.concatenate([yelp.labels, ["positive", "negative"] * 15])
    for pooling, normalize in (("mean_max", False), ("mean", True)):
        settings = {"weighting": "nb+uniform", "pooling": pooling, "normalize": normalize}
        vectorizer = MeanEmbeddingVectorizer(phrases=1, **settings, **SMALL_W2V)
        vectorizer.fit(texts, labels)
        for text in ("the zyx qwv place was great", "bad", "zzqx"):
            width = vectorizer.transform([text]).shape[1]
            check_contributions(vectorizer, text)
            check_contributions(vectorizer, text, reference=np.linspace(-1, 1, width))


def test_signed_nb_weights_give_one_block_per_class_beyond_two():
    texts = ["good fun", "great fun", "bad plot", "awful plot", "okay film", "fine film"] * 5
    labels = np.array(["pos", "pos", "neg", "neg", "mid", "mid"] * 5)
    wv = WordVectors(["good", "bad", "okay", "fun"], np.eye(4, dtype=np.float32))
    vectorizer = MeanEmbeddingVectorizer(word_vectors=wv, weighting="nbs+uniform").fit(texts, labels)
    assert vectorizer.word_weights_.shape == (3 + 1, 4)  # one signed block per class, then the plain mean
    features = vectorizer.transform(["good fun"])
    assert features.shape == (1, 4 * 4)
    # the "pos" block points towards good/fun; the "neg" block away from them
    pos_block, neg_block = features[0, 8:12], features[0, 0:4]
    assert pos_block[0] > 0 > neg_block[0]
