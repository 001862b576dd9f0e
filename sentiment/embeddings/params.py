"""The word2vec parameters, declared once: names, defaults, types, checks and help text.

``Word2Vec``, ``MeanEmbeddingVectorizer``, the command-line option groups and
``sweep``'s grid parser all read ``WORD2VEC_PARAMS``, so a new parameter is one
entry here. Names and defaults are gensim's, except ``sg=1`` (skip-gram is our
default) and ``alpha``/``min_alpha``, whose ``None`` default means the
chosen optimizer's own learning rate and schedule (``learning_rates``; for
``sgd`` gensim's 0.025 falling to 0.0001). Training itself is ``word2vec.py``'s job; this module only describes
and checks the settings.

>>> DEFAULTS["negative"], PARAMS["ns_exponent"].type.__name__
(5, 'float')
>>> learning_rates({**DEFAULTS, "optimizer": "adam"})["alpha"]  # alpha=None: the optimizer's own
0.03
>>> check_word2vec_params({**DEFAULTS, "window": 0})
Traceback (most recent call last):
...
sentiment.errors.TrainingError: window must be an integer >= 1 (got 0)
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sentiment.embeddings.optimizers import OPTIMIZERS
from sentiment.errors import TrainingError

__all__ = [
    "DEFAULTS",
    "OPTIMIZER_NAMES",
    "PARAMS",
    "WORD2VEC_PARAMS",
    "Param",
    "as_parameters",
    "check_word2vec_params",
    "keyword_init",
    "learning_rates",
]

OPTIMIZER_NAMES = tuple(OPTIMIZERS)


def _int_at_least(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class Param:
    """One word2vec setting: what it is called, what it defaults to, what is valid, what it does."""

    name: str
    default: Any
    type: type
    help: str
    valid: Callable[[Any], bool]
    rule: str  # what ``valid`` accepts, for the error message
    on_cli: bool = True  # offered as ``--name-with-dashes`` by train, compare, sweep and validate


WORD2VEC_PARAMS: tuple[Param, ...] = (
    Param("vector_size", 100, int, "Word vector dimensions.", _int_at_least(1), "an integer >= 1"),
    Param("window", 5, int, "Maximum distance between a word and its context words.", _int_at_least(1),
          "an integer >= 1"),
    Param("min_count", 5, int, "Ignore words rarer than this.", _int_at_least(1), "an integer >= 1"),
    Param("max_vocab_size", None, int, "Keep at most this many most frequent words (none: no limit).",
          lambda v: v is None or _int_at_least(1)(v), "an integer >= 1 or None", on_cli=False),
    Param("negative", 5, int, "Noise words drawn per positive pair.", _int_at_least(1), "an integer >= 1"),
    Param("ns_exponent", 0.75, float, "Exponent of word counts in the noise distribution.", _number,
          "a finite number"),
    Param("sample", 1e-3, float, "Subsampling threshold for frequent words (0: off).",
          lambda v: _number(v) and v >= 0, ">= 0"),
    Param("alpha", None, float, "Initial learning rate (default: the optimizer's own: sgd 0.025, adagrad "
          f"{OPTIMIZERS['adagrad'].DEFAULT_ALPHA:g}, adam {OPTIMIZERS['adam'].DEFAULT_ALPHA:g}).",
          lambda v: v is None or (_number(v) and 0 < v <= 10), "in (0, 10]"),
    Param("min_alpha", None, float, "Final learning rate, reached by linear decay from alpha (default: the "
          "optimizer's own: 0.0001 for sgd and adam, alpha for adagrad, i.e. constant).",
          lambda v: v is None or (_number(v) and v >= 0), ">= 0 and <= alpha"),
    Param("epochs", 5, int, "Passes over the text.", _int_at_least(1), "an integer >= 1"),
    Param("sg", 1, int, "1: skip-gram, 0: CBOW.", lambda v: v in (0, 1), "0 or 1", on_cli=False),
    Param("cbow_mean", 1, int, "CBOW: 1 averages the context vectors, 0 sums them.", lambda v: v in (0, 1),
          "0 or 1", on_cli=False),
    Param("seed", 1, int, "Random seed for initial vectors, subsampling, windows and noise words.",
          lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0", on_cli=False),
    Param("workers", 1, int, "Worker threads training at once (1: deterministic for a seed; N: N cores, "
          "not reproducible run to run).", _int_at_least(1), "an integer >= 1"),
    Param("batch_words", 1_000, int, "Upper bound on tokens per update block.", _int_at_least(1),
          "an integer >= 1", on_cli=False),
    Param("optimizer", "sgd", str, "SGNS update rule: sgd (word2vec's), adagrad (row-wise) or adam (sparse, "
          "per-row bias correction; 2 more vocabulary x dimensions matrices per weight matrix).",
          lambda v: v in OPTIMIZER_NAMES, f"one of {', '.join(OPTIMIZER_NAMES)}"),
)  # fmt: skip
PARAMS: dict[str, Param] = {p.name: p for p in WORD2VEC_PARAMS}
DEFAULTS: dict[str, Any] = {p.name: p.default for p in WORD2VEC_PARAMS}


def check_word2vec_params(values: dict[str, Any]) -> None:
    """Raise ``TrainingError`` naming the first invalid setting in ``values`` (unknown names too)."""
    for name, value in values.items():
        if name not in PARAMS:
            raise TrainingError(f"{name!r} is not a word2vec parameter ({', '.join(PARAMS)})")
        param = PARAMS[name]
        if not param.valid(value):
            raise TrainingError(f"{name} must be {param.rule} (got {value!r})")
    rates = learning_rates(values) if values.get("optimizer", DEFAULTS["optimizer"]) in OPTIMIZERS else {}
    if None not in (rates.get("alpha"), rates.get("min_alpha")) and rates["min_alpha"] > rates["alpha"]:
        raise TrainingError(f"min_alpha must be <= alpha (got {rates['min_alpha']!r} > {rates['alpha']!r})")


def learning_rates(values: dict[str, Any]) -> dict[str, float | None]:
    """``alpha`` and ``min_alpha`` of ``values``, the optimizer's defaults where they are ``None`` or absent.

    ``None`` means "the optimizer's own" (``optimizers.py`` declares each
    optimizer's ``DEFAULT_ALPHA`` and ``DEFAULT_MIN_ALPHA``; a ``None``
    ``DEFAULT_MIN_ALPHA`` means a constant rate, ``min_alpha = alpha``); a
    given value always wins. A default ``min_alpha`` above a small given
    ``alpha`` becomes ``alpha`` (constant), as a schedule never rises.

    >>> learning_rates({"optimizer": "sgd"})
    {'alpha': 0.025, 'min_alpha': 0.0001}
    >>> learning_rates({"optimizer": "sgd", "alpha": 0.00005})
    {'alpha': 5e-05, 'min_alpha': 5e-05}
    """
    rule = OPTIMIZERS[values.get("optimizer") or DEFAULTS["optimizer"]]
    alpha = values.get("alpha")
    alpha = rule.DEFAULT_ALPHA if alpha is None else alpha
    min_alpha = values.get("min_alpha")
    if min_alpha is None:
        min_alpha = alpha if rule.DEFAULT_MIN_ALPHA is None else min(rule.DEFAULT_MIN_ALPHA, alpha)
    return {"alpha": alpha, "min_alpha": min_alpha}


def keyword_init(*parameters: inspect.Parameter) -> Callable:
    """An estimator ``__init__`` that stores keyword-only ``parameters`` unchanged, as scikit-learn requires.

    The function carries a real signature, so ``get_params``, ``clone`` and
    ``GridSearchCV`` see every parameter, and unknown names are a ``TypeError``
    as with a written-out ``__init__``.
    """
    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    signature = inspect.Signature([self_parameter, *parameters])

    def __init__(self, **kwargs):
        bound = signature.bind(self, **kwargs)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if name != "self":
                setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


def as_parameters(params: Iterable[Param], **defaults) -> list[inspect.Parameter]:
    """``inspect.Parameter`` objects (keyword-only) for ``params``, with ``defaults`` overriding theirs."""
    return [
        inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=defaults.get(p.name, p.default))
        for p in params
    ]
