"""Rich tables for the terminal: results of train, evaluate, predict, similar, validate, compare and sweep.

Functions here take the plain dicts that ``train``, ``evaluate`` and
``validate`` return and render them; they compute nothing new (the model card
is ``sentiment/model_card.py``). Every title,
header and cell is literal text, never rich markup: texts, labels, words and
file names come from users and data, and "[bold]" or "[/]" must print as typed.
"""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sentiment.model_card import FEATURE_NAMES, format_metric

__all__ = [
    "comparison_table",
    "evaluation_tables",
    "explanation_table",
    "predictions_table",
    "scaling_table",
    "similar_table",
    "table_from_markdown",
    "validation_table",
]


def _table(title: str = "") -> Table:
    # Titles are escaped rather than made Text, so that they keep the table's title style.
    return Table(title=escape(title) if title else None)


def _column(table: Table, header: str, **options) -> None:
    table.add_column(Text(header), **options)


def _row(table: Table, *cells: str) -> None:
    table.add_row(*(Text(cell) for cell in cells))


def comparison_table(metrics: dict[str, dict], fit_seconds: dict[str, float] | None = None, title: str = "") -> Table:
    """One row per pipeline: accuracy, macro-F1, ROC AUC, ECE (15 bins), Brier and (if given) training time."""
    table = _table(title)
    for column in ("features", "accuracy", "macro-F1", "ROC AUC", "ECE (15 bins)", "Brier", "n"):
        _column(table, column, justify="left" if column == "features" else "right")
    if fit_seconds is not None:
        _column(table, "train time", justify="right")
    for kind, m in metrics.items():
        row = [
            FEATURE_NAMES.get(kind, kind),
            format_metric(m["accuracy"]),
            format_metric(m["macro_f1"]),
            format_metric(m["roc_auc"]),
            format_metric(m.get("ece")),
            format_metric(m.get("brier")),
            f"{m['n']:,}",
        ]
        if fit_seconds is not None:
            row.append(f"{fit_seconds.get(kind, float('nan')):.1f} s")
        _row(table, *row)
    return table


def evaluation_tables(metrics: dict[str, dict], title: str = "Held-out evaluation") -> list[Table]:
    """The comparison table, then per-class scores and the confusion matrix of each pipeline."""
    tables = [comparison_table(metrics, title=title)]
    for kind, m in metrics.items():
        per_class = _table(f"{FEATURE_NAMES.get(kind, kind)}: per class")
        for column in ("class", "precision", "recall", "F1", "support"):
            _column(per_class, column, justify="left" if column == "class" else "right")
        for label, scores in m["per_class"].items():
            _row(
                per_class,
                label,
                format_metric(scores["precision"]),
                format_metric(scores["recall"]),
                format_metric(scores["f1"]),
                f"{scores['support']:,}",
            )
        tables.append(per_class)
        confusion = _table(f"{FEATURE_NAMES.get(kind, kind)}: confusion matrix (rows true, columns predicted)")
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


def explanation_table(explanation) -> Table:
    """One row per token, its contribution green (towards the explained class) or red (against), then the sum."""
    towards = explanation.explained_class
    against = f"towards {explanation.opposite_class}" if explanation.opposite_class else f"against {towards}"
    table = _table(f"Contributions to the logit of {towards!r} (green: towards {towards}; red: {against})")
    _column(table, "token")
    _column(table, "contribution", justify="right")
    for token in explanation.tokens:
        style = "green" if token.contribution > 0 else "red" if token.contribution < 0 else "dim"
        word = token.token if token.known else f"{token.token} (unknown)"
        table.add_row(Text(word, style=style), Text(f"{token.contribution:+.4f}", style=style))
    table.add_section()
    _row(table, "constant (no word's)", f"{explanation.constant:+.4f}")
    _row(table, "logit (sum)", f"{explanation.logit:+.4f}")
    if explanation.note:
        _row(table, f"note: {explanation.note}", "")
    return table


def similar_table(word: str, neighbours: list[tuple[str, float]]) -> Table:
    table = _table(f"Nearest words to {word!r} (cosine)")
    _column(table, "word")
    _column(table, "similarity", justify="right")
    for neighbour, similarity in neighbours:
        _row(table, neighbour, f"{similarity:.3f}")
    return table


def validation_table(report: dict) -> Table:
    corpus = report["corpus"]
    table = _table(
        f"Our SGNS vs gensim ({corpus['sentences']:,} texts, {corpus['words']:,} words, "
        f"{report['params']['epochs']} epochs, {report['workers']} workers each)"
    )
    for column in ("measure", "ours", "gensim", "ours/gensim"):
        _column(table, column, justify="left" if column == "measure" else "right")
    from sentiment.experiments.validate import validation_rows  # SciPy: imported only for this table

    for row in validation_rows(report):
        _row(table, *row)
    return table


def scaling_table(report: dict) -> Table:
    """Words/s of both trainers at each worker count of the run (``report["scaling"]``)."""
    from sentiment.experiments.validate import SCALING_HEADER, scaling_rows

    table = _table("Scaling with workers (same run; words/s = corpus words x epochs / training seconds)")
    for column in SCALING_HEADER:
        _column(table, column, justify="right")
    for row in scaling_rows(report):
        _row(table, *row)
    return table


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
