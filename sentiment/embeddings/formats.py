"""Pretrained word vectors from the formats people have: read with the format detected, written atomically.

``read_vectors(path)`` reads word2vec text (``WORDS DIMENSIONS`` header, one
word and its numbers per line), word2vec.c's binary format, fastText ``.vec``
(word2vec text with a header, so read the same way) and GloVe ``.txt`` (no
header: the dimensions are the numbers on the first line, the words the
lines). The format is told from the bytes, not the name: a header line of two
integers, then whether the first row is text or raw float32s. Anything else
(a pickle, an ``.npy``, a CSV, a gzip file) is refused with one line naming
the formats read, and so are truncated files, headers that promise more than
the file holds (checked before allocating, as ``vectors.py`` does), rows of the
wrong length, duplicate words and values that are not finite. Nothing is ever
unpickled.

``write_vectors`` writes word2vec text or binary through a temporary file
renamed into place, replacing an existing file only when asked
(``outputs.py``'s rule). ``WordVectors`` itself is ``vectors.py``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment.embeddings.vectors import WordVectors, _read_binary_rows, _read_header, _read_text_rows
from sentiment.errors import ModelError
from sentiment.outputs import apply_umask, check_output_file

__all__ = ["FORMATS", "Pretrained", "load_pretrained", "read_vectors", "write_vectors"]

FORMATS = {
    "word2vec-binary": "word2vec binary",
    "word2vec-text": "word2vec text",
    "fasttext-vec": "fastText .vec",
    "glove": "GloVe text (no header)",
}
_WHAT_IS_READ = "expected word2vec text or binary (first line 'WORDS DIMENSIONS'), fastText .vec or GloVe .txt"


@dataclass
class Pretrained:
    """Fixed word vectors and where they came from (recorded in a model's meta.json)."""

    wv: WordVectors
    source: str
    format: str
    sha256: str

    def describe(self) -> dict:
        return {"source": self.source, "format": FORMATS[self.format], "sha256": self.sha256,
                "words": len(self.wv), "vector_size": self.wv.vector_size}  # fmt: skip


def load_pretrained(path: str | os.PathLike) -> Pretrained:
    """``read_vectors`` plus the file's name and sha256."""
    wv, kind = read_vectors(path)
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return Pretrained(wv, str(path), kind, digest.hexdigest())


def detect_format(path: str | os.PathLike) -> str:
    """One of ``FORMATS``, from the first two lines of the file; ``ModelError`` for anything else."""
    path = Path(path)
    first, second = _first_lines(path)
    if first.startswith(b"\x1f\x8b"):
        raise ModelError(f"{path}: is gzip-compressed; decompress it first (gunzip), {_WHAT_IS_READ}")
    parts = first.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        n_words, dim = int(parts[0]), int(parts[1])
        if n_words == 0 or dim == 0:
            raise ModelError(f"{path}: header gives {n_words} words x {dim} dimensions; no vectors to use")
        if _is_text_row(second):
            return "fasttext-vec" if path.suffix.lower() == ".vec" else "word2vec-text"
        return "word2vec-binary"
    if _is_text_row(first) and len(first.split()) >= 3:
        return "glove"
    raise ModelError(f"{path}: not a word-vector file; {_WHAT_IS_READ}")


def read_vectors(path: str | os.PathLike) -> tuple[WordVectors, str]:
    """The vectors in ``path`` and the format they were read in (a key of ``FORMATS``)."""
    path = Path(path)
    kind = detect_format(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as stream:
            if kind == "glove":
                dim = len(stream.readline().split()) - 1
                stream.seek(0)
                n_words = sum(1 for line in stream if line.strip())
                stream.seek(0)
                words, vectors = _read_text_rows(_non_blank(stream), n_words, dim, path, first_line=1)
            else:
                n_words, dim = _read_header(stream.readline(), path)
                min_row_bytes = 4 * dim + 2 if kind == "word2vec-binary" else 2 * dim + 2
                if n_words * min_row_bytes > size:
                    raise ModelError(
                        f"{path}: header claims {n_words:,} words x {dim:,} dimensions, "
                        f"more than a {size:,}-byte file can hold"
                    )
                reader = _read_binary_rows if kind == "word2vec-binary" else _read_text_rows
                words, vectors = reader(stream, n_words, dim, path)
    except OSError as error:
        raise ModelError(f"cannot read vectors file {path}: {error.strerror or error}") from None
    if not np.isfinite(vectors).all():
        raise ModelError(f"{path}: holds values that are not finite numbers (NaN or infinity)")
    try:
        return WordVectors(words, vectors), kind
    except ModelError as error:
        raise ModelError(f"{path}: {error}") from None


def write_vectors(wv: WordVectors, path: str | os.PathLike, *, binary: bool = True, overwrite: bool = False) -> Path:
    """Write word2vec binary (or text) to ``path`` via a temporary sibling renamed into place."""
    path = check_output_file(path, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        wv.save_word2vec_format(temporary, binary=binary)
        apply_umask(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _first_lines(path: Path) -> tuple[bytes, bytes]:
    try:
        if path.is_dir():
            raise ModelError(f"{path}: is a directory; {_WHAT_IS_READ}")
        with open(path, "rb") as stream:
            head = stream.read(1 << 20)
    except FileNotFoundError:
        raise ModelError(f"{path}: no such file") from None
    except OSError as error:
        raise ModelError(f"cannot read vectors file {path}: {error.strerror or error}") from None
    if not head.strip():
        raise ModelError(f"{path}: the file is empty; {_WHAT_IS_READ}")
    first, _, rest = head.partition(b"\n")
    return first.rstrip(b"\r"), rest.partition(b"\n")[0].rstrip(b"\r")


def _is_text_row(line: bytes) -> bool:
    """A word followed by one or more decimal numbers, as text."""
    parts = line.split()
    if len(parts) < 2:
        return False
    try:
        line.decode("utf-8")
        [float(p) for p in parts[1:]]
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def _non_blank(stream):
    """A readline-able view of ``stream`` that skips blank lines (GloVe files may end with one)."""

    class _Lines:
        def readline(self):
            while True:
                line = stream.readline()
                if not line or line.strip():
                    return line

    return _Lines()
