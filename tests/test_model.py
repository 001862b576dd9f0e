"""Model directories: exact round trip, no pickle, refusal of damaged files, atomic saves."""

import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sentiment.data.reviews import load_reviews
from sentiment.errors import ModelError
from sentiment.features.mean_embeddings import MeanEmbeddingVectorizer
from sentiment.model import FORMAT_VERSION, SentimentModel
from sentiment.train import train

SMALL_W2V = {"vector_size": 20, "min_count": 2, "epochs": 3}


@pytest.fixture(scope="module")
def yelp(shared_data):
    return load_reviews(shared_data / "uci" / "yelp_labelled.txt")


@pytest.fixture(scope="module")
def trained(yelp):
    return train(yelp, word2vec=SMALL_W2V, seed=0)


def test_save_then_load_gives_identical_probabilities(tmp_path, trained, yelp):
    trained.model.save(tmp_path / "m")
    loaded = SentimentModel.load(tmp_path / "m")
    for kind in ("embeddings", "onehot"):
        expected = trained.model.predict_proba(yelp.texts, kind=kind)
        # The rebuilt pipelines are bit-identical; the lean NumPy scorer that `predict_proba` uses agrees to 1e-6.
        np.testing.assert_array_equal(loaded.pipelines[kind].predict_proba(yelp.texts), expected)
        np.testing.assert_allclose(loaded.predict_proba(yelp.texts, kind=kind), expected, rtol=0, atol=1e-6)
    assert loaded.meta["metrics"]["onehot"]["accuracy"] == trained.metrics["onehot"]["accuracy"]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "README.md", "embeddings.npz", "embeddings_scorer.npz", "meta.json", "onehot.npz", "onehot_vocabulary.json",
        "vectors.bin",
    ]  # fmt: skip


def test_meta_records_versions_data_hash_parameters_and_metrics(tmp_path, trained, yelp):
    trained.model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["data"]["sha256"] == yelp.sha256
    assert meta["data"]["train_rows"] + meta["data"]["held_out_rows"] == len(yelp)
    assert meta["parameters"]["word2vec"]["vector_size"] == 20
    assert set(meta["versions"]) >= {"numpy", "scikit-learn", "sentiment"}
    assert 0.5 < meta["metrics"]["onehot"]["accuracy"] <= 1


def test_unknown_or_newer_format_version_is_refused(tmp_path, trained):
    trained.model.save(tmp_path / "m")
    meta_path = tmp_path / "m" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="newer"):
        SentimentModel.load(tmp_path / "m")


@pytest.mark.parametrize("damage", ["missing_meta", "truncated_npz", "wrong_shape", "pickle_inside", "missing_vectors"])
def test_damaged_model_directories_are_refused(tmp_path, trained, damage):
    directory = tmp_path / "m"
    trained.model.save(directory)
    if damage == "missing_meta":
        (directory / "meta.json").unlink()
    elif damage == "truncated_npz":
        data = (directory / "onehot.npz").read_bytes()
        (directory / "onehot.npz").write_bytes(data[: len(data) // 2])
    elif damage == "wrong_shape":
        with np.load(directory / "embeddings.npz") as archive:
            arrays = dict(archive)
        arrays["coef"] = np.zeros((1, 7))
        np.savez(directory / "embeddings.npz", **arrays)
    elif damage == "pickle_inside":
        with np.load(directory / "onehot.npz") as archive:
            arrays = dict(archive)
        arrays["classes"] = np.array([{"evil": 1}, None], dtype=object)
        np.savez(directory / "onehot.npz", **arrays)
    elif damage == "missing_vectors":
        (directory / "vectors.bin").unlink()
    with pytest.raises(ModelError):
        SentimentModel.load(directory)


def test_a_failed_save_leaves_the_previous_model_whole(tmp_path, trained, monkeypatch, yelp):
    target = tmp_path / "m"
    trained.model.save(target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("sentiment.model.model_card", crash)  # Ctrl-C midway through writing
    with pytest.raises(KeyboardInterrupt):
        trained.model.save(target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary directory left behind
    # and a successful save replaces it
    monkeypatch.undo()
    trained.model.save(target)
    assert SentimentModel.load(target).predict(["great food"]).shape == (1,)


def test_mean_embedding_vectorizer_follows_scikit_learn_rules(yelp):
    vectorizer = MeanEmbeddingVectorizer(**SMALL_W2V)
    assert clone(vectorizer).get_params() == vectorizer.get_params()
    with pytest.raises(NotFittedError):
        vectorizer.transform(["good"])
    with pytest.raises(ValueError, match="string object received"):
        vectorizer.fit("a bare string")
    pipeline = Pipeline([("features", vectorizer), ("classifier", LogisticRegression(max_iter=500))])
    search = GridSearchCV(pipeline, {"features__window": [2, 5]}, cv=2).fit(yelp.texts[:400], yelp.labels[:400])
    assert search.best_params_["features__window"] in (2, 5)
    features = search.best_estimator_[0].transform(["the food was good", "zzzz unknown"])
    assert features.shape == (2, 20) and not features[1].any()
