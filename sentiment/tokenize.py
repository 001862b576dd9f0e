"""The one tokenizer that both feature paths (SGNS embeddings and one-hot) share.

Lower-cases, drops HTML tags such as ``<br />``, and keeps runs of letters and
digits (with inner apostrophes, so "don't" stays one token) plus ``!`` and
``?``, which carry sentiment. It does no stemming, stop-word removal or
sentence splitting: averaged embeddings and logistic regression do not need it.

>>> tokenize("A <br />wonderful, moving film! Don't miss it.")
['a', 'wonderful', 'moving', 'film', '!', "don't", 'miss', 'it']
"""

from __future__ import annotations

import re

__all__ = ["tokenize", "tokenize_all"]

_HTML_TAG = re.compile(r"<[^>]{0,100}>")
# \w is Unicode-aware, so accented words ("café", "naïve") stay whole.
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[!?]")


def tokenize(text: str) -> list[str]:
    """Split one review into lower-case tokens (see the module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize expects a string, got {type(text).__name__}")
    return _TOKEN.findall(_HTML_TAG.sub(" ", text.lower()))


def tokenize_all(texts) -> list[list[str]]:
    """Tokenize an iterable of texts; a bare string is refused (it is one text, not many)."""
    if isinstance(texts, str):
        raise TypeError("expected an iterable of texts, got a single string")
    return [tokenize(text) for text in texts]
