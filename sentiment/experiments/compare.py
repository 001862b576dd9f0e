"""``compare``: embeddings vs one-hot (vs TF-IDF) on the same splits, repeated, with learning curves.

For each repeat (its own seed and stratified held-out split) the word vectors
are trained once, on every training text plus the unlabelled texts (labels are
not needed for them, as in practice), and then each representation's
classifier is fitted on growing fractions of the labelled training set. Every
run records accuracy, macro-F1, ROC AUC, fit time, prediction throughput and
the size the fitted model takes on disk, plus accuracy on the held-out reviews
richest in words that are rare in the labelled training texts. Aggregation to
mean ± std and plotting are in ``experiment_report.py``.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from sentiment.data.reviews import Reviews, split_reviews
from sentiment.embeddings.doc2vec import Doc2Vec
from sentiment.embeddings.word2vec import Word2Vec
from sentiment.errors import DataError, TrainingError
from sentiment.evaluate import classification_metrics
from sentiment.features import DocVectorizer, MeanEmbeddingVectorizer
from sentiment.progress import Progress
from sentiment.tokenize import tokenize_all
from sentiment.train import DEFAULT_NORMALIZE, build_pipeline

__all__ = ["REPRESENTATIONS", "compare", "rare_word_share"]

REPRESENTATIONS = ("embeddings", "onehot", "nbngrams", "doc2vec", "tfidf")
RARE_COUNT = 5  # a word seen fewer times than this in the labelled training texts is rare


def rare_word_share(token_lists: list[list[str]], train_counts: Counter) -> np.ndarray:
    """Share of each text's tokens seen fewer than ``RARE_COUNT`` times in training (unseen included).

    >>> rare_word_share([["a", "b"], []], Counter({"a": 9}))
    array([0.5, 0. ])
    """
    return np.array(
        [np.mean([train_counts[w] < RARE_COUNT for w in tokens]) if tokens else 0.0 for tokens in token_lists]
    )


def model_size_bytes(pipeline: Pipeline) -> int:
    """Bytes the fitted pipeline takes in a model directory (vectors, vocabulary, arrays)."""
    features, classifier = pipeline[0], pipeline[-1]
    size = classifier.coef_.nbytes + classifier.intercept_.nbytes
    if isinstance(features, MeanEmbeddingVectorizer):
        wv = features.wv_
        size += sum(len(w.encode()) + 2 for w in wv.index_to_key) + wv.vectors.size * 4 + 2 * wv.vector_size * 8
        size += features.word_weights_.nbytes
    elif isinstance(features, DocVectorizer):
        doc2vec = features.doc2vec_
        size += (
            sum(len(w.encode()) + 4 for w in doc2vec.index_to_key_) + doc2vec.syn1neg_.nbytes + 8 * len(doc2vec.counts_)
        )
    else:
        size += sum(len(w.encode()) + 4 for w in features.vocabulary_)  # JSON list of words
        for fitted in ("idf_", "ratios_"):
            if hasattr(features, fitted):
                size += getattr(features, fitted).nbytes
    return int(size)


def compare(
    reviews: Reviews,
    *,
    unlabeled: list[str] | None = None,
    representations: tuple[str, ...] = ("embeddings", "onehot"),
    repeats: int = 3,
    train_sizes: tuple[float, ...] = (1.0,),
    test_size: float = 0.2,
    word2vec: dict | None = None,
    C: float = 1.0,
    seed: int = 0,
    progress: Progress | None = None,
    pretrained=None,
    normalize: bool | None = None,
    doc2vec_params: dict | None = None,
) -> dict:
    """Run every representation on the same splits; returns ``{"runs": [...], "settings": {...}}``.

    ``pretrained`` (``embeddings.formats.Pretrained``) are fixed word vectors used instead of training SGNS
    each repeat; ``normalize`` (None: train's default) scales each averaged vector to unit length;
    ``doc2vec_params`` are ``Doc2Vec``'s parameters for the ``doc2vec`` representation (its seed: each repeat's).
    """
    normalize = DEFAULT_NORMALIZE if normalize is None else normalize
    unknown = set(representations) - set(REPRESENTATIONS)
    if unknown:
        raise TrainingError(f"unknown features {sorted(unknown)}: choose from {', '.join(REPRESENTATIONS)}")
    if repeats < 1:
        raise TrainingError("--repeats must be at least 1")
    if not train_sizes or any(not 0 < f <= 1 for f in train_sizes):
        raise TrainingError("--train-sizes must be fractions in (0, 1]")
    if reviews.labels is None or len(reviews.classes) < 2:
        raise DataError(f"{reviews.source}: need labelled reviews of at least two classes")
    if not C > 0:
        raise TrainingError("--C must be > 0")
    if doc2vec_params and "doc2vec" not in representations:
        raise TrainingError("doc2vec settings apply to document vectors: add doc2vec to --features")
    _check_fractions(reviews, train_sizes, test_size, seed)
    progress = progress or Progress(enabled=False)
    unlabeled_tokens = tokenize_all(unlabeled or [])
    runs = []
    total = repeats * len(train_sizes) * len(representations)
    with progress.task("Comparing representations", total=total) as bar:
        for repeat in range(repeats):
            run_seed = seed + repeat
            train_part, test_part = split_reviews(reviews, test_size, run_seed)
            train_tokens = tokenize_all(train_part.texts)
            test_tokens = tokenize_all(test_part.texts)
            rare_share = rare_word_share(test_tokens, Counter(w for t in train_tokens for w in t))
            rare_rows = rare_share >= np.quantile(rare_share, 0.75)
            # Vectors use no labels: trained once per repeat on all training and unlabelled text.
            vectors, vector_seconds = {}, {}
            if "embeddings" in representations and pretrained is not None:
                vectors["embeddings"] = pretrained.wv
            elif "embeddings" in representations:
                started = time.perf_counter()
                params = {**(word2vec or {}), "seed": run_seed}
                vectors["embeddings"] = Word2Vec(**params).fit(train_tokens + unlabeled_tokens, progress=progress).wv
                vector_seconds["embeddings"] = time.perf_counter() - started
            if "doc2vec" in representations:
                started = time.perf_counter()
                model = Doc2Vec(**{**(doc2vec_params or {}), "seed": run_seed})
                model.fit(train_tokens + unlabeled_tokens, progress=progress)
                vectors["doc2vec"], vector_seconds["doc2vec"] = model, time.perf_counter() - started
            for fraction in sorted(train_sizes):
                labelled = _stratified_fraction(train_part, fraction, run_seed)
                for kind in representations:
                    cost = vector_seconds.get(kind, 0.0)
                    run = _one_run(kind, labelled, test_part, vectors.get(kind), C, cost, rare_rows, normalize)
                    run.update(repeat=repeat, seed=run_seed, train_size=fraction, train_rows=len(labelled))
                    runs.append(run)
                    bar.advance(1, status=f"repeat {repeat + 1}, {fraction:g} of the labels, {kind}")
    return {
        "settings": {
            "data": reviews.source,
            "representations": list(representations),
            "repeats": repeats,
            "train_sizes": sorted(train_sizes),
            "test_size": test_size,
            "unlabeled_texts": len(unlabeled_tokens),
            "word2vec": word2vec or {},
            "doc2vec": doc2vec_params or {},
            "pretrained_vectors": pretrained.describe() if pretrained is not None else None,
            "normalize": normalize,
            "C": C,
            "rare_word_rule": (
                f"top quarter of held-out reviews by share of words seen < {RARE_COUNT} times in training"
            ),
        },
        "runs": runs,
    }


def _check_fractions(reviews: Reviews, train_sizes, test_size: float, seed: int) -> None:
    """Refuse, before any training, a labelled fraction that leaves a class without a review on either side."""
    n_train = len(split_reviews(reviews, test_size, seed)[0])  # every repeat's split has this size
    n_classes = len(reviews.classes)
    for fraction in train_sizes:
        kept = int(fraction * n_train)  # as train_test_split rounds it
        if fraction < 1 and not n_classes <= kept <= n_train - n_classes:
            raise DataError(
                f"--train-sizes {fraction:g} keeps {kept:,} of {n_train:,} training reviews: "
                f"need at least {n_classes} (one per class) and to leave as many out; use a larger fraction"
            )


def _stratified_fraction(reviews: Reviews, fraction: float, seed: int) -> Reviews:
    if fraction >= 1:
        return reviews
    index = np.arange(len(reviews))
    kept, _ = train_test_split(index, train_size=fraction, random_state=seed, stratify=reviews.labels)
    kept = np.sort(kept)
    return Reviews(texts=[reviews.texts[i] for i in kept], labels=reviews.labels[kept], source=reviews.source)


def _one_run(kind, labelled, test_part, vectors, C, sgns_seconds, rare_rows, normalize=False) -> dict:
    features = {"doc2vec": vectors} if kind == "doc2vec" else {"word_vectors": vectors, "normalize": normalize}
    pipeline = build_pipeline(kind, C=C, **features)
    started = time.perf_counter()
    pipeline.fit(labelled.texts, labelled.labels)
    fit_seconds = time.perf_counter() - started + sgns_seconds
    started = time.perf_counter()
    proba = pipeline.predict_proba(test_part.texts)
    predict_seconds = time.perf_counter() - started
    classes = pipeline[-1].classes_
    metrics = classification_metrics(test_part.labels, proba, classes)
    predicted = classes[proba.argmax(axis=1)]
    return {
        "features": kind,
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "roc_auc": metrics["roc_auc"],
        "ece": metrics["ece"],
        "brier": metrics["brier"],
        "reliability": metrics["reliability"],
        "rare_word_accuracy": float((predicted[rare_rows] == test_part.labels[rare_rows]).mean()),
        "fit_seconds": fit_seconds,
        "reviews_per_second": len(test_part) / max(predict_seconds, 1e-9),
        "model_bytes": model_size_bytes(pipeline),
        "confusion_matrix": metrics["confusion_matrix"],
        "classes": metrics["classes"],
        # Kept for ROC curves: the positive-class score of every held-out review.
        "scores": proba[:, -1].round(5).tolist() if len(classes) == 2 else None,
        "truth": (test_part.labels == classes[-1]).astype(int).tolist() if len(classes) == 2 else None,
    }
