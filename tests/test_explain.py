"""Explanations add up: token contributions + constant = the classifier's logit, for every pipeline and class count."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer
from typer.testing import CliRunner

from sentiment import SentimentModel, load_reviews, train
from sentiment.cli import app
from sentiment.errors import ModelError
from sentiment.explain import explain_pipeline
from sentiment.features import NBNgramVectorizer, OneHotVectorizer, check_contributions, one_hot_vectorizer
from sentiment.tokenize import token_spans, tokenize

runner = CliRunner()
TEXTS = [
    "The food was great and the staff were friendly, GREAT!",
    "Cold, bland and <br />overpriced. Never again?",
    "great great great",
    "zzqx unknownword",  # nothing known: the constant alone
    "",
    "   ",
    "Café naïve ÉCLAIR — don’t go",
]


@pytest.fixture(scope="module")
def model(shared_data, tmp_path_factory):
    reviews = load_reviews(shared_data / "uci" / "yelp_labelled.txt")
    result = train(reviews, word2vec={"vector_size": 16, "min_count": 2, "epochs": 2}, seed=0)
    path = tmp_path_factory.mktemp("models") / "yelp"
    result.model.save(path)
    return SentimentModel.load(path)  # a loaded model: pipelines rebuilt from arrays


@pytest.fixture(scope="module")
def uniform_model(shared_data):
    """Plain means (the closed form below is for them; the default weighs words by their NB ratio)."""
    reviews = load_reviews(shared_data / "uci" / "yelp_labelled.txt")
    return train(reviews, word2vec={"vector_size": 16, "min_count": 2, "epochs": 2}, weighting="uniform", seed=0).model


def _total(explanation) -> float:
    return sum(t.contribution for t in explanation.tokens) + explanation.constant


@pytest.mark.parametrize("kind", ["embeddings", "onehot"])
@pytest.mark.parametrize("text", TEXTS)
def test_contributions_add_up_to_the_logit(model, kind, text):
    explanation = model.explain(text, kind)
    logit = model.pipelines[kind].decision_function([text])[0]
    assert explanation.logit == pytest.approx(_total(explanation), abs=1e-9)
    # float32 features in the pipeline, float64 here: equal to float32 precision
    assert explanation.logit == pytest.approx(float(logit), rel=1e-5, abs=1e-5)
    assert [t.token for t in explanation.tokens] == tokenize(text)
    assert explanation.explained_class == "positive" and explanation.opposite_class == "negative"
    proba = model.predict_proba([text], kind)[0]
    assert explanation.label == model.classes_[proba.argmax()]
    assert explanation.probability == pytest.approx(proba.max())


def test_embedding_contributions_are_the_closed_form(uniform_model):
    model = uniform_model
    pipeline = model.pipelines["embeddings"]
    wv, scaler, classifier = pipeline[0].wv_, pipeline[1], pipeline[2]
    coef, intercept = classifier.coef_[0].astype(float), float(classifier.intercept_[0])
    text = "the food was great but the service was slow zzqx"
    explanation = model.explain(text, "embeddings")
    known = [t for t in tokenize(text) if t in wv.key_to_index]
    assert explanation.constant == pytest.approx(intercept)  # relative to an average training review
    for token in explanation.tokens:
        if token.token in wv.key_to_index:
            vector = wv.vectors[wv.key_to_index[token.token]].astype(float)
            assert token.contribution == pytest.approx(coef @ ((vector - scaler.mean_) / scaler.scale_) / len(known))
            assert token.known
        else:
            assert token.contribution == 0 and not token.known
    assert explanation.note is None
    nothing_known = model.explain("zzqx", "embeddings")
    assert nothing_known.constant == pytest.approx(intercept - coef @ (scaler.mean_ / scaler.scale_))
    # without the reference: the plain split of the mean vector, just as exact
    _, rows, constant = pipeline[0].token_contributions(text)
    assert not constant.any()
    assert np.allclose(rows.sum(axis=0), pipeline[0].transform([text])[0], atol=1e-6)


def test_onehot_contributions_are_the_coefficients(model):
    pipeline = model.pipelines["onehot"]
    vocabulary, coef = pipeline[0].vocabulary_, pipeline[-1].coef_[0]
    explanation = model.explain("great food, great staff", "onehot")
    by_token = {}
    for token in explanation.tokens:
        by_token.setdefault(token.token, []).append(token.contribution)
    assert by_token["food"] == [pytest.approx(coef[vocabulary["food"]])]
    # a word present twice: its one column shared by the two occurrences
    assert by_token["great"] == [pytest.approx(coef[vocabulary["great"]] / 2)] * 2
    assert explanation.constant == pytest.approx(pipeline[-1].intercept_[0])


def test_notes_and_places(model):
    assert model.explain("", "onehot").note == "empty text"
    assert model.explain("zzqx qqqz", "embeddings").note == "no known word"
    text = "Terrible <b>SERVICE</b>!"
    explanation = model.explain(text)
    assert [text[t.start : t.end] for t in explanation.tokens] == ["Terrible", "SERVICE", "!"]
    json.dumps(explanation.to_dict())  # plain data


def test_multiclass_explains_the_predicted_class(tmp_path):
    rows = ["text,label"]
    words = {"good": "great lovely superb", "bad": "awful dull broken", "meh": "okay fine average"}
    rng = np.random.default_rng(0)
    for label, vocab in words.items():
        for _ in range(40):
            picked = rng.choice([*vocab.split(), "the", "film", "was"], size=5)
            rows.append(f"{' '.join(picked)},{label}")
    data = tmp_path / "three.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    model = train(load_reviews(data), features="onehot", seed=0).model
    for text in ["great lovely film", "awful dull", "okay the film", "nothing known"]:
        explanation = model.explain(text)
        logits = model.pipelines["onehot"].decision_function([text])[0]
        assert explanation.opposite_class is None
        assert explanation.explained_class == model.classes_[logits.argmax()]
        assert _total(explanation) == pytest.approx(logits.max())
        assert explanation.label == explanation.explained_class  # softmax: the largest logit wins


@pytest.mark.parametrize("text", TEXTS)
def test_transformers_keep_the_contract(model, text):
    embeddings = model.pipelines["embeddings"]
    check_contributions(embeddings[0], text)
    check_contributions(embeddings[0], text, reference=embeddings[1].mean_)
    check_contributions(model.pipelines["onehot"][0], text)
    check_contributions(
        model.pipelines["onehot"][0], text, reference=np.ones(len(model.pipelines["onehot"][0].vocabulary_))
    )


@pytest.mark.parametrize("binary", [True, False])
def test_ngram_bags_keep_the_contract(binary):
    corpus = ["not bad at all", "not good, not good at all", "bad bad movie"]
    vectorizer = one_hot_vectorizer().set_params(ngram_range=(1, 3), binary=binary).fit(corpus)
    assert isinstance(vectorizer, OneHotVectorizer)
    for text in [*corpus, "not bad not bad", "unknown words only"]:
        check_contributions(vectorizer, text)
    # and through a linear pipeline, the explanation is exact
    pipeline = Pipeline([("features", vectorizer), ("classifier", LogisticRegression())]).fit(corpus, [1, 1, 0])
    explanation = explain_pipeline(pipeline, "not bad at all", "ngrams")
    assert _total(explanation) == pytest.approx(pipeline.decision_function(["not bad at all"])[0])


@pytest.mark.parametrize("norm", [None, "l2"])
def test_nb_ngrams_keep_the_contract_with_and_without_unit_rows(norm):
    corpus = ["not bad at all", "not good, not good at all", "bad bad movie", "a good good film"]
    labels = ["pos", "neg", "neg", "pos"]
    vectorizer = NBNgramVectorizer(min_df=1, norm=norm).fit(corpus, labels)
    rows = vectorizer.transform(corpus)
    lengths = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1))).ravel()
    if norm == "l2":
        np.testing.assert_allclose(lengths, 1.0, rtol=1e-6)
    else:
        assert lengths.max() > 1.5  # unscaled: a review's length grows with its n-grams
    for text in [*corpus, "not bad not bad", "unknown words only"]:
        check_contributions(vectorizer, text)
    pipeline = Pipeline([("features", vectorizer), ("classifier", LogisticRegression())]).fit(corpus, labels)
    for text in ["not bad at all", "good film, not bad"]:
        explanation = explain_pipeline(pipeline, text, "nbngrams")
        assert _total(explanation) == pytest.approx(pipeline.decision_function([text])[0])


def test_a_nonlinear_step_is_refused(model):
    steps = [("features", model.pipelines["embeddings"][0]), ("scale", model.pipelines["embeddings"][1]),
             ("norm", Normalizer())]  # fmt: skip
    pipeline = Pipeline([*steps, ("classifier", model.pipelines["embeddings"][-1])])
    with pytest.raises(ModelError, match="not an affine scaler"):
        explain_pipeline(pipeline, "great food")
    with pytest.raises(ModelError, match="no 'tfidf' pipeline"):
        model.explain("great", "tfidf")
    with pytest.raises(TypeError):
        model.explain(["a list"])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aZ İß’'<>/b! ?x\n\u0130\u03a3é")), max_size=40))
def test_token_spans_match_the_tokenizer(text):
    spans = token_spans(text)
    assert [token for token, _, _ in spans] == tokenize(text)
    for _, start, end in spans:
        assert 0 <= start < end <= len(text)
    if len(text.lower()) == len(text):
        # Lower-casing depends on context (a final capital sigma becomes "ς"): compare within the lowered text.
        for token, start, end in spans:
            assert text.lower()[start:end] == token


def test_cli_explain_table_and_json(model, tmp_path):
    path = tmp_path / "m"
    model.save(path)
    result = runner.invoke(app, ["explain", str(path), "great food, rude [bold]staff[/]", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [t["token"] for t in document["tokens"]] == tokenize("great food, rude [bold]staff[/]")
    assert document["logit"] == pytest.approx(sum(t["contribution"] for t in document["tokens"]) + document["constant"])
    table = runner.invoke(app, ["explain", str(path), "great food, rude [bold]staff[/]", "--pipeline", "onehot"])
    assert table.exit_code == 0, table.output
    assert "by the onehot pipeline" in table.stdout and "logit (sum)" in table.stdout and "rude" in table.stdout
    missing = runner.invoke(app, ["explain", str(tmp_path / "nothing"), "text"])
    assert missing.exit_code == 1 and missing.stderr.startswith("error: ")
