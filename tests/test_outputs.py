"""Never destroy what is not ours: output directories and files are checked before any work starts.

Each case runs the real command line. Refusals must come before training (so
they are fast), print one ``error:`` line, exit 1, and leave every file the
user had byte for byte as it was.
"""

import json
import os
import stat

import pytest
from typer.testing import CliRunner

from sentiment import outputs
from sentiment.cli import app
from sentiment.errors import SentimentError
from sentiment.model import SentimentModel

runner = CliRunner()
ONEHOT = ["--features", "onehot", "--quiet"]  # fast: no SGNS
SMALL = ["--vector-size", "16", "--min-count", "2", "--epochs", "1", "--quiet"]
ROWS = "".join(f"review number {i} was {'great fun' if i % 2 else 'dull and bad'},{i % 2}\n" for i in range(60))


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "input" / "reviews.csv"
    path.parent.mkdir()
    path.write_text("text,label\n" + ROWS, encoding="utf-8")
    return path


def _user_folder(path):
    """A folder holding a user's own files, nested."""
    (path / "sub").mkdir(parents=True)
    (path / "thesis.txt").write_text("two years of work\n")
    (path / "sub" / "notes.md").write_text("# notes\n")
    (path / "meta.json").write_text('{"mine": true}\n')  # a meta.json that is not a model's
    return _tree(path)


def _tree(path):
    return {str(p.relative_to(path)): p.read_bytes() if p.is_file() else None for p in sorted(path.rglob("*"))}


def _refused(result, *fragments):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_train_refuses_a_folder_of_user_files_and_keeps_them(data, tmp_path):
    folder = tmp_path / "work" / "reviews"
    before = _user_folder(folder)
    result = runner.invoke(app, ["train", str(data), "-o", str(folder), *ONEHOT])
    _refused(result, str(folder), "not a sentiment model directory", "choose a new path")
    assert _tree(folder) == before
    assert sorted(p.name for p in folder.parent.iterdir()) == ["reviews"]  # no staging directory either


@pytest.mark.parametrize("where", [".", "..", "home", "data folder", "data folder's parent"])
def test_train_refuses_places_that_are_never_a_model_directory(where, data, tmp_path, monkeypatch):
    cwd = tmp_path / "project" / "here"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(tmp_path / "project"))
    target = {
        ".": ".",
        "..": "..",
        "home": str(tmp_path / "project"),
        "data folder": str(data.parent),
        "data folder's parent": str(data.parent.parent),
    }[where]
    before = _tree(tmp_path)
    result = runner.invoke(app, ["train", str(data), "-o", target, *ONEHOT])
    _refused(result, "refusing to write a model")
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("command", ["train", "compare", "sweep"])
def test_an_output_under_a_file_is_refused_before_any_work(command, data, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("mine\n")
    option = {"train": "-o", "compare": "--report", "sweep": "--report"}[command]
    extra = ["--param", "negative=1"] if command == "sweep" else []
    result = runner.invoke(app, [command, str(data), option, str(blocker / "out"), *extra, *SMALL])
    _refused(result, "is a file")
    assert blocker.read_text() == "mine\n"


def test_an_empty_folder_and_an_existing_model_are_replaced_atomically(data, tmp_path):
    target = tmp_path / "models" / "m"
    target.mkdir(parents=True)
    first = runner.invoke(app, ["train", str(data), "-o", str(target), "--C", "0.5", *ONEHOT])
    assert first.exit_code == 0, first.output
    assert json.loads((target / "meta.json").read_text())["parameters"]["C"] == {"onehot": 0.5}
    inode = target.stat().st_ino
    second = runner.invoke(app, ["train", str(data), "-o", str(target), "--C", "2", *ONEHOT])
    assert second.exit_code == 0, second.output
    assert json.loads((target / "meta.json").read_text())["parameters"]["C"] == {"onehot": 2}
    assert target.stat().st_ino != inode  # a new directory swapped in, not files rewritten in place
    assert sorted(p.name for p in target.parent.iterdir()) == ["m"]  # the old model's files are gone
    assert SentimentModel.load(target).predict(["great fun"]).shape == (1,)


def test_a_model_folder_with_extra_user_files_is_refused(data, tmp_path):
    target = tmp_path / "m"
    assert runner.invoke(app, ["train", str(data), "-o", str(target), *ONEHOT]).exit_code == 0
    (target / "my-notes.txt").write_text("keep me\n")
    before = _tree(target)
    result = runner.invoke(app, ["train", str(data), "-o", str(target), *ONEHOT])
    _refused(result, "my-notes.txt", "move them out")
    assert _tree(target) == before


def test_the_library_save_follows_the_same_rule(data, tmp_path):
    target = tmp_path / "m"
    assert runner.invoke(app, ["train", str(data), "-o", str(target), *ONEHOT]).exit_code == 0
    model = SentimentModel.load(target)
    folder = tmp_path / "user"
    before = _user_folder(folder)
    with pytest.raises(SentimentError, match="not a sentiment model directory"):
        model.save(folder)
    assert _tree(folder) == before
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(SentimentError, match="symbolic link"):
        model.save(link)


def test_an_interrupted_replacement_leaves_the_previous_model_whole(data, tmp_path, monkeypatch):
    target = tmp_path / "m"
    assert runner.invoke(app, ["train", str(data), "-o", str(target), *ONEHOT]).exit_code == 0
    before = _tree(target)
    model = SentimentModel.load(target)

    def interrupted_swap(staging, destination):
        raise KeyboardInterrupt  # Ctrl-C after the new files are written, before the swap

    monkeypatch.setattr("sentiment.model.swap_into_place", interrupted_swap)
    with pytest.raises(KeyboardInterrupt):
        model.save(target)
    assert _tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input", "m"]  # the staging directory is gone


def test_old_model_removal_deletes_only_known_files(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "meta.json").write_text(json.dumps({"format_version": 1, "files": {"onehot.npz": {}}}))
    (old / "onehot.npz").write_bytes(b"x")
    (old / "README.md").write_text("card")
    (old / "appeared-later.txt").write_text("not ours")
    assert outputs.remove_model_files(old) is False
    assert [p.name for p in old.iterdir()] == ["appeared-later.txt"]


def test_saved_files_follow_the_umask(data, tmp_path):
    previous = os.umask(0o022)
    try:
        target = tmp_path / "m"
        assert runner.invoke(app, ["train", str(data), "-o", str(target), *ONEHOT]).exit_code == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in target.iterdir()} == {0o644}


def test_a_report_folder_with_user_files_is_refused_and_kept(data, tmp_path):
    report = tmp_path / "report"
    before = _user_folder(report)
    (report / "report.md").write_text("my own report\n")
    before = _tree(report)
    for command, extra in (("compare", ["--repeats", "1"]), ("sweep", ["--param", "negative=1", "--repeats", "1"])):
        result = runner.invoke(app, [command, str(data), "--report", str(report), *extra, *SMALL])
        _refused(result, "not a sentiment report")
        assert _tree(report) == before


def test_a_previous_report_folder_is_written_again_but_not_by_another_command(data, tmp_path):
    report = tmp_path / "report"
    args = ["compare", str(data), "--features", "onehot", "--repeats", "1", "--report", str(report), "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    assert (report / outputs.MARKER).is_file() and (report / "report.md").is_file()
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    sweep = runner.invoke(app, ["sweep", str(data), "--param", "negative=1", "--report", str(report), *SMALL])
    _refused(sweep, "compare")


def test_export_never_writes_into_the_cache_or_over_a_file(shared_data, tmp_path, monkeypatch):
    from sentiment.data import datasets

    monkeypatch.setenv("SENTIMENT_DATA", str(tmp_path / "cache"))
    datasets.import_dataset("uci", shared_data / "uci")
    table = tmp_path / "cache" / "uci" / "table.csv.gz"
    cached = table.read_bytes()
    result = runner.invoke(app, ["datasets", "export", "uci", "-o", str(table)])
    _refused(result, "already exists")
    result = runner.invoke(app, ["datasets", "export", "uci", "-o", str(table), "--overwrite"])
    _refused(result, "inside the dataset cache")
    assert table.read_bytes() == cached
    folder = tmp_path / "out"
    folder.mkdir()
    _refused(runner.invoke(app, ["datasets", "export", "uci", "-o", str(folder)]), "is a directory")
    assert list(folder.iterdir()) == []
    mine = tmp_path / "mine.csv"
    mine.write_text("precious\n")
    _refused(runner.invoke(app, ["datasets", "export", "uci", "-o", str(mine)]), "--overwrite")
    assert mine.read_text() == "precious\n"
    assert runner.invoke(app, ["datasets", "export", "uci", "-o", str(mine), "--overwrite"]).exit_code == 0
    assert mine.read_text().startswith("text,label")
    gz = tmp_path / "uci.csv.gz"
    assert runner.invoke(app, ["datasets", "export", "uci", "-o", str(gz)]).exit_code == 0
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary files left


def test_predict_output_replaces_an_existing_file_only_when_told(data, tmp_path):
    model = tmp_path / "m"
    assert runner.invoke(app, ["train", str(data), "-o", str(model), *ONEHOT]).exit_code == 0
    out = tmp_path / "labelled.csv"
    out.write_text("my own results\n")
    args = ["predict", str(model), "--input", str(data), "--output", str(out), "--quiet"]
    _refused(runner.invoke(app, args), "already exists", "--overwrite")
    assert out.read_text() == "my own results\n"
    _refused(runner.invoke(app, [*args[:4], "--output", str(data), "--quiet"]), "is the input file")
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0
    assert out.read_text().splitlines()[0] == "text,label,predicted_label,predicted_probability,prediction_note"
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~_current_umask()


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_replacing_a_predictions_directory_keeps_files_that_are_not_ours(tmp_path):
    from sentiment.outputs import PREDICTIONS_MARKER, publish_predictions_dir

    target = tmp_path / "scored"
    target.mkdir()
    (target / "part-00000.csv").write_text("old\n")
    (target / PREDICTIONS_MARKER).write_text(json.dumps({"parts": ["part-00000.csv"]}))
    (target / "notes.txt").write_text("mine")  # added by a user after the previous run
    staging = tmp_path / ".scored.new.tmp"
    staging.mkdir()
    (staging / "part-00000.csv").write_text("new\n")
    with pytest.warns(UserWarning, match="kept in"):
        publish_predictions_dir(staging, target, ["part-00000.csv"])
    assert (target / "part-00000.csv").read_text() == "new\n"
    assert (tmp_path / "scored.previous" / "notes.txt").read_text() == "mine"
    assert not staging.exists()
