"""Scoring at scale (issue 13): the lean NumPy scorer against the scikit-learn pipelines for every feature kind,
`sentiment predict` without scikit-learn/pandas, Parquet/CSV/part-file tables, and batch scoring on Dask.

Probabilities are compared to 1e-6 (the lean scorer sums in another order; CSV keeps 6 decimals).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sentiment import SentimentModel, load_reviews, train
from sentiment.cli import app
from sentiment.errors import DataError, SentimentError
from sentiment.outputs import PREDICTIONS_MARKER

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parents[1]
SMALL_W2V = {"vector_size": 20, "min_count": 2, "epochs": 3}
runner = CliRunner()


@pytest.fixture(scope="module")
def yelp(shared_data):
    return load_reviews(shared_data / "uci" / "yelp_labelled.txt")


@pytest.fixture(scope="module")
def stacked_dir(yelp, tmp_path_factory):
    """A stack: embeddings (nbs+uniform), NB n-grams, doc2vec and the one-hot baseline, saved."""
    result = train(yelp, features="stack", word2vec=SMALL_W2V, seed=0, stack=("embeddings", "nbngrams", "doc2vec"))
    path = tmp_path_factory.mktemp("stack") / "model"
    result.model.save(path)
    return result.model, path


@pytest.fixture(scope="module")
def model_dir(yelp, tmp_path_factory):
    """The default model (embeddings + one-hot baseline), saved."""
    path = tmp_path_factory.mktemp("default") / "model"
    train(yelp, word2vec=SMALL_W2V, seed=0).model.save(path)
    return path


def _assert_same(lean, reference):
    np.testing.assert_allclose(lean, reference, rtol=0, atol=1e-6)


# ----------------------------------------------------------------- lean scorer


def test_the_lean_scorer_matches_the_pipelines_for_every_kind_of_a_stack(stacked_dir, yelp):
    trained, path = stacked_dir
    loaded = SentimentModel.load(path)
    assert set(loaded.scorers) == {"embeddings", "nbngrams", "onehot"}  # doc2vec infers with its own code
    texts = [*yelp.texts[:200], "", "zzqx unknownword", "Café naïve ÉCLAIR — don’t go"]
    for kind in loaded.kinds:
        if kind == "stack":
            # The stack takes logs of its parts' probabilities: the pipelines compute those in float32, so a
            # small one (1 - 0.99983 in float32) is off by up to 1e-4 relatively; the lean scorer's are float64.
            np.testing.assert_allclose(loaded.predict_proba(texts), trained.predict_proba(texts), atol=1e-5)
            continue
        _assert_same(loaded.predict_proba(texts, kind), trained.predict_proba(texts, kind))
        _assert_same(loaded.predict_proba(texts, kind), loaded.pipelines[kind].predict_proba(texts))


@pytest.mark.parametrize(
    ("options", "tolerance"),
    [
        ({"pooling": "mean_max", "normalize": True}, 1e-6),
        # SIF weights are tiny, so the standardised features divide float32 means by small scales: the pipeline
        # itself is off by up to 7e-6 in the decision from a float64 recomputation, the lean scorer by 1e-14.
        ({"weighting": "idf+sif+nb", "phrases": 1}, 1e-5),
        ({"weighting": "uniform", "calibration": "sigmoid"}, 1e-6),
        ({"prior_tokens": 20.0}, 1e-6),
        ({"prior_tokens": 20.0, "pooling": "mean_max", "phrases": 1}, 1e-6),
    ],
    ids=["mean_max-normalize", "idf-sif-nb-phrases", "uniform-calibrated", "prior", "prior-mean_max-phrases"],
)
def test_the_lean_scorer_matches_embeddings_pipelines_of_every_shape(options, tolerance, yelp, tmp_path):
    result = train(yelp, features="embeddings", word2vec=SMALL_W2V, seed=0, **options)
    result.model.save(tmp_path / "m")
    loaded = SentimentModel.load(tmp_path / "m")
    assert "embeddings" in loaded.scorers
    texts = [*yelp.texts[:200], "great", "zzqx"]
    np.testing.assert_allclose(loaded.predict_proba(texts), result.model.predict_proba(texts), atol=tolerance)


def test_the_lean_scorer_matches_a_multiclass_model(yelp, tmp_path):
    rows = pd.DataFrame({"text": yelp.texts, "label": [("pos", "neg", "mid")[i % 3] for i in range(len(yelp.texts))]})
    rows.to_csv(tmp_path / "three.csv", index=False)
    result = train(load_reviews(tmp_path / "three.csv"), features="both", word2vec=SMALL_W2V, seed=0, C=1.0)
    result.model.save(tmp_path / "m")
    loaded = SentimentModel.load(tmp_path / "m")
    assert loaded.predict_proba(yelp.texts[:5]).shape == (5, 3)
    for kind in ("embeddings", "onehot"):
        _assert_same(loaded.predict_proba(yelp.texts, kind), result.model.predict_proba(yelp.texts, kind))


def test_the_lean_scorer_reads_a_format_1_model():
    folder = ROOT / "tests" / "data" / "model_v1"
    loaded = SentimentModel.load(folder)
    texts = ["A wonderful, moving film!", "Dull and far too long.", "zzqx"]
    for kind in ("embeddings", "onehot"):
        _assert_same(loaded.predict_proba(texts, kind), loaded.pipelines[kind].predict_proba(texts))


_RUNNER = """
import json, runpy, sys
sys.argv = ["sentiment", *sys.argv[1:]]
try:
    runpy.run_module("sentiment", run_name="__main__")
except SystemExit as exit:
    assert not exit.code, exit.code
heavy = ("sklearn", "pandas", "matplotlib", "scipy", "typer", "pydantic")
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & set(heavy))), file=sys.stderr)
"""


def _imported_by(*args) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _RUNNER, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_predicting_a_few_texts_imports_no_sklearn_pandas_matplotlib_scipy_or_typer(model_dir):
    assert _imported_by("predict", str(model_dir), "Great food, friendly staff") == []
    assert _imported_by("--debug", "predict", str(model_dir), "meh", "--json", "-q") == []
    assert "typer" in _imported_by("predict", str(model_dir), "meh", "--text-column", "x")  # other options: typer


def _run_cli(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sentiment", *args], capture_output=True, text=True, env=env,
                          timeout=120)  # fmt: skip


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "table"])
def test_the_fast_predict_path_prints_what_the_typer_command_prints(model_dir, as_json):
    texts = ["Great food, friendly staff", "", "zzqx", "Café naïve — don’t go"]
    flags = ["--json"] if as_json else []
    fast = _run_cli("predict", str(model_dir), *texts, *flags)
    typer_run = CliRunner().invoke(app, ["predict", str(model_dir), *texts, *flags])
    assert fast.returncode == typer_run.exit_code == 0, fast.stderr
    if as_json:
        assert json.loads(fast.stdout) == json.loads(typer_run.stdout)
    else:
        assert fast.stdout.split() == typer_run.stdout.split()  # the same table (widths follow the terminal)


def test_the_fast_predict_path_reports_a_bad_model_in_one_line(tmp_path):
    done = _run_cli("predict", str(tmp_path / "missing"), "great")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "no model directory" in done.stderr


def test_a_format_4_model_scores_from_its_folded_numbers_and_reads_vectors_only_when_asked(model_dir, tmp_path, yelp):
    loaded = SentimentModel.load(model_dir)
    proba = loaded.predict_proba(yelp.texts)
    spec = loaded._specs["embeddings"]
    assert spec["folded"] is not None and spec["wv"] is None  # scored without reading vectors.bin
    assert loaded.word_vectors is not None and len(loaded.word_vectors) == len(spec["folded"]["words"])
    # The same model without its stored numbers (as format 3 stored it) folds them from the vectors: bit-identical.
    old = tmp_path / "old"
    shutil.copytree(model_dir, old)
    (old / "embeddings_scorer.npz").unlink()
    meta = json.loads((old / "meta.json").read_text())
    del meta["files"]["embeddings_scorer.npz"]
    (old / "meta.json").write_text(json.dumps(meta))
    np.testing.assert_array_equal(SentimentModel.load(old).predict_proba(yelp.texts), proba)
    np.testing.assert_allclose(proba, loaded.pipelines["embeddings"].predict_proba(yelp.texts), rtol=0, atol=1e-6)


@pytest.mark.parametrize("damage", ["word_list", "repeated_word", "per_word_shape", "vectors_missing", "vectors_cut"])
def test_a_damaged_folded_scorer_is_refused_at_load(model_dir, tmp_path, damage):
    broken = tmp_path / "m"
    shutil.copytree(model_dir, broken)
    if damage == "vectors_missing":
        (broken / "vectors.bin").unlink()
    elif damage == "vectors_cut":
        data = (broken / "vectors.bin").read_bytes()
        (broken / "vectors.bin").write_bytes(data[: len(data) // 2])
    else:
        with np.load(broken / "embeddings_scorer.npz") as archive:
            arrays = dict(archive)
        if damage == "word_list":
            arrays["words"] = np.frombuffer(b"one\ntwo", dtype=np.uint8)
        elif damage == "repeated_word":
            words = arrays["words"].tobytes().split(b"\n")
            arrays["words"] = np.frombuffer(b"\n".join([words[1], *words[1:]]), dtype=np.uint8)
        else:
            arrays["per_word"] = arrays["per_word"][:-1]
        np.savez(broken / "embeddings_scorer.npz", **arrays)
        meta = json.loads((broken / "meta.json").read_text())
        meta["files"]["embeddings_scorer.npz"] = {name: {"shape": list(a.shape)} for name, a in arrays.items()}
        (broken / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(SentimentError):
        SentimentModel.load(broken)


def test_a_stack_scores_without_sklearn_except_for_doc2vec(stacked_dir):
    _, path = stacked_dir
    code = f"""
import sys
from sentiment.model import SentimentModel
model = SentimentModel.load({str(path)!r})
model.predict_proba(["great food"], "nbngrams"); model.predict_proba(["great food"], "onehot")
assert "sklearn" not in sys.modules and "pandas" not in sys.modules
model.predict_proba(["great food"])  # the stack: its doc2vec part falls back to the pipeline
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr


# ----------------------------------------------------------------- tables


@pytest.fixture(scope="module")
def reviews_table(shared_data) -> pd.DataFrame:
    table = pd.read_csv(shared_data / "imdb" / "imdb_train.csv.gz", nrows=1200)
    table.loc[3, "text"] = "   "
    table.loc[7, "text"] = "zzqx qqzx"
    return table


def _write_parts(table: pd.DataFrame, folder: Path, n: int = 3, fmt: str = "parquet") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, part in enumerate(np.array_split(np.arange(len(table)), n)):
        path = folder / f"reviews-{i}.{fmt}"
        chunk = table.iloc[part]
        if fmt == "parquet":
            pq.write_table(pa.Table.from_pandas(chunk, preserve_index=False), path, row_group_size=150)
        else:
            chunk.to_csv(path, index=False)
        paths.append(path)
    return paths


def _read(path: Path) -> pd.DataFrame:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.startswith("part-"))
        return pd.concat([_read(p) for p in files], ignore_index=True)
    if path.suffix == ".parquet":
        return pq.read_table(path).replace_schema_metadata(None).to_pandas()
    return pd.read_csv(path, keep_default_na=False, dtype=str)


def _same_predictions(a: pd.DataFrame, b: pd.DataFrame):
    assert len(a) == len(b)
    labels = [a["predicted_label"].fillna("").astype(str).tolist(), b["predicted_label"].fillna("").astype(str)]
    assert labels[0] == labels[1].tolist()
    assert a["prediction_note"].tolist() == b["prediction_note"].tolist()
    p = [pd.to_numeric(frame["predicted_probability"], errors="coerce").to_numpy(float) for frame in (a, b)]
    np.testing.assert_allclose(p[0], p[1], rtol=0, atol=1e-6, equal_nan=True)


def test_csv_parquet_and_part_directories_give_the_same_rows(model_dir, reviews_table, tmp_path):
    reviews_table.to_csv(tmp_path / "all.csv", index=False)
    pq.write_table(pa.Table.from_pandas(reviews_table, preserve_index=False), tmp_path / "all.parquet")
    _write_parts(reviews_table, tmp_path / "parts")
    runs = {
        "csv": ["--input", str(tmp_path / "all.csv"), "--output", str(tmp_path / "out.csv")],
        "parquet": ["--input", str(tmp_path / "all.parquet"), "--output", str(tmp_path / "out.parquet")],
        "directory": ["--input", str(tmp_path / "parts"), "--output", str(tmp_path / "out-dir")],
        "glob": ["--input", str(tmp_path / "parts" / "*.parquet"), "--output", str(tmp_path / "out-glob") + "/"],
    }
    for name, args in runs.items():
        done = runner.invoke(app, ["predict", str(model_dir), *args, "--quiet", "--json"])
        assert done.exit_code == 0, (name, done.output)
        assert json.loads(done.stdout)["rows"] == len(reviews_table)
    single = _read(tmp_path / "out.parquet")
    # Every input row once, in order, its other columns untouched.
    pd.testing.assert_frame_equal(single[reviews_table.columns].reset_index(drop=True), reviews_table.fillna(""),
                                  check_dtype=False)  # fmt: skip
    assert single.loc[3, "prediction_note"] == "empty text" and pd.isna(single.loc[3, "predicted_probability"])
    assert single.loc[7, "prediction_note"] == "no known word"
    for other in ("out.csv", "out-dir", "out-glob"):
        _same_predictions(single, _read(tmp_path / other))
    pd.testing.assert_frame_equal(_read(tmp_path / "out-dir"), single)
    assert sorted(p.name for p in (tmp_path / "out-dir").iterdir()) == [
        PREDICTIONS_MARKER, "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"
    ]  # fmt: skip
    # The library, in one process, gives the same numbers.
    model = SentimentModel.load(model_dir)
    proba = model.predict_proba([t for t in reviews_table["text"] if t.strip()]).max(axis=1)
    np.testing.assert_allclose(single["predicted_probability"].dropna().to_numpy(float), proba, atol=1e-6)


def test_csv_part_directories_stay_csv(model_dir, reviews_table, tmp_path):
    _write_parts(reviews_table, tmp_path / "parts", fmt="csv")
    done = runner.invoke(app, ["predict", str(model_dir), "-i", str(tmp_path / "parts"), "-o", str(tmp_path / "o")])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "o").glob("part-*")) == [f"part-0000{i}.csv" for i in range(3)]
    scored, original = _read(tmp_path / "o" / "part-00001.csv"), _read(tmp_path / "parts" / "reviews-1.csv")
    pd.testing.assert_frame_equal(scored[original.columns], original)  # the input's fields, untouched
    assert list(scored.columns[-3:]) == ["predicted_label", "predicted_probability", "prediction_note"]


def test_an_output_directory_follows_the_rules(model_dir, reviews_table, tmp_path):
    _write_parts(reviews_table.iloc[:100], tmp_path / "parts", n=2)
    args = ["predict", str(model_dir), "-i", str(tmp_path / "parts"), "-o", str(tmp_path / "out")]
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep me")
    done = runner.invoke(app, args)
    assert done.exit_code == 1 and "not sentiment predictions" in done.output
    (tmp_path / "out" / "mine.txt").unlink()
    assert runner.invoke(app, args).exit_code == 0  # an empty directory is fine
    done = runner.invoke(app, args)
    assert done.exit_code == 1 and "--overwrite" in done.output
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0
    assert len(list((tmp_path / "out").glob("part-*"))) == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left behind


def test_an_unreadable_part_is_one_clear_error_and_leaves_no_output(model_dir, reviews_table, tmp_path):
    _write_parts(reviews_table.iloc[:100], tmp_path / "parts", n=2)
    (tmp_path / "parts" / "reviews-9.parquet").write_bytes(b"PAR1 this is not parquet")
    done = runner.invoke(app, ["predict", str(model_dir), "-i", str(tmp_path / "parts"), "-o", str(tmp_path / "out")])
    assert done.exit_code == 1
    assert "reviews-9.parquet" in done.output and "Traceback" not in done.output
    assert len(done.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts"]


# ----------------------------------------------------------------- Dask


class _Interrupting:
    """A Progress whose bars raise KeyboardInterrupt on the first advance (Ctrl-C while partitions finish)."""

    def task(self, *args, **kwargs):
        import contextlib

        class Bar:
            def advance(self, *args, **kwargs):
                raise KeyboardInterrupt

        return contextlib.nullcontext(Bar())


@pytest.fixture(scope="module")
def parts_dir(reviews_table, tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask") / "parts"
    _write_parts(reviews_table, folder, n=4)
    return folder


def test_dask_gives_the_single_process_rows_and_loads_the_model_once(model_dir, parts_dir, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from sentiment.scoring import cluster
    from sentiment.scoring.tables import predict_table

    cluster._LOADED.clear()
    loads = []
    monkeypatch.setattr(cluster.SentimentModel, "load", lambda path, real=SentimentModel.load: loads.append(path)
                        or real(path))  # fmt: skip
    summary = cluster.predict_on_dask(model_dir, parts_dir / "*.parquet", tmp_path / "dask", workers=2,
                                      processes=False)  # fmt: skip
    assert summary["partitions"] == 4 and summary["rows"] == 1200
    # One process (threads): the client's check, then one load for the workers, whatever the partitions.
    assert len(loads) == 2
    predict_table(SentimentModel.load(model_dir), parts_dir, tmp_path / "single")
    pd.testing.assert_frame_equal(_read(tmp_path / "dask"), _read(tmp_path / "single"))


def test_a_failing_partition_leaves_no_output(model_dir, parts_dir, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from sentiment.scoring import cluster

    real = cluster.score_partition

    def failing(frame, model_path, column):
        if frame["id"].iloc[0] == 0:
            raise RuntimeError("worker lost")
        return real(frame, model_path, column)

    monkeypatch.setattr(cluster, "score_partition", failing)
    with pytest.raises(RuntimeError, match="worker lost"):
        cluster.predict_on_dask(model_dir, parts_dir, tmp_path / "out", workers=2, processes=False)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_dask_job_leaves_no_output(model_dir, parts_dir, tmp_path):
    pytest.importorskip("distributed")
    from sentiment.scoring import cluster

    with pytest.raises(KeyboardInterrupt):
        cluster.predict_on_dask(model_dir, parts_dir, tmp_path / "out", workers=1, processes=False,
                                progress=_Interrupting())  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_dask_names_an_unreadable_part(model_dir, reviews_table, tmp_path):
    pytest.importorskip("distributed")
    from sentiment.scoring import cluster

    _write_parts(reviews_table.iloc[:100], tmp_path / "parts", n=2)
    (tmp_path / "parts" / "reviews-1.parquet").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"reviews-1\.parquet"):
        cluster.predict_on_dask(model_dir, tmp_path / "parts", tmp_path / "out", processes=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_dask_command_on_two_worker_processes_matches_the_single_process_command(model_dir, parts_dir, tmp_path):
    pytest.importorskip("distributed")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "sentiment", "predict", str(model_dir), "--input", str(parts_dir / "*.parquet")]
    for extra in (["--output", str(tmp_path / "single")], ["--output", str(tmp_path / "dask"), "--dask", "--workers",
                                                             "2"]):  # fmt: skip
        done = subprocess.run([*base, *extra, "--quiet"], capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(_read(tmp_path / "dask"), _read(tmp_path / "single"))


def test_dask_keeps_a_stored_index_and_tab_separated_parts_and_refuses_headerless_files(
    model_dir, reviews_table, tmp_path
):
    pytest.importorskip("distributed")
    from sentiment.scoring import cluster

    indexed = tmp_path / "indexed"
    indexed.mkdir()
    keyed = reviews_table.head(300).assign(id=lambda t: "review-" + t["id"].astype(str)).set_index("id")
    keyed.to_parquet(indexed / "part.parquet")  # "id" stored as a pandas index column
    assert "id" in pq.read_schema(indexed / "part.parquet").names
    cluster.predict_on_dask(model_dir, indexed, tmp_path / "out", workers=1, processes=False)
    written = pq.read_table(tmp_path / "out" / "part-00000.parquet")
    assert written.column("id").to_pylist() == keyed.index.tolist()  # the index column is not dropped

    tsv = tmp_path / "tsv"
    tsv.mkdir()
    reviews_table.head(200).to_csv(tsv / "reviews.tsv", sep="\t", index=False)
    cluster.predict_on_dask(model_dir, tsv, tmp_path / "tsv_out", workers=1, processes=False)
    header = (tmp_path / "tsv_out" / "part-00000.tsv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split("\t")[-3:] == ["predicted_label", "predicted_probability", "prediction_note"]

    uci = tmp_path / "uci"
    uci.mkdir()
    (uci / "sentences.txt").write_text("Great food.\t1\nRude staff.\t0\n", encoding="utf-8")
    with pytest.raises(SentimentError, match="no header row"):
        cluster.predict_on_dask(model_dir, uci, tmp_path / "uci_out", workers=1, processes=False)


def test_a_dask_worker_reloads_a_model_retrained_at_the_same_path(yelp, tmp_path):
    from sentiment.scoring import cluster

    path = tmp_path / "model"
    train(yelp, features="onehot", seed=0).model.save(path)
    first = cluster._model(str(path))
    assert cluster._model(str(path)) is first  # loaded once
    train(yelp, features="onehot", seed=1, C=0.01).model.save(path)  # a new model swapped in
    assert cluster._model(str(path)) is not first


def test_vectors_replaced_after_loading_are_refused_rather_than_mixed_in(model_dir, tmp_path, yelp):
    copy = tmp_path / "m"
    shutil.copytree(model_dir, copy)
    loaded = SentimentModel.load(copy)  # scores from its stored numbers; vectors.bin is read when needed
    other = train(yelp, word2vec={**SMALL_W2V, "min_count": 4}, seed=1).model
    other.save(tmp_path / "other")
    shutil.copy(tmp_path / "other" / "vectors.bin", copy / "vectors.bin")  # another model's words
    with pytest.raises(SentimentError, match=r"vectors\.bin"):
        loaded.word_vectors  # noqa: B018
