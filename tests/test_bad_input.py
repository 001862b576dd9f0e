"""Every kind of broken input: exit status 1, one clear line on stderr, no traceback, nothing lost."""

import gzip
import json
import pickle

import numpy as np
import pytest
from typer.testing import CliRunner

from sentiment.cli import app
from sentiment.model import FORMAT_VERSION, SentimentModel

runner = CliRunner()
FAST = ["--vector-size", "16", "--min-count", "2", "--epochs", "2", "--quiet"]

GOOD_ROWS = "".join(f"review number {i} was {'great fun' if i % 2 else 'dull and bad'},{i % 2}\n" for i in range(40))
BAD_DATA = {
    "missing file": (None, "no such file"),
    "empty file": (b"", "empty"),
    "header only": (b"text,label\n", "no rows"),
    "binary garbage": (bytes(range(256)) * 20, "binary"),
    "wrong delimiter": (b"text;label\ngood;1\nbad;0\n", "';' or '|'"),
    "ragged rows": (b'text,label\n"open quote,1\nb,0\n', "well-formed"),
    "no text column": (b"id,stars\n1,5\n2,1\n", "which column holds the text"),
    "ambiguous columns": (b"text,review,label\na,b,1\nc,d,0\n", "differ"),
    "only one class": (b"text,label\ngood,1\nfine,1\nnice,1\n", "two classes"),
    "labels that cannot be normalised": (
        ("text,label\n" + "".join(f"t{i},{i}.5\n" for i in range(80))).encode(), "distinct values",
    ),
    "all texts empty": (b"text,label\n,1\n  ,0\n", "no row has both"),
    "duplicate headers": (b"text,text,label\na,b,1\n", "duplicate column"),
    "corrupt gzip": (gzip.compress(b"text,label\n" + b"a,1\n" * 5000)[:60], "gzip"),
    "too few reviews for the split": (b"text,label\ngood,1\nbad,0\n", "too few"),
}  # fmt: skip
BAD_OPTIONS = {
    "vector size": (["--vector-size", "0"], "vector_size"),
    "window": (["--window", "0"], "window"),
    "negative": (["--negative", "0"], "negative"),
    "epochs": (["--epochs", "0"], "epochs"),
    "alpha": (["--alpha", "-1"], "alpha"),
    "sample": (["--sample", "-1"], "sample"),
    "vocabulary empty": (["--min-count", "100000"], "min-count"),
    "diverging learning rate": (["--alpha", "9"], "diverged"),
}


@pytest.fixture(scope="module")
def existing_model(shared_data, tmp_path_factory):
    target = tmp_path_factory.mktemp("kept") / "model"
    result = runner.invoke(app, ["train", str(shared_data / "uci" / "yelp_labelled.txt"), "-o", str(target), *FAST])
    assert result.exit_code == 0, result.output
    return target


def _snapshot(directory):
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def _assert_one_clear_line(result, message):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    # Notes (how labels or the encoding were read) may come first; the failure itself is one line.
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_files(case, existing_model, tmp_path):
    content, message = BAD_DATA[case]
    path = tmp_path / ("reviews.csv.gz" if case == "corrupt gzip" else "reviews.csv")
    if content is not None:
        path.write_bytes(content)
    before = _snapshot(existing_model)
    result = runner.invoke(app, ["train", str(path), "-o", str(existing_model), *FAST])
    _assert_one_clear_line(result, message)
    assert _snapshot(existing_model) == before


def test_a_directory_instead_of_a_file(tmp_path):
    _assert_one_clear_line(runner.invoke(app, ["train", str(tmp_path), *FAST]), "is a directory")


def test_a_named_column_that_does_not_exist(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\n" + GOOD_ROWS)
    result = runner.invoke(app, ["train", str(path), "--text-column", "body", *FAST])
    _assert_one_clear_line(result, "no column named 'body'")


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_training_options(case, existing_model, shared_data):
    options, message = BAD_OPTIONS[case]
    before = _snapshot(existing_model)
    data = shared_data / "uci" / "yelp_labelled.txt"
    args = ["train", str(data), "-o", str(existing_model), *FAST, *options]
    _assert_one_clear_line(runner.invoke(app, args), message)
    assert _snapshot(existing_model) == before


def test_a_10_megabyte_review_is_read_whole(tmp_path):
    from sentiment.data.reviews import load_reviews

    path = tmp_path / "big.csv"
    huge = "word " * 2_000_000  # 10 MB
    path.write_text(f"text,label\n{huge},1\nshort,0\n")
    reviews = load_reviews(path)
    assert len(reviews.texts[0]) == len(huge)


def test_a_pickle_dropped_into_a_model_is_never_loaded(existing_model, tmp_path):
    import shutil

    model = tmp_path / "m"
    shutil.copytree(existing_model, model)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (model / "model.pkl").write_bytes(pickle.dumps(Evil()))
    (model / "classifier.joblib").write_bytes(pickle.dumps(Evil()))
    loaded = SentimentModel.load(model)
    assert loaded.predict(["great"]).shape == (1,)
    assert not marker.exists()


def test_tampered_arrays_in_a_model_are_refused(existing_model, tmp_path):
    import shutil

    model = tmp_path / "m"
    shutil.copytree(existing_model, model)
    with np.load(model / "onehot.npz") as archive:
        arrays = dict(archive)
    arrays["coef"] = np.full_like(arrays["coef"], np.nan)
    np.savez(model / "onehot.npz", **arrays)
    _assert_one_clear_line(runner.invoke(app, ["predict", str(model), "good"]), "NaN")


def test_a_model_from_a_newer_version(existing_model, tmp_path):
    import shutil

    model = tmp_path / "m"
    shutil.copytree(existing_model, model)
    meta = json.loads((model / "meta.json").read_text())
    meta["format_version"] = FORMAT_VERSION + 1
    (model / "meta.json").write_text(json.dumps(meta))
    _assert_one_clear_line(runner.invoke(app, ["evaluate", str(model), "x.csv"]), "newer")


def test_interrupted_prediction_leaves_no_output(existing_model, tmp_path, monkeypatch):
    source = tmp_path / "in.csv"
    source.write_text("text\n" + "nice place\n" * 12_000)
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    calls = {"n": 0}
    original = SentimentModel.predict_proba

    def interrupted(self, texts, kind=None):
        calls["n"] += 1
        if calls["n"] == 2:  # Ctrl-C in the second chunk
            raise KeyboardInterrupt
        return original(self, texts, kind)

    monkeypatch.setattr(SentimentModel, "predict_proba", interrupted)
    args = ["predict", str(existing_model), "--input", str(source), "--output", str(out), "--overwrite"]
    result = runner.invoke(app, args)
    assert result.exit_code == 130
    assert out.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_interrupted_download_leaves_the_cache_as_it_was(tmp_path, monkeypatch, shared_data):
    import zipfile

    from sentiment.data import datasets

    monkeypatch.setenv("SENTIMENT_DATA", str(tmp_path / "cache"))
    datasets.import_dataset("uci", shared_data / "uci")
    before = _snapshot(tmp_path / "cache" / "uci")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with zipfile.ZipFile(mirror / "sentiment labelled sentences.zip", "w") as archive:
        archive.write(shared_data / "uci" / "yelp_labelled.txt", "sentiment labelled sentences/yelp_labelled.txt")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(datasets, "_build_table", interrupt)
    result = runner.invoke(app, ["datasets", "download", "uci", "--mirror", str(mirror)])
    assert result.exit_code == 130
    assert _snapshot(tmp_path / "cache" / "uci") == before
