"""Review data: reading review files into texts and labels (``reviews.py``) and built-in datasets (``datasets.py``).

Nothing here tokenizes or trains: it hands ``Reviews`` (texts, labels, where
they came from, what was dropped and why) to the layers above.
"""

__all__ = ["Reviews", "load_reviews"]


def __getattr__(name: str):
    """``Reviews`` and ``load_reviews`` on first use: importing ``sentiment.data.<module>`` needs no pandas."""
    if name in __all__:
        from sentiment.data import reviews

        return getattr(reviews, name)
    raise AttributeError(f"module 'sentiment.data' has no attribute {name!r}")
