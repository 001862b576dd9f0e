"""The exceptions the library raises for problems a user can fix.

The CLI turns every ``SentimentError`` into one line on stderr and exit status 1;
anything else is a bug and keeps its traceback. Nothing here knows about the CLI.
"""

from __future__ import annotations

__all__ = ["DataError", "ModelError", "SentimentError", "SentimentWarning", "TrainingError"]


class SentimentError(Exception):
    """A problem with the user's input, files or parameters, said in one line."""


class DataError(SentimentError):
    """A data file cannot be read or does not hold usable reviews."""


class ModelError(SentimentError):
    """A model directory or vectors file is missing, damaged or incompatible."""


class TrainingError(SentimentError):
    """Training cannot start or cannot go on (bad parameters, divergence, no vocabulary)."""


class SentimentWarning(UserWarning):
    """Something the user should hear about that does not stop the work (the CLI prints it as a note)."""
