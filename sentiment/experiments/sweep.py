"""``sweep``: how a Word2Vec parameter (say ``negative``) changes cost and quality.

For every configuration of a grid (any Word2Vec parameters, e.g.
``negative=1,2,5,10,20`` x ``window=2,5,10``) and every repeat (its own seed),
train SGNS on the training texts plus the unlabelled texts, fit the mean
embedding classifier on the labelled training split, and record SGNS time,
words/s, final loss, held-out accuracy and macro-F1, and, when asked, Google
analogy accuracy and WS-353 Spearman. Each finished run is appended to a JSON
Lines file at once (flushed and synced), so Ctrl-C loses at most the run in
progress and ``resume`` skips every run already there. Each run carries a
fingerprint of everything fixed across the grid (the labelled and unlabelled
texts, held-out share, C, every other Word2Vec parameter, ``intrinsic``, the
seed): ``resume`` reuses runs only under an identical fingerprint and refuses
a results file made with other data or settings, or not by ``sweep`` at all.
Aggregation and plots are ``experiment_report.py``'s job.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
import warnings
from pathlib import Path

from sentiment.data.reviews import Reviews, split_reviews
from sentiment.embeddings.optimizers import OPTIMIZERS
from sentiment.embeddings.params import PARAMS, WORD2VEC_PARAMS, learning_rates
from sentiment.embeddings.word2vec import Word2Vec
from sentiment.errors import DataError, SentimentError, SentimentWarning, TrainingError
from sentiment.evaluate import classification_metrics
from sentiment.progress import Progress
from sentiment.tokenize import tokenize_all
from sentiment.train import build_pipeline

__all__ = ["fingerprint", "parse_grid", "read_runs", "sweep"]

# Word2Vec parameters (embeddings/params.py), numeric or named (``optimizer``); the seed comes from the repeats,
# workers from --workers.
_SWEEPABLE = {
    p.name: p.type for p in WORD2VEC_PARAMS if p.type in (int, float, str) and p.name not in ("seed", "workers")
}


def parse_grid(specs: list[str]) -> dict[str, list]:
    """``["negative=1,5", "window=2"]`` -> ``{"negative": [1, 5], "window": [2]}``, typed and checked.

    Values may be names where the parameter takes names (``optimizer=sgd,adam``);
    every value is checked as ``Word2Vec`` would, so a bad one fails before
    the first run.

    >>> parse_grid(["negative=1,5", "sample=0,1e-3"])
    {'negative': [1, 5], 'sample': [0.0, 0.001]}
    >>> parse_grid(["optimizer=sgd,adam", "alpha=0.01"])
    {'optimizer': ['sgd', 'adam'], 'alpha': [0.01]}
    """
    grid: dict[str, list] = {}
    for spec in specs:
        name, _, values = spec.partition("=")
        name = name.strip()
        if name not in _SWEEPABLE:
            known = ", ".join(sorted(_SWEEPABLE))
            raise TrainingError(f"--param {spec!r}: {name!r} is not a Word2Vec parameter ({known})")
        if name in grid:
            raise TrainingError(f"--param {name} is given twice: list its values once, e.g. {name}=1,2,5")
        cast = _SWEEPABLE[name]
        try:
            grid[name] = [cast(v.strip()) for v in values.split(",") if v.strip()]
        except ValueError:
            raise TrainingError(f"--param {spec!r}: values must be {cast.__name__}s separated by commas") from None
        if not grid[name]:
            raise TrainingError(f"--param {spec!r}: give at least one value")
        bad = [v for v in grid[name] if not PARAMS[name].valid(v)]
        if bad:
            raise TrainingError(f"--param {spec!r}: {name} must be {PARAMS[name].rule} (got {bad[0]!r})")
        if len(set(grid[name])) < len(grid[name]):  # the same run twice would count as two repeats' worth
            grid[name] = list(dict.fromkeys(grid[name]))
            message = f"--param {spec}: repeated values are run once: {name}={','.join(map(str, grid[name]))}"
            warnings.warn(SentimentWarning(message), stacklevel=2)
    if not grid:
        raise TrainingError("give at least one --param NAME=V1,V2,...")
    return grid


def read_runs(path: Path) -> list[dict]:
    """The finished runs in a results file (a torn last line from a crash is ignored).

    Any other line that is not a run of ``sweep`` makes the whole file refused:
    it was not written by ``sweep``, and appending to it would mix two things.
    """
    path = Path(path)
    if not path.exists():
        return []
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a sweep's results file")
    lines = path.read_bytes().splitlines()
    runs = []
    for number, line in enumerate(lines, start=1):
        try:
            run = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            if number == len(lines) and line.startswith(b"{"):
                continue  # the start of a run, torn by a crash while it was being written
            run = None
        if not (isinstance(run, dict) and isinstance(run.get("config"), dict) and isinstance(run.get("repeat"), int)):
            raise DataError(f"{path}: line {number} is not a run of `sentiment sweep`; choose another --report")
        runs.append(run)
    return runs


def _sha256(texts, labels=None) -> str:
    digest = hashlib.sha256()
    for i, text in enumerate(texts):
        for part in (text, None if labels is None else str(labels[i])):
            raw = b"" if part is None else part.encode("utf-8", "surrogatepass")
            digest.update(len(raw).to_bytes(8, "little") + raw)
    return digest.hexdigest()


def fingerprint(reviews, unlabeled, grid, *, test_size, C, base_params, intrinsic, seed) -> dict:
    """Everything a run depends on besides its grid values and repeat, as JSON-ready values."""
    word2vec = {**Word2Vec().get_params(), **(base_params or {})}
    word2vec.update(_fixed_learning_rates(word2vec, grid))
    fixed = {k: v for k, v in sorted(word2vec.items()) if k not in grid and k != "seed"}  # seeds: `seed` below
    value = {
        "data_sha256": _sha256(reviews.texts, reviews.labels),
        "unlabeled_sha256": _sha256(unlabeled or []),
        "test_size": test_size,
        "C": C,
        "word2vec": fixed,
        "intrinsic": intrinsic,
        "seed": seed,
    }
    if "optimizer" in grid:  # an unset rate is each optimizer's own default: a changed default must not resume
        value["optimizer_defaults"] = {
            name: [OPTIMIZERS[name].DEFAULT_ALPHA, OPTIMIZERS[name].DEFAULT_MIN_ALPHA]
            for name in sorted(set(grid["optimizer"]))
            if name in OPTIMIZERS
        }
    return json.loads(json.dumps(value))  # as it reads back from the results file


def _fixed_learning_rates(word2vec: dict, grid: dict) -> dict:
    """The fixed ``alpha``/``min_alpha`` an unset (``None``) one stands for, where the grid does not decide it.

    ``None`` means the optimizer's own rate; recording the value instead keeps
    the fingerprints of runs made before optimizers had their own defaults
    (``alpha`` 0.025 and ``min_alpha`` 0.0001, fixed) valid. Where the grid
    varies the optimizer, or ``alpha`` that a default ``min_alpha`` may depend
    on, ``None`` itself is what stays fixed.

    >>> _fixed_learning_rates({"optimizer": "sgd", "alpha": None, "min_alpha": None}, {"negative": [1, 5]})
    {'alpha': 0.025, 'min_alpha': 0.0001}
    >>> _fixed_learning_rates({"optimizer": "sgd", "alpha": None, "min_alpha": None}, {"alpha": [0.01, 0.05]})
    {'min_alpha': 0.0001}
    """
    if "optimizer" in grid:
        return {}
    rule = OPTIMIZERS[word2vec["optimizer"]]
    fixed = {}
    if "alpha" not in grid:
        fixed = {k: v for k, v in learning_rates(word2vec).items() if k not in grid}
    elif (
        word2vec.get("min_alpha") is None
        and "min_alpha" not in grid
        and rule.DEFAULT_MIN_ALPHA is not None
        and min(grid["alpha"]) >= rule.DEFAULT_MIN_ALPHA  # the default holds for every alpha of the grid
    ):
        fixed = {"min_alpha": rule.DEFAULT_MIN_ALPHA}
    return fixed


def _differences(old: dict, new: dict) -> str:
    """``"window 2 there, 5 here; data"``: what tells two fingerprints apart."""
    names = {"data_sha256": "labelled data", "unlabeled_sha256": "unlabelled texts"}
    found = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if key == "word2vec" and isinstance(a, dict) and isinstance(b, dict):
            found += [f"{k} {a.get(k)} there, {b.get(k)} here" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif a != b:
            found.append(names.get(key, f"{key} {a} there, {b} here"))
    return "; ".join(found)


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
    progress = progress or Progress(enabled=False)
    finished = read_runs(results_path)
    stamp = fingerprint(
        reviews, unlabeled, grid, test_size=test_size, C=C, base_params=base_params, intrinsic=intrinsic, seed=seed
    )
    for run in finished:
        if run.get("fingerprint") != stamp:
            differences = _differences(run.get("fingerprint") or {}, stamp) or "no fingerprint"
            raise SentimentError(
                f"{results_path} holds runs made with other data or settings ({differences}): "
                "resume with the same ones, or choose another --report"
            )
    results_path.parent.mkdir(parents=True, exist_ok=True)
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
            run["fingerprint"] = stamp
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
        "loss_per_epoch": list(trainer.loss_history_),
        "alpha_used": trainer.alpha_,  # the optimizer's own when alpha was not given
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "roc_auc": metrics["roc_auc"],
    }
    if intrinsic:
        from sentiment.embeddings.intrinsic import analogy_accuracy, gensim_test_file, word_pair_spearman

        run["analogy_accuracy"] = analogy_accuracy(trainer.wv, gensim_test_file("questions-words.txt")).accuracy
        run["ws353_spearman"] = word_pair_spearman(trainer.wv, gensim_test_file("wordsim353.tsv")).spearman
    return run
