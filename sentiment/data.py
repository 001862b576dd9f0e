"""Read review files into texts and normalised labels.

``load_reviews(path)`` reads a CSV or TSV file, optionally gzip-compressed,
finds the text and label columns (or takes the ones named), normalises labels
(1/0, pos/neg, positive/negative, true/false, ... become ``positive`` and
``negative``; anything else with a few distinct values stays as multi-class
labels), drops rows without text or label and says how many. A headerless
two-column ``text<TAB>label`` file (the UCI sentences) is recognised too.
Every problem is a ``DataError`` with one line saying what to do.

Built-in datasets are ``datasets.py``'s job; tokenizing is ``tokenize.py``'s.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sentiment.errors import DataError

__all__ = ["NEGATIVE", "POSITIVE", "Reviews", "load_reviews", "normalise_labels", "split_reviews"]

POSITIVE, NEGATIVE = "positive", "negative"
TEXT_COLUMNS = ("text", "review", "sentence", "content", "body", "comment", "document", "tweet", "message")
LABEL_COLUMNS = ("label", "sentiment", "polarity", "class", "target", "labels", "y")
_POSITIVE_SPELLINGS = {"1", "1.0", "+1", "+", "pos", "positive", "true", "t", "yes", "y", "good"}
_NEGATIVE_SPELLINGS = {"0", "0.0", "-1", "-", "neg", "negative", "false", "f", "no", "n", "bad"}
_MAX_CLASSES = 50


@dataclass
class Reviews:
    """Texts with their labels (``None`` for unlabelled data) and where they came from."""

    texts: list[str]
    labels: np.ndarray | None  # str labels, aligned with texts
    source: str = ""
    sha256: str = ""
    text_column: str = ""
    label_column: str | None = None
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> rows dropped
    notes: list[str] = field(default_factory=list)  # things the user should hear about

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def classes(self) -> list[str]:
        return [] if self.labels is None else sorted(set(self.labels.tolist()))


def load_reviews(
    path: str | os.PathLike,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    require_labels: bool = True,
) -> Reviews:
    """Read a review file (see the module docstring). ``require_labels=False`` reads unlabelled text."""
    path = Path(path)
    raw = _read_bytes(path)
    text = _decode(raw, path)
    table = _parse_table(text, path)
    text_col = pick_column(table, text_column, TEXT_COLUMNS, "text", path)
    label_col = pick_column(table, label_column, LABEL_COLUMNS, "label", path, required=require_labels)

    texts = table[text_col].fillna("").astype(str).str.replace(r"<br\s*/?>", " ", regex=True, case=False)
    keep = texts.str.strip() != ""
    dropped = {"empty text": int((~keep).sum())}
    labels = None
    if label_col is not None and require_labels:
        raw_labels = table[label_col].fillna("").astype(str).str.strip()
        has_label = raw_labels != ""
        dropped["missing label"] = int((keep & ~has_label).sum())
        keep &= has_label
    if not keep.any():
        raise DataError(f"{path}: no row has both a text and a label ({len(table):,} rows read)")
    if label_col is not None and require_labels:
        labels = normalise_labels(raw_labels[keep].to_numpy(), path)
    reviews = Reviews(
        texts=texts[keep].tolist(),
        labels=labels,
        source=str(path),
        sha256=hashlib.sha256(raw).hexdigest(),
        text_column=text_col,
        label_column=label_col if require_labels else None,
        dropped={reason: n for reason, n in dropped.items() if n},
    )
    for reason, n in reviews.dropped.items():
        reviews.notes.append(f"{path.name}: dropped {n:,} rows with {reason}")
    return reviews


def normalise_labels(values: np.ndarray, source: str | os.PathLike = "labels") -> np.ndarray:
    """Map the spellings of positive/negative to ``positive``/``negative``; keep other class names.

    >>> normalise_labels(np.array(["1", "0", "POS"])).tolist()
    ['positive', 'negative', 'positive']
    >>> normalise_labels(np.array(["1", "3", "5"])).tolist()
    ['1', '3', '5']
    """
    cleaned = np.char.lower(np.char.strip(np.asarray(values, dtype=str)))
    distinct = set(cleaned.tolist())
    if distinct <= _POSITIVE_SPELLINGS | _NEGATIVE_SPELLINGS and distinct & _POSITIVE_SPELLINGS:
        is_positive = np.isin(cleaned, list(_POSITIVE_SPELLINGS))
        return np.where(is_positive, POSITIVE, NEGATIVE).astype(object).astype(str)
    if len(distinct) > _MAX_CLASSES:
        raise DataError(
            f"{source}: the label column has {len(distinct):,} distinct values; expected a few classes "
            "(e.g. 1/0, pos/neg): pass --label-column"
        )
    return np.asarray(values, dtype=str)


def split_reviews(reviews: Reviews, test_size: float, seed: int) -> tuple[Reviews, Reviews]:
    """Stratified train/held-out split."""
    from sklearn.model_selection import train_test_split

    n_classes = len(reviews.classes)
    n_test = int(np.ceil(test_size * len(reviews))) if test_size < 1 else int(test_size)
    if not test_size > 0 or n_test < n_classes or len(reviews) - n_test < n_classes:
        raise DataError(
            f"{reviews.source}: {len(reviews):,} reviews are too few for a {test_size} held-out split "
            f"with {n_classes} classes: give more data or --test FILE"
        )
    counts = pd.Series(reviews.labels).value_counts()
    stratify = reviews.labels if counts.min() >= 2 else None
    index = np.arange(len(reviews))
    train_idx, test_idx = train_test_split(index, test_size=test_size, random_state=seed, stratify=stratify)
    return _subset(reviews, np.sort(train_idx)), _subset(reviews, np.sort(test_idx))


def _subset(reviews: Reviews, index: np.ndarray) -> Reviews:
    return Reviews(
        texts=[reviews.texts[i] for i in index],
        labels=None if reviews.labels is None else reviews.labels[index],
        source=reviews.source,
        sha256=reviews.sha256,
        text_column=reviews.text_column,
        label_column=reviews.label_column,
    )


# ---------------------------------------------------------------- reading


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a CSV or TSV file")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise DataError(f"{path}: the gzip file is corrupt or truncated ({error})") from None
    if not raw.strip():
        raise DataError(f"{path}: the file is empty")
    return raw


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\x00" in raw[:65536]:
        raise DataError(f"{path}: looks like a binary file, not CSV or TSV text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # Not UTF-8: latin-1 decodes any byte, and is what such review files usually are.
        return raw.decode("latin-1")


def _parse_table(text: str, path: Path) -> pd.DataFrame:
    delimiter = sniff_delimiter(path, text.split("\n", 1)[0])
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            quoting=quoting,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except pd.errors.ParserError as error:
        detail = str(error).strip().splitlines()[-1]
        raise DataError(
            f"{path}: not a well-formed {'TSV' if delimiter == chr(9) else 'CSV'} file ({detail})"
        ) from None
    columns = [str(c) for c in table.columns]
    lowered = [c.lower() for c in columns]
    if len(set(lowered)) != len(lowered) or any(c.rsplit(".", 1)[0].lower() in lowered for c in columns if "." in c):
        duplicates = sorted({c for c in lowered if lowered.count(c) > 1} or {c for c in columns if "." in c})
        raise DataError(f"{path}: duplicate column names {duplicates}: rename them")
    looks_like_data = lowered[-1].strip() in _POSITIVE_SPELLINGS | _NEGATIVE_SPELLINGS and not set(lowered) & set(
        TEXT_COLUMNS + LABEL_COLUMNS
    )
    if len(columns) == 2 and delimiter == "\t" and looks_like_data:
        # No header, as in the UCI sentence files (text<TAB>label): the first row is data.
        table = pd.read_csv(
            io.StringIO(text), sep=delimiter, header=None, names=["text", "label"], dtype=str,
            keep_default_na=False, na_values=[""], quoting=quoting, engine="c",
        )  # fmt: skip
    if table.empty:
        raise DataError(f"{path}: has a header but no rows")
    return table


def sniff_delimiter(path: Path, first_line: str) -> str:
    """Tab for .tsv/.txt files whose first line has a tab, or where tabs outnumber commas; else comma."""
    tab_suffix = path.name.lower().removesuffix(".gz").endswith((".tsv", ".txt", ".tab"))
    if "\t" in first_line and (tab_suffix or first_line.count("\t") > first_line.count(",")):
        return "\t"
    return ","


def pick_column(
    table: pd.DataFrame, wanted: str | None, candidates: tuple[str, ...], role: str, path: Path, required: bool = True
) -> str | None:
    """The column named ``wanted``, else the one candidate name present (case-insensitively).

    Several candidates are fine when they say the same thing (IMDB's ``label``
    1/0 and ``sentiment`` pos/neg); when they disagree the user must choose.
    """
    by_lower = {str(c).lower(): str(c) for c in table.columns}
    columns = list(map(str, table.columns))
    if wanted is not None:
        if wanted.lower() in by_lower:
            return by_lower[wanted.lower()]
        raise DataError(f"{path}: no column named {wanted!r}; columns are {columns}")
    found = [by_lower[name] for name in candidates if name in by_lower]
    if len(found) > 1:
        values = [table[c].fillna("").astype(str).str.strip() for c in found]
        if role == "label":
            values = [pd.Series(_normalise_or_none(v.to_numpy())) for v in values]
        if not all(v.equals(values[0]) for v in values[1:]):
            raise DataError(f"{path}: columns {found} could each hold the {role} and differ: pass --{role}-column")
    if found:
        return found[0]
    if not required:
        return None
    hint = ""
    if len(columns) == 1 and any(sep in columns[0] for sep in ";|"):
        hint = " (the file seems to use ';' or '|' between fields: save it with commas or tabs)"
    raise DataError(
        f"{path}: cannot tell which column holds the {role} (columns: {columns}){hint}: pass --{role}-column"
    )


def _normalise_or_none(values: np.ndarray):
    try:
        return normalise_labels(values[values != ""])
    except DataError:
        return values
