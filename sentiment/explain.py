"""Word-level explanations of a linear pipeline's decision, exact to float precision.

A pipeline here is a feature transformer, then affine steps (``StandardScaler``,
``MaxAbsScaler`` or ``"passthrough"``), then a linear classifier (``coef_``,
``intercept_``). The affine steps fold into the classifier's weights, so the
logit is ``W·x + b`` for the raw features ``x``; the transformer splits ``x``
into per-token rows plus a constant (``token_contributions``, see
``features/contributions.py``), and each token's contribution is ``W·row``.
The contributions plus ``constant`` (``W·constant + b``) equal the classifier's
``decision_function`` for the text.

When the first step after the features is a ``StandardScaler``, its mean is
passed to the transformer as the ``reference``, so tokens are explained
relative to an average training review. For the embeddings pipeline that is,
with ``n`` known tokens, the scaler's ``mean``/``scale`` and the classifier's
``coef``/``intercept``::

    contribution(w) = coef · ((v_w - mean) / scale) / n      constant = intercept

(with no known token the features are zeros and the constant is
``intercept - coef · (mean / scale)``). Without the reference the split would be
``coef · (v_w / scale) / n`` and ``intercept - coef · (mean / scale)``: just as
exact, but every word of a typical review then pushes the same way by a lot,
cancelled by a large constant, which says nothing. For one-hot a word's
contribution is its coefficient (shared equally by the word's occurrences).

A stacked model (``model.py``: probabilities ``softmax(sum_i w_i log p_i)``)
with two classes has the log-odds ``sum_i w_i * logit_i``, exactly: so each
token's contribution is the weighted sum of its contributions to the
components that can be split by token, and the components that cannot (PV-DBOW
document vectors) add their weighted logit to the constant.

Which logit: with two classes, the one scikit-learn's ``decision_function``
gives, of ``classes[1]`` against ``classes[0]`` (positive contributions push
towards ``classes[1]``, "positive" for positive/negative labels). With more
classes, the logit of the predicted class in the multinomial model (a positive
contribution raises that class's score; the softmax compares it with the other
classes' scores).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, StandardScaler

from sentiment.errors import ModelError
from sentiment.tokenize import token_spans

__all__ = ["Explanation", "TokenContribution", "explain_pipeline", "explain_stack"]


@dataclass(frozen=True)
class TokenContribution:
    """One token of the text: where it is (``text[start:end]``; None if unknown) and its share of the logit."""

    token: str
    contribution: float
    known: bool
    start: int | None
    end: int | None


@dataclass(frozen=True)
class Explanation:
    """A text's predicted label and the logit that decided it, split into token contributions plus a constant."""

    text: str
    pipeline: str
    label: str
    probability: float
    probabilities: dict[str, float]
    explained_class: str
    opposite_class: str | None  # the other class with two classes; None with more
    logit: float
    constant: float
    tokens: list[TokenContribution]
    note: str | None = None  # "empty text" or "no known word": the label is the model's prior, nothing more

    def to_dict(self) -> dict:
        return asdict(self)


def linear_head(pipeline: Pipeline) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``W`` (classes x features) and bias ``b``: ``decision_function = x @ W.T + b`` for raw features ``x``."""
    classifier = pipeline.steps[-1][1]
    if not (hasattr(classifier, "coef_") and hasattr(classifier, "intercept_")):
        raise ModelError(f"{type(classifier).__name__} is not a linear classifier: no exact explanation")
    weights = np.asarray(classifier.coef_, dtype=np.float64)
    bias = np.asarray(classifier.intercept_, dtype=np.float64) * np.ones(weights.shape[0])
    for name, step in reversed(pipeline.steps[1:-1]):
        if step is None or step == "passthrough":
            continue
        if isinstance(step, StandardScaler):
            mean = step.mean_ if step.with_mean else 0.0
            scale = step.scale_ if step.with_std else 1.0
        elif isinstance(step, MaxAbsScaler):
            mean, scale = 0.0, step.scale_
        else:
            raise ModelError(f"step {name!r} ({type(step).__name__}) is not an affine scaler: no exact explanation")
        weights = weights / np.asarray(scale, dtype=np.float64)
        bias = bias - weights @ (np.asarray(mean, dtype=np.float64) * np.ones(weights.shape[1]))
    return weights, bias


def explain_pipeline(pipeline: Pipeline, text: str, name: str = "") -> Explanation:
    """Explain ``pipeline``'s decision on one ``text`` (see the module docstring for which logit)."""
    if not isinstance(text, str):
        raise TypeError(f"explain expects one text, got {type(text).__name__}")
    features = pipeline.steps[0][1]
    if not hasattr(features, "token_contributions"):
        raise ModelError(f"the {name or 'model'}'s features ({type(features).__name__}) cannot be explained by token")
    reference = None
    after = pipeline.steps[1][1] if len(pipeline.steps) > 2 else None
    if isinstance(after, StandardScaler) and after.with_mean:
        reference = after.mean_
    tokens, per_token, constant = features.token_contributions(text, reference=reference)
    weights, bias = linear_head(pipeline)
    by_token = np.asarray(per_token @ weights.T).reshape(len(tokens), weights.shape[0])  # tokens x classes
    constants = np.asarray(constant, dtype=np.float64) @ weights.T + bias
    logits = by_token.sum(axis=0) + constants
    classes = [str(c) for c in pipeline.steps[-1][1].classes_]
    probabilities = pipeline.predict_proba([text])[0]
    best = int(np.argmax(probabilities))
    if len(weights) == 1:  # two classes: the one logit is classes[1]'s
        row, explained, opposite = 0, classes[1], classes[0]
    else:
        row, explained, opposite = int(np.argmax(logits)), classes[int(np.argmax(logits))], None
    spans = token_spans(text)
    if [token for token, _, _ in spans] != list(tokens):
        spans = [(token, None, None) for token in tokens]  # a transformer with its own tokens: no places
    nonzero = np.asarray(abs(per_token).sum(axis=1)).ravel() > 0
    return Explanation(
        text=text,
        pipeline=name,
        label=classes[best],
        probability=float(probabilities[best]),
        probabilities={c: float(p) for c, p in zip(classes, probabilities, strict=True)},
        explained_class=explained,
        opposite_class=opposite,
        logit=float(logits[row]),
        constant=float(constants[row]),
        tokens=[
            TokenContribution(token, float(by_token[i, row]), bool(nonzero[i]), start, end)
            for i, (token, start, end) in enumerate(spans)
        ],
        note="empty text" if not text.strip() else None if nonzero.any() else "no known word",
    )


def explain_stack(parts, text: str, probabilities: np.ndarray, classes) -> Explanation:
    """Explain a two-class stack from its ``parts`` ``[(pipeline, weight, name), ...]`` (module docstring)."""
    classes = [str(c) for c in classes]
    if len(classes) != 2:
        raise ModelError("explanations of a stacked model cover two classes only: explain one of its parts instead")
    spans = token_spans(text)
    contributions = np.zeros(len(spans))
    known = np.zeros(len(spans), dtype=bool)
    constant = logit = 0.0
    for pipeline, weight, name in parts:
        if hasattr(pipeline.steps[0][1], "token_contributions"):
            part = explain_pipeline(pipeline, text, name)
            contributions += weight * np.array([t.contribution for t in part.tokens])
            known |= np.array([t.known for t in part.tokens], dtype=bool)
            constant += weight * part.constant
            logit += weight * part.logit
        else:  # not split by token: its whole share is part of the constant
            share = weight * float(np.ravel(pipeline.decision_function([text]))[0])
            constant, logit = constant + share, logit + share
    best = int(np.argmax(probabilities))
    return Explanation(
        text=text,
        pipeline="stack",
        label=classes[best],
        probability=float(probabilities[best]),
        probabilities={c: float(p) for c, p in zip(classes, probabilities, strict=True)},
        explained_class=classes[1],
        opposite_class=classes[0],
        logit=logit,
        constant=constant,
        tokens=[
            TokenContribution(token, float(contributions[i]), bool(known[i]), start, end)
            for i, (token, start, end) in enumerate(spans)
        ],
        note="empty text" if not text.strip() else None if known.any() else "no known word",
    )
