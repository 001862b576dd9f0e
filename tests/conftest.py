"""Shared fixtures: where the real third-party data lives, and small real corpora.

Tests marked ``shared_data`` need ``../shared/data`` (or ``SENTIMENT_SHARED_DATA``).
Outside CI they skip with a reason when it is absent; in CI (``CI`` set) its
absence is a failure, so those tests can never be skipped silently there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    candidate = Path(os.environ.get("SENTIMENT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return candidate if (candidate / "imdb").is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    found = shared_data_dir()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the real-data tests but ../shared/data is missing")
        pytest.skip("../shared/data (real datasets) is not here; set SENTIMENT_SHARED_DATA to run these tests")
    return found


@pytest.fixture(scope="session")
def imdb_unsup_tokens(shared_data) -> list[list[str]]:
    """The first 3,000 IMDB unlabelled reviews, tokenized (about 700k tokens)."""
    import pandas as pd

    from sentiment.tokenize import tokenize_all

    table = pd.read_csv(shared_data / "imdb" / "imdb_unsup.csv.gz", nrows=3000)
    return tokenize_all(table["text"])
