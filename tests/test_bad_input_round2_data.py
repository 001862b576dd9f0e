"""Bad input, round two: labels keep their meaning, the model's mapping scores any file, evaluate never
calls training rows held-out, encodings and TSV quoting are chosen on evidence, predict passes records
through byte for byte and says when a label means little."""

import csv
import gzip
import io
import json
import re
import shutil

import pytest
from typer.testing import CliRunner

from sentiment import load_reviews
from sentiment.cli import app
from sentiment.data.reviews import detect_encoding
from sentiment.model import SentimentModel
from sentiment.predict import predict_texts

runner = CliRunner()
FAST = ["--vector-size", "16", "--min-count", "2", "--epochs", "2", "--quiet"]


def _ok(result):
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def _one_error(result, message):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if not line.startswith("note: ")]
    assert len(errors) == 1 and errors[0].startswith("error: ") and message in errors[0], result.stderr


def _labelled_csv(path, labels, words=("great tasty", "awful cold", "fine okay")):
    """Rows whose text follows the label, so a model can learn them."""
    distinct = sorted(set(labels), key=labels.index)
    rows = [f"{words[distinct.index(label) % len(words)]} meal number {i},{label}" for i, label in enumerate(labels)]
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def uci(shared_data):
    return shared_data / "uci"


@pytest.fixture(scope="module")
def yelp_model(uci, tmp_path_factory):
    """Trained on the yelp sentences (1/0) with --seed 7, held-out 20% split."""
    target = tmp_path_factory.mktemp("round2") / "yelp"
    _ok(runner.invoke(app, ["train", str(uci / "yelp_labelled.txt"), "-o", str(target), "--seed", "7", *FAST]))
    return target


# ------------------------------------------------------------------ 1. labels keep their meaning

BINARY_PAIRS = [
    ("1", "0"), ("1", "-1"), ("+1", "-1"), ("1.0", "0.0"), ("pos", "neg"), ("Positive", "NEGATIVE"),
    ("true", "false"), ("T", "f"), ("yes", "no"), ("Y", "n"), ("good", "bad"), (" 1 ", "0  "),
]  # fmt: skip


@pytest.mark.parametrize("positive, negative", BINARY_PAIRS)
def test_a_known_binary_pair_becomes_positive_negative_and_says_so(tmp_path, positive, negative):
    path = tmp_path / "r.csv"
    path.write_text(f"text,label\nnice,{positive}\nbad,{negative}\nfine,{positive}\n")
    reviews = load_reviews(path)
    assert reviews.labels.tolist() == ["positive", "negative", "positive"]
    assert reviews.label_mapping == {positive.strip().lower(): "positive", negative.strip().lower(): "negative"}
    said = any("labels read as" in note and f"{negative.strip().lower()} -> negative" in note for note in reviews.notes)
    assert said == (positive.lower() != "positive")  # positive/negative already say what they are


@pytest.mark.parametrize("labels", [
    ["-1", "0", "1"], ["1", "0", "pos"], ["neutral", "positive", "negative"], ["1", "2"], ["yes", "no", "maybe"],
    ["5", "4", "1", "3"], ["1", "0", "-1", "2"],
])  # fmt: skip
def test_any_other_label_set_keeps_every_label_as_its_own_class(tmp_path, labels):
    path = tmp_path / "r.csv"
    path.write_text("text,label\n" + "".join(f"text {i},{label}\n" for i, label in enumerate(labels)))
    reviews = load_reviews(path)
    assert reviews.labels.tolist() == labels
    assert reviews.label_mapping == {label: label for label in labels}


def test_a_three_class_file_trains_three_classes_and_stores_the_mapping(tmp_path):
    data = _labelled_csv(tmp_path / "tri.csv", ["1", "0", "-1"] * 30)
    model = tmp_path / "m"
    result = _ok(runner.invoke(app, ["train", str(data), "-o", str(model), *FAST]))
    assert "kept as 3 classes" in result.stderr
    assert SentimentModel.load(model).classes_.tolist() == ["-1", "0", "1"]
    meta = json.loads((model / "meta.json").read_text())
    assert meta["classes"] == ["-1", "0", "1"]
    assert meta["data"]["label_mapping"] == {"-1": "-1", "0": "0", "1": "1"}


def test_a_binary_model_stores_its_mapping(yelp_model):
    meta = json.loads((yelp_model / "meta.json").read_text())
    assert meta["data"]["label_mapping"] == {"0": "negative", "1": "positive"}


# ------------------------------------------------------------------ 2. the model's mapping scores any file


@pytest.mark.parametrize("labels, expected", [
    (["0"] * 6, "negative"), (["1"] * 6, "positive"), (["neg"] * 6, "negative"), ([" FALSE "] * 6, "negative"),
    (["0", "1", "0"], None),
])  # fmt: skip
def test_a_file_with_a_subset_of_the_classes_evaluates(yelp_model, tmp_path, labels, expected):
    data = _labelled_csv(tmp_path / "subset.csv", labels)
    report = json.loads(_ok(runner.invoke(app, ["evaluate", str(yelp_model), str(data), "--json", "--quiet"])).stdout)
    for metrics in report["metrics"].values():
        assert metrics["n"] == len(labels)
        assert sum(map(sum, metrics["confusion_matrix"])) == len(labels)
        if expected is not None:
            assert metrics["roc_auc"] is None  # undefined with one class: null, not a crash
            absent = "positive" if expected == "negative" else "negative"
            assert metrics["per_class"][expected]["support"] == len(labels)
            assert metrics["per_class"][absent]["support"] == 0 and metrics["per_class"][absent]["recall"] is None
    table = _ok(runner.invoke(app, ["evaluate", str(yelp_model), str(data), "--quiet"])).stdout
    assert ("n/a" in table) == (expected is not None)


def test_a_file_with_a_class_the_model_lacks_is_one_clear_error(yelp_model, tmp_path):
    data = _labelled_csv(tmp_path / "tri.csv", ["1", "0", "-1"] * 3)
    _one_error(runner.invoke(app, ["evaluate", str(yelp_model), str(data)]), "labels ['-1'] are not among")


def test_train_with_a_one_class_test_file_uses_the_training_mapping(uci, tmp_path):
    test = _labelled_csv(tmp_path / "neg_only.csv", ["0"] * 8)
    model = tmp_path / "m"
    args = ["train", str(uci / "amazon_cells_labelled.txt"), "--test", str(test), "-o", str(model), "--json", *FAST]
    report = json.loads(_ok(runner.invoke(app, args)).stdout)
    assert all(m["n"] == 8 and m["roc_auc"] is None for m in report["metrics"].values())
    meta = json.loads((model / "meta.json").read_text())  # strict JSON: NaN stored as null
    assert meta["metrics"]["onehot"]["roc_auc"] is None and meta["data"]["split"] is None


def test_a_three_class_model_scores_a_file_with_two_of_its_classes(tmp_path):
    model = tmp_path / "m"
    _ok(runner.invoke(app, ["train", str(_labelled_csv(tmp_path / "t.csv", ["1", "0", "-1"] * 30)), "-o", str(model),
                            *FAST]))  # fmt: skip
    data = _labelled_csv(tmp_path / "two.csv", ["1", "0"] * 3)
    report = json.loads(_ok(runner.invoke(app, ["evaluate", str(model), str(data), "--json", "--quiet"])).stdout)
    assert report["metrics"]["embeddings"]["per_class"]["-1"]["support"] == 0


def test_a_model_saved_before_mappings_were_stored_reads_positive_negative_spellings(yelp_model, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(yelp_model, old)
    meta = json.loads((old / "meta.json").read_text())
    del meta["data"]["label_mapping"], meta["data"]["split"]
    (old / "meta.json").write_text(json.dumps(meta))
    for labels in (["0"] * 4, ["neg", "pos"] * 2):
        data = _labelled_csv(tmp_path / "f.csv", labels)
        report = json.loads(_ok(runner.invoke(app, ["evaluate", str(old), str(data), "--json", "--quiet"])).stdout)
        assert report["metrics"]["onehot"]["n"] == 4


# ------------------------------------------------------------------ 3. evaluate on the training data


def _evaluate_json(model, data, *extra):
    result = _ok(runner.invoke(app, ["evaluate", str(model), str(data), "--json", "--quiet", *extra]))
    return json.loads(result.stdout), result.stderr


def test_evaluate_on_the_training_file_scores_exactly_the_held_out_rows(yelp_model, uci, tmp_path):
    meta = json.loads((yelp_model / "meta.json").read_text())
    copy = tmp_path / "same_bytes_elsewhere.txt"
    shutil.copyfile(uci / "yelp_labelled.txt", copy)
    for data in (uci / "yelp_labelled.txt", copy):
        report, stderr = _evaluate_json(yelp_model, data)
        assert report["rows"] == "held_out" and report["trained_on"] is False
        assert "scoring only the 200 rows held out at training (seed 7" in stderr
        for kind, metrics in report["metrics"].items():
            assert metrics["n"] == 200
            assert metrics["accuracy"] == meta["metrics"][kind]["accuracy"]  # the very rows train scored


def test_evaluate_on_another_file_scores_every_row(yelp_model, uci):
    report, _ = _evaluate_json(yelp_model, uci / "imdb_labelled.txt")
    assert report["rows"] == "all" and report["trained_on"] is False
    assert report["metrics"]["embeddings"]["n"] == 1000


@pytest.mark.parametrize("how", ["trained with --test", "split does not reproduce"])
def test_rows_that_were_trained_on_are_flagged(uci, tmp_path, how):
    model = tmp_path / "m"
    data = uci / "yelp_labelled.txt"
    extra = ["--test", str(uci / "amazon_cells_labelled.txt")] if how == "trained with --test" else []
    _ok(runner.invoke(app, ["train", str(data), "-o", str(model), *extra, *FAST]))
    if how == "split does not reproduce":
        meta = json.loads((model / "meta.json").read_text())
        meta["data"]["split"]["held_out_sha256"] = "0" * 64
        (model / "meta.json").write_text(json.dumps(meta))
    report, stderr = _evaluate_json(model, data)
    assert report["rows"] == "trained_on" and report["trained_on"] is True
    assert report["metrics"]["onehot"]["n"] == 1000
    assert "were trained on, so these scores are not held-out" in stderr
    table = _ok(runner.invoke(app, ["evaluate", str(model), str(data), "--quiet"])).stdout
    assert "trained on" in table and "Held-out" not in table


def test_a_model_saved_before_splits_were_stored_reproduces_its_split(yelp_model, uci, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(yelp_model, old)
    meta = json.loads((old / "meta.json").read_text())
    del meta["data"]["split"]
    (old / "meta.json").write_text(json.dumps(meta))
    report, _ = _evaluate_json(old, uci / "yelp_labelled.txt")
    assert report["rows"] == "held_out"
    assert report["metrics"]["onehot"]["accuracy"] == meta["metrics"]["onehot"]["accuracy"]


def test_a_built_in_dataset_is_recognised_as_the_training_data(uci, tmp_path, monkeypatch):
    from sentiment.data import datasets

    monkeypatch.setenv("SENTIMENT_DATA", str(tmp_path / "cache"))
    datasets.import_dataset("uci", uci)
    model = tmp_path / "m"
    _ok(runner.invoke(app, ["train", "uci", "-o", str(model), "--seed", "7", *FAST]))
    meta = json.loads((model / "meta.json").read_text())
    report, stderr = _evaluate_json(model, "uci")
    assert report["rows"] == "held_out" and "rows held out at training" in stderr
    assert report["metrics"]["onehot"]["n"] == meta["data"]["held_out_rows"] == 600
    assert report["metrics"]["onehot"]["accuracy"] == meta["metrics"]["onehot"]["accuracy"]


# ------------------------------------------------------------------ 4. encoding on evidence

UTF8_ROWS = "".join(f"café crème number {i},1\nnaïve déjà vu {i},0\n" for i in range(60))


@pytest.mark.parametrize("strays", [1, 3, 10])
def test_utf8_with_a_few_stray_bytes_stays_utf8(tmp_path, strays):
    body = ("text,label\n" + UTF8_ROWS).encode()
    body += b"".join(b"bad byte \xe9 here %d,1\n" % i for i in range(strays))
    path = tmp_path / "r.csv"
    path.write_bytes(body)
    reviews = load_reviews(path)
    assert reviews.texts[0] == "café crème number 0" and reviews.texts[1] == "naïve déjà vu 0"
    assert sum(text.count("\ufffd") for text in reviews.texts) == strays
    assert any(f"{strays:,} bytes are not valid UTF-8 and were replaced" in note for note in reviews.notes)


@pytest.mark.parametrize("body, codec, text", [
    ("café au lait,1\nbad,0\n".encode("latin-1"), "cp1252", "café au lait"),
    ("“smart” quotes – naïve,1\nbad,0\n".encode("cp1252"), "cp1252", "“smart” quotes – naïve"),
    (b"caf\xe9 \x81 odd,1\nbad,0\n", "latin-1", "café \x81 odd"),  # 0x81 is undefined in cp1252
    (UTF8_ROWS.encode("latin-1") + "Ã©,1\n".encode("latin-1"), "cp1252", "café crème number 0"),
])  # fmt: skip
def test_a_file_that_is_not_utf8_is_read_as_cp1252_or_latin1_and_says_so(tmp_path, body, codec, text):
    path = tmp_path / "r.csv"
    path.write_bytes(b"text,label\n" + body)
    reviews = load_reviews(path)
    assert reviews.texts[0] == text
    assert any(note.endswith(f"read as {codec}") for note in reviews.notes)


def test_plain_utf8_needs_no_note():
    assert detect_encoding(["téxt".encode()]).note is None
    assert detect_encoding([b"ascii only"]).codec == "utf-8"


# ------------------------------------------------------------------ 5. TSV written by Python's csv module


def test_tsv_written_by_the_csv_module_is_read_with_its_quoting(tmp_path):
    texts = [f'row {i}: "quoted" and\nsecond line\twith a tab' if i % 3 == 0 else f'new " conan " {i}' for i in
             range(100)]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t")
    writer.writerow(["text", "label"])
    writer.writerows((text, i % 2) for i, text in enumerate(texts))
    path = tmp_path / "r.tsv"
    path.write_text(buffer.getvalue(), newline="")
    reviews = load_reviews(path)
    assert reviews.texts == [t.replace("\r\n", "\n") for t in texts]
    assert reviews.dropped == {} and len(reviews) == 100


@pytest.mark.parametrize("lines", [
    ['" But "Storm Trooper" is bad.  \t0', '"You\'ll love it!  \t1', 'a "b" c\t0'],
    ['"unbalanced at the start\t1', 'fine\t0', 'also "fine\t1'],
    ['plain\t1', 'text\t0'],
])  # fmt: skip
def test_tsv_with_unbalanced_quotes_is_read_literally(tmp_path, lines):
    path = tmp_path / "r.txt"
    path.write_text("\n".join(lines) + "\n")
    reviews = load_reviews(path)
    assert reviews.texts == [line.rsplit("\t", 1)[0] for line in lines]


@pytest.mark.parametrize("name", ["amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"])
def test_the_real_uci_files_still_read_1000_rows(uci, name):
    reviews = load_reviews(uci / name)
    assert len(reviews) == 1000 and (reviews.labels == "positive").sum() == 500


# ------------------------------------------------------------------ 6. unknown and empty texts


def test_predict_says_when_no_word_is_known_and_gives_no_label_to_empty_text(yelp_model):
    report = json.loads(_ok(runner.invoke(app, ["predict", str(yelp_model), "xyzzy plugh", "", "great food",
                                                "--json"])).stdout)["predictions"]  # fmt: skip
    unknown, empty, known = report
    assert unknown["note"] == "no known word" and unknown["label"] in ("positive", "negative")
    assert empty == {"text": "", "label": None, "probability": None, "note": "empty text"}
    assert known["note"] is None and known["label"] in ("positive", "negative")
    table = _ok(runner.invoke(app, ["predict", str(yelp_model), "xyzzy plugh", "   "])).stdout
    assert "no known word" in table and "empty text" in table


@pytest.mark.parametrize("kind", ["embeddings", "onehot"])
def test_known_words_counts_per_pipeline(yelp_model, kind):
    model = SentimentModel.load(yelp_model)
    assert model.known_words(["xyzzy plugh", "", "the food the"], kind=kind).tolist() == [0, 0, 3]
    assert [p["note"] for p in predict_texts(model, ["xyzzy", "the food"])] == ["no known word", None]


# ------------------------------------------------------------------ 7. predict --input passthrough

NEW = "\tpredicted_label\tpredicted_probability\tprediction_note"
FIELDS = re.compile(r"(?P<d>[,\t])(positive|negative|)(?P=d)(0\.\d{6}|)(?P=d)(empty text|no known word|)")

# name: (file name, codec, delimiter, records (the first is the header, or None), the last record's line ending)
# Records are joined by that line ending (by \n when the last has none); a "-sig"/"-le" codec adds a BOM.
PASSTHROUGH = {
    "one column with blank lines": ("in.csv", "utf-8", b",", ["text", "lovely film", "", "awful plot", '""', "fine"],
                                    "\n"),
    "latin-1 with other columns": ("in.csv", "latin-1", b",", ["id,text,city", "1,caf\xe9 good,K\xf6ln",
                                                               '2,"na\xefve, ""fine""",Z\xfcrich'], "\n"),
    "tsv with literal quotes": ("in.tsv", "utf-8", b"\t", ["id\ttext", '1\tnew " conan "', '2\t"odd start'], "\n"),
    "tsv from the csv module": ("in.tsv", "utf-8", b"\t", ["text\tid", '"two\nlines ""q"""\t1', '"a\tb"\t2'], "\n"),
    "crlf endings": ("in.csv", "utf-8", b",", ["text,id", "good food,1", '"x\r\ny",2'], "\r\n"),
    "headerless uci style": ("in.txt", "utf-8", b"\t", [None, 'Wow... Loved "it.\t1', "Crust is not good.\t0"], "\n"),
    "utf-16 with bom": ("in.csv", "utf-16-le", b",", ["text,label", "naïve good,1", "bad,0"], "\n"),
    "utf-8 with bom and no final newline": ("in.csv", "utf-8-sig", b",", ["text", "déjà vu", "last"], ""),
    "utf-8 with a stray byte": ("in.csv", "utf-8", b",", ["text,n", "caf\udce9 ok,1", "naïve déjà vu crème brûlée,2"],
                                "\n"),
}  # fmt: skip


BOMS = {"utf-16-le": b"\xff\xfe", "utf-8-sig": b"\xef\xbb\xbf"}


@pytest.mark.parametrize("case", list(PASSTHROUGH))
def test_predict_input_passes_every_record_through_byte_for_byte(yelp_model, tmp_path, case):
    name, codec, delimiter, records, ending = PASSTHROUGH[case]
    bom, codec = BOMS.get(codec, b""), codec.removesuffix("-sig")
    header, *body = records
    lines = ([] if header is None else [header]) + body
    separator = ending or "\n"
    source = tmp_path / name
    source.write_bytes(bom + (separator.join(lines) + ending).encode(codec, "surrogateescape"))
    out = tmp_path / ("out" + name[2:])
    result = _ok(runner.invoke(app, ["predict", str(yelp_model), "--input", str(source), "-o", str(out), "--quiet"]))
    assert f"Wrote {len(body)} rows to" in result.stdout
    written = out.read_bytes()
    assert written.startswith(bom)
    # Walk the output: each input record's exact bytes, then the new fields, then the record's own line ending.
    pos = len(bom)
    new_header = NEW.replace("\t", delimiter.decode())
    for i, line in enumerate(lines):
        end = (separator if i < len(lines) - 1 else ending).encode(codec)
        record = line.encode(codec, "surrogateescape")
        assert written[pos : pos + len(record)] == record, case
        pos += len(record)
        stop = written.find(end, pos) if end else len(written)
        added = written[pos:stop].decode(codec)
        assert added == new_header if i == 0 and header is not None else FIELDS.fullmatch(added), (case, added)
        pos = stop + len(end)
    assert pos == len(written)  # one output row per input record, nothing more


def test_blank_and_empty_texts_are_rows_marked_empty(yelp_model, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text('text\nlovely film\n\nawful plot\n""\nfine\n')
    out = tmp_path / "out.csv"
    _ok(runner.invoke(app, ["predict", str(yelp_model), "--input", str(source), "-o", str(out), "--quiet"]))
    lines = out.read_text().splitlines()
    assert len(lines) == 6
    assert lines[2] == ",,,empty text" and lines[4] == '"",,,empty text'
    assert lines[1].startswith("lovely film,") and lines[5].startswith("fine,")


def test_the_passthrough_does_not_depend_on_chunk_boundaries(yelp_model, tmp_path, monkeypatch):
    from sentiment import predict

    source = tmp_path / "in.tsv"
    source.write_text("".join(f'"multi\nline {i}"\t{i}\n' if i % 2 else f"plain {i}\t{i}\n" for i in range(9)))
    source.write_text("text\tid\n" + source.read_text())
    outputs = []
    for chunk_rows in (5_000, 2, 1):
        monkeypatch.setattr(predict, "CHUNK_ROWS", chunk_rows)
        out = tmp_path / f"out{chunk_rows}.tsv"
        summary = predict.predict_file(SentimentModel.load(yelp_model), source, out)
        assert summary["rows"] == 9
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


def test_gz_output_is_gzip_and_csv_output_is_plain(yelp_model, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("text\ngreat food\n")
    plain, packed = tmp_path / "out.csv", tmp_path / "out.csv.gz"
    for out in (plain, packed):
        result = _ok(runner.invoke(app, ["predict", str(yelp_model), "-i", str(source), "-o", str(out), "--quiet"]))
        assert f"Wrote 1 row to {out} " in result.stdout  # 8. one row, not "1 rows"
    assert not plain.read_bytes().startswith(b"\x1f\x8b")
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv", "out.csv.gz"]  # no temporary left


def test_predict_input_reads_gzip_and_real_uci_files(yelp_model, uci, tmp_path):
    out = tmp_path / "out.txt"
    _ok(runner.invoke(app, ["predict", str(yelp_model), "-i", str(uci / "imdb_labelled.txt"), "-o", str(out), "-q"]))
    source_lines = (uci / "imdb_labelled.txt").read_bytes().split(b"\n")
    out_lines = out.read_bytes().split(b"\n")
    assert len(out_lines) == len(source_lines)
    assert all(o.startswith(s + b"\t") for s, o in zip(source_lines[:-1], out_lines, strict=False))
    packed = tmp_path / "in.txt.gz"
    packed.write_bytes(gzip.compress((uci / "imdb_labelled.txt").read_bytes()))
    out2 = tmp_path / "out2.txt"
    _ok(runner.invoke(app, ["predict", str(yelp_model), "-i", str(packed), "-o", str(out2), "-q"]))
    assert out2.read_bytes() == out.read_bytes()


@pytest.mark.parametrize("content, message", [
    (b"", "empty"), (b"  \n", "empty"), (b"text\n", "no rows"), (b"\x00\x01binary\x00" * 10, "binary"),
    (b"id,stars\n1,5\n", "which column holds the text"),
])  # fmt: skip
def test_predict_input_bad_files_are_one_clear_error(yelp_model, tmp_path, content, message):
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    out = tmp_path / "out.csv"
    _one_error(runner.invoke(app, ["predict", str(yelp_model), "-i", str(source), "-o", str(out)]), message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
