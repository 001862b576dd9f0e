"""Study: which optimizer for SGNS? SGD, Adagrad and Adam, each over its own learning rates (issue 15).

The benchmark setting of ``benchmarks/sgns_vs_gensim.py``: the first 20,000
IMDB unlabelled reviews, skip-gram, 100 dimensions, window 5, negative 5,
min_count 5, sample 1e-3, 3 epochs, one worker (deterministic per seed); and
5,000 reviews of the IMDB train split (drawn as there) for downstream accuracy:
each repeat holds out 20% of them (its own seed), trains the word vectors on
the other 80% plus the 20,000 unlabelled reviews, fits the mean-vector
logistic regression on that 80% and scores the held-out 20%. The learning rate
of each optimizer is chosen by that held-out accuracy (never the IMDB test
split). Runs are ``sentiment sweep`` runs (``sentiment.experiments.sweep``):
one sweep per optimizer over its own grid of ``alpha`` (``min_alpha`` unset:
each optimizer's own schedule), all into one resumable results file.

    python benchmarks/optimizers.py [--data-dir ../shared/data] [--repeats 2] [--out docs/optimizers]

Writes, under ``--out``: the sweep's report (``report.md``, ``results.jsonl``,
``summary.csv``, accuracy / analogy / loss / time against ``alpha`` with one
line per optimizer), ``loss_curves.png`` (loss per epoch of each optimizer at
its best rate) and ``optimizers.md`` (the table of each optimizer at its best
rate, with the targets of issue 15, and a speed check: words/s of the three
in interleaved 1-epoch runs, with their memory). Interrupted, it resumes
where it stopped (finished runs are not redone).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from sentiment.data.reviews import Reviews, load_reviews, split_reviews
from sentiment.embeddings.optimizers import OPTIMIZERS
from sentiment.embeddings.word2vec import Word2Vec
from sentiment.experiments.report import loss_curves_plot, summarise_sweep, write_sweep_report
from sentiment.experiments.sweep import sweep
from sentiment.progress import Progress
from sentiment.tokenize import tokenize_all

ROOT = Path(__file__).resolve().parents[1]
# Each optimizer's learning rates, around the best of a pilot on 10,000 reviews x 2 epochs (README). SGD at 0.1
# diverges on this setting (even with 32-token blocks), so its grid stops at 0.05.
GRIDS = {
    "sgd": [0.0125, 0.025, 0.05],
    "adagrad": [0.1, 0.2, 0.4],
    "adam": [0.01, 0.03, 0.05],
}
PARAMS = dict(vector_size=100, window=5, negative=5, min_count=5, sample=1e-3, epochs=3, workers=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("SENTIMENT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--reviews", type=int, default=20_000, help="unlabelled reviews for the word vectors")
    parser.add_argument("--labelled", type=int, default=5_000, help="IMDB train reviews for downstream accuracy")
    parser.add_argument("--epochs", type=int, default=PARAMS["epochs"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "optimizers")
    parser.add_argument("--speed-rounds", type=int, default=3, help="interleaved 1-epoch speed runs (0: none)")
    parser.add_argument("--optimizers", default=",".join(GRIDS), help="comma-separated subset (for a quick check)")
    args = parser.parse_args()

    unlabelled = load_reviews(args.data_dir / "imdb" / "imdb_unsup.csv.gz", require_labels=False).texts
    unlabelled = list(unlabelled[: args.reviews])
    labelled = load_reviews(args.data_dir / "imdb" / "imdb_train.csv.gz")
    labelled, _ = split_reviews(labelled, 1 - args.labelled / len(labelled), seed=0)
    params = {**PARAMS, "epochs": args.epochs}
    results = args.out / "results.jsonl"
    progress = Progress(enabled=sys.stderr.isatty())
    chosen = [name.strip() for name in args.optimizers.split(",")]
    runs = []
    for name in chosen:
        print(f"{name}: alpha {GRIDS[name]} x {args.repeats} repeats", file=sys.stderr, flush=True)
        runs += sweep(
            labelled, {"optimizer": [name], "alpha": GRIDS[name]}, results, unlabeled=unlabelled,
            repeats=args.repeats, base_params=params, intrinsic=True, resume=True, seed=0, progress=progress,
        )  # fmt: skip
    settings = {"data": _describe(labelled, args), "repeats": args.repeats, "base_params": params}
    write_sweep_report(runs, args.out, settings)
    summary = summarise_sweep(runs)
    best = _best_per_optimizer(summary)
    best_runs = [r for r in runs if (r["config"]["optimizer"], r["config"]["alpha"]) in best]
    loss_curves_plot(
        best_runs, args.out / "loss_curves.png", title="SGNS loss per epoch, each optimizer at its best rate"
    )
    table = _best_markdown(summary, best, runs)
    if args.speed_rounds:
        table += "\n\n" + _speed_markdown(_speed(unlabelled, params, args.speed_rounds))
    (args.out / "optimizers.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0


def _speed(texts: list[str], params: dict, rounds: int) -> dict:
    """words/s of each optimizer (own default rate), 1 epoch on the unlabelled reviews, rounds interleaved.

    The sweep's runs of one optimizer come one after another, so a change in
    the machine's load (it is shared) falls on one optimizer more than
    another; interleaving sgd, adagrad, adam, sgd, ... spreads it evenly.
    """
    sentences = tokenize_all(texts)
    rates: dict[str, list[float]] = {name: [] for name in GRIDS}
    load = [os.getloadavg()[0]]
    for _ in range(rounds):
        for name in GRIDS:
            model = Word2Vec(**{**params, "epochs": 1, "optimizer": name, "seed": 0}).fit(sentences)
            rates[name].append(model.words_per_second_[0])
            print(f"speed: {name} {rates[name][-1]:,.0f} words/s", file=sys.stderr, flush=True)
        load.append(os.getloadavg()[0])
    vocab, dim = len(model.wv), params["vector_size"]
    return {
        "words_per_second": rates,
        "load_average_1min": load,
        "vocabulary": vocab,
        "weights_bytes": 2 * vocab * dim * 4,
        "state_bytes": {name: 2 * OPTIMIZERS[name].state_bytes(vocab, dim) for name in GRIDS},
    }


def _speed_markdown(speed: dict) -> str:
    sgd = np.median(speed["words_per_second"]["sgd"])
    rounds, load = len(speed["words_per_second"]["sgd"]), speed["load_average_1min"]
    lines = [
        f"Speed, 1 epoch on the unlabelled reviews alone, each optimizer at its default rate, {rounds} interleaved "
        f"rounds (load average {min(load):.1f}-{max(load):.1f} on 2 cores); memory for {speed['vocabulary']:,} "
        "words x 100 dimensions:",
        "",
        "| optimizer | words/s (median) | vs SGD | weights (MB) | optimizer state (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, rates in speed["words_per_second"].items():
        lines.append(
            f"| {name} | {np.median(rates):,.0f} | {np.median(rates) / sgd:.2f}x | {speed['weights_bytes'] / 1e6:.1f} "
            f"| {speed['state_bytes'][name] / 1e6:.1f} |"
        )
    return "\n".join(lines)


def _describe(labelled: Reviews, args) -> str:
    return (
        f"{len(labelled):,} IMDB train reviews (80/20 split per repeat) + first {args.reviews:,} IMDB unlabelled "
        f"reviews for the word vectors, {args.epochs} epochs"
    )


def _best_per_optimizer(summary) -> set[tuple[str, float]]:
    """(optimizer, alpha) with the highest mean held-out accuracy, for each optimizer."""
    best = summary.loc[summary.groupby("optimizer")["accuracy_mean"].idxmax()]
    return {(row.optimizer, row.alpha) for row in best.itertuples()}


def _best_markdown(summary, best: set, runs: list[dict]) -> str:
    def pm(mean, std, digits):
        return f"{mean:.{digits}f}" if np.isnan(std) else f"{mean:.{digits}f} ± {std:.{digits}f}"

    lines = [
        "| optimizer | best alpha | held-out accuracy | analogy acc. | WS-353 ρ | SGNS time (s) | words/s "
        "| final loss | loss per epoch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    rows = {}
    for row in summary.itertuples():
        if (row.optimizer, row.alpha) not in best:
            continue
        rows[row.optimizer] = row
        curves = np.array([r["loss_per_epoch"] for r in runs if r["config"] == {"optimizer": row.optimizer,
                                                                                "alpha": row.alpha}])  # fmt: skip
        lines.append(
            f"| {row.optimizer} | {row.alpha:g} | {pm(row.accuracy_mean, row.accuracy_std, 4)} "
            f"| {pm(row.analogy_accuracy_mean, row.analogy_accuracy_std, 4)} "
            f"| {pm(row.ws353_spearman_mean, row.ws353_spearman_std, 3)} "
            f"| {pm(row.sgns_seconds_mean, row.sgns_seconds_std, 1)} | {row.words_per_second_mean:,.0f} "
            f"| {pm(row.final_loss_mean, row.final_loss_std, 4)} | {', '.join(f'{x:.4f}' for x in curves.mean(0))} |"
        )
    if "sgd" in rows:
        sgd = rows["sgd"]
        lines.append("")
        for name, row in rows.items():
            if name == "sgd":
                continue
            analogy = row.analogy_accuracy_mean >= sgd.analogy_accuracy_mean - 0.02
            downstream = row.accuracy_mean >= sgd.accuracy_mean - 0.01
            lines.append(
                f"- {name}: analogy within 2 points of SGD: {'met' if analogy else 'MISSED'} "
                f"({100 * (row.analogy_accuracy_mean - sgd.analogy_accuracy_mean):+.1f} points); downstream within "
                f"0.01: {'met' if downstream else 'MISSED'} ({row.accuracy_mean - sgd.accuracy_mean:+.4f}); "
                f"words/s in the sweep {row.words_per_second_mean / sgd.words_per_second_mean:.2f}x SGD's "
                "(load-biased: runs in sequence; the interleaved check below is the fair speed)"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
