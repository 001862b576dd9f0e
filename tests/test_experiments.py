"""compare and sweep on a small real dataset: files, structure, ranges, real spread, resume."""

import json

import pytest
from typer.testing import CliRunner

from sentiment.cli import app
from sentiment.data.reviews import load_reviews
from sentiment.embeddings.optimizers import OPTIMIZERS
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


def test_parse_grid_takes_optimizer_names_and_refuses_unknown_ones_in_one_line():
    from sentiment.errors import TrainingError

    assert parse_grid(["optimizer=sgd, adam", "alpha=0.01,0.03"]) == {
        "optimizer": ["sgd", "adam"],
        "alpha": [0.01, 0.03],
    }
    with pytest.raises(TrainingError, match=r"optimizer must be one of sgd, adagrad, adam \(got 'rmsprop'\)"):
        parse_grid(["optimizer=sgd,rmsprop"])
    with pytest.raises(TrainingError, match=r"alpha must be in \(0, 10\]"):
        parse_grid(["alpha=0.01,-1"])  # refused before the first run, not after the first value


def test_sweep_over_optimizer_names_plots_them_as_categories_and_as_lines(shared_data, tmp_path):
    data = str(shared_data / "uci" / "amazon_cells_labelled.txt")
    only_names = tmp_path / "names"
    args = ["sweep", data, "--param", "optimizer=adam,sgd", "--repeats", "1", "--workers", "1", "--json", *SMALL]
    result = runner.invoke(app, [*args, "--report", str(only_names)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert sorted(row["optimizer"] for row in summary) == ["adam", "sgd"]
    assert {"accuracy_vs_optimizer.png", "loss_per_epoch.png"} <= {p.name for p in only_names.iterdir()}
    assert "| adam |" in (only_names / "report.md").read_text()
    runs = read_runs(only_names / "results.jsonl")
    own = [OPTIMIZERS["adam"].DEFAULT_ALPHA, OPTIMIZERS["sgd"].DEFAULT_ALPHA]
    assert [r["alpha_used"] for r in runs] == own  # each optimizer's own default learning rate
    assert all(len(r["loss_per_epoch"]) == 2 for r in runs)

    mixed = tmp_path / "mixed"
    result = runner.invoke(app, [*args, "--param", "alpha=0.01,0.05", "--report", str(mixed)])
    assert result.exit_code == 0, result.output
    assert "accuracy_vs_alpha.png" in {p.name for p in mixed.iterdir()}  # alpha on x, one line per optimizer
    assert len(json.loads(result.stdout)["summary"]) == 4


def test_sweep_fingerprint_of_unset_learning_rates_matches_runs_made_with_the_old_fixed_defaults(shared_data):
    from sentiment.experiments.sweep import fingerprint

    reviews = load_reviews(shared_data / "uci" / "amazon_cells_labelled.txt")
    kwargs = dict(test_size=0.2, C=1.0, intrinsic=False, seed=0)
    old = fingerprint(reviews, None, {"negative": [1]}, base_params={"alpha": 0.025, "min_alpha": 0.0001}, **kwargs)
    new = fingerprint(reviews, None, {"negative": [1]}, base_params=None, **kwargs)
    assert new == old and new["word2vec"]["alpha"] == 0.025
    over_alpha = fingerprint(reviews, None, {"alpha": [0.01, 0.05]}, base_params=None, **kwargs)
    assert over_alpha["word2vec"]["min_alpha"] == 0.0001  # SGD's default for every alpha of the grid
    over_optimizer = fingerprint(reviews, None, {"optimizer": ["sgd", "adam"]}, base_params=None, **kwargs)
    assert over_optimizer["word2vec"]["alpha"] is None  # each optimizer's own: what stays fixed is "unset"
