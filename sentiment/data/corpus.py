"""Unlabelled text for word vectors: a whole corpus file in memory (``read_corpus``) or streamed (``TextCorpus``).

``read_corpus(path)`` (used by ``sentiment word2vec``) decides what a file is
from its first line. A CSV/TSV table is read as
``load_reviews(require_labels=False)`` reads it: its text column only, or the
text of a headerless ``text<TAB>label`` file such as the UCI sentences, so
labels never leak into the corpus as words. Anything else is plain text, one
text per line; blank lines are skipped. Encodings are chosen on evidence, as
for reviews.

``TextCorpus`` (used by ``train --unlabeled``) is for more text than fits in
memory: ``Word2Vec.fit`` reads its corpus once for the vocabulary and once per
epoch, and a ``TextCorpus`` holds only one chunk of rows (``chunk_rows``) at a
time, whatever the file size. Files may be CSV or TSV with a header, a
headerless ``text<TAB>label`` file, or plain text with one text per line
(``.txt`` files without a tab in their first line); any of them optionally
gzip-compressed. Unlike ``read_corpus`` it does not choose the encoding on
evidence (that would need a pass over the whole file): files are read as
UTF-8 (a byte-order mark is skipped), and bytes that are not UTF-8 become
U+FFFD. TSV quoting is sniffed on the first MiB. Tokenizing is
``tokenize.py``'s job.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "lines.txt"
>>> _ = path.write_text("A good film.\\n\\nA <br />bad one\\n")
>>> corpus = TextCorpus(path)
>>> list(corpus), corpus.rows_read
([['a', 'good', 'film'], ['a', 'bad', 'one']], 2)
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from sentiment.data.reviews import (
    LABEL_COLUMNS,
    TEXT_COLUMNS,
    _decode,
    _read_bytes,
    is_headerless,
    load_reviews,
    pick_column,
    sniff_delimiter,
    sniff_quoting,
)
from sentiment.errors import DataError
from sentiment.tokenize import tokenize

__all__ = ["TextCorpus", "read_corpus"]

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


_SNIFF_BYTES = 2**20


class TextCorpus:
    """Re-iterable token lists of ``texts`` (kept in memory) followed by the texts of ``paths`` (streamed).

    ``cacheable``: every pass yields the same tokens, so ``Word2Vec`` may keep
    them encoded between epochs while they fit its budget. ``rows_read`` is
    the number of texts yielded by the last complete pass.
    """

    cacheable = True

    def __init__(
        self,
        paths: str | os.PathLike | Iterable[str | os.PathLike] = (),
        *,
        texts: Iterable[str] = (),
        text_column: str | None = None,
        chunk_rows: int = 10_000,
    ):
        self.paths = [Path(paths)] if isinstance(paths, str | os.PathLike) else [Path(p) for p in paths]
        self.texts = list(texts)
        self.text_column = text_column
        self.chunk_rows = chunk_rows
        self.rows_read = None
        for path in self.paths:  # problems with a file now, not after the other files and the training texts
            if not path.is_file():
                raise DataError(f"{path}: {'is a directory' if path.is_dir() else 'no such file'}")
            try:
                next(_texts(path, text_column, chunk_rows=100), None)
            except (OSError, EOFError, UnicodeError) as error:
                raise DataError(f"{path}: cannot read ({error})") from None

    def __iter__(self) -> Iterator[list[str]]:
        rows = 0
        for text in self.raw_texts():
            tokens = tokenize(text)
            if tokens:
                rows += 1
                yield tokens
        self.rows_read = rows

    def raw_texts(self) -> Iterator[str]:
        """The texts themselves, in order (empty ones included), one chunk of rows in memory at a time."""
        yield from self.texts
        for path in self.paths:
            yield from _texts(path, self.text_column, self.chunk_rows)


def _open(path: Path):
    with open(path, "rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    binary = gzip.open(path, "rb") if compressed else open(path, "rb")  # noqa: SIM115 - closed by the wrapper
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")


def _texts(path: Path, text_column: str | None, chunk_rows: int) -> Iterator[str]:
    with _open(path) as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise DataError(f"{path}: the file is empty")
    if "\x00" in head:
        raise DataError(f"{path}: looks like a binary file, not text, CSV or TSV")
    first_line = head.split("\n", 1)[0]
    delimiter = sniff_delimiter(path, first_line)
    plain = path.name.lower().removesuffix(".gz").endswith(".txt") and "\t" not in first_line
    if plain:
        with _open(path) as handle:
            for line in handle:
                yield line.rstrip("\r\n")
        return
    complete_lines = head if len(head) < _SNIFF_BYTES else head[: head.rfind("\n") + 1]
    quoting = sniff_quoting(complete_lines, delimiter)
    header = next(csv.reader([first_line], delimiter=delimiter))
    headerless = is_headerless(header, delimiter)
    options = dict(sep=delimiter, dtype=str, keep_default_na=False, na_values=[""], quoting=quoting, engine="c")
    if headerless:
        options.update(header=None, names=["text", "label"])
    with _open(path) as handle:
        try:
            chunks = pd.read_csv(handle, chunksize=chunk_rows, **options)
            column = None
            for chunk in chunks:
                if column is None:
                    column = pick_column(chunk, text_column, TEXT_COLUMNS, "text", path)
                yield from chunk[column].fillna("").astype(str).tolist()
        except pd.errors.ParserError as error:
            detail = str(error).strip().splitlines()[-1]
            raise DataError(
                f"{path}: not a well-formed {'TSV' if delimiter == chr(9) else 'CSV'} file ({detail})"
            ) from None
