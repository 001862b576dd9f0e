"""The one tokenizer that both feature paths (SGNS embeddings and one-hot) share.

Lower-cases, drops HTML tags such as ``<br />``, and keeps runs of letters and
digits (with inner apostrophes, so "don't" stays one token) plus ``!`` and
``?``, which carry sentiment. It does no stemming, stop-word removal or
sentence splitting: averaged embeddings and logistic regression do not need it.

>>> tokenize("A <br />wonderful, moving film! Don't miss it.")
['a', 'wonderful', 'moving', 'film', '!', "don't", 'miss', 'it']
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator

import numpy as np

__all__ = ["iter_tokens", "known_ids", "token_spans", "tokenize", "tokenize_all"]

_HTML_TAG = re.compile(r"<[^>]{0,100}>")
# \w is Unicode-aware, so accented words ("café", "naïve") stay whole.
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[!?]")
# The ASCII fast path (most reviews): lower-case and blank out everything but letters, digits, ' ! ? in one
# `str.translate`, space out ! and ?, blank the apostrophes that are not between two letters or digits, split.
# Exactly _TOKEN's tokens on ASCII text (tests/test_tokenize.py holds the two against each other), twice as fast.
_ASCII_KEEP = frozenset("abcdefghijklmnopqrstuvwxyz0123456789'!?")
_ASCII_TABLE = str.maketrans({chr(i): c if (c := chr(i).lower()) in _ASCII_KEEP else " " for i in range(128)})
_LONE_APOSTROPHE = re.compile(r"'(?<![a-z0-9]')|'(?![a-z0-9])")


def tokenize(text: str) -> list[str]:
    """Split one review into lower-case tokens (see the module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize expects a string, got {type(text).__name__}")
    if not text.isascii():
        return _TOKEN.findall(_HTML_TAG.sub(" ", text.lower()))
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    text = text.translate(_ASCII_TABLE)
    if "!" in text:
        text = text.replace("!", " ! ")
    if "?" in text:
        text = text.replace("?", " ? ")
    if "'" in text:
        text = _LONE_APOSTROPHE.sub(" ", text)
    return text.split()


def iter_tokens(text: str) -> Iterator[str]:
    """``tokenize(text)``'s tokens one at a time, found only as far as they are read (cheap to stop early).

    >>> next(iter_tokens("<p>Great fun, really"))
    'great'
    """
    if not isinstance(text, str):
        raise TypeError(f"iter_tokens expects a string, got {type(text).__name__}")
    return (match.group() for match in _TOKEN.finditer(_HTML_TAG.sub(" ", text.lower())))


def known_ids(token_lists: list[list[str]], vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The document number and vocabulary index of every known token, in order (unknown tokens left out).

    Shared by the count matrices of the features and the lean scorer; map/chain iterate in C, so a token
    costs one dict lookup and no Python frame.

    >>> known_ids([["good", "xyz", "bad"], [], ["good"]], {"good": 0, "bad": 1})
    (array([0, 0, 2]), array([0, 1, 0]))
    """
    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    ids = np.fromiter(
        map(vocabulary.get, itertools.chain.from_iterable(token_lists), itertools.repeat(-1)),
        dtype=np.int64,
        count=int(lengths.sum()),
    )
    rows = np.repeat(np.arange(len(token_lists)), lengths)
    known = ids >= 0
    return rows[known], ids[known]


def tokenize_all(texts) -> list[list[str]]:
    """Tokenize an iterable of texts; a bare string is refused (it is one text, not many)."""
    if isinstance(texts, str):
        raise TypeError("expected an iterable of texts, got a single string")
    return [tokenize(text) for text in texts]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """``tokenize(text)``'s tokens, each with its start and end offset in ``text`` (for highlighting).

    The tokens are exactly ``tokenize``'s; ``text[start:end]`` is the token as written (before lower-casing).

    >>> token_spans("A <b>GREAT</b> film!")
    [('a', 0, 1), ('great', 5, 10), ('film', 15, 19), ('!', 19, 20)]
    """
    if not isinstance(text, str):
        raise TypeError(f"token_spans expects a string, got {type(text).__name__}")
    lowered = text.lower()
    # Where each character of `lowered` came from: lower() may lengthen a character ("İ" -> "i̇").
    origin = None if len(lowered) == len(text) else [i for i, c in enumerate(text) for _ in c.lower()]
    # Rebuild `_HTML_TAG.sub(" ", lowered)` piece by piece, remembering where each piece starts in `lowered`.
    pieces, clean_starts, lowered_starts, position, length = [], [], [], 0, 0
    for tag in _HTML_TAG.finditer(lowered):
        for piece, start in ((lowered[position : tag.start()], position), (" ", tag.start())):
            pieces.append(piece)
            clean_starts.append(length)
            lowered_starts.append(start)
            length += len(piece)
        position = tag.end()
    pieces.append(lowered[position:])
    clean_starts.append(length)
    lowered_starts.append(position)
    spans = []
    for match in _TOKEN.finditer("".join(pieces)):
        piece = bisect.bisect_right(clean_starts, match.start()) - 1  # a token never spans a tag's space
        start = lowered_starts[piece] + match.start() - clean_starts[piece]
        end = start + len(match.group())
        if origin is not None:
            start, end = origin[start], origin[end - 1] + 1
        spans.append((match.group(), start, end))
    return spans
