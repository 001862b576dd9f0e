"""``sentiment evaluate``: score a saved model and its baseline on labelled data, honestly.

Labels are read with the model's own mapping. If DATA is what the model was
trained on, only the rows it held out are scored; if those cannot be found
again, the scores are flagged as on trained-on rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentiment.cli.console import note, print_json, stdout
from sentiment.cli.exits import handle_errors
from sentiment.cli.inputs import read_data
from sentiment.cli.options import AsJson, Download, LabelColumn, Quiet, TextColumn
from sentiment.progress import Progress


@handle_errors
def evaluate(
    model: Annotated[Path, typer.Argument(help="A model directory from `sentiment train`.")],
    data: Annotated[Path, typer.Argument(help="Labelled reviews (CSV/TSV, optionally .gz) or a dataset name.")],
    text_column: TextColumn = None,
    label_column: LabelColumn = None,
    download: Download = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
):
    """Score a saved model and its baseline on labelled DATA (a file, or a dataset's test split).

    Labels are read with the model's own mapping. If DATA is what the model was trained on, only the rows
    it held out are scored; if those cannot be found again, the scores are flagged as on trained-on rows.
    """
    from sentiment.cli.tables import evaluation_tables
    from sentiment.evaluate import evaluate as evaluate_model
    from sentiment.evaluate import unseen_rows
    from sentiment.model import SentimentModel

    progress = Progress(enabled=not quiet)
    with progress.task(f"Loading {model}"):
        loaded = SentimentModel.load(model)
    reviews, held_out, _ = read_data(
        data, text_column=text_column, label_column=label_column, download=download, progress=progress
    )
    selection = {"rows": "all", "trained_on": False, "note": None}
    if held_out is not None:
        reviews = held_out  # a built-in dataset: score on its test split, which training never sees
    else:
        reviews, selection = unseen_rows(loaded, reviews)
    reviews = reviews.relabelled(loaded.label_mapping, loaded.classes_.tolist())
    notes = reviews.notes + [selection["note"]] * bool(selection["note"])
    for message in notes:
        note(message)
    with progress.task(f"Scoring {len(reviews):,} reviews"):
        metrics = evaluate_model(loaded, reviews)
    if as_json:
        print_json({
            "model": str(model), "data": str(data), "rows": selection["rows"], "trained_on": selection["trained_on"],
            "notes": notes, "metrics": metrics,
        })  # fmt: skip
        return
    out = stdout()
    title = "Evaluation on rows the model was trained on" if selection["trained_on"] else "Held-out evaluation"
    for table in evaluation_tables(metrics, title=title):
        out.print(table)
