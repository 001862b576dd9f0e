"""Human-readable output: rich tables for the terminal and the Markdown model card.

Functions here take the plain dicts that ``train``, ``evaluate`` and
``validate`` return and render them; they compute nothing new. Every title,
header and cell is literal text, never rich markup: texts, labels, words and
file names come from users and data, and "[bold]" or "[/]" must print as typed.
"""

from __future__ import annotations

import math

from rich.markup import escape
from rich.table import Table
from rich.text import Text

__all__ = [
    "comparison_table",
    "evaluation_tables",
    "model_card",
    "predictions_table",
    "similar_table",
    "table_from_markdown",
    "validation_markdown",
    "validation_table",
]

_NAMES = {"embeddings": "SGNS mean embeddings", "onehot": "one-hot baseline"}


def _table(title: str = "") -> Table:
    # Titles are escaped rather than made Text, so that they keep the table's title style.
    return Table(title=escape(title) if title else None)


def _column(table: Table, header: str, **options) -> None:
    table.add_column(Text(header), **options)


def _row(table: Table, *cells: str) -> None:
    table.add_row(*(Text(cell) for cell in cells))


def _num(value: float, digits: int = 4) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def comparison_table(metrics: dict[str, dict], fit_seconds: dict[str, float] | None = None, title: str = "") -> Table:
    """One row per pipeline: accuracy, macro-F1, ROC AUC and (if given) training time."""
    table = _table(title)
    for column in ("features", "accuracy", "macro-F1", "ROC AUC", "n"):
        _column(table, column, justify="left" if column == "features" else "right")
    if fit_seconds is not None:
        _column(table, "train time", justify="right")
    for kind, m in metrics.items():
        row = [_NAMES.get(kind, kind), _num(m["accuracy"]), _num(m["macro_f1"]), _num(m["roc_auc"]), f"{m['n']:,}"]
        if fit_seconds is not None:
            row.append(f"{fit_seconds.get(kind, float('nan')):.1f} s")
        _row(table, *row)
    return table


def evaluation_tables(metrics: dict[str, dict], title: str = "Held-out evaluation") -> list[Table]:
    """The comparison table, then per-class scores and the confusion matrix of each pipeline."""
    tables = [comparison_table(metrics, title=title)]
    for kind, m in metrics.items():
        per_class = _table(f"{_NAMES.get(kind, kind)}: per class")
        for column in ("class", "precision", "recall", "F1", "support"):
            _column(per_class, column, justify="left" if column == "class" else "right")
        for label, scores in m["per_class"].items():
            _row(
                per_class,
                label,
                _num(scores["precision"]),
                _num(scores["recall"]),
                _num(scores["f1"]),
                f"{scores['support']:,}",
            )
        tables.append(per_class)
        confusion = _table(f"{_NAMES.get(kind, kind)}: confusion matrix (rows true, columns predicted)")
        _column(confusion, "")
        for label in m["classes"]:
            _column(confusion, label, justify="right")
        for label, row in zip(m["classes"], m["confusion_matrix"], strict=True):
            _row(confusion, label, *(f"{v:,}" for v in row))
        tables.append(confusion)
    return tables


def predictions_table(predictions: list[dict]) -> Table:
    """``predict_texts``'s results; an empty text has no label, and a note says why a label means little."""
    table = _table()
    _column(table, "text", overflow="fold", max_width=70)
    _column(table, "label")
    _column(table, "probability", justify="right")
    _column(table, "note")
    for p in predictions:
        probability = "" if p["probability"] is None else f"{p['probability']:.3f}"
        _row(table, p["text"], p["label"] or "", probability, p["note"] or "")
    return table


def similar_table(word: str, neighbours: list[tuple[str, float]]) -> Table:
    table = _table(f"Nearest words to {word!r} (cosine)")
    _column(table, "word")
    _column(table, "similarity", justify="right")
    for neighbour, similarity in neighbours:
        _row(table, neighbour, f"{similarity:.3f}")
    return table


_VALIDATION_ROWS = [
    ("training time (s)", "seconds", 1),
    ("words/s", "words_per_second", 0),
    ("peak memory (MiB)", "peak_memory_mib", 1),
    ("vocabulary", "vocabulary", 0),
    ("SGNS loss per pair, same pairs", "sgns_loss", 4),
    ("Google analogy accuracy", "analogy_accuracy", 4),
    ("WS-353 Spearman", "ws353_spearman", 4),
    ("SimLex-999 Spearman", "simlex999_spearman", 4),
    ("neighbour overlap@10", "neighbour_overlap_at_10", 3),
    ("downstream accuracy (mean vectors + LR)", "downstream_accuracy", 4),
]


def validation_rows(report: dict) -> list[tuple[str, str, str, str]]:
    """(measure, ours, gensim, ours/gensim) rows of a ``compare_to_gensim`` report."""
    ours, gensim = report["results"]["ours"], report["results"]["gensim"]
    rows = []
    for label, key, digits in _VALIDATION_ROWS:
        if key not in ours:
            continue
        a, b = ours[key], gensim[key]
        ratio = f"{a / b:.2f}x" if key in ("seconds", "words_per_second", "peak_memory_mib") and b else ""
        fmt = (lambda v: f"{v:,.0f}") if digits == 0 else (lambda v, d=digits: _num(v, d))
        rows.append((label, fmt(a), fmt(b), ratio))
    return rows


def validation_table(report: dict) -> Table:
    corpus = report["corpus"]
    table = _table(
        f"Our SGNS vs gensim ({corpus['sentences']:,} texts, {corpus['words']:,} words, "
        f"{report['params']['epochs']} epochs, gensim workers={report['gensim_workers']})"
    )
    for column in ("measure", "ours", "gensim", "ours/gensim"):
        _column(table, column, justify="left" if column == "measure" else "right")
    for row in validation_rows(report):
        _row(table, *row)
    return table


def validation_markdown(report: dict) -> str:
    lines = ["| measure | ours | gensim | ours/gensim |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in validation_rows(report)]
    return "\n".join(lines)


def table_from_markdown(markdown: str, title: str = "") -> Table:
    """A rich Table from a Markdown pipe table, so terminal and report.md show the same cells."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in markdown.strip().splitlines()]
    header, alignments, body = rows[0], rows[1], rows[2:]
    table = _table(title)
    for name, alignment in zip(header, alignments, strict=True):
        _column(table, name, justify="right" if alignment.endswith(":") else "left")
    for row in body:
        _row(table, *row)
    return table


def model_card(meta: dict) -> str:
    """A Markdown README for a model directory, from its meta.json."""
    data = meta.get("data", {})
    params = meta.get("parameters", {})
    lines = [
        "# Sentiment model",
        "",
        f"Created {meta.get('created', '?')} by sentiment {meta.get('versions', {}).get('sentiment', '?')}; "
        f"predicts {', '.join(meta.get('classes', []))} with the **{meta.get('primary')}** pipeline.",
        "",
        "## Data",
        "",
        f"- trained on `{data.get('source', '?')}` (sha256 `{data.get('sha256', '?')[:16]}...`): "
        f"{data.get('train_rows', 0):,} training rows, {data.get('unlabeled_rows', 0):,} unlabelled texts for the "
        "word vectors",
        f"- held out: {data.get('held_out_rows', 0):,} rows ({data.get('held_out_source', '?')})",
        "",
        "## Held-out metrics",
        "",
        "| features | accuracy | macro-F1 | ROC AUC |",
        "|---|---:|---:|---:|",
    ]
    for kind, m in meta.get("metrics", {}).items():
        lines.append(
            f"| {_NAMES.get(kind, kind)} | {_num(m['accuracy'])} | {_num(m['macro_f1'])} | {_num(m['roc_auc'])} |"
        )
    lines += ["", "## Parameters", "", "```json"]
    import json

    lines += [json.dumps(params, indent=2), "```", ""]
    lines += [
        "## Files",
        "",
        "No pickle: `meta.json`, NumPy `.npz` archives (load with `allow_pickle=False`), `vectors.bin` in word2vec",
        "binary format (gensim's `KeyedVectors.load_word2vec_format(path, binary=True)` reads it) and",
        "`onehot_vocabulary.json`. Load with `sentiment.SentimentModel.load(path)`.",
        "",
    ]
    return "\n".join(lines)
