"""``sentiment predict``: label texts given as arguments, or every row of a file into another file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentiment.cli.console import note, print_json, say, stdout
from sentiment.cli.exits import handle_errors
from sentiment.cli.options import AsJson, Quiet, TextColumn
from sentiment.progress import Progress


@handle_errors
def predict(
    model: Annotated[Path, typer.Argument(help="A model directory from `sentiment train`.")],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to label.")] = None,
    input_file: Annotated[Path | None, typer.Option("--input", "-i", help="CSV/TSV file of texts to label.")] = None,
    output_file: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write --input's rows.")] = None,
    text_column: TextColumn = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --output if it exists.")] = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
):
    """Label TEXTs, or every row of --input into --output (streamed in chunks)."""
    from sentiment.cli.tables import predictions_table
    from sentiment.model import SentimentModel
    from sentiment.predict import predict_file, predict_texts

    if (input_file is None) == (not texts):
        raise typer.BadParameter("give either TEXT arguments or --input FILE --output FILE")
    if input_file is not None and output_file is None:
        raise typer.BadParameter("--input needs --output")
    progress = Progress(enabled=not quiet)
    loaded = SentimentModel.load(model)
    if input_file is not None:
        summary = predict_file(
            loaded, input_file, output_file, text_column=text_column, overwrite=overwrite, progress=progress
        )
        for message in summary["notes"]:
            note(message)
        if as_json:
            print_json(summary)
        else:
            rows, unscored, unknown = summary["rows"], summary["unscored"], summary["no_known_word"]
            unknown_part = f"; {unknown:,} with no known word" if unknown else ""
            say(
                f"Wrote {rows:,} {'row' if rows == 1 else 'rows'} to {output_file} "
                f"({unscored:,} unscored: empty text{unknown_part})"
            )
        return
    predictions = predict_texts(loaded, texts)
    if as_json:
        print_json({"predictions": predictions})
        return
    stdout().print(predictions_table(predictions))
