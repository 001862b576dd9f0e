"""Predictions for a list of texts, or for every row of a file, streamed in chunks.

``predict_texts`` labels texts and says when a label means little: ``empty
text`` (no label) or ``no known word`` (the model's prior, nothing more).
``predict_file`` reads its input in chunks so memory does not grow with the
file, and writes every input record back byte for byte (same encoding,
quoting, delimiter and line endings; gzip if the output name ends in
``.gz``) followed by ``predicted_label``, ``predicted_probability`` and
``prediction_note``: one output row per input record, blank ones included. It
reads what ``load_reviews`` reads (encodings, TSV quoting, headerless UCI
files), and writes a temporary file next to the output that is renamed into
place only when complete. The input's own columns are parsed only to find the
text; they are never rewritten.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sentiment.errors import DataError
from sentiment.outputs import apply_umask, check_output_file
from sentiment.progress import Progress

if TYPE_CHECKING:
    from sentiment.data.reviews import Encoding
    from sentiment.model import SentimentModel

# Reading files (sentiment.data.reviews) needs pandas: imported in the functions that read them, so that
# labelling a few texts (`sentiment predict MODEL "text"`) imports neither pandas nor scikit-learn.

__all__ = [
    "EMPTY_TEXT",
    "NEW_COLUMNS",
    "NO_KNOWN_WORD",
    "predict_file",
    "predict_texts",
    "prediction_notes",
    "score_chunk",
]

CHUNK_ROWS = 5_000
_READ_BYTES = 1 << 20
EMPTY_TEXT, NO_KNOWN_WORD = "empty text", "no known word"
NEW_COLUMNS = ("predicted_label", "predicted_probability", "prediction_note")


def prediction_notes(model: SentimentModel, texts: list[str]) -> list[str]:
    """``"empty text"``, ``"no known word"`` or ``""`` for each text (see the module docstring)."""
    notes = [EMPTY_TEXT if not str(text).strip() else "" for text in texts]
    rest = [i for i, note in enumerate(notes) if not note]
    if rest:
        for i, known in zip(rest, model.knows_any_word([texts[i] for i in rest]), strict=True):
            notes[i] = "" if known else NO_KNOWN_WORD
    return notes


def predict_texts(model: SentimentModel, texts: list[str]) -> list[dict]:
    """Label, probability of the predicted label and note (or None) for each text; no label for an empty one."""
    notes = prediction_notes(model, texts)
    scorable = [i for i, note in enumerate(notes) if note != EMPTY_TEXT]
    results = [{"text": text, "label": None, "probability": None, "note": note or None} for text, note in
               zip(texts, notes, strict=True)]  # fmt: skip
    if scorable:
        proba = model.predict_proba([texts[i] for i in scorable])
        for row, (i, best) in enumerate(zip(scorable, proba.argmax(axis=1), strict=True)):
            results[i]["label"] = str(model.classes_[best])
            results[i]["probability"] = float(proba[row, best])
    return results


def score_chunk(model: SentimentModel, texts: list[str]) -> tuple[list[str | None], np.ndarray, list[str]]:
    """Label (None when unscored), probability of that label (NaN when unscored) and note for each text."""
    notes = prediction_notes(model, texts)
    labels: list[str | None] = [None] * len(texts)
    probability = np.full(len(texts), np.nan)
    index = np.array([i for i, note in enumerate(notes) if note != EMPTY_TEXT], dtype=np.int64)
    if index.size:
        proba = model.predict_proba([texts[i] for i in index])
        best = proba.argmax(axis=1)
        probability[index] = proba[np.arange(len(best)), best]
        classes = [str(c) for c in model.classes_]
        for i, j in zip(index.tolist(), best.tolist(), strict=True):
            labels[i] = classes[j]
    return labels, probability, notes


def _raw_chunks(path: Path) -> Iterator[bytes]:
    """The file's bytes in chunks, gunzipped when it is gzip."""
    with open(path, "rb") as stream:
        compressed = stream.read(2) == b"\x1f\x8b"
    with (gzip.open if compressed else open)(path, "rb") as stream:
        while chunk := stream.read(_READ_BYTES):
            yield chunk


def _lines(path: Path, encoding: Encoding) -> Iterator[str]:
    """The decoded text after the byte-order mark, line by line with line endings kept."""
    decoder = codecs.getincrementaldecoder(encoding.codec)(errors=encoding.errors)
    skip = len(encoding.bom)
    pending = ""
    for chunk in _raw_chunks(path):
        if skip:
            chunk, skip = chunk[skip:], max(0, skip - len(chunk))
        pending += decoder.decode(chunk)
        lines = io.StringIO(pending, newline="").readlines()
        # The last piece may be an unfinished line (or a \r whose \n is in the next chunk): keep it back.
        pending = lines.pop() if lines else ""
        yield from lines
    pending += decoder.decode(b"", final=True)
    if pending:
        yield from io.StringIO(pending, newline="").readlines()


def _records(lines: Iterator[str], delimiter: str, quoting: int) -> Iterator[tuple[str, list[str]]]:
    """Each record as its exact raw text (line ending included) and its parsed fields.

    csv's reader pulls one line at a time and only as many as a record needs, so the lines it took
    for a record are that record's raw text.
    """
    taken: list[str] = []

    def feed():
        for line in lines:
            taken.append(line)
            yield line

    for fields in csv.reader(feed(), delimiter=delimiter, quoting=quoting):
        yield "".join(taken), fields
        taken.clear()


def _sniff(path: Path) -> tuple[Encoding, str, int]:
    """Encoding, delimiter and quoting of an input file (a few passes over it, none held in memory)."""
    from sentiment.data.reviews import detect_encoding, sniff_delimiter, sniff_quoting

    head = b""

    def watched():
        nonlocal head
        for chunk in _raw_chunks(path):
            if len(head) < 65536:
                head += chunk[: 65536 - len(head)]
            yield chunk

    encoding = detect_encoding(watched())
    if not head[len(encoding.bom) :].strip():
        raise DataError(f"{path}: the file is empty")
    if b"\x00" in head and not encoding.codec.startswith("utf-16"):
        raise DataError(f"{path}: looks like a binary file, not CSV or TSV text")
    with contextlib.closing(_lines(path, encoding)) as lines:
        first_line = encoding.clean(next(lines, ""))
    delimiter = sniff_delimiter(path, first_line.rstrip("\r\n"))
    quoting = sniff_quoting(_lines(path, encoding), delimiter)
    return encoding, delimiter, quoting


def predict_file(
    model: SentimentModel,
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    *,
    text_column: str | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Write ``input_path``'s records plus predictions to ``output_path``; return counts and notes.

    An existing ``output_path`` is replaced only with ``overwrite`` (never the input itself).
    """
    from sentiment.data.reviews import _no_field_size_limit, is_headerless

    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise DataError(f"{input_path}: no such file")
    check_output_file(output_path, inputs=[input_path], overwrite=overwrite)
    progress = progress or Progress(enabled=False)
    try:
        encoding, delimiter, quoting = _sniff(input_path)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataError(f"{input_path}: cannot read ({error})") from None
    output_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output_path.name}.", suffix=".tmp", dir=output_path.parent)
    apply_umask(temporary)
    raw_out = os.fdopen(handle, "wb")  # closed by the `with` below, or on failure
    out = gzip.GzipFile(fileobj=raw_out, mode="wb", mtime=0) if output_path.name.lower().endswith(".gz") else raw_out
    counts = {"rows": 0, "unscored": 0, NO_KNOWN_WORD: 0}
    try:
        with raw_out, out, _no_field_size_limit(), progress.task(f"Predicting {input_path.name}") as bar:
            out.write(encoding.bom)
            writer = _RowWriter(out, encoding, delimiter)
            records = _records(_lines(input_path, encoding), delimiter, quoting)
            column = None
            batch: list[tuple[str, list[str]]] = []
            for raw, fields in records:
                if column is None:  # the first record: a header, or data in a headerless UCI-style file
                    if is_headerless(fields, delimiter):
                        header, batch = ["text", "label"], [(raw, fields)]
                    else:
                        header = fields
                        writer.write(raw, NEW_COLUMNS)
                    column = -1
                    continue
                batch.append((raw, fields))
                if len(batch) < CHUNK_ROWS:
                    continue
                column = _text_index(column, header, batch, text_column, input_path)
                _score(model, batch, column, encoding, writer, counts)
                batch = []
                bar.advance(CHUNK_ROWS, status=f"{counts['rows']:,} rows")
            if batch:
                column = _text_index(column, header, batch, text_column, input_path)
                _score(model, batch, column, encoding, writer, counts)
                bar.advance(len(batch), status=f"{counts['rows']:,} rows")
        if column is None:
            raise DataError(f"{input_path}: the file is empty")
        if counts["rows"] == 0:
            raise DataError(f"{input_path}: has a header but no rows")
        os.replace(temporary, output_path)
    except csv.Error as error:
        raise DataError(f"{input_path}: not a well-formed CSV or TSV file ({error})") from None
    except (UnicodeError, EOFError, OSError) as error:
        raise DataError(f"{input_path}: cannot read ({str(error).strip().splitlines()[-1]})") from None
    finally:
        out.close()
        raw_out.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return {
        "input": str(input_path),
        "output": str(output_path),
        "rows": counts["rows"],
        "unscored": counts["unscored"],
        "no_known_word": counts[NO_KNOWN_WORD],
        "notes": [f"{input_path.name}: {encoding.note}"] if encoding.note else [],
    }


def _text_index(column: int, header: list[str], batch, text_column: str | None, path: Path) -> int:
    """The text's field number, found from the header and the first rows (which settle ambiguous names)."""
    if column >= 0:
        return column
    import pandas as pd

    from sentiment.data.reviews import TEXT_COLUMNS, pick_column

    width = len(header)
    rows = [(fields + [""] * width)[:width] for _, fields in batch]
    frame = pd.DataFrame(rows, columns=range(width), dtype=object)  # object: pyarrow strings refuse stray bytes
    frame.columns = header
    name = pick_column(frame, text_column, TEXT_COLUMNS, "text", path)
    return [str(h) for h in header].index(name)


def _score(model, batch, column: int, encoding: Encoding, writer: _RowWriter, counts: dict) -> None:
    texts = [encoding.clean(fields[column]) if column < len(fields) else "" for _, fields in batch]
    labels, probability, notes = score_chunk(model, texts)
    for (raw, _), label, p, note in zip(batch, labels, probability.tolist(), notes, strict=True):
        writer.write(raw, ("", "", note) if label is None else (label, f"{p:.6f}", note))
    counts["rows"] += len(batch)
    counts["unscored"] += labels.count(None)
    counts[NO_KNOWN_WORD] += notes.count(NO_KNOWN_WORD)


class _RowWriter:
    """Writes a raw record's exact bytes, then the delimiter and the new fields, then its own line ending."""

    def __init__(self, out, encoding: Encoding, delimiter: str):
        self.out, self.encoding, self.delimiter = out, encoding, delimiter
        # New fields in a legacy 8-bit encoding may hold characters it lacks: those become "?".
        self.field_errors = "replace" if encoding.errors == "strict" else encoding.errors
        self.buffer = io.StringIO()
        self.fields = csv.writer(self.buffer, delimiter=delimiter, lineterminator="", quoting=csv.QUOTE_MINIMAL)

    def write(self, raw: str, fields) -> None:
        body = raw.rstrip("\r\n")
        ending = raw[len(body) :]
        self.buffer.seek(0)
        self.buffer.truncate()
        self.fields.writerow(fields)
        codec = self.encoding.codec
        self.out.write(body.encode(codec, self.encoding.errors))
        self.out.write((self.delimiter + self.buffer.getvalue() + ending).encode(codec, self.field_errors))
