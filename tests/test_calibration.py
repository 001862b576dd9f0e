"""Issue 11: ECE and Brier score, the reliability diagram, length-independent features, word2vec and --vectors."""

import gzip
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from sentiment.calibration import brier_score, expected_calibration_error, reliability_bins
from sentiment.cli import app
from sentiment.data.corpus import read_corpus
from sentiment.data.reviews import load_reviews
from sentiment.embeddings.formats import detect_format, load_pretrained, read_vectors
from sentiment.embeddings.vectors import WordVectors
from sentiment.errors import ModelError
from sentiment.evaluate import classification_metrics
from sentiment.features.contributions import check_contributions
from sentiment.features.mean_embeddings import MeanEmbeddingVectorizer
from sentiment.model import SentimentModel
from sentiment.selection import choose_prior_tokens, dev_split, one_sentence_each
from sentiment.train import train

runner = CliRunner()
CLASSES = np.array(["negative", "positive"])


# ------------------------------------------------------------------ ECE and Brier


def test_ece_matches_a_hand_computed_example():
    # Confidences 0.95, 0.95 (bin 14: (0.933, 1]), 0.6, 0.6, 0.6 (bin 8: (0.533, 0.6]) and 0.8 (bin 11: (0.733, 0.8]).
    truth = np.array(["positive", "positive", "negative", "positive", "positive", "negative"])
    proba = np.array([[0.05, 0.95], [0.05, 0.95], [0.4, 0.6], [0.4, 0.6], [0.6, 0.4], [0.2, 0.8]])
    # bin 14: accuracy 1, confidence 0.95 -> 2/6 * 0.05; bin 8: predicted pos, pos, neg; right: no, yes, no
    # -> accuracy 1/3, confidence 0.6 -> 3/6 * 0.2667; bin 11: wrong, confidence 0.8 -> 1/6 * 0.8.
    expected = 2 / 6 * 0.05 + 3 / 6 * (0.6 - 1 / 3) + 1 / 6 * 0.8
    assert expected_calibration_error(truth, proba, CLASSES) == pytest.approx(expected)
    bins = reliability_bins(truth, proba, CLASSES)
    assert bins["count"][14] == 2 and bins["count"][8] == 3 and bins["count"][11] == 1 and sum(bins["count"]) == 6
    # Brier on the positive class: (0.05^2 * 2 + 0.4^2 + 0.6^2 + 0.6^2 + 0.8^2) / 6
    assert brier_score(truth, proba, CLASSES) == pytest.approx((2 * 0.0025 + 0.16 + 0.36 + 0.36 + 0.64) / 6)


def test_a_perfectly_calibrated_model_has_ece_near_zero():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200_000)
    truth = np.where(rng.uniform(0, 1, p.size) < p, "positive", "negative")  # outcome drawn with probability p
    proba = np.column_stack([1 - p, p])
    assert expected_calibration_error(truth, proba, CLASSES) < 0.01
    overconfident = np.column_stack([1 - (p > 0.5), p > 0.5]).astype(float)  # same ranking, always sure
    assert expected_calibration_error(truth, overconfident, CLASSES) > 0.2


def test_metrics_carry_ece_brier_and_the_reliability_bins():
    m = classification_metrics(np.array(["a", "b"]), np.array([[0.9, 0.1], [0.4, 0.6]]), np.array(["a", "b"]))
    assert m["ece"] == pytest.approx(0.5 * 0.1 + 0.5 * 0.4) and m["ece_bins"] == 15
    assert m["brier"] == pytest.approx((0.1**2 + 0.4**2) / 2)
    assert len(m["reliability"]["count"]) == 15


# ------------------------------------------------------------------ length-independent features


def test_normalize_makes_each_block_unit_length_and_survives_save_and_load(tmp_path, yelp):
    wv = WordVectors(["good", "bad", "food"], np.array([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]]))
    vectorizer = MeanEmbeddingVectorizer(word_vectors=wv, weighting="uniform+idf", normalize=True).fit(
        ["good food", "bad food", "zzz"]
    )
    features = vectorizer.transform(["good good food", "bad", "zzz"])
    np.testing.assert_allclose(np.linalg.norm(features[:2, :2], axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(features[:2, 2:], axis=1), 1, rtol=1e-6)
    assert not features[2].any()  # no known word: zeros, not NaN
    result = train(yelp, features="embeddings", word2vec={"vector_size": 10, "min_count": 2, "epochs": 1},
                   normalize=True, seed=0)  # fmt: skip
    result.model.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "meta.json").read_text())["pipelines"]["embeddings"]["normalize"] is True
    loaded = SentimentModel.load(tmp_path / "m")
    assert loaded.pipelines["embeddings"][0].normalize is True
    # The lean scorer a loaded model uses agrees with the pipelines to float rounding.
    np.testing.assert_allclose(
        loaded.predict_proba(yelp.texts[:50]), result.model.predict_proba(yelp.texts[:50]), rtol=0, atol=1e-6
    )


def test_prior_tokens_pull_a_review_towards_the_average_by_n_over_n_plus_k():
    wv = WordVectors(["good", "bad", "food"], np.array([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]], dtype=np.float32))
    corpus = ["good food", "bad food", "good good good bad"]
    plain = MeanEmbeddingVectorizer(word_vectors=wv).fit(corpus)
    pulled = MeanEmbeddingVectorizer(word_vectors=wv, prior_tokens=2.0).fit(corpus)
    center = plain.transform(corpus).mean(axis=0)  # the average training review
    np.testing.assert_allclose(pulled.center_, center, rtol=1e-6)
    texts = ["good", "good good bad food", "zzz"]  # 1 and 4 known words, and none
    expected = center + np.array([1 / 3, 4 / 6, 0.0])[:, None] * (plain.transform(texts) - center)
    np.testing.assert_allclose(pulled.transform(texts), expected, rtol=1e-6)
    assert pulled.set_params(prior_tokens=0.0).transform(texts).tolist() == plain.transform(texts).tolist()
    for text in ["good", "good good bad food", "zzz", "bad bad"]:  # explanations still add up to the features
        check_contributions(pulled.set_params(prior_tokens=2.0), text)
        check_contributions(pulled, text, reference=center + 1)


def test_prior_tokens_are_chosen_on_sentences_of_dev_reviews_and_survive_save_and_load(tmp_path, yelp):
    assert one_sentence_each(["One two three. Four five six!", "Too short."], seed=1)[1] == "Too short."
    result = train(yelp, features="embeddings", word2vec={"vector_size": 10, "min_count": 2, "epochs": 1}, seed=0)
    selection = result.model.meta["selection"]["prior_tokens"]
    scores = selection["scores"]
    assert set(scores) == {"0.0", "5.0", "10.0", "20.0", "40.0", "80.0", "160.0"}
    eligible = {k: v for k, v in scores.items() if v["dev_accuracy"] >= scores["0.0"]["dev_accuracy"] - 0.005}
    assert str(selection["embeddings"]) == min(eligible, key=lambda k: eligible[k]["sentence_log_loss"])
    # Called directly: it fits on the fit rows and scores the dev rows of the split it is given, nothing else.
    split = dev_split(yelp.labels[:800], seed=0)
    features = MeanEmbeddingVectorizer(word_vectors=result.model.pipelines["embeddings"][0].wv_)
    head = result.model.pipelines["embeddings"][1:]
    best, dev_proba, _ = choose_prior_tokens(features, head, yelp.texts[:800], yelp.labels[:800], split, seed=0)
    assert dev_proba.shape == (len(split[1]), 2) and str(best) in scores

    fixed = train(yelp, features="embeddings", word2vec={"vector_size": 10, "min_count": 2, "epochs": 1}, seed=0,
                  prior_tokens=20.0)  # fmt: skip
    assert "prior_tokens" not in fixed.model.meta["selection"]
    fixed.model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["pipelines"]["embeddings"]["prior_tokens"] == 20.0
    loaded = SentimentModel.load(tmp_path / "m")
    expected = fixed.model.predict_proba(yelp.texts[:50])
    np.testing.assert_array_equal(loaded.pipelines["embeddings"].predict_proba(yelp.texts[:50]), expected)  # rebuilt
    np.testing.assert_allclose(loaded.predict_proba(yelp.texts[:50]), expected, rtol=0, atol=1e-6)  # lean scorer
    with pytest.raises(Exception, match="prior_tokens"):
        train(yelp, features="embeddings", prior_tokens=-1.0)


# ------------------------------------------------------------------ vector formats


@pytest.fixture
def small_wv():
    rng = np.random.default_rng(1)
    return WordVectors(["good", "bad", "film", "café"], rng.normal(size=(4, 5)).astype(np.float32))


def _glove(path, wv, header=False):
    lines = [f"{len(wv)} {wv.vector_size}"] if header else []
    lines += [f"{w} " + " ".join(f"{v:.6f}" for v in row) for w, row in zip(wv.index_to_key, wv.vectors, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_each_vector_format_is_detected_and_read(tmp_path, small_wv):
    small_wv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    small_wv.save_word2vec_format(tmp_path / "v.txt", binary=False)
    _glove(tmp_path / "glove.6B.5d.txt", small_wv)
    _glove(tmp_path / "wiki.vec", small_wv, header=True)
    expected = {"v.bin": "word2vec-binary", "v.txt": "word2vec-text", "glove.6B.5d.txt": "glove",
                "wiki.vec": "fasttext-vec"}  # fmt: skip
    for name, kind in expected.items():
        wv, detected = read_vectors(tmp_path / name)
        assert detected == kind == detect_format(tmp_path / name), name
        assert wv.index_to_key == small_wv.index_to_key
        np.testing.assert_allclose(wv.vectors, small_wv.vectors, atol=1e-5)


def _one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_wrong_truncated_or_lying_files_are_refused_with_one_line(tmp_path, small_wv):
    import pickle

    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"good": [1.0, 2.0]}))
    (tmp_path / "data.csv").write_text("text,label\ngreat film,1\n", encoding="utf-8")
    (tmp_path / "v.gz").write_bytes(gzip.compress(b"2 2\na 1 2\nb 3 4\n"))
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    for name in ("model.pkl", "data.csv", "v.gz", "empty.txt", "missing.bin"):
        with pytest.raises(ModelError) as error:
            read_vectors(tmp_path / name)
        assert name in _one_line(error)
    small_wv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[: len(data) - 10])
    with pytest.raises(ModelError, match="ends inside word 4") as error:
        read_vectors(tmp_path / "cut.bin")
    _one_line(error)
    (tmp_path / "lying.bin").write_bytes(b"900000000 300\n" + data.split(b"\n", 1)[1])
    with pytest.raises(ModelError, match="more than a") as error:
        read_vectors(tmp_path / "lying.bin")
    _glove(tmp_path / "ragged.txt", small_wv)
    with open(tmp_path / "ragged.txt", "a", encoding="utf-8") as out:
        out.write("extra 1.0 2.0\n")
    with pytest.raises(ModelError, match="line 5 has 2 values, expected 5"):
        read_vectors(tmp_path / "ragged.txt")
    (tmp_path / "nan.txt").write_text("a 1.0 nan\nb 1.0 2.0\n", encoding="utf-8")
    with pytest.raises(ModelError, match="not finite"):
        read_vectors(tmp_path / "nan.txt")


def test_a_model_trained_with_pretrained_vectors_saves_and_loads_bit_identically(tmp_path, yelp):
    rng = np.random.default_rng(0)
    words = sorted({w for t in yelp.texts[:400] for w in t.lower().split()} | {"great", "bad"})
    wv = WordVectors(words, rng.normal(size=(len(words), 8)))
    _glove(tmp_path / "glove.txt", wv)
    pretrained = load_pretrained(tmp_path / "glove.txt")
    result = train(yelp, features="both", vectors=pretrained, seed=0)
    assert result.model.word_vectors is pretrained.wv
    result.model.save(tmp_path / "m")
    loaded = SentimentModel.load(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["parameters"]["pretrained_vectors"]["format"] == "GloVe text (no header)"
    assert "word2vec" not in meta  # no SGNS was trained
    for kind in ("embeddings", "onehot"):
        expected = result.model.predict_proba(yelp.texts, kind=kind)
        np.testing.assert_array_equal(loaded.pipelines[kind].predict_proba(yelp.texts), expected)  # rebuilt exactly
        np.testing.assert_allclose(loaded.predict_proba(yelp.texts, kind=kind), expected, rtol=0, atol=1e-6)
    assert loaded.word_vectors.index_to_key == pretrained.wv.index_to_key


# ------------------------------------------------------------------ corpora and the word2vec command


def test_corpus_files_tables_and_plain_text(tmp_path, shared_data):
    (tmp_path / "plain.txt").write_text("a first, plain line\n\nlabel\ttext in a line with a tab\n", encoding="utf-8")
    texts, notes = read_corpus(tmp_path / "plain.txt")
    assert texts == ["a first, plain line", "label\ttext in a line with a tab"] and "plain text" in notes[-1]
    (tmp_path / "plain.txt.gz").write_bytes(gzip.compress((tmp_path / "plain.txt").read_bytes()))
    assert read_corpus(tmp_path / "plain.txt.gz")[0] == texts
    uci, _ = read_corpus(shared_data / "uci" / "yelp_labelled.txt")  # headerless text<TAB>label: no labels
    assert len(uci) == 1000 and not uci[0].endswith("1") and uci[0].startswith("Wow")
    (tmp_path / "t.csv").write_text("id,review\n1,great film\n2,\n", encoding="utf-8")
    assert read_corpus(tmp_path / "t.csv")[0] == ["great film"]


def test_word2vec_command_writes_gensim_readable_vectors_and_refuses_to_overwrite(tmp_path, shared_data):
    from gensim.models import KeyedVectors

    corpus = shared_data / "uci" / "yelp_labelled.txt"
    out = tmp_path / "v.bin"
    args = ["word2vec", str(corpus), str(shared_data / "uci" / "amazon_cells_labelled.txt"), "-o", str(out),
            "--vector-size", "12", "--epochs", "1", "--min-count", "3", "--quiet", "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["texts"] == 2000 and summary["vector_size"] == 12
    kv = KeyedVectors.load_word2vec_format(str(out), binary=True)
    ours, _ = read_vectors(out)
    assert len(kv) == summary["vocabulary_size"] == len(ours)
    np.testing.assert_array_equal(kv["good"], ours["good"])
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "already exists" in again.stderr
    text = runner.invoke(app, [*args[:-2], "--format", "text", "--overwrite", "--quiet"])
    assert text.exit_code == 0, text.output
    assert KeyedVectors.load_word2vec_format(str(out), binary=False).vector_size == 12
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_train_with_vectors_from_the_command_line(tmp_path, shared_data):
    data = shared_data / "uci" / "yelp_labelled.txt"
    (tmp_path / "bad.vec").write_text("this is not a vectors file\n", encoding="utf-8")
    bad = tmp_path / "bad.vec"
    refused = runner.invoke(app, ["train", str(data), "-o", str(tmp_path / "m"), "--vectors", str(bad)])
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1 and "not a word-vector file" in refused.stderr
    vectors = tmp_path / "v.txt"
    assert runner.invoke(app, ["word2vec", str(data), "-o", str(vectors), "--format", "text", "--vector-size", "8",
                               "--epochs", "1", "--min-count", "2", "-q"]).exit_code == 0  # fmt: skip
    result = runner.invoke(app, ["train", str(data), "-o", str(tmp_path / "m"), "--vectors", str(vectors),
                                 "--quiet", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]
    assert 0 <= metrics["embeddings"]["ece"] <= 1 and 0 <= metrics["onehot"]["brier"] <= 1


@pytest.fixture(scope="module")
def yelp(shared_data):
    return load_reviews(shared_data / "uci" / "yelp_labelled.txt")


# ------------------------------------------------------------------ the calibration step


def test_sigmoid_calibration_fixes_overconfidence_and_never_sees_held_out_rows(tmp_path, yelp):
    from sentiment.calibration import SigmoidCalibrator

    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 20_000)
    truth = np.where(rng.uniform(0, 1, p.size) < p, "positive", "negative")
    logit = np.log(p / (1 - p)) * 3  # three times too sure
    sure = 1 / (1 + np.exp(-logit))
    proba = np.column_stack([1 - sure, sure])
    calibrator = SigmoidCalibrator().fit(proba, truth, CLASSES)
    assert calibrator.params[0] == pytest.approx(1 / 3, abs=0.03)
    assert expected_calibration_error(truth, calibrator.apply(proba), CLASSES) < 0.02

    # Held-out labels cannot move the calibration: flip every held-out label, the fitted parameters stay the same.
    train_part, test_part = yelp.rows(np.arange(0, 800)), yelp.rows(np.arange(800, 1000))
    flipped = test_part.rows(np.arange(len(test_part)))
    flipped.labels = np.where(test_part.labels == "positive", "negative", "positive")
    fits = [train(train_part, test=held_out, features="onehot", calibration="sigmoid", seed=0)
            for held_out in (test_part, flipped)]  # fmt: skip
    first, second = (f.model.calibrators["onehot"].params for f in fits)
    np.testing.assert_array_equal(first, second)
    assert fits[0].model.meta["selection"]["dev_rows"] == 120  # 15% of the 800 training rows
    fits[0].model.save(tmp_path / "m")
    loaded = SentimentModel.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(yelp.texts), fits[0].model.predict_proba(yelp.texts), atol=1e-6)
    assert not np.array_equal(loaded.predict_proba(yelp.texts), loaded.pipelines["onehot"].predict_proba(yelp.texts))


def test_compare_report_gives_ece_brier_and_a_reliability_diagram(tmp_path, shared_data):
    data = shared_data / "uci" / "yelp_labelled.txt"
    vectors = tmp_path / "v.bin"
    assert runner.invoke(app, ["word2vec", str(data), "-o", str(vectors), "--vector-size", "8", "--epochs", "1",
                               "--min-count", "2", "-q"]).exit_code == 0  # fmt: skip
    report = tmp_path / "report"
    result = runner.invoke(app, ["compare", str(data), "--vectors", str(vectors), "--repeats", "1", "--quiet",
                                 "--report", str(report)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ECE (15 bins)" in (report / "report.md").read_text() and "Brier" in result.stdout
    assert (report / "reliability.png").stat().st_size > 10_000
    runs = json.loads((report / "results.json").read_text())["runs"]
    assert all(0 <= run["ece"] <= 1 and len(run["reliability"]["count"]) == 15 for run in runs)
