"""Unlabelled text for training word vectors alone: CSV/TSV tables or plain text, optionally gzip-compressed.

``read_corpus(path)`` decides what a file is from its first line. A CSV/TSV
table is read as ``load_reviews(require_labels=False)`` reads it: its text
column (``text``, ``review``, ...) only, or the text of a headerless
``text<TAB>label`` file such as the UCI sentences, so labels never leak into
the corpus as words. Anything else is **plain text: one text per line**,
whatever commas or tabs it holds (word2vec.c's corpora, a sentence per line,
or one long line as in text8); blank lines are skipped. Encodings are chosen
as for reviews (``reviews.detect_encoding``). Tokenizing is ``tokenize.py``'s job.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sentiment.data.reviews import (
    LABEL_COLUMNS,
    TEXT_COLUMNS,
    _decode,
    _read_bytes,
    is_headerless,
    load_reviews,
    sniff_delimiter,
)

__all__ = ["read_corpus"]

_NAME = re.compile(r"^[\w.-]*$")


def read_corpus(path: str | os.PathLike, *, text_column: str | None = None) -> tuple[list[str], list[str]]:
    """The texts of one corpus file and notes on how it was read.

    ``text_column`` names the column of a table (and makes the file a table).
    """
    path = Path(path)
    raw = _read_bytes(path)
    text, encoding_note = _decode(raw, path)
    notes = [f"{path.name}: {encoding_note}"] if encoding_note else []
    first_line = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    if text_column is not None or _is_table(path, first_line):
        reviews = load_reviews(path, text_column=text_column, require_labels=False)
        notes = [*reviews.notes, f"{path.name}: read as a table, texts from column {reviews.text_column!r}"]
        return reviews.texts, notes
    texts = [line.strip() for line in text.splitlines()]
    texts = [line for line in texts if line]
    notes.append(f"{path.name}: read as plain text, one text per line ({len(texts):,} lines)")
    return texts, notes


def _is_table(path: Path, first_line: str) -> bool:
    """A header naming a text column, or a first row that is a headerless ``text<TAB>label`` record."""
    delimiter = sniff_delimiter(path, first_line)
    cells = [cell.strip().strip('"').lower() for cell in first_line.split(delimiter)]
    # Column names are single words; a line of prose that happens to hold "text," is not a header.
    if len(cells) > 1 and set(cells) & set(TEXT_COLUMNS + LABEL_COLUMNS) and all(_NAME.match(c) for c in cells):
        return True
    return is_headerless(first_line.split(delimiter), delimiter)
