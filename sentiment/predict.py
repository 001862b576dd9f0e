"""Predictions for a list of texts, or for every row of a file, streamed in chunks.

``predict_file`` reads its input in chunks so memory does not grow with the
file, keeps every input column, adds ``predicted_label`` and
``predicted_probability``, marks rows it cannot score (empty text) in
``prediction_note`` instead of dropping them, and writes a temporary file next
to the output that is renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from sentiment.data import TEXT_COLUMNS, pick_column, sniff_delimiter
from sentiment.errors import DataError
from sentiment.model import SentimentModel
from sentiment.progress import Progress

__all__ = ["predict_file", "predict_texts"]

CHUNK_ROWS = 5_000


def predict_texts(model: SentimentModel, texts: list[str]) -> list[dict]:
    """Label and probability of the predicted label for each text."""
    proba = model.predict_proba(texts)
    best = proba.argmax(axis=1)
    return [
        {"text": text, "label": str(model.classes_[i]), "probability": float(proba[row, i])}
        for row, (text, i) in enumerate(zip(texts, best, strict=True))
    ]


def _first_line(path: Path) -> str:
    try:
        with open(path, "rb") as stream:
            opener = gzip.open if stream.read(2) == b"\x1f\x8b" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as stream:
            return stream.readline()
    except (OSError, EOFError) as error:
        raise DataError(f"{path}: cannot read ({error})") from None


def predict_file(
    model: SentimentModel,
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    *,
    text_column: str | None = None,
    progress: Progress | None = None,
) -> dict:
    """Write ``input_path``'s rows plus predictions to ``output_path``; return counts."""
    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise DataError(f"{input_path}: no such file")
    if output_path.resolve() == input_path.resolve():
        raise DataError(f"{output_path}: would overwrite the input; choose another output file")
    progress = progress or Progress(enabled=False)
    delimiter = sniff_delimiter(input_path, _first_line(input_path))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output_path.name}.", suffix=".tmp", dir=output_path.parent)
    out = os.fdopen(handle, "w", encoding="utf-8", newline="")  # closed by the `with` below, or on failure
    rows = unscored = 0
    try:
        reader = pd.read_csv(
            input_path, sep=delimiter, dtype=str, keep_default_na=False, chunksize=CHUNK_ROWS,
            quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL, encoding_errors="replace",
        )  # fmt: skip
        with out, reader, progress.task(f"Predicting {input_path.name}") as bar:
            column = None
            for chunk in reader:
                if column is None:
                    column = pick_column(chunk, text_column, TEXT_COLUMNS, "text", input_path)
                texts = chunk[column].fillna("").astype(str)
                scorable = (texts.str.strip() != "").to_numpy()
                labels = np.full(len(chunk), "", dtype=object)
                probability = np.full(len(chunk), "", dtype=object)
                if scorable.any():
                    proba = model.predict_proba(texts[scorable].tolist())
                    best = proba.argmax(axis=1)
                    labels[scorable] = model.classes_[best]
                    probability[scorable] = [f"{p:.6f}" for p in proba[np.arange(len(best)), best]]
                chunk["predicted_label"] = labels
                chunk["predicted_probability"] = probability
                chunk["prediction_note"] = np.where(scorable, "", "empty text")
                chunk.to_csv(out, index=False, header=rows == 0, sep=delimiter)
                rows += len(chunk)
                unscored += int((~scorable).sum())
                bar.advance(len(chunk), status=f"{rows:,} rows")
        if rows == 0:
            raise DataError(f"{input_path}: has a header but no rows")
        os.replace(temporary, output_path)
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as error:
        raise DataError(f"{input_path}: cannot read ({str(error).strip().splitlines()[-1]})") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{input_path}: the file is empty") from None
    finally:
        out.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return {"input": str(input_path), "output": str(output_path), "rows": rows, "unscored": unscored}
