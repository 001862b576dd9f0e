"""``train``: fit the chosen pipelines (embeddings, NB n-grams, a stack of them) and the baseline, and score them.

Word vectors are trained on the training texts plus any unlabelled texts,
never on held-out ones. Every pipeline sees the same split. Unless ``C`` is
given, each pipeline's C is chosen on a dev split cut from the training rows,
and a stack's weights on out-of-fold probabilities of the training rows
(``selection.py``), never on held-out rows. The result is a
``SentimentModel`` (saving it is the caller's choice) and its held-out
metrics; its meta.json keeps the label mapping (applied to every file the
model scores, a separate test file included) and the split (seed, test size
and a hash of the held-out rows), so ``evaluate`` can tell training rows from
held-out ones. Reading files is ``sentiment.data``'s job, printing the CLI's.
"""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

import numpy as np
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sentiment.calibration import SigmoidCalibrator
from sentiment.data.corpus import TextCorpus
from sentiment.data.reviews import Reviews, index_sha256, split_indices
from sentiment.errors import DataError, TrainingError
from sentiment.evaluate import evaluate
from sentiment.features import DocVectorizer, MeanEmbeddingVectorizer, NBNgramVectorizer, one_hot_vectorizer
from sentiment.model import STACK, SentimentModel
from sentiment.progress import Progress
from sentiment.selection import (
    C_GRID,
    DEV_SHARE,
    accuracy,
    choose_C,
    choose_prior_tokens,
    choose_stack_weights,
    dev_split,
    out_of_fold_proba,
    stack_folds,
    weighted_vote,
)
from sentiment.tokenize import tokenize

__all__ = ["FEATURES", "TrainResult", "library_versions", "train"]

FEATURES = ("both", "embeddings", "onehot", "nbngrams", "doc2vec", "stack")
# What each --features choice fits, primary first; the rest are baselines reported and stored beside it.
_PLANS = {
    "both": ["embeddings", "onehot"],
    "embeddings": ["embeddings"],
    "onehot": ["onehot"],
    "nbngrams": ["nbngrams", "onehot"],
    "doc2vec": ["doc2vec", "onehot"],
    "stack": [STACK, "onehot"],  # the components go in between: the `stack` argument of train
}
STACK_CHOICES = ("embeddings", "nbngrams", "doc2vec")
# Measured on IMDB (README "Embeddings vs one-hot"): with all three, the dev split gave doc2vec weight 0.0
# (0.3 embeddings, 0.7 NB n-grams) while it took 684 of the stack's 1,085 s of fitting; pass it to add it.
DEFAULT_STACK = ("embeddings", "nbngrams")
# Chosen on IMDB's dev split (docs/embeddings-vs-onehot.md): the signed-NB-weighted mean beside the plain one;
# "nb+nbs+uniform" was 0.0016 better on the dev split, within one standard error, with 50% more features.
DEFAULT_WEIGHTING = "nbs+uniform"
DEFAULT_POOLING = "mean"
# issue 11: each averaged block scaled to unit length before standardising (README "Calibration").
DEFAULT_NORMALIZE = False
CALIBRATIONS = ("none", "sigmoid")
DEFAULT_CALIBRATION = "none"


@dataclass
class TrainResult:
    model: SentimentModel
    metrics: dict[str, dict]  # held-out metrics per pipeline
    fit_seconds: dict[str, float]  # wall time to fit each pipeline (SGNS included for embeddings)


def build_pipeline(
    kind: str,
    *,
    C: float = 1.0,
    word2vec: dict | None = None,
    word_vectors=None,
    unlabeled=None,
    progress=None,
    weighting: str = DEFAULT_WEIGHTING,
    pooling: str = DEFAULT_POOLING,
    phrases: int = 0,
    doc2vec=None,
    normalize: bool = DEFAULT_NORMALIZE,
    prior_tokens: float = 0.0,
    doc2vec_params: dict | None = None,
) -> Pipeline:
    """An unfitted pipeline ending in logistic regression.

    ``embeddings``: weighted mean SGNS vectors (trained in ``fit`` from
    ``word2vec`` parameters, or the fixed ``word_vectors``), standardised;
    ``onehot``: the binary bag of words; ``nbngrams``: NB-weighted binary 1-3-grams;
    ``doc2vec``: inferred PV-DBOW document vectors (of a given fitted ``doc2vec``, or trained in ``fit`` with
    ``doc2vec_params``, ``Doc2Vec``'s names), standardised;
    ``tfidf``: sublinear TF-IDF over the same tokenizer.
    """
    classifier = LogisticRegression(C=C, max_iter=2000)
    if kind == "embeddings":
        vectorizer = MeanEmbeddingVectorizer(
            word_vectors=word_vectors, unlabeled_texts=unlabeled, progress=progress, weighting=weighting,
            pooling=pooling, phrases=phrases, normalize=normalize, prior_tokens=prior_tokens, **(word2vec or {}),
        )  # fmt: skip
        return Pipeline([("features", vectorizer), ("scale", StandardScaler()), ("classifier", classifier)])
    if kind == "onehot":
        return Pipeline([("features", one_hot_vectorizer()), ("classifier", classifier)])
    if kind == "nbngrams":
        return Pipeline([("features", NBNgramVectorizer()), ("classifier", classifier)])
    if kind == "doc2vec":
        params = {"seed": (word2vec or {}).get("seed", 1), **(doc2vec_params or {})}
        vectorizer = DocVectorizer(doc2vec=doc2vec, unlabeled_texts=unlabeled, progress=progress, **params)
        return Pipeline([("features", vectorizer), ("scale", StandardScaler()), ("classifier", classifier)])
    if kind == "tfidf":
        tfidf = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None, sublinear_tf=True)
        return Pipeline([("features", tfidf), ("classifier", classifier)])
    raise TrainingError(f"unknown features {kind!r}: choose from embeddings, onehot, nbngrams, tfidf")


def train(
    reviews: Reviews,
    *,
    test: Reviews | None = None,
    test_size: float = 0.2,
    unlabeled: list[str] | TextCorpus | None = None,
    features: str = "both",
    word2vec: dict | None = None,
    C: float | None = None,
    weighting: str | None = None,
    pooling: str | None = None,
    phrases: int = 0,
    seed: int = 0,
    progress: Progress | None = None,
    normalize: bool | None = None,
    vectors=None,
    calibration: str | None = None,
    prior_tokens: float | None = None,
    stack: tuple[str, ...] | None = None,
    doc2vec_params: dict | None = None,
) -> TrainResult:
    """Train on ``reviews`` and score on ``test`` (or a stratified ``test_size`` split of ``reviews``).

    ``C=None`` chooses each pipeline's C from ``C_GRID`` on a dev split of the
    training rows; a number fixes it for every pipeline. ``weighting`` and
    ``pooling`` (None: ``DEFAULT_WEIGHTING``, ``DEFAULT_POOLING``) shape the
    embeddings' review average; ``phrases`` passes of word2phrase run first;
    ``normalize`` (None: ``DEFAULT_NORMALIZE``) scales each averaged block to
    unit length. ``vectors`` (``embeddings.formats.Pretrained``) are fixed
    pretrained word vectors used instead of training SGNS; ``calibration``
    (None: ``DEFAULT_CALIBRATION``) "sigmoid" fits Platt scaling on the dev split.
    ``prior_tokens`` (None: chosen on sentences of the dev reviews,
    ``selection.choose_prior_tokens``) pulls short texts' embeddings towards
    the average training review. ``stack`` (None: ``DEFAULT_STACK``) names the
    components of ``features="stack"``, from ``STACK_CHOICES``. ``doc2vec_params`` (``Doc2Vec``'s parameters,
    e.g. ``{"ngrams": 2, "epochs": 10}``) shape the document vectors, when the plan has them.
    """
    normalize = DEFAULT_NORMALIZE if normalize is None else normalize
    calibration = calibration or DEFAULT_CALIBRATION  # "sigmoid": Platt scaling fitted on the dev split only
    if calibration not in CALIBRATIONS:
        raise TrainingError(f"unknown calibration {calibration!r}: choose from {', '.join(CALIBRATIONS)}")
    weighting, pooling = weighting or DEFAULT_WEIGHTING, pooling or DEFAULT_POOLING
    if features not in FEATURES:
        raise TrainingError(f"unknown features {features!r}: choose from {', '.join(FEATURES)}")
    if reviews.labels is None:
        raise DataError(f"{reviews.source}: has no labels to train on")
    if len(reviews.classes) < 2:
        raise DataError(f"{reviews.source}: every review has the label {reviews.classes[0]!r}; need two classes")
    if C is not None and not C > 0:
        raise TrainingError("C must be > 0")
    if prior_tokens is not None and not (isinstance(prior_tokens, int | float) and 0 <= prior_tokens < math.inf):
        raise TrainingError(f"prior_tokens must be a number >= 0, got {prior_tokens!r}")
    progress = progress or Progress(enabled=False)
    word2vec = {"seed": seed, **(word2vec or {})}
    mapping = reviews.label_mapping or {label: label for label in reviews.classes}
    split = None
    if test is not None:
        train_part, test_part = reviews, test.relabelled(mapping, reviews.classes)  # read as training labels are
    else:
        train_idx, test_idx = split_indices(reviews, test_size, seed)
        train_part, test_part = reviews.rows(train_idx), reviews.rows(test_idx)
        split = {"seed": seed, "test_size": test_size, "rows": len(reviews), "held_out_sha256": index_sha256(test_idx)}
    unseen = sorted(set(test_part.classes) - set(train_part.classes)) if test_part.labels is not None else []
    if unseen:  # refused now: scoring would fail only after all the training
        raise DataError(
            f"{test_part.source}: held-out labels {unseen} never occur in the training reviews; "
            "give each class at least two reviews, or drop it"
        )

    if stack is not None and features != "stack":
        raise TrainingError(f"--stack chooses the parts of --features stack; features is {features!r}")
    stack_components = tuple(stack or DEFAULT_STACK)
    if len(set(stack_components)) < 2 or not set(stack_components) <= set(STACK_CHOICES):
        raise TrainingError(f"a stack needs two or more distinct components from {', '.join(STACK_CHOICES)}")
    plan = _PLANS[features]
    if features == "stack":
        plan = [STACK, *stack_components, *plan[1:]]
    fitted = [kind for kind in plan if kind != STACK]
    if doc2vec_params and "doc2vec" not in fitted:
        raise TrainingError("doc2vec settings apply to document vectors: use --features doc2vec, or a stack with them")
    choose_prior = prior_tokens is None and "embeddings" in plan
    needs_dev = C is None or calibration != "none" or choose_prior  # a stack's weights: out of fold
    dev = dev_split(train_part.labels, seed) if needs_dev else None
    chosen_prior = {}
    calibrators = {}
    pipelines, fit_seconds, chosen_C, dev_accuracy, dev_proba = {}, {}, {}, {}, {}
    label_free = {}  # document vectors of the training rows: they use no labels, folds may reuse them
    for kind in fitted:
        started = time.perf_counter()
        pipeline = build_pipeline(
            kind, C=C or 1.0, word2vec=word2vec, unlabeled=unlabeled, progress=progress, weighting=weighting,
            pooling=pooling, phrases=phrases, normalize=normalize, prior_tokens=prior_tokens or 0.0,
            word_vectors=vectors.wv if vectors is not None else None, doc2vec_params=doc2vec_params,
        )  # fmt: skip
        features_step = pipeline[0]
        features_matrix = features_step.fit_transform(train_part.texts, train_part.labels)
        if isinstance(features_step, MeanEmbeddingVectorizer | DocVectorizer):
            features_step.set_params(unlabeled_texts=None, progress=None)  # do not keep 50k texts alive
        if isinstance(features_step, DocVectorizer):
            label_free[kind] = features_matrix
        if dev is not None:
            with progress.task(f"Choosing C for {kind} on a dev split of the training reviews"):
                best, dev_proba[kind], dev_accuracy[kind] = choose_C(
                    _refittable(features_step), Pipeline(pipeline.steps[1:]), train_part.texts, train_part.labels,
                    dev, grid=C_GRID if C is None else (C,), matrix=label_free.get(kind),
                )  # fmt: skip
            pipeline.set_params(classifier__C=best)
            if kind == "embeddings" and choose_prior:
                with progress.task("Choosing prior_tokens for embeddings on sentences of the dev reviews"):
                    chosen_prior["value"], prior_dev_proba, chosen_prior["scores"] = choose_prior_tokens(
                        _refittable(features_step), Pipeline(pipeline.steps[1:]), train_part.texts,
                        train_part.labels, dev, seed,
                    )  # fmt: skip
                if chosen_prior["value"]:
                    features_step.set_params(prior_tokens=chosen_prior["value"])
                    features_matrix = features_step.transform(train_part.texts)
                    dev_proba[kind] = prior_dev_proba  # what calibration is fitted on
            if calibration == "sigmoid":  # fitted on dev rows of the training data, never on held-out rows
                dev_labels = train_part.labels[dev[1]]
                calibrators[kind] = SigmoidCalibrator().fit(dev_proba[kind], dev_labels, np.unique(train_part.labels))
        chosen_C[kind] = pipeline[-1].C
        with progress.task(f"Fitting logistic regression on {kind}"):
            pipeline[1:].fit(features_matrix, train_part.labels)
        pipelines[kind] = pipeline
        fit_seconds[kind] = time.perf_counter() - started

    stacked = stack_selection = None
    if plan[0] == STACK:
        started = time.perf_counter()
        weights, stack_selection = _stack_weights(
            {kind: pipelines[kind] for kind in stack_components}, train_part, label_free, seed, progress
        )
        stacked = {"components": list(stack_components), "weights": weights}
        fit_seconds[STACK] = sum(fit_seconds[k] for k in stack_components) + time.perf_counter() - started
    selection = {
        "C": chosen_C,
        "chosen_on": "given" if C else ("dev split of the training rows" if dev is not None else "default: few rows"),
        "dev_share": DEV_SHARE if dev is not None else None,
        "dev_rows": len(dev[1]) if dev is not None else 0,
        "dev_accuracy_by_C": {kind: {str(c): a for c, a in scores.items()} for kind, scores in dev_accuracy.items()},
    }
    if chosen_prior:
        selection["prior_tokens"] = {
            "embeddings": chosen_prior["value"],
            "chosen_on": "one sentence of each dev review, labelled as its review: lowest log loss",
            "scores": {str(k): v for k, v in chosen_prior["scores"].items()},
        }

    if stack_selection is not None:
        selection["stack"] = stack_selection
    selection["calibration"] = {kind: c.params.tolist() for kind, c in calibrators.items()} or None
    model = SentimentModel(pipelines, primary=plan[0], meta={"data": {"label_mapping": mapping}}, stack=stacked,
                           calibrators=calibrators)  # fmt: skip
    with progress.task("Scoring the held-out reviews"):
        metrics = _finite(evaluate(model, test_part))
    model.meta = _meta(
        model, reviews, train_part, test_part, unlabeled, word2vec, selection, seed, metrics, fit_seconds
    )
    model.meta["data"].update(label_mapping=mapping, split=split)
    if vectors is not None:  # issue 11: which fixed vectors the model was trained with (stored in vectors.bin)
        model.meta["parameters"]["pretrained_vectors"] = vectors.describe()
    return TrainResult(model, metrics, fit_seconds)


def _finite(value):
    """NaN (ROC AUC with one class held out) as null: meta.json is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for name in ("sentiment", "numpy", "scipy", "scikit-learn", "pandas"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def _stack_weights(parts: dict[str, Pipeline], train_part, label_free, seed, progress):
    """A stack's weights and how they were chosen: on out-of-fold probabilities of every training row.

    Each part (its C already chosen) is fitted again on ``STACK_FOLDS``-1
    folds of the training rows and scores the fold left out, its supervised
    features (NB ratios, NB word weights) refitted too; document vectors
    (``label_free``) are reused. With fewer rows of a class than the folds
    need, the weights are equal. The recorded accuracies are out of fold; the
    stack's is measured on the rows its weights were chosen on, so it
    flatters the stack a little.
    """
    labels = train_part.labels
    folds = stack_folds(labels, seed)
    if folds is None:
        return [1 / len(parts)] * len(parts), {"chosen_on": "default: too few rows for folds"}
    probas = []
    with progress.task("Choosing the stack's weights on held-out folds of the training reviews",
                       total=len(folds) * len(parts)) as bar:  # fmt: skip
        for kind, pipeline in parts.items():
            proba = out_of_fold_proba(
                partial(_refittable, pipeline[0]), Pipeline(pipeline.steps[1:]), train_part.texts, labels, folds,
                matrix=label_free.get(kind), on_fold=bar.advance,
            )  # fmt: skip
            probas.append(proba)
    classes = next(iter(parts.values()))[-1].classes_
    weights = choose_stack_weights(probas, labels, classes)
    scores = {kind: accuracy(proba, labels, classes) for kind, proba in zip(parts, probas, strict=True)}
    scores[STACK] = accuracy(weighted_vote(probas, weights), labels, classes)
    chosen_on = f"{len(folds)}-fold out-of-fold probabilities of the training rows"
    return weights, {"chosen_on": chosen_on, "rows": len(labels), "out_of_fold_accuracy": scores}


def _refittable(features_step):
    """An unfitted copy of a fitted feature step for the dev split; word vectors are kept (they use no labels)."""
    if isinstance(features_step, MeanEmbeddingVectorizer):
        return clone(features_step).set_params(word_vectors=features_step.wv_, unlabeled_texts=None, progress=None)
    if isinstance(features_step, DocVectorizer):
        return clone(features_step).set_params(doc2vec=features_step.doc2vec_, unlabeled_texts=None, progress=None)
    return clone(features_step)


def _rows(unlabeled) -> int | None:
    """Unlabelled texts used: counted on the last pass for a streamed ``TextCorpus`` (None if never read)."""
    if unlabeled is None or hasattr(unlabeled, "__len__"):
        return len(unlabeled or [])
    rows = unlabeled.rows_read
    return None if rows is None else rows + len(unlabeled.texts)


def _meta(model, reviews, train_part, test_part, unlabeled, word2vec, selection, seed, metrics, fit_seconds) -> dict:
    meta = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": library_versions(),
        "classes": model.classes_.tolist(),
        "parameters": {"features": model.kinds, "C": selection["C"], "seed": seed, "word2vec": word2vec},
        "selection": selection,
        "data": {
            "source": reviews.source,
            "sha256": reviews.sha256,
            "text_column": reviews.text_column,
            "label_column": reviews.label_column,
            "held_out_source": test_part.source if test_part.source != reviews.source else "split",
            "held_out_sha256": test_part.sha256,
            "train_rows": len(train_part),
            "held_out_rows": len(test_part),
            "unlabeled_rows": _rows(unlabeled),
            "dropped_rows": reviews.dropped,
        },
        "metrics": _finite(metrics),
        "fit_seconds": fit_seconds,
    }
    embeddings = model.pipelines.get("embeddings")
    if embeddings is not None and embeddings[0].word2vec_ is not None:
        trainer = embeddings[0].word2vec_
        meta["word2vec"] = {
            "vocabulary_size": len(trainer.wv),
            "loss_per_epoch": trainer.loss_history_,
            "words_per_second": float(np.mean(trainer.words_per_second_)),
            "training_seconds": trainer.training_seconds_,
            # the learning rates used: parameters.word2vec keeps alpha/min_alpha as given (null: the optimizer's own)
            "alpha": trainer.alpha_,
            "min_alpha": trainer.min_alpha_,
        }
    return meta
