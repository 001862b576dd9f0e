"""The command line, end to end on a small real dataset, through typer's CliRunner."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from sentiment.cli import app

runner = CliRunner()
FAST = ["--vector-size", "20", "--min-count", "2", "--epochs", "3", "--quiet"]


@pytest.fixture(scope="module")
def model_dir(shared_data, tmp_path_factory):
    target = tmp_path_factory.mktemp("models") / "yelp"
    result = runner.invoke(app, ["train", str(shared_data / "uci" / "yelp_labelled.txt"), "-o", str(target), *FAST])
    assert result.exit_code == 0, result.output
    assert "one-hot baseline" in result.stdout and "SGNS mean embeddings" in result.stdout
    return target


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("train", "evaluate", "predict", "similar"):
        assert command in result.stdout


def test_train_json_reports_both_pipelines(shared_data, tmp_path):
    data = shared_data / "uci" / "amazon_cells_labelled.txt"
    result = runner.invoke(app, ["train", str(data), "-o", str(tmp_path / "m"), "--json", *FAST])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["metrics"]) == {"embeddings", "onehot"}
    for metrics in report["metrics"].values():
        assert 0.4 < metrics["accuracy"] <= 1 and metrics["n"] == 200


def test_train_doc2vec_settings_reach_the_model(shared_data, tmp_path):
    data = str(shared_data / "uci" / "amazon_cells_labelled.txt")
    args = ["train", data, "--features", "doc2vec", "--doc2vec-ngrams", "2", "--doc2vec-epochs", "2", "--json", *FAST]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    settings = json.loads((tmp_path / "m" / "meta.json").read_text())["pipelines"]["doc2vec"]
    assert (settings["ngrams"], settings["epochs"]) == (2, 2)
    refused = runner.invoke(app, ["train", data, "--doc2vec-ngrams", "2", "-o", str(tmp_path / "n"), *FAST])
    assert refused.exit_code == 1 and "doc2vec settings apply to document vectors" in refused.output
    assert not (tmp_path / "n").exists()


def test_compare_doc2vec_settings_reach_the_document_vectors(shared_data, tmp_path, monkeypatch):
    import sentiment.experiments.compare as compare_module

    built = []

    class Recorded(compare_module.Doc2Vec):
        def fit(self, *args, **kwargs):
            built.append(self.get_params())
            return super().fit(*args, **kwargs)

    monkeypatch.setattr(compare_module, "Doc2Vec", Recorded)
    data = str(shared_data / "uci" / "amazon_cells_labelled.txt")
    args = ["compare", data, "--features", "doc2vec,onehot", "--repeats", "1", "--json", "--quiet"]
    result = runner.invoke(app, [*args, "--doc2vec-ngrams", "2", "--doc2vec-epochs", "2", "--vector-size", "10"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["settings"]["doc2vec"] == {"ngrams": 2, "epochs": 2}
    assert [(p["ngrams"], p["epochs"], p["seed"]) for p in built] == [(2, 2, 0)]  # what was trained
    assert {row["features"] for row in report["summary"]} == {"doc2vec", "onehot"}
    refused = runner.invoke(app, ["compare", data, "--features", "onehot", "--doc2vec-epochs", "2", "--quiet"])
    assert refused.exit_code == 1 and "doc2vec settings apply to document vectors" in refused.output


def test_evaluate_on_a_file_the_model_never_saw(model_dir, shared_data):
    other = shared_data / "uci" / "imdb_labelled.txt"
    result = runner.invoke(app, ["evaluate", str(model_dir), str(other), "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["embeddings"]["n"] == 1000
    assert sum(map(sum, metrics["onehot"]["confusion_matrix"])) == 1000
    table = runner.invoke(app, ["evaluate", str(model_dir), str(other), "--quiet"])
    assert "confusion matrix" in table.stdout


def test_predict_texts_and_a_file(model_dir, tmp_path):
    result = runner.invoke(app, ["predict", str(model_dir), "great food, loved it", "--json"])
    assert result.exit_code == 0, result.output
    (prediction,) = json.loads(result.stdout)["predictions"]
    assert prediction["label"] in ("positive", "negative") and 0.5 <= prediction["probability"] <= 1

    source = tmp_path / "in.csv"
    pd.DataFrame({"id": [1, 2, 3], "text": ["tasty and fresh", "", "rude staff, cold food"]}).to_csv(
        source, index=False
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["predict", str(model_dir), "--input", str(source), "--output", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, keep_default_na=False)
    assert written["id"].tolist() == [1, 2, 3]
    assert written["prediction_note"].tolist() == ["", "empty text", ""]
    assert written.loc[1, "predicted_label"] == "" and written.loc[0, "predicted_label"] in ("positive", "negative")


def test_similar_words(model_dir):
    result = runner.invoke(app, ["similar", str(model_dir), "food", "--topn", "3", "--json"])
    assert result.exit_code == 0, result.output
    neighbours = json.loads(result.stdout)["neighbours"]
    assert len(neighbours) == 3 and all(-1 <= n["similarity"] <= 1 for n in neighbours)


@pytest.mark.parametrize("args, message", [
    (["train", "does-not-exist.csv"], "no such file"),
    (["evaluate", "no-model-here", "x.csv"], "no model directory"),
    (["similar", "no-model-here", "good"], "no model directory"),
])  # fmt: skip
def test_user_errors_are_one_line_and_exit_1(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_word_in_similar_is_a_clear_error(model_dir):
    result = runner.invoke(app, ["similar", str(model_dir), "qwertyuiop"])
    assert result.exit_code == 1 and "not in the model's vocabulary" in result.stderr


def test_usage_errors_stay_exit_2(model_dir):
    assert runner.invoke(app, ["predict", str(model_dir)]).exit_code == 2
    assert runner.invoke(app, ["train"]).exit_code == 2


def test_validate_compares_with_gensim_side_by_side(shared_data):
    uci = shared_data / "uci"
    args = ["validate", str(uci / "yelp_labelled.txt"), "--labelled", str(uci / "amazon_cells_labelled.txt")]
    result = runner.invoke(app, [*args, "--min-count", "2", "--epochs", "2", "--vector-size", "20", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    ours, gensim = report["results"]["ours"], report["results"]["gensim"]
    assert ours["vocabulary"] == gensim["vocabulary"] > 500  # identical tokens, identical vocabulary
    for side in (ours, gensim):
        assert side["seconds"] > 0 and side["words_per_second"] > 0 and side["peak_memory_mib"] >= 0
        assert 0 < side["sgns_loss"] < 10 and 0.4 < side["downstream_accuracy"] <= 1
    assert 0 <= ours["neighbour_overlap_at_10"] <= 1
