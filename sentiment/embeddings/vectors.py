"""``WordVectors``: trained word vectors, queried and stored in word2vec's formats.

Lookup (``wv["film"]``, ``"film" in wv``), cosine ``most_similar`` and the
plain word2vec text and binary formats, which gensim's
``KeyedVectors.load_word2vec_format`` and word2vec.c read and write. Loading a
file checks its header against the file size before allocating anything, so a
damaged or hostile header cannot exhaust memory. Evaluation on analogy and
similarity sets is in ``intrinsic.py``; training is in ``word2vec.py``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sentiment.errors import ModelError

__all__ = ["WordVectors"]


class WordVectors:
    """A vocabulary (most frequent first) and one float32 vector per word."""

    def __init__(self, index_to_key: list[str], vectors: np.ndarray, counts: np.ndarray | None = None):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(index_to_key):
            raise ModelError(f"{len(index_to_key)} words but vectors of shape {vectors.shape}")
        self.index_to_key = list(index_to_key)
        self.key_to_index = {word: i for i, word in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ModelError("the vocabulary lists a word twice")
        self.vectors = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self._unit_vectors: np.ndarray | None = None

    # ------------------------------------------------------------- lookup

    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word: str) -> bool:
        return word in self.key_to_index

    def __getitem__(self, word: str) -> np.ndarray:
        try:
            return self.vectors[self.key_to_index[word]]
        except KeyError:
            raise KeyError(f"word {word!r} not in vocabulary") from None

    @property
    def unit_vectors(self) -> np.ndarray:
        """Rows scaled to unit length (zero rows stay zero), computed once."""
        if self._unit_vectors is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit_vectors = self.vectors / np.maximum(norms, np.finfo(np.float32).tiny)
        return self._unit_vectors

    def most_similar(
        self,
        positive: str | Iterable[str] = (),
        negative: str | Iterable[str] = (),
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """Words nearest by cosine to the mean of ``positive`` minus ``negative`` unit vectors.

        As gensim's: the query words themselves are left out, and
        ``restrict_vocab`` looks only at the most frequent words.
        """
        positive = [positive] if isinstance(positive, str) else list(positive)
        negative = [negative] if isinstance(negative, str) else list(negative)
        query_words = positive + negative
        if not query_words:
            raise ValueError("most_similar needs at least one word")
        missing = [w for w in query_words if w not in self]
        if missing:
            raise KeyError(f"word {missing[0]!r} not in vocabulary")
        unit = self.unit_vectors
        query = sum(unit[self.key_to_index[w]] for w in positive) - sum(
            (unit[self.key_to_index[w]] for w in negative), np.zeros(self.vector_size, np.float32)
        )
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        candidates = unit if restrict_vocab is None else unit[:restrict_vocab]
        sims = candidates @ query
        for word in query_words:
            index = self.key_to_index[word]
            if index < len(sims):
                sims[index] = -np.inf
        topn = min(topn, int(np.isfinite(sims).sum()))
        best = np.argpartition(-sims, topn - 1)[:topn] if topn > 0 else np.array([], dtype=int)
        best = best[np.argsort(-sims[best], kind="stable")]
        return [(self.index_to_key[i], float(sims[i])) for i in best]

    # ---------------------------------------------------------------- I/O

    def save_word2vec_format(self, path: str | os.PathLike, binary: bool = False) -> None:
        """Write the word2vec text format (``binary=False``) or word2vec.c's binary format."""
        for word in self.index_to_key:
            if not word or any(ch.isspace() for ch in word):
                raise ModelError(f"word {word!r} cannot be stored in word2vec format (empty or has whitespace)")
        with open(path, "wb") as out:
            out.write(f"{len(self)} {self.vector_size}\n".encode())
            little_endian = self.vectors.astype("<f4")
            for word, row in zip(self.index_to_key, little_endian, strict=True):
                if binary:
                    out.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
                else:
                    out.write(f"{word} {' '.join(repr(float(v)) for v in row)}\n".encode())

    @classmethod
    def load_word2vec_format(cls, path: str | os.PathLike, binary: bool = False) -> WordVectors:
        """Read a word2vec text or binary file (ours, gensim's or word2vec.c's)."""
        path = Path(path)
        try:
            size = path.stat().st_size
            with open(path, "rb") as stream:
                n_words, dim = _read_header(stream.readline(), path)
                # A row needs at least dim bytes (text: a digit and a space each; binary: 4 each).
                min_row_bytes = 4 * dim + 2 if binary else 2 * dim + 2
                if n_words * min_row_bytes > size:
                    raise ModelError(
                        f"{path}: header claims {n_words:,} words x {dim:,} dimensions, "
                        f"more than a {size:,}-byte file can hold"
                    )
                reader = _read_binary_rows if binary else _read_text_rows
                words, vectors = reader(stream, n_words, dim, path)
        except OSError as error:
            raise ModelError(f"cannot read vectors file {path}: {error.strerror or error}") from None
        return cls(words, vectors)


def _read_header(line: bytes, path: Path) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ModelError(f"{path}: not a word2vec file (first line should be 'WORDS DIMENSIONS')")
    n_words, dim = int(parts[0]), int(parts[1])
    if dim < 1:
        raise ModelError(f"{path}: header gives {dim} dimensions")
    return n_words, dim


def _read_text_rows(stream, n_words: int, dim: int, path: Path, first_line: int = 2) -> tuple[list[str], np.ndarray]:
    words: list[str] = []
    vectors = np.empty((n_words, dim), dtype=np.float32)
    for row in range(n_words):
        line = stream.readline()
        if not line:
            raise ModelError(f"{path}: header promises {n_words:,} words but the file ends after {row:,}")
        parts = line.rstrip(b"\r\n").split(b" ")
        if parts and parts[-1] == b"":
            parts.pop()  # word2vec.c leaves a space before the newline
        if len(parts) != dim + 1:
            raise ModelError(f"{path}: line {row + first_line} has {len(parts) - 1} values, expected {dim}")
        words.append(_decode_word(parts[0], path, row))
        try:
            vectors[row] = np.array(parts[1:], dtype=np.float32)
        except ValueError:
            raise ModelError(f"{path}: line {row + first_line} has a value that is not a number") from None
    return words, vectors


def _read_binary_rows(stream, n_words: int, dim: int, path: Path) -> tuple[list[str], np.ndarray]:
    """Each row is ``word SPACE <dim little-endian float32>`` (then a newline, skipped before the next word).

    The rest of the file is read at once (its size was checked against the header) and cut with
    ``bytes.find``: reading it a byte at a time made loading a 300-dimensional model a large part of a
    one-text ``sentiment predict``.
    """
    data = stream.read()
    fast = _binary_rows_at_once(data, n_words, dim)
    if fast is not None:
        words, vectors = fast
        return [_decode_word(word, path, row) for row, word in enumerate(words)], vectors
    view = memoryview(data)
    words: list[str] = []
    row_bytes = 4 * dim
    rows = bytearray(n_words * row_bytes)  # the vectors' bytes, copied row by row (memcpy), read as float32 once
    position, end = 0, len(data)
    find, decode = data.find, _decode_word
    for row in range(n_words):
        while position < end and data[position] == 0x0A:  # the newline after the previous vector, if any
            position += 1
        space = find(b" ", position, min(end, position + 10_001))
        if space < 0:
            if end - position > 10_000:
                raise ModelError(f"{path}: word {row + 1} is longer than 10,000 bytes; the file is damaged")
            raise ModelError(f"{path}: header promises {n_words:,} words but the file ends after {row:,}")
        start = space + 1
        if start + row_bytes > end:
            raise ModelError(f"{path}: header promises {n_words:,} words but the file ends inside word {row + 1}")
        words.append(decode(data[position:space], path, row))
        rows[row * row_bytes : (row + 1) * row_bytes] = view[start : start + row_bytes]
        position = start + row_bytes
    vectors = np.frombuffer(rows, dtype="<f4").astype(np.float32, copy=False).reshape(n_words, dim)
    return words, vectors


def _binary_rows_at_once(data: bytes, n_words: int, dim: int) -> tuple[list[bytes], np.ndarray] | None:
    """Every row found by one regular expression scan (in C), if they fill ``data`` exactly; else None.

    The row-by-row reader above then reads the file again and says where it is damaged.
    """
    row = re.compile(rb"\n*([^ \n][^ ]{0,9999}) (.{%d})" % (4 * dim), re.DOTALL)
    matches = list(row.finditer(data))
    end = matches[-1].end() if matches else 0
    if len(matches) != n_words or sum(m.end() - m.start() for m in matches) != end or data[end:].strip(b"\n"):
        return None  # a gap (a damaged row), or more or less than the header says
    vectors = np.frombuffer(b"".join(m.group(2) for m in matches), dtype="<f4").astype(np.float32, copy=False)
    return [m.group(1) for m in matches], vectors.reshape(n_words, dim)


def _decode_word(raw: bytes, path: Path, row: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelError(f"{path}: word {row + 1} is not valid UTF-8") from None
