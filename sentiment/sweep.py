"""``sweep``: how a Word2Vec parameter (say ``negative``) changes cost and quality.

For every configuration of a grid (any Word2Vec parameters, e.g.
``negative=1,2,5,10,20`` x ``window=2,5,10``) and every repeat (its own seed),
train SGNS on the training texts plus the unlabelled texts, fit the mean
embedding classifier on the labelled training split, and record SGNS time,
words/s, final loss, held-out accuracy and macro-F1, and, when asked, Google
analogy accuracy and WS-353 Spearman. Each finished run is appended to a JSON
Lines file at once (flushed and synced), so Ctrl-C loses at most the run in
progress and ``resume`` skips every run already there. Aggregation and plots
are ``experiment_report.py``'s job.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

from sentiment.data import Reviews, split_reviews
from sentiment.errors import DataError, SentimentError, TrainingError
from sentiment.evaluate import classification_metrics
from sentiment.progress import Progress
from sentiment.tokenize import tokenize_all
from sentiment.train import build_pipeline
from sentiment.word2vec import Word2Vec

__all__ = ["parse_grid", "read_runs", "sweep"]

_INTEGER_PARAMS = {"vector_size", "window", "min_count", "negative", "epochs", "max_vocab_size", "batch_words"}
_FLOAT_PARAMS = {"ns_exponent", "sample", "alpha", "min_alpha"}


def parse_grid(specs: list[str]) -> dict[str, list]:
    """``["negative=1,5", "window=2"]`` -> ``{"negative": [1, 5], "window": [2]}``, typed and checked.

    >>> parse_grid(["negative=1,5", "sample=0,1e-3"])
    {'negative': [1, 5], 'sample': [0.0, 0.001]}
    """
    grid: dict[str, list] = {}
    for spec in specs:
        name, _, values = spec.partition("=")
        name = name.strip()
        if name not in _INTEGER_PARAMS | _FLOAT_PARAMS:
            known = ", ".join(sorted(_INTEGER_PARAMS | _FLOAT_PARAMS))
            raise TrainingError(f"--param {spec!r}: {name!r} is not a Word2Vec parameter ({known})")
        cast = int if name in _INTEGER_PARAMS else float
        try:
            grid[name] = [cast(v) for v in values.split(",") if v.strip()]
        except ValueError:
            raise TrainingError(f"--param {spec!r}: values must be {cast.__name__}s separated by commas") from None
        if not grid[name]:
            raise TrainingError(f"--param {spec!r}: give at least one value")
    if not grid:
        raise TrainingError("give at least one --param NAME=V1,V2,...")
    return grid


def read_runs(path: Path) -> list[dict]:
    """The finished runs in a results file (a torn last line from a crash is ignored)."""
    if not path.exists():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            runs.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return runs


def _key(config: dict, repeat: int) -> str:
    return json.dumps({"config": config, "repeat": repeat}, sort_keys=True)


def sweep(
    reviews: Reviews,
    grid: dict[str, list],
    results_path: str | os.PathLike,
    *,
    unlabeled: list[str] | None = None,
    repeats: int = 3,
    base_params: dict | None = None,
    intrinsic: bool = False,
    resume: bool = False,
    test_size: float = 0.2,
    C: float = 1.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[dict]:
    """Run the grid (see the module docstring); returns every run, finished earlier or now."""
    if reviews.labels is None or len(reviews.classes) < 2:
        raise DataError(f"{reviews.source}: need labelled reviews of at least two classes")
    if repeats < 1:
        raise TrainingError("--repeats must be at least 1")
    results_path = Path(results_path)
    if results_path.exists() and not resume:
        raise SentimentError(f"{results_path} already holds results: pass --resume to continue it, or another --report")
    results_path.parent.mkdir(parents=True, exist_ok=True)
    progress = progress or Progress(enabled=False)
    finished = read_runs(results_path)
    if finished:
        # Rewrite without any torn last line, so that appended runs start on a line of their own.
        temporary = results_path.with_name(results_path.name + ".tmp")
        temporary.write_text("".join(json.dumps(run) + "\n" for run in finished), encoding="utf-8")
        os.replace(temporary, results_path)
    done = {_key(run["config"], run["repeat"]): run for run in finished}
    configs = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    unlabeled_tokens = tokenize_all(unlabeled or [])
    splits = {}  # one split per repeat, shared by every configuration
    todo = [(c, r) for c in configs for r in range(repeats) if _key(c, r) not in done]
    with progress.task("Sweep", total=len(configs) * repeats) as bar:
        bar.advance(len(configs) * repeats - len(todo), status=f"{len(done)} runs already done")
        for config, repeat in todo:
            if repeat not in splits:
                train_part, test_part = split_reviews(reviews, test_size, seed + repeat)
                splits[repeat] = (train_part, test_part, tokenize_all(train_part.texts))
            train_part, test_part, train_tokens = splits[repeat]
            run = _one_run(
                config, repeat, seed + repeat, {**(base_params or {}), **config},
                train_part, test_part, train_tokens + unlabeled_tokens, intrinsic, C, progress,
            )  # fmt: skip
            with open(results_path, "a", encoding="utf-8") as out:
                out.write(json.dumps(run) + "\n")
                out.flush()
                os.fsync(out.fileno())
            done[_key(config, repeat)] = run
            bar.advance(1, status=f"{config} repeat {repeat + 1}: accuracy {run['accuracy']:.4f}")
    return [done[_key(c, r)] for c in configs for r in range(repeats)]


def _one_run(config, repeat, run_seed, params, train_part, test_part, corpus, intrinsic, C, progress) -> dict:
    started = time.perf_counter()
    trainer = Word2Vec(**{**params, "seed": run_seed}).fit(corpus, progress=progress)
    sgns_seconds = time.perf_counter() - started
    pipeline = build_pipeline("embeddings", C=C, word_vectors=trainer.wv).fit(train_part.texts, train_part.labels)
    proba = pipeline.predict_proba(test_part.texts)
    metrics = classification_metrics(test_part.labels, proba, pipeline[-1].classes_)
    run = {
        "config": config,
        "repeat": repeat,
        "seed": run_seed,
        "sgns_seconds": sgns_seconds,
        "words_per_second": float(sum(trainer.words_per_second_) / len(trainer.words_per_second_)),
        "final_loss": trainer.loss_history_[-1],
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "roc_auc": metrics["roc_auc"],
    }
    if intrinsic:
        from sentiment.intrinsic import analogy_accuracy, gensim_test_file, word_pair_spearman

        run["analogy_accuracy"] = analogy_accuracy(trainer.wv, gensim_test_file("questions-words.txt")).accuracy
        run["ws353_spearman"] = word_pair_spearman(trainer.wv, gensim_test_file("wordsim353.tsv")).spearman
    return run
