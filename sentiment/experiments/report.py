"""Aggregate ``compare`` and ``sweep`` runs into tables, and write report directories with plots.

A report directory holds ``report.md``, the raw runs (``results.json``), the
aggregated table (``summary.csv``) and PNG plots (matplotlib, Agg backend):
metric vs parameter with error bars, training time vs parameter, learning
curves, confusion matrices and ROC curves. Every plot has a title, labelled
axes with units and a legend. A report directory is marked as the command's
when first written (``outputs.py``), and only such a directory is written
into again. This module only reshapes and draws what the experiments measured.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from sentiment.outputs import claim_report_dir

__all__ = ["loss_curves_plot", "summarise_compare", "summarise_sweep", "write_compare_report", "write_sweep_report"]

_COMPARE_METRICS = ["accuracy", "macro_f1", "roc_auc", "ece", "brier", "rare_word_accuracy", "fit_seconds",
                    "reviews_per_second"]  # fmt: skip
_SWEEP_METRICS = ["accuracy", "macro_f1", "sgns_seconds", "words_per_second", "final_loss"]
_NAMES = {"embeddings": "SGNS mean embeddings", "onehot": "one-hot", "tfidf": "TF-IDF", "nbngrams": "NB 1-3-grams",
          "doc2vec": "PV-DBOW"}  # fmt: skip


def _mean_std(frame: pd.DataFrame, by: list[str], metrics: list[str]) -> pd.DataFrame:
    grouped = frame.groupby(by, sort=True)[metrics]
    # ddof=1: the spread between repeats; one repeat has no spread (NaN, shown as n/a).
    summary = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).add_suffix("_std"))
    summary["runs"] = grouped.size()
    return summary.reset_index()


def summarise_compare(result: dict) -> pd.DataFrame:
    """Mean and std over repeats per (train size, representation)."""
    runs = pd.DataFrame(result["runs"])
    summary = _mean_std(runs, ["train_size", "features"], _COMPARE_METRICS)
    sizes = runs.groupby(["train_size", "features"])["model_bytes"].mean().reset_index(drop=True)
    summary["model_bytes"] = sizes.astype(int)
    return summary


def summarise_sweep(runs: list[dict]) -> pd.DataFrame:
    """Mean and std over repeats per configuration."""
    frame = pd.DataFrame(
        [{**run["config"], **{k: v for k, v in run.items() if k not in ("config", "fingerprint")}} for run in runs]
    )
    params = list(runs[0]["config"])
    metrics = [m for m in [*_SWEEP_METRICS, "analogy_accuracy", "ws353_spearman"] if m in frame]
    return _mean_std(frame, params, metrics)


def _value(v) -> str:
    """A grid value as a table cell or legend entry: numbers with ``:g``, names (``adam``) as they are."""
    return v if isinstance(v, str) else f"{v:g}"


def _pm(mean: float, std: float, digits: int = 4) -> str:
    if np.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def compare_markdown(summary: pd.DataFrame) -> str:
    lines = [
        "| labelled share | features | accuracy | macro-F1 | ROC AUC | ECE (15 bins) | Brier | rare-word accuracy "
        "| fit time (s) | reviews/s | model size (MB) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in summary.itertuples():
        lines.append(
            f"| {row.train_size:g} | {_NAMES.get(row.features, row.features)} "
            f"| {_pm(row.accuracy_mean, row.accuracy_std)} | {_pm(row.macro_f1_mean, row.macro_f1_std)} "
            f"| {_pm(row.roc_auc_mean, row.roc_auc_std)} "
            f"| {_pm(row.ece_mean, row.ece_std)} | {_pm(row.brier_mean, row.brier_std)} "
            f"| {_pm(row.rare_word_accuracy_mean, row.rare_word_accuracy_std)} "
            f"| {_pm(row.fit_seconds_mean, row.fit_seconds_std, 1)} | {row.reviews_per_second_mean:,.0f} "
            f"| {row.model_bytes / 1e6:.2f} |"
        )
    return "\n".join(lines)


def sweep_markdown(summary: pd.DataFrame, params: list[str]) -> str:
    metrics = [m for m in [*_SWEEP_METRICS, "analogy_accuracy", "ws353_spearman"] if f"{m}_mean" in summary]
    names = {
        "accuracy": "accuracy", "macro_f1": "macro-F1", "sgns_seconds": "SGNS time (s)", "words_per_second": "words/s",
        "final_loss": "final loss", "analogy_accuracy": "analogy acc.", "ws353_spearman": "WS-353 ρ",
    }  # fmt: skip
    header = "| " + " | ".join(params + [names[m] for m in metrics]) + " |"
    lines = [header, "|" + "---:|" * (len(params) + len(metrics))]
    for _, row in summary.iterrows():
        cells = [_value(row[p]) for p in params]
        for m in metrics:
            digits = 0 if m == "words_per_second" else (1 if m == "sgns_seconds" else 4)
            cells.append(_pm(row[f"{m}_mean"], row[f"{m}_std"], digits))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path.name


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_compare_report(result: dict, directory: str | os.PathLike) -> Path:
    """report.md, results.json, summary.csv and plots for a ``compare`` result."""
    plt = _pyplot()
    directory = claim_report_dir(directory, "compare")
    summary = summarise_compare(result)
    plots = []
    sizes = sorted(summary["train_size"].unique())
    if len(sizes) > 1:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for kind, rows in summary.groupby("features"):
            ax.errorbar(
                rows["train_size"] * 100, rows["accuracy_mean"], yerr=rows["accuracy_std"].fillna(0),
                marker="o", capsize=3, label=_NAMES.get(kind, kind),
            )  # fmt: skip
        ax.set(title="Learning curves: held-out accuracy vs labelled data",
               xlabel="labelled training reviews used (%)", ylabel="accuracy (fraction correct)")  # fmt: skip
        if min(sizes) < 0.1:  # small fractions would crowd the left edge
            ax.set_xscale("log")
        ax.legend()
        ax.grid(alpha=0.3)
        plots.append(_save(fig, directory / "learning_curves.png"))
    runs = [r for r in result["runs"] if r["train_size"] == max(sizes) and r["repeat"] == 0]
    if runs and runs[0]["scores"] is not None:
        from sklearn.metrics import roc_curve

        fig, ax = plt.subplots(figsize=(5.2, 4.6))
        for run in runs:
            fpr, tpr, _ = roc_curve(run["truth"], run["scores"])
            ax.plot(fpr, tpr, label=f"{_NAMES.get(run['features'], run['features'])} (AUC {run['roc_auc']:.3f})")
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
        ax.set(title="ROC curves (repeat 1, all labels)", xlabel="false positive rate", ylabel="true positive rate")
        ax.legend(loc="lower right")
        plots.append(_save(fig, directory / "roc_curves.png"))
    if runs:
        fig, axes = plt.subplots(1, len(runs), figsize=(3.6 * len(runs), 3.4), squeeze=False)
        for ax, run in zip(axes[0], runs, strict=True):
            matrix = np.array(run["confusion_matrix"])
            image = ax.imshow(matrix, cmap="Blues")
            for (i, j), value in np.ndenumerate(matrix):
                color = "white" if value > matrix.max() / 2 else "black"
                ax.text(j, i, f"{value:,}", ha="center", va="center", color=color)
            ax.set(title=_NAMES.get(run["features"], run["features"]), xlabel="predicted class", ylabel="true class",
                   xticks=range(len(run["classes"])), yticks=range(len(run["classes"])))  # fmt: skip
            ax.set_xticklabels(run["classes"])
            ax.set_yticklabels(run["classes"])
            fig.colorbar(image, ax=ax, label="reviews")
        fig.suptitle("Confusion matrices (repeat 1, all labels)")
        plots.append(_save(fig, directory / "confusion_matrices.png"))
    if runs and all(run.get("reliability") for run in runs):
        plots.append(_reliability_diagram(plt, runs, directory / "reliability.png"))

    lean = {**result, "runs": [{k: v for k, v in r.items() if k not in ("scores", "truth")} for r in result["runs"]]}
    _write_atomically(directory / "results.json", json.dumps(lean, indent=2))
    _write_atomically(directory / "summary.csv", summary.to_csv(index=False))
    settings = result["settings"]
    text = [
        "# Embeddings vs one-hot",
        "",
        f"Data: `{settings['data']}`; {settings['repeats']} repeats (own seed and stratified split each), "
        f"held-out share {settings['test_size']}, {settings['unlabeled_texts']:,} unlabelled texts for the word "
        f"vectors. Mean ± standard deviation over repeats. Rare-word accuracy: {settings['rare_word_rule']}.",
        "",
        compare_markdown(summary),
        "",
        *[f"![{name}]({name})" for name in plots],
        "",
    ]
    _write_atomically(directory / "report.md", "\n".join(text))
    return directory


def _reliability_diagram(plt, runs: list[dict], path: Path) -> str:
    """Observed accuracy against mean confidence per 15-bin confidence bin, one line per representation."""
    fig, (ax, counts_ax) = plt.subplots(
        2, 1, figsize=(5.4, 6.0), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )  # fmt: skip
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for run in runs:
        bins = run["reliability"]
        kept = [i for i, c in enumerate(bins["count"]) if c]
        name = _NAMES.get(run["features"], run["features"])
        ax.plot([bins["confidence"][i] for i in kept], [bins["accuracy"][i] for i in kept], marker="o",
                label=f"{name} (ECE {run['ece']:.3f})")  # fmt: skip
        centres = (np.array(bins["edges"][:-1]) + np.array(bins["edges"][1:])) / 2
        counts_ax.plot(centres, bins["count"], marker=".", label=name)
    ax.set(title="Reliability diagram (repeat 1, all labels, 15 equal-width bins)",
           ylabel="accuracy in the bin (fraction correct)", xlim=(0, 1), ylim=(0, 1))  # fmt: skip
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    counts_ax.set(xlabel="predicted class's probability (confidence)", ylabel="held-out reviews", yscale="symlog")
    counts_ax.grid(alpha=0.3)
    return _save(fig, path)


def write_sweep_report(runs: list[dict], directory: str | os.PathLike, settings: dict) -> Path:
    """report.md, results.csv, summary.csv and plots for ``sweep`` runs (results.jsonl is already there)."""
    plt = _pyplot()
    directory = claim_report_dir(directory, "sweep")
    summary = summarise_sweep(runs)
    params = list(runs[0]["config"])
    # The x axis is the first numeric parameter; names (optimizer=sgd,adam) become one line each, or, when no
    # parameter is numeric, categories along the x axis in the order given.
    numeric = [p for p in params if not summary[p].map(lambda v: isinstance(v, str)).any()]
    x = numeric[0] if numeric else params[0]
    others = [p for p in params if p != x]
    categorical = not numeric
    if categorical:
        order = list(dict.fromkeys(run["config"][x] for run in runs))
        summary = summary.assign(_position=summary[x].map(order.index)).sort_values("_position")
    groups = summary.groupby(others, sort=False) if others else [((), summary)]
    plots = []
    panels = [
        ("accuracy", "held-out accuracy (fraction correct)", "Downstream accuracy"),
        ("sgns_seconds", "SGNS training time (s)", "Training time"),
        ("final_loss", "final SGNS loss per pair (nats)", "Final training loss"),
    ]
    if "analogy_accuracy_mean" in summary:
        panels.append(("analogy_accuracy", "Google analogy accuracy (fraction)", "Analogy accuracy"))
    for metric, ylabel, title in panels:
        fig, ax = plt.subplots(figsize=(6.0, 4.0))
        for key, rows in groups:
            values = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{p}={_value(v)}" for p, v in zip(others, values, strict=True)) or "mean ± std"
            ax.errorbar(rows["_position"] if categorical else rows[x], rows[f"{metric}_mean"],
                        yerr=rows[f"{metric}_std"].fillna(0), marker="o", capsize=3, label=label)  # fmt: skip
        ax.set(title=f"{title} vs {x}", xlabel=x, ylabel=ylabel)
        if categorical:
            ax.set_xticks(range(len(order)))
            ax.set_xticklabels(order)
            ax.set_xlim(-0.5, len(order) - 0.5)
        elif x in ("negative", "window", "vector_size", "epochs") and summary[x].min() > 0:
            ax.set_xscale("log", base=2)
            ax.set_xticks(sorted(summary[x].unique()))
            ax.set_xticklabels([f"{v:g}" for v in sorted(summary[x].unique())])
        elif x in ("alpha", "min_alpha", "sample") and summary[x].min() > 0 and summary[x].max() > 4 * summary[x].min():
            from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

            ax.set_xscale("log")  # learning rates and thresholds are compared by ratios
            ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3)
        ax.legend()
        plots.append(_save(fig, directory / f"{metric}_vs_{x}.png"))
    if all("loss_per_epoch" in run for run in runs):
        plots.append(loss_curves_plot(runs, directory / "loss_per_epoch.png"))
    flat = pd.DataFrame(
        [{**run["config"], **{k: v for k, v in run.items() if k not in ("config", "fingerprint")}} for run in runs]
    )
    _write_atomically(directory / "results.csv", flat.to_csv(index=False))
    fixed = {k: v for k, v in (settings.get("base_params") or {}).items() if k not in params}
    summary = summary.drop(columns="_position", errors="ignore")
    _write_atomically(directory / "summary.csv", summary.to_csv(index=False))
    text = [
        f"# Sweep over {', '.join(params)}",
        "",
        f"Data: `{settings.get('data')}`; {settings.get('repeats')} repeats per configuration (own seed and split "
        f"each); other Word2Vec parameters: `{json.dumps(fixed)}`. Mean ± standard "
        "deviation over repeats; raw runs in `results.jsonl` and `results.csv`.",
        "",
        sweep_markdown(summary, params),
        "",
        *[f"![{name}]({name})" for name in plots],
        "",
    ]
    _write_atomically(directory / "report.md", "\n".join(text))
    return directory


def loss_curves_plot(runs: list[dict], path: Path, title: str = "SGNS training loss per epoch") -> str:
    """Mean loss per pair of each epoch (over repeats, with their range shaded), one line per configuration."""
    plt = _pyplot()
    curves: dict[str, list[list[float]]] = {}
    for run in runs:
        label = ", ".join(f"{p}={_value(v)}" for p, v in run["config"].items())
        curves.setdefault(label, []).append(run["loss_per_epoch"])
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for label, losses in curves.items():
        width = min(map(len, losses))
        losses = np.array([loss[:width] for loss in losses])
        epochs = np.arange(1, width + 1)
        line = ax.plot(epochs, losses.mean(axis=0), marker="o", label=label)[0]
        if len(losses) > 1:
            ax.fill_between(epochs, losses.min(axis=0), losses.max(axis=0), color=line.get_color(), alpha=0.2)
    ax.set(title=title, xlabel="epoch", ylabel="mean SGNS loss per pair (nats)")
    ax.set_xticks(epochs)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)
