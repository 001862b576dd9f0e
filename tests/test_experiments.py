"""compare and sweep on a small real dataset: files, structure, ranges, real spread, resume."""

import json

import pytest
from typer.testing import CliRunner

from sentiment.cli import app
from sentiment.data.reviews import load_reviews
from sentiment.experiments.sweep import parse_grid, read_runs, sweep

runner = CliRunner()
SMALL = ["--vector-size", "20", "--min-count", "2", "--epochs", "2", "--quiet"]


def test_compare_writes_report_with_learning_curves_and_real_spread(shared_data, tmp_path):
    data = shared_data / "uci" / "yelp_labelled.txt"
    report = tmp_path / "report"
    args = ["compare", str(data), "--features", "embeddings,onehot,tfidf", "--train-sizes", "0.5,1",
            "--repeats", "2", "--report", str(report), "--json", *SMALL]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert {(row["train_size"], row["features"]) for row in summary} == {
        (size, kind) for size in (0.5, 1.0) for kind in ("embeddings", "onehot", "tfidf")
    }
    for row in summary:
        assert row["runs"] == 2
        for metric in ("accuracy", "macro_f1", "roc_auc", "rare_word_accuracy"):
            assert 0 <= row[f"{metric}_mean"] <= 1
        assert row["fit_seconds_mean"] > 0 and row["reviews_per_second_mean"] > 0 and row["model_bytes"] > 0
        assert row["accuracy_std"] > 0  # different seeds and splits give different runs
    assert {p.name for p in report.iterdir()} >= {
        "report.md", "results.json", "summary.csv", "learning_curves.png", "roc_curves.png", "confusion_matrices.png",
    }  # fmt: skip
    runs = json.loads((report / "results.json").read_text())["runs"]
    assert len(runs) == 2 * 2 * 3
    assert "Embeddings vs one-hot" in (report / "report.md").read_text()


def test_sweep_records_every_configuration_and_resume_skips_finished_ones(shared_data, tmp_path):
    reviews = load_reviews(shared_data / "uci" / "amazon_cells_labelled.txt")
    results = tmp_path / "sweep" / "results.jsonl"
    base = {"vector_size": 16, "min_count": 2, "epochs": 1}
    runs = sweep(reviews, {"negative": [1, 5]}, results, repeats=2, base_params=base)
    assert [(r["config"]["negative"], r["repeat"]) for r in runs] == [(1, 0), (1, 1), (5, 0), (5, 1)]
    assert runs[0]["final_loss"] != runs[1]["final_loss"]  # repeats are really different runs
    assert all(0 <= r["accuracy"] <= 1 and r["sgns_seconds"] > 0 and r["words_per_second"] > 0 for r in runs)
    # more noise words per pair give a larger loss per pair (each noise term adds to it)
    assert min(r["final_loss"] for r in runs[2:]) > max(r["final_loss"] for r in runs[:2])

    # Simulate an interrupted sweep: only the first two runs made it to disk.
    lines = results.read_text().splitlines()
    results.write_text("\n".join(lines[:2]) + "\n" + lines[2][:20])  # a torn last line, as after a crash
    resumed = sweep(reviews, {"negative": [1, 5]}, results, repeats=2, base_params=base, resume=True)
    assert [r["seed"] for r in resumed] == [r["seed"] for r in runs]
    assert resumed[:2] == runs[:2]  # the finished runs were kept, not redone
    assert len(read_runs(results)) == 4


def test_sweep_cli_report_and_refusal_to_overwrite(shared_data, tmp_path):
    data = shared_data / "uci" / "imdb_labelled.txt"
    report = tmp_path / "neg"
    args = ["sweep", str(data), "--param", "negative=1,3", "--repeats", "2", "--report", str(report), *SMALL]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert {"report.md", "results.jsonl", "results.csv", "summary.csv", "accuracy_vs_negative.png",
            "sgns_seconds_vs_negative.png"} <= {p.name for p in report.iterdir()}  # fmt: skip
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "--resume" in again.stderr
    resumed = runner.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0


def test_parse_grid_rejects_unknown_parameters_and_bad_values():
    from sentiment.errors import TrainingError

    assert parse_grid(["window=2,5", "negative=5"]) == {"window": [2, 5], "negative": [5]}
    with pytest.raises(TrainingError, match="not a Word2Vec parameter"):
        parse_grid(["colour=red"])
    with pytest.raises(TrainingError, match="ints"):
        parse_grid(["negative=a,b"])
