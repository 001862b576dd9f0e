"""Reading review files: columns, labels, formats and the errors users see."""

import gzip

import numpy as np
import pytest

from sentiment.data.reviews import load_reviews, normalise_labels, split_reviews
from sentiment.errors import DataError


def test_finds_columns_case_insensitively_and_strips_html_breaks(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('Id,Review,Sentiment\n1,"Great<br />film",pos\n2,"Awful, really",neg\n')
    reviews = load_reviews(path)
    assert reviews.text_column == "Review" and reviews.label_column == "Sentiment"
    assert reviews.texts == ["Great film", "Awful, really"]
    assert reviews.labels.tolist() == ["positive", "negative"]
    assert len(reviews.sha256) == 64


def test_gzip_tsv_and_named_columns(tmp_path):
    path = tmp_path / "r.tsv.gz"
    path.write_bytes(gzip.compress(b"body\ty\nnice\t1\nbad\t0\n"))
    reviews = load_reviews(path, text_column="BODY", label_column="y")
    assert reviews.labels.tolist() == ["positive", "negative"]


def test_headerless_two_column_file_like_uci(tmp_path):
    path = tmp_path / "uci.txt"
    path.write_text('Wow... Loved this place.\t1\nThe "crust" is not good.\t0\n')
    reviews = load_reviews(path)
    assert reviews.texts == ["Wow... Loved this place.", 'The "crust" is not good.']
    assert reviews.labels.tolist() == ["positive", "negative"]


def test_rows_without_text_or_label_are_dropped_and_counted(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\ngood,1\n,0\n   ,1\nfine,\nbad,0\n")
    reviews = load_reviews(path)
    assert reviews.texts == ["good", "bad"]
    assert reviews.dropped == {"empty text": 2, "missing label": 1}
    assert any("dropped 2 rows with empty text" in note for note in reviews.notes)


def test_multiclass_labels_are_kept():
    assert normalise_labels(np.array(["neutral", "positive", "negative"])).tolist() == [
        "neutral", "positive", "negative",
    ]  # fmt: skip


def test_latin1_and_utf16_files_are_decoded(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\ncaf\xe9 au lait,1\nbad,0\n".encode("latin-1"))
    assert load_reviews(latin).texts[0] == "café au lait"
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("text,label\nnaïve,1\nbad,0\n".encode("utf-16"))
    assert load_reviews(utf16).texts[0] == "naïve"


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"text,label\n", "no rows"),
    (b"\x00\x01\x02binary\xff\x00" * 10, "binary"),
    (b"id,stars\n1,5\n", "which column holds the text"),
    (b"text,text\na,1\n", "duplicate column"),
    (b"text,label\n" + b"".join(b"t%d,%d\n" % (i, i) for i in range(60)), "distinct values"),
    (b'text,label\n"a,1\nb,0\n', "well-formed"),
])  # fmt: skip
def test_bad_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_reviews(path)


def test_missing_file_directory_and_corrupt_gzip(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_reviews(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="directory"):
        load_reviews(tmp_path)
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(b"text,label\n" * 1000)[:40])
    with pytest.raises(DataError, match="gzip"):
        load_reviews(broken)


def test_named_column_that_does_not_exist(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\na,1\n")
    with pytest.raises(DataError, match="no column named 'comment'"):
        load_reviews(path, text_column="comment")


def test_stratified_split_keeps_class_balance(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\n" + "".join(f"t{i},{i % 2}\n" for i in range(100)))
    train, test = split_reviews(load_reviews(path), 0.2, seed=0)
    assert len(train) == 80 and len(test) == 20
    assert (test.labels == "positive").sum() == 10
    assert not set(train.texts) & set(test.texts)


def test_real_imdb_csv(shared_data):
    reviews = load_reviews(shared_data / "imdb" / "imdb_train.csv.gz")
    assert len(reviews) == 25_000
    assert (reviews.labels == "positive").sum() == 12_500
    assert not any("<br" in text for text in reviews.texts[:2000])
