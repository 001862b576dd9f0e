"""Review data: reading review files into texts and labels (``reviews.py``) and built-in datasets (``datasets.py``).

Nothing here tokenizes or trains: it hands ``Reviews`` (texts, labels, where
they came from, what was dropped and why) to the layers above.
"""

from sentiment.data.reviews import Reviews, load_reviews

__all__ = ["Reviews", "load_reviews"]
