"""Bad input, round two, through the command line: literal output, one-line errors, runaway parameters, sweeps."""

import re

import pytest
import typer
from typer.testing import CliRunner

from sentiment.cli import app

runner = CliRunner()
FAST = ["--vector-size", "16", "--min-count", "2", "--epochs", "2", "--quiet"]
MARKUP = ["great [/] food", "[bold]awful[/bold] service [sic]", "[link=http://x]click[/link] here", "[red]", "a \\[b]"]


def _rows(n: int = 60, labels=("1", "0")) -> str:
    """A small CSV body: texts that tell the two labels apart, alternating."""
    words = ("great fun lovely tasty", "dull bad awful cold")
    return "".join(f"review {i} was {words[i % 2]} and {words[i % 2]},{labels[i % 2]}\n" for i in range(n))


@pytest.fixture(scope="module")
def model(shared_data, tmp_path_factory):
    target = tmp_path_factory.mktemp("round2") / "model"
    result = runner.invoke(app, ["train", str(shared_data / "uci" / "yelp_labelled.txt"), "-o", str(target), *FAST])
    assert result.exit_code == 0, result.output
    return target


# ------------------------------------------------------------------ 1. user text is never markup


@pytest.mark.parametrize("text", MARKUP)
def test_predicted_texts_print_literally(model, text):
    result = runner.invoke(app, ["predict", str(model), text])
    assert result.exit_code == 0, result.output
    assert text in result.stdout


def test_labels_file_names_and_paths_print_literally(tmp_path):
    data = tmp_path / "[bold]r[i].csv"
    data.write_text("text,label\n" + _rows(labels=("[red]yes[/red]", "no [x]")))
    target = tmp_path / "[i]m"
    trained = runner.invoke(app, ["train", str(data), "-o", str(target), *FAST])
    assert trained.exit_code == 0, trained.output
    assert "Held-out results ([bold]r[i].csv)" in trained.stdout
    assert f"Model saved to {target}" in trained.stdout
    evaluated = runner.invoke(app, ["evaluate", str(target), str(data), "--quiet"])
    assert evaluated.exit_code == 0, evaluated.output
    assert "[red]yes[/red]" in evaluated.stdout and "no [x]" in evaluated.stdout


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


COMMANDS = dict(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_help_loses_no_text(path):
    """Every help text of every option shows whole: brackets are not taken for markup."""
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.replace("│", " ").split())
    helps = [command_help.split("\n")[0] for command_help in [COMMANDS[path].help or ""]]
    helps += [param.help for param in COMMANDS[path].params if getattr(param, "help", None)]
    assert helps
    for text in helps:
        assert " ".join(text.split()) in shown, text


def test_no_help_text_relies_on_brackets():
    """Square brackets in help are typer's [default: ...]; our own would be read as markup."""
    for path, command in COMMANDS.items():
        for param in command.params:
            assert not re.search(r"\[", getattr(param, "help", None) or ""), (path, param.name)


# ------------------------------------------------------------------ 2. one line, exit 1 (usage errors exit 2)

# {name}: a placeholder filled in by the test (see _fill); every case is (arguments, exit status).
BROKEN = {
    "train: missing file": (["train", "{missing}"], 1),
    "train: directory": (["train", "{folder}"], 1),
    "train: garbage file": (["train", "{garbage}"], 1),
    "train: unknown dataset name": (["train", "imdbb"], 1),
    "train: dataset not downloaded": (["train", "uci"], 1),
    "train: bad number": (["train", "{data}", "--vector-size", "many"], 2),
    "train: negative epochs": (["train", "{data}", "--epochs", "-1"], 1),
    "train: negative C": (["train", "{data}", "--C", "-1"], 1),
    "train: test size above 1": (["train", "{data}", "--test-size", "1.5"], 2),
    "train: test size 0": (["train", "{data}", "--test-size", "0"], 2),
    "train: unknown features": (["train", "{data}", "--features", "bogus"], 2),
    "train: unknown optimizer": (["train", "{data}", "--optimizer", "bogus"], 1),
    "train: missing --test": (["train", "{data}", "--test", "{missing}"], 1),
    "train: garbage --unlabeled": (["train", "{data}", "--unlabeled", "{garbage}"], 1),
    "train: unknown column": (["train", "{data}", "--text-column", "body"], 1),
    "train: held-out file with one class": (["train", "{data}", "--test", "{pos_only}", "--features", "onehot"], 0),
    "evaluate: missing model": (["evaluate", "{missing}", "{data}"], 1),
    "evaluate: file as model": (["evaluate", "{garbage}", "{data}"], 1),
    "evaluate: missing data": (["evaluate", "{model}", "{missing}"], 1),
    "evaluate: directory as data": (["evaluate", "{model}", "{folder}"], 1),
    "evaluate: garbage data": (["evaluate", "{model}", "{garbage}"], 1),
    "evaluate: dataset not downloaded": (["evaluate", "{model}", "uci"], 1),
    "predict: no texts": (["predict", "{model}"], 2),
    "predict: missing model": (["predict", "{missing}", "good"], 1),
    "predict: missing input": (["predict", "{model}", "--input", "{missing}", "-o", "{out}"], 1),
    "predict: directory input": (["predict", "{model}", "--input", "{folder}", "-o", "{out}"], 1),
    "predict: garbage input": (["predict", "{model}", "--input", "{garbage}", "-o", "{out}"], 1),
    "similar: missing model": (["similar", "{missing}", "good"], 1),
    "similar: unknown word": (["similar", "{model}", "qwertyuiop"], 1),
    "similar: negative topn": (["similar", "{model}", "good", "--topn", "-3"], 2),
    "similar: zero topn": (["similar", "{model}", "good", "--topn", "0"], 2),
    "similar: bad number": (["similar", "{model}", "good", "--topn", "x"], 2),
    "validate: missing corpus": (["validate", "{missing}"], 1),
    "validate: directory": (["validate", "{folder}"], 1),
    "validate: garbage corpus": (["validate", "{garbage}"], 1),
    "validate: missing --labelled": (["validate", "{data}", "--labelled", "{missing}"], 1),
    "validate: negative limit": (["validate", "{data}", "--limit", "-5"], 2),
    "validate: negative workers": (["validate", "{data}", "--workers", "-1"], 1),
    "validate: negative epochs": (["validate", "{data}", "--epochs", "-1"], 1),
    "compare: missing file": (["compare", "{missing}"], 1),
    "compare: garbage file": (["compare", "{garbage}"], 1),
    "compare: too small a train size": (["compare", "{data}", "--train-sizes", "0.001"], 1),
    "compare: train size above 1": (["compare", "{data}", "--train-sizes", "2"], 1),
    "compare: bad train sizes": (["compare", "{data}", "--train-sizes", "half"], 2),
    "compare: zero repeats": (["compare", "{data}", "--repeats", "0"], 1),
    "compare: unknown features": (["compare", "{data}", "--features", "embeddings,bogus"], 2),
    "compare: test size above 1": (["compare", "{data}", "--test-size", "1.5"], 2),
    "compare: zero C": (["compare", "{data}", "--C", "0"], 1),
    "compare: unknown optimizer-like window": (["compare", "{data}", "--window", "0"], 1),
    "sweep: missing file": (["sweep", "{missing}", "--param", "negative=1"], 1),
    "sweep: no --param": (["sweep", "{data}"], 2),
    "sweep: unknown parameter": (["sweep", "{data}", "--param", "colour=red"], 1),
    "sweep: bad values": (["sweep", "{data}", "--param", "negative=a,b"], 1),
    "sweep: negative values": (["sweep", "{data}", "--param", "negative=-1"], 1),
    "sweep: zero repeats": (["sweep", "{data}", "--param", "negative=1", "--repeats", "0"], 1),
    "sweep: resume on garbage results": (
        ["sweep", "{data}", "--param", "negative=1", "--report", "{garbage_report}", "--resume"],
        1,
    ),
    "sweep: resume on other JSON lines": (
        ["sweep", "{data}", "--param", "negative=1", "--report", "{json_report}", "--resume"],
        1,
    ),
    "datasets list: data home is a file": (["datasets", "list"], 1),
    "datasets download: unknown name": (["datasets", "download", "imdbb"], 1),
    "datasets download: missing mirror folder": (["datasets", "download", "uci", "--mirror", "{missing}"], 1),
    "datasets download: mirror folder without the archive": (
        ["datasets", "download", "uci", "--mirror", "{folder}"],
        1,
    ),
    "datasets import: unknown name": (["datasets", "import", "imdbb", "{folder}"], 1),
    "datasets import: missing path": (["datasets", "import", "uci", "{missing}"], 1),
    "datasets import: garbage archive": (["datasets", "import", "uci", "{garbage}"], 1),
    "datasets import: folder without the layout": (["datasets", "import", "uci", "{folder}"], 1),
    "datasets import: data home is a file": (["datasets", "import", "uci", "{uci}"], 1),
    "datasets export: not downloaded": (["datasets", "export", "uci", "-o", "{out}"], 1),
    "datasets export: unknown name": (["datasets", "export", "imdbb", "-o", "{out}"], 1),
    "datasets export: no --output": (["datasets", "export", "uci"], 2),
}


def _fill(args, places):
    return [arg.format(**places) for arg in args]


@pytest.mark.parametrize("case", list(BROKEN))
def test_every_command_with_a_broken_argument(case, model, shared_data, tmp_path, monkeypatch):
    args, status = BROKEN[case]
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    if "data home is a file" in case:
        home.write_text("not a folder")
    monkeypatch.setenv("SENTIMENT_DATA", str(home))
    (tmp_path / "folder").mkdir()
    (tmp_path / "garbage").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "pos_only.csv").write_text("text,label\ngreat food,1\nlovely place,1\nvery good,1\n")
    for name, content in (("garbage_report", b"\x00\xff garbage\n"), ("json_report", b'{"a": 1}\n[1, 2]\n')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.jsonl").write_bytes(content)
    places = {
        "missing": tmp_path / "missing", "folder": tmp_path / "folder", "garbage": tmp_path / "garbage",
        "out": tmp_path / "out.csv", "model": model, "data": shared_data / "uci" / "yelp_labelled.txt",
        "uci": shared_data / "uci", "pos_only": tmp_path / "pos_only.csv",
        "garbage_report": tmp_path / "garbage_report", "json_report": tmp_path / "json_report",
    }  # fmt: skip
    fast = FAST if args[0] in ("train", "compare", "sweep") else []  # first, so that the case's options win
    result = runner.invoke(app, [args[0], *fast, *_fill(args[1:], places)])
    assert "Traceback" not in result.output
    assert result.exit_code == status, result.output
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    if status == 1:
        errors = [line for line in result.stderr.strip().splitlines() if not line.startswith("note: ")]
        assert len(errors) == 1 and errors[0].startswith("error: "), result.stderr
    elif status == 2:
        assert "Usage:" in result.output


@pytest.mark.parametrize("features", ["onehot", "both"])
def test_held_out_reviews_of_one_class_give_undefined_metrics_and_a_saved_model(features, tmp_path):
    import json

    data, held_out, target = tmp_path / "train.csv", tmp_path / "pos.csv", tmp_path / "m"
    data.write_text("text,label\n" + _rows())
    held_out.write_text("text,label\ngreat fun,1\nlovely tasty,1\n")
    args = ["train", str(data), "--test", str(held_out), "-o", str(target), "--features", features, *FAST]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "n/a" in result.stdout and "note: " in result.stderr and "roc_auc" in result.stderr
    stored = json.loads((target / "meta.json").read_text())["metrics"]
    assert set(stored) == ({"onehot"} if features == "onehot" else {"embeddings", "onehot"})
    assert all(m["roc_auc"] is None for m in stored.values()) and stored["onehot"]["accuracy"] == 1.0
    as_json = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert all(m["roc_auc"] is None for m in as_json["metrics"].values())


def test_a_held_out_class_missing_from_training_is_refused_before_training(tmp_path, monkeypatch):
    from sentiment.embeddings import word2vec

    monkeypatch.setattr(word2vec.Word2Vec, "fit", lambda *a, **k: pytest.fail("trained before refusing"))
    held_out = tmp_path / "h.csv"
    held_out.write_text("text,label\nodd,meh\ngreat fun,pos\nbad,neg\n")
    train_part = tmp_path / "tr.csv"
    train_part.write_text("text,label\n" + _rows(60, ("pos", "neg")))
    result = runner.invoke(app, ["train", str(train_part), "--test", str(held_out), *FAST])
    _one_error(result, "never occur in the training reviews")


def _one_error(result, message):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


@pytest.mark.parametrize("mirror", ["missing-folder", "./missing-folder/", "{tmp}/nope"])
def test_a_mirror_folder_that_does_not_exist(mirror, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SENTIMENT_DATA", str(tmp_path / "home"))
    result = runner.invoke(app, ["datasets", "download", "uci", "--mirror", mirror.format(tmp=tmp_path)])
    _one_error(result, "no such folder")
    assert not (tmp_path / "home").exists()  # refused before touching the cache


@pytest.mark.parametrize(
    "command", [["datasets", "list"], ["datasets", "export", "uci", "-o", "x.csv"], ["train", "uci"]]
)
def test_a_data_home_that_is_a_file(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "home").write_text("")
    monkeypatch.setenv("SENTIMENT_DATA", str(tmp_path / "home"))
    _one_error(runner.invoke(app, command), "is a file: point it at a folder")


# ------------------------------------------------------------------ 4. sweep --resume fingerprints runs

SWEEP = ["--param", "negative=1,2", "--repeats", "1", *FAST]


@pytest.fixture(scope="module")
def swept(shared_data, tmp_path_factory):
    """A finished sweep's report folder (on the UCI Amazon sentences)."""
    report = tmp_path_factory.mktemp("swept") / "report"
    data = shared_data / "uci" / "amazon_cells_labelled.txt"
    result = runner.invoke(app, ["sweep", str(data), "--report", str(report), *SWEEP])
    assert result.exit_code == 0, result.output
    return data, report


def _copy(report, tmp_path):
    import shutil

    return shutil.copytree(report, tmp_path / "copy")


def test_resume_with_the_same_settings_trains_nothing(swept, tmp_path, monkeypatch):
    from sentiment.experiments import sweep as sweep_module

    data, report = swept
    report = _copy(report, tmp_path)
    before = (report / "results.jsonl").read_text()
    monkeypatch.setattr(sweep_module, "_one_run", lambda *a, **k: pytest.fail("a finished run was redone"))
    result = runner.invoke(app, ["sweep", str(data), "--report", str(report), *SWEEP, "--resume"])
    assert result.exit_code == 0, result.output
    assert (report / "results.jsonl").read_text() == before


@pytest.mark.parametrize("change, named", [
    (["data", "yelp_labelled.txt"], "labelled data"),
    (["--window", "2"], "window 5 there, 2 here"),
    (["--vector-size", "20"], "vector_size 16 there, 20 here"),
    (["--min-count", "3"], "min_count 2 there, 3 here"),
    (["--C", "0.5"], "C 1.0 there, 0.5 here"),
    (["--seed", "7"], "seed 0 there, 7 here"),
    (["--intrinsic"], "intrinsic False there, True here"),
    (["--unlabeled", "{yelp}"], "unlabelled texts"),
])  # fmt: skip
def test_resume_with_other_data_or_settings_is_refused(change, named, swept, tmp_path, monkeypatch):
    from sentiment.experiments import sweep as sweep_module

    data, report = swept
    report = _copy(report, tmp_path)
    before = (report / "results.jsonl").read_text()
    monkeypatch.setattr(sweep_module, "_one_run", lambda *a, **k: pytest.fail("ran with mismatched runs"))
    if change[0] == "data":
        data, change = data.with_name(change[1]), []
    change = [c.format(yelp=data.with_name("yelp_labelled.txt")) for c in change]
    result = runner.invoke(app, ["sweep", str(data), "--report", str(report), *SWEEP, *change, "--resume"])
    _one_error(result, named)
    assert (report / "results.jsonl").read_text() == before


def test_resume_refuses_runs_without_a_fingerprint(swept, tmp_path):
    import json

    data, report = swept
    report = _copy(report, tmp_path)
    runs = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines()]
    (report / "results.jsonl").write_text("".join(json.dumps({**r, "fingerprint": None}) + "\n" for r in runs))
    result = runner.invoke(app, ["sweep", str(data), "--report", str(report), *SWEEP, "--resume"])
    _one_error(result, "other data or settings (")


# ------------------------------------------------------------------ 3. runaway parameters


def test_a_window_wider_than_every_sentence_trains_as_the_widest_that_pairs():
    from sentiment.embeddings.word2vec import Word2Vec
    from sentiment.errors import SentimentWarning

    corpus = [["good", "film", "great", "plot"], ["bad", "film", "dull", "plot", "sadly"]] * 30  # longest: 5
    fitted = {}
    for window in (2, 4, 5, 1_000_000):
        model = Word2Vec(vector_size=8, min_count=1, sample=0, epochs=2, window=window, seed=3)
        if window > 4:
            with pytest.warns(SentimentWarning, match="wider than the longest sentence"):
                model.fit(corpus)
        else:
            model.fit(corpus)
        assert model.window_ == min(window, 4) and model.get_params()["window"] == window
        fitted[window] = model.wv.vectors
    assert (fitted[5] == fitted[4]).all() and (fitted[1_000_000] == fitted[4]).all()  # the same training
    assert not (fitted[2] == fitted[4]).all()  # a normal window is kept as it is


def test_a_runaway_window_on_short_sentences_trains_in_seconds(shared_data, tmp_path):
    import time

    started = time.perf_counter()
    data = shared_data / "uci" / "yelp_labelled.txt"
    result = runner.invoke(app, ["train", str(data), "-o", str(tmp_path / "m"), *FAST, "--window", "1000000"])
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 60
    notes = [line for line in result.stderr.splitlines() if "wider than the longest sentence" in line]
    assert len(notes) == 1 and notes[0].startswith("note: --window 1000000") and "window 30" in notes[0]


@pytest.mark.parametrize("options, named", [
    (["--negative", "100000", "--vector-size", "300"], "--negative 100000 needs ~"),
    (["--negative", "10000000"], "--negative 10000000 needs ~"),
    (["--negative", "40", "--window", "15000", "--vector-size", "300"], "--window 15000 needs ~"),
])  # fmt: skip
def test_runaway_noise_samples_are_refused_before_training(options, named, tmp_path, monkeypatch):
    import time

    from sentiment.embeddings import word2vec

    data, held_out = tmp_path / "r.csv", tmp_path / "h.csv"
    data.write_text("text,label\n" + _rows() + "great " * 20_000 + ",1\n")  # one review of 20,000 words
    held_out.write_text("text,label\n" + _rows(10))  # so that the long review is trained on
    monkeypatch.setattr(word2vec.Word2Vec, "_run_epochs", lambda *a: pytest.fail("started training"))
    started = time.perf_counter()
    result = runner.invoke(app, ["train", str(data), "--test", str(held_out), *FAST, *options])
    _one_error(result, named)
    assert "GiB for the noise samples" in result.stderr and time.perf_counter() - started < 30


# ------------------------------------------------------------------ 5. smaller things


def test_library_warnings_become_one_note_each(tmp_path):
    data = tmp_path / "short.csv"
    data.write_text(
        "text,label\n" + "".join(f"review {i} {'good fun' if i % 2 else 'dull bad'},{i % 2}\n" for i in range(60))
    )
    # Two repeats train word vectors twice, and each warns that the window is wider than every sentence.
    args = ["compare", str(data), "--features", "embeddings", "--repeats", "2", "--window", "50", *FAST]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("note: ") for line in lines), result.stderr  # no "SentimentWarning", no source lines
    assert sum("is wider than the longest sentence" in line for line in lines) == 1, result.stderr


def test_piped_tables_are_not_cut_to_80_columns(shared_data):
    data = shared_data / "uci" / "amazon_cells_labelled.txt"
    result = runner.invoke(app, ["compare", str(data), "--repeats", "1", *FAST], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout and "model size (MB)" in result.stdout
    assert max(map(len, result.stdout.splitlines())) > 80


def test_repeated_sweep_values_run_once(shared_data, tmp_path):
    report = tmp_path / "s"
    args = ["sweep", str(shared_data / "uci" / "amazon_cells_labelled.txt"), "--report", str(report)]
    result = runner.invoke(app, [*args, "--param", "negative=2,2", "--repeats", "1", *FAST])
    assert result.exit_code == 0, result.output
    assert len((report / "results.jsonl").read_text().splitlines()) == 1
    assert "note: --param negative=2,2: repeated values are run once: negative=2" in result.stderr
    twice = runner.invoke(app, [*args, "--param", "negative=1", "--param", "negative=2", *FAST])
    _one_error(twice, "--param negative is given twice")
