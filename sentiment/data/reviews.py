"""Read review files into texts and normalised labels.

``load_reviews(path)`` reads a CSV or TSV file, optionally gzip-compressed,
finds the text and label columns (or takes the ones named), normalises labels
only when the whole label set is one known binary pair (1/0, 1/-1, pos/neg,
true/false, ... become ``positive`` and ``negative``; anything else, -1/0/1
included, keeps every label as its own class) and records that mapping, drops
rows without text or label and says how many. A headerless two-column
``text<TAB>label`` file (the UCI sentences) is recognised too. The encoding is
chosen on evidence (``detect_encoding``), and so is the quoting of TSV files
(``sniff_quoting``). Every problem is a ``DataError`` with one line saying
what to do; every guess is a note.

Built-in datasets are ``datasets.py``'s job; tokenizing is ``tokenize.py``'s.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import hashlib
import io
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sentiment.errors import DataError

__all__ = [
    "NEGATIVE",
    "POSITIVE",
    "Encoding",
    "Reviews",
    "detect_encoding",
    "index_sha256",
    "is_headerless",
    "label_mapping",
    "load_reviews",
    "named_columns",
    "normalise_labels",
    "read_labels",
    "sniff_quoting",
    "split_indices",
    "split_reviews",
]

POSITIVE, NEGATIVE = "positive", "negative"
TEXT_COLUMNS = ("text", "review", "sentence", "content", "body", "comment", "document", "tweet", "message")
LABEL_COLUMNS = ("label", "sentiment", "polarity", "class", "target", "labels", "y")
_POSITIVE_SPELLINGS = {"1", "1.0", "+1", "+", "pos", "positive", "true", "t", "yes", "y", "good"}
_NEGATIVE_SPELLINGS = {"0", "0.0", "-1", "-", "neg", "negative", "false", "f", "no", "n", "bad"}
# The binary pairs whose spellings become positive/negative, and only when a file's whole label set is one
# of them: a file labelled -1/0/1 has a neutral class, and merging it into negative would change the task.
_BINARY_PAIRS = (
    ({"1", "1.0"}, {"0", "0.0"}),
    ({"1", "+1"}, {"-1"}),
    ({"pos"}, {"neg"}),
    ({"positive"}, {"negative"}),
    ({"true"}, {"false"}),
    ({"t"}, {"f"}),
    ({"yes"}, {"no"}),
    ({"y"}, {"n"}),
    ({"good"}, {"bad"}),
)
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
    raw_labels: np.ndarray | None = None  # the labels as spelled in the file (stripped), aligned with texts
    label_mapping: dict[str, str] = field(default_factory=dict)  # spelling -> class, as applied to ``labels``

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def classes(self) -> list[str]:
        return [] if self.labels is None else sorted(set(self.labels.tolist()))

    def rows(self, index) -> Reviews:
        """The reviews at ``index`` (row numbers), in that order, without notes."""
        return _subset(self, np.asarray(index, dtype=np.int64))

    def relabelled(self, mapping: dict[str, str] | None, classes) -> Reviews:
        """These reviews with labels read as a model with ``mapping`` and ``classes`` reads them.

        The copy's notes say only what the new reading changed.
        """
        if self.labels is None:
            return self
        raw = self.labels if self.raw_labels is None else self.raw_labels
        labels, note = read_labels(raw, mapping, classes)
        changed = not np.array_equal(labels, self.labels)
        copy = self.rows(np.arange(len(self)))
        copy.labels, copy.label_mapping = labels, dict(mapping or {})
        copy.dropped = dict(self.dropped)
        if changed and note:
            copy.notes.append(f"{Path(self.source).name}: {note}")
        return copy


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
    text, encoding_note = _decode(raw, path)
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
    mapping: dict[str, str] = {}
    spelled = None
    if label_col is not None and require_labels:
        spelled = raw_labels[keep].to_numpy().astype(str)
        mapping = label_mapping(spelled, path)
        labels, _ = read_labels(spelled, mapping, sorted(set(mapping.values())))
    reviews = Reviews(
        texts=texts[keep].tolist(),
        labels=labels,
        source=str(path),
        sha256=hashlib.sha256(raw).hexdigest(),
        text_column=text_col,
        label_column=label_col if require_labels else None,
        dropped={reason: n for reason, n in dropped.items() if n},
        raw_labels=spelled,
        label_mapping=mapping,
    )
    if encoding_note:
        reviews.notes.append(f"{path.name}: {encoding_note}")
    mapping_note = _describe_mapping(mapping)
    if mapping_note:
        reviews.notes.append(f"{path.name}: {mapping_note}")
    for reason, n in reviews.dropped.items():
        reviews.notes.append(f"{path.name}: dropped {n:,} rows with {reason}")
    return reviews


def normalise_labels(values: np.ndarray, source: str | os.PathLike = "labels") -> np.ndarray:
    """Labels as ``load_reviews`` reads them: see ``label_mapping``.

    >>> normalise_labels(np.array(["1", "0", " Yes"])).tolist()
    ['1', '0', 'Yes']
    >>> normalise_labels(np.array(["1", "0", "0.0"])).tolist()
    ['positive', 'negative', 'negative']
    """
    mapping = label_mapping(values, source)
    return read_labels(values, mapping, sorted(set(mapping.values())))[0]


def label_mapping(values, source: str | os.PathLike = "labels") -> dict[str, str]:
    """How a file's label spellings become classes, decided from its whole label set.

    Only a set that is one known binary pair (1/0, 1/-1, +1/-1, 1.0/0.0, pos/neg, positive/negative,
    true/false, t/f, yes/no, y/n, good/bad; case-insensitive, stripped) maps to ``positive``/``negative``;
    otherwise every label is its own class.

    >>> label_mapping(["1", "-1", "-1"])
    {'-1': 'negative', '1': 'positive'}
    >>> label_mapping(["-1", "0", "1"])
    {'-1': '-1', '0': '0', '1': '1'}
    """
    distinct = sorted(set(np.char.strip(np.asarray(values, dtype=str)).tolist()))
    cleaned = {value.lower() for value in distinct}
    for positive, negative in _BINARY_PAIRS:
        if cleaned <= positive | negative and cleaned & positive and cleaned & negative:
            return {value: POSITIVE if value in positive else NEGATIVE for value in sorted(cleaned)}
    if len(distinct) > _MAX_CLASSES:
        raise DataError(
            f"{source}: the label column has {len(distinct):,} distinct values; expected a few classes "
            "(e.g. 1/0, pos/neg): pass --label-column"
        )
    return {value: value for value in distinct}


def read_labels(values, mapping: dict[str, str] | None, classes) -> tuple[np.ndarray, str | None]:
    """Labels read with ``mapping`` (a model's), and a note on what was read how.

    A spelling is looked up as it is, then case-insensitively. With a positive/negative model, spellings the
    mapping lacks are read by the one known binary pair that holds all of the file's labels, so a file of
    0s scores against a 1/-1 model; ``mapping=None`` (a model from before mappings were stored) reads by
    that rule alone. Anything else stays as spelled, and is not among the model's classes.

    >>> read_labels(["0", "0"], {"1": "positive", "0": "negative"}, ["negative", "positive"])[0].tolist()
    ['negative', 'negative']
    >>> read_labels(["-1", "0", "1"], {"1": "positive", "0": "negative"}, ["negative", "positive"])[0].tolist()
    ['-1', 'negative', 'positive']
    """
    stripped = pd.Series(np.char.strip(np.asarray(values, dtype=str)), dtype=object)
    distinct = sorted(set(stripped.tolist()))
    lowered = {key.lower(): value for key, value in (mapping or {}).items()}
    pair = None
    if set(map(str, classes)) == {POSITIVE, NEGATIVE}:
        cleaned = {value.lower() for value in distinct}
        pair = next(((pos, neg) for pos, neg in _BINARY_PAIRS if cleaned <= pos | neg), None)
    read = {}
    for value in distinct:
        if mapping is not None and value in mapping:
            read[value] = mapping[value]
        elif value.lower() in lowered:
            read[value] = lowered[value.lower()]
        elif pair is not None:
            read[value] = POSITIVE if value.lower() in pair[0] else NEGATIVE
        else:
            read[value] = value
    shown = [f"{value} -> {read[value]}" for value in distinct[:10] if read[value] != value]
    note = f"labels read as the model reads them: {', '.join(shown)}" if shown else None
    return stripped.map(read).to_numpy(dtype=str), note


def _describe_mapping(mapping: dict[str, str]) -> str | None:
    """A note on a file's label mapping when it is not self-evident."""
    if set(mapping.values()) == {POSITIVE, NEGATIVE}:
        if all(key == value for key, value in mapping.items()):
            return None
        return "labels read as " + ", ".join(f"{key} -> {value}" for key, value in mapping.items())
    cleaned = {key.lower() for key in mapping}
    if len(mapping) > 1 and cleaned <= _POSITIVE_SPELLINGS | _NEGATIVE_SPELLINGS:
        # Spellings of positive and negative that are not one pair (-1/0/1): say that each stays a class.
        return f"labels {'/'.join(mapping)} are not one positive/negative pair: kept as {len(mapping)} classes"
    return None


def split_reviews(reviews: Reviews, test_size: float, seed: int) -> tuple[Reviews, Reviews]:
    """Stratified train/held-out split."""
    train_idx, test_idx = split_indices(reviews, test_size, seed)
    return _subset(reviews, train_idx), _subset(reviews, test_idx)


def index_sha256(index) -> str:
    """A fingerprint of row numbers, to check that a split was reproduced exactly."""
    return hashlib.sha256(np.asarray(index, dtype="<i8").tobytes()).hexdigest()


def split_indices(reviews: Reviews, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted row indices of ``split_reviews``'s two parts (the same rows for the same reviews and seed)."""
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
    return np.sort(train_idx), np.sort(test_idx)


def _subset(reviews: Reviews, index: np.ndarray) -> Reviews:
    return Reviews(
        texts=[reviews.texts[i] for i in index],
        labels=None if reviews.labels is None else reviews.labels[index],
        source=reviews.source,
        sha256=reviews.sha256,
        text_column=reviews.text_column,
        label_column=reviews.label_column,
        raw_labels=None if reviews.raw_labels is None else reviews.raw_labels[index],
        label_mapping=reviews.label_mapping,
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


# A file is UTF-8 when its non-ASCII bytes are valid UTF-8 apart from a few stray bytes: at most
# _STRAY_COUNT of them, or _STRAY_SHARE of the non-ASCII bytes if that is more, and outnumbered at least
# _STRAY_MARGIN to one by bytes of valid UTF-8 characters. Text in a legacy 8-bit encoding is almost never
# valid UTF-8 by accident, so its bytes fail this test wholesale (one "café" in Latin-1 is 1 stray of 1).
_STRAY_COUNT, _STRAY_SHARE, _STRAY_MARGIN = 10, 0.001, 10
_STRAY = re.compile("[\udc80-\udcff]")  # how surrogateescape spells a byte that is not UTF-8


@dataclass
class Encoding:
    """How a file's bytes become text, chosen by ``detect_encoding``.

    ``codec`` with ``errors`` decodes the bytes after ``bom`` and encodes them back byte for byte
    (``surrogateescape`` keeps stray bytes of a UTF-8 file as lone surrogates); ``clean`` turns such
    surrogates into U+FFFD for reading.
    """

    codec: str
    bom: bytes = b""
    errors: str = "strict"
    stray_bytes: int = 0
    note: str | None = None

    def clean(self, text: str) -> str:
        return _STRAY.sub("\ufffd", text) if self.stray_bytes else text


def detect_encoding(chunks) -> Encoding:
    """The encoding of a file given as an iterable of byte chunks (read once, in order).

    UTF-16 needs its byte-order mark; a UTF-8 one is skipped. UTF-8 allows a few stray bytes (see
    ``_STRAY_COUNT``), replaced and counted in the note; anything else is cp1252 (Windows' superset of
    Latin-1), or Latin-1 when cp1252 leaves a byte undefined.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    cp1252 = codecs.getincrementaldecoder("cp1252")()
    bom, first, non_ascii, stray, cp1252_ok = None, True, 0, 0, True
    for chunk in chunks:
        if first:
            first = False
            if chunk.startswith(codecs.BOM_UTF16_LE):
                return Encoding("utf-16-le", codecs.BOM_UTF16_LE, "surrogatepass")
            if chunk.startswith(codecs.BOM_UTF16_BE):
                return Encoding("utf-16-be", codecs.BOM_UTF16_BE, "surrogatepass")
            if chunk.startswith(codecs.BOM_UTF8):
                bom, chunk = codecs.BOM_UTF8, chunk[3:]
        non_ascii += len(chunk) - len(chunk.translate(None, _HIGH_BYTES))
        stray += len(_STRAY.findall(decoder.decode(chunk)))
        if cp1252_ok:
            try:
                cp1252.decode(chunk)
            except UnicodeDecodeError:
                cp1252_ok = False
    stray += len(_STRAY.findall(decoder.decode(b"", final=True)))
    bom = bom or b""
    if not stray:
        return Encoding("utf-8", bom)
    if stray <= max(_STRAY_COUNT, _STRAY_SHARE * non_ascii) and non_ascii - stray >= _STRAY_MARGIN * stray:
        note = f"{stray:,} bytes are not valid UTF-8 and were replaced with U+FFFD (the rest is UTF-8)"
        return Encoding("utf-8", bom, "surrogateescape", stray, note)
    codec = "cp1252" if cp1252_ok else "latin-1"
    note = f"not UTF-8 ({stray:,} of {non_ascii:,} non-ASCII bytes are not): read as {codec}"
    return Encoding(codec, bom, note=note)


_HIGH_BYTES = bytes(range(128, 256))


def _decode(raw: bytes, path: Path) -> tuple[str, str | None]:
    """The text of a whole file and a note on its encoding, if it needed a guess."""
    if b"\x00" in raw[:65536] and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError(f"{path}: looks like a binary file, not CSV or TSV text")
    encoding = detect_encoding([raw])
    text = raw[len(encoding.bom) :].decode(encoding.codec, encoding.errors)
    return encoding.clean(text), encoding.note


def _parse_table(text: str, path: Path) -> pd.DataFrame:
    delimiter = sniff_delimiter(path, text.split("\n", 1)[0])
    quoting = sniff_quoting(text, delimiter)
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
    if is_headerless(columns, delimiter):
        # No header, as in the UCI sentence files (text<TAB>label): the first row is data.
        table = pd.read_csv(
            io.StringIO(text), sep=delimiter, header=None, names=["text", "label"], dtype=str,
            keep_default_na=False, na_values=[""], quoting=quoting, engine="c",
        )  # fmt: skip
    if table.empty:
        raise DataError(f"{path}: has a header but no rows")
    return table


def sniff_quoting(text, delimiter: str) -> int:
    r"""``csv.QUOTE_MINIMAL`` for CSV, and for TSV whose quoted fields are well-formed; else ``QUOTE_NONE``.

    Python's csv module writes TSV with quoted fields (doubled quotes, embedded newlines); the UCI sentence
    files have unbalanced quotes that would swallow rows. A TSV is read with quotes when some field starts
    with one and a strict parse with quotes succeeds with the header's column count on every row.

    >>> sniff_quoting('text\tlabel\n"new "" conan "\t1\n', "\t") == csv.QUOTE_MINIMAL
    True
    >>> sniff_quoting('text\tlabel\n" But "Storm" is bad.\t0\n', "\t") == csv.QUOTE_NONE
    True

    ``text`` is the whole text, or an iterable of its lines (read once) for files too big to hold.
    """
    if delimiter != "\t":
        return csv.QUOTE_MINIMAL
    if isinstance(text, str):
        if not re.search(r'(?:^|\t)"', text, flags=re.MULTILINE):
            return csv.QUOTE_NONE  # no field starts with a quote: both readings agree
        text = io.StringIO(text, newline="")
    try:
        with _no_field_size_limit():
            widths = {len(row) for row in csv.reader(text, delimiter="\t", strict=True) if row}
    except csv.Error:
        return csv.QUOTE_NONE
    return csv.QUOTE_MINIMAL if len(widths) == 1 else csv.QUOTE_NONE


@contextlib.contextmanager
def _no_field_size_limit():
    """csv refuses fields over 128 KiB by default; a review may be longer (the C limit is the real one)."""
    previous = csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def is_headerless(first_row: list[str], delimiter: str) -> bool:
    """Whether a first row is data, as in the UCI sentence files: two tab-separated fields, the last a label."""
    lowered = [str(c).strip().lower() for c in first_row]
    looks_like_data = bool(lowered) and lowered[-1] in _POSITIVE_SPELLINGS | _NEGATIVE_SPELLINGS
    return (
        len(lowered) == 2
        and delimiter == "\t"
        and looks_like_data
        and not set(lowered) & set(TEXT_COLUMNS + LABEL_COLUMNS)
    )


def sniff_delimiter(path: Path, first_line: str) -> str:
    """Tab for .tsv/.txt files whose first line has a tab, or where tabs outnumber commas; else comma."""
    tab_suffix = path.name.lower().removesuffix(".gz").endswith((".tsv", ".txt", ".tab"))
    if "\t" in first_line and (tab_suffix or first_line.count("\t") > first_line.count(",")):
        return "\t"
    return ","


def named_columns(columns: list[str], wanted: str | None, candidates: tuple[str, ...], path: Path) -> list[str]:
    """``[wanted]`` as the table spells it (any case; a ``DataError`` if absent), else the candidates present.

    >>> named_columns(["ID", "Review"], None, ("text", "review"), Path("t.csv"))
    ['Review']
    """
    by_lower = {str(c).lower(): str(c) for c in columns}
    if wanted is None:
        return [by_lower[name] for name in candidates if name in by_lower]
    if wanted.lower() not in by_lower:
        raise DataError(f"{path}: no column named {wanted!r}; columns are {list(map(str, columns))}")
    return [by_lower[wanted.lower()]]


def pick_column(
    table: pd.DataFrame, wanted: str | None, candidates: tuple[str, ...], role: str, path: Path, required: bool = True
) -> str | None:
    """The column named ``wanted``, else the one candidate name present (case-insensitively).

    Several candidates are fine when they say the same thing (IMDB's ``label``
    1/0 and ``sentiment`` pos/neg); when they disagree the user must choose.
    """
    columns = list(map(str, table.columns))
    found = named_columns(columns, wanted, candidates, path)
    if wanted is not None:
        return found[0]
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
