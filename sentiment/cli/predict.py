"""``sentiment predict``: label texts given as arguments, or every row of files into a file or a directory of parts.

``--input`` takes a CSV/TSV (.gz) or Parquet file, a directory of part files or
a glob; ``--dask [ADDRESS]`` scores them on a Dask cluster
(``sentiment/scoring/cluster.py``), otherwise they are scored in this process
(``sentiment/scoring/tables.py``). Labelling a few TEXTs imports neither
scikit-learn nor pandas: the model scores with NumPy (``fast_predict.py``, which
also runs that case without typer).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentiment.cli.console import note, print_json, say
from sentiment.cli.exits import handle_errors
from sentiment.cli.fast_predict import label_texts
from sentiment.cli.options import AsJson, Quiet, TextColumn
from sentiment.progress import Progress


@handle_errors
def predict(
    model: Annotated[Path, typer.Argument(help="A model directory from `sentiment train`.")],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to label.")] = None,
    input_file: Annotated[
        str | None,
        typer.Option("--input", "-i", help="CSV/TSV (.gz) or Parquet file, a directory of part files, or a glob."),
    ] = None,
    output_file: Annotated[
        str | None,
        typer.Option("--output", "-o", help="A file, or a directory of part files (ends in /, or several inputs)."),
    ] = None,
    text_column: TextColumn = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --output if it exists.")] = False,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            metavar="[ADDRESS]",
            help="Score on Dask: alone, a local cluster (one worker process per core); or a scheduler's "
            "tcp://host:8786. The model directory must be on storage every worker can read.",
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Worker processes of the local Dask cluster.")
    ] = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
):
    """Label TEXTs, or every row of --input into --output (streamed in chunks, or on Dask)."""
    if (input_file is None) == (not texts):
        raise typer.BadParameter("give either TEXT arguments or --input FILE --output FILE")
    if input_file is not None and output_file is None:
        raise typer.BadParameter("--input needs --output")
    if dask is None and workers is not None:
        raise typer.BadParameter("--workers sets the local Dask cluster's size: use it with --dask")
    if dask is not None and input_file is None:
        raise typer.BadParameter("--dask scores --input files")
    progress = Progress(enabled=not quiet)
    if dask is not None:
        from sentiment.scoring.cluster import predict_on_dask

        summary = predict_on_dask(
            model, input_file, output_file, address=dask, workers=workers, text_column=text_column,
            overwrite=overwrite, progress=progress,
        )  # fmt: skip
        _report(summary, output_file, as_json)
        return
    if input_file is None:
        label_texts(model, texts, as_json)
        return
    from sentiment.model import SentimentModel
    from sentiment.scoring.tables import predict_table

    summary = predict_table(
        SentimentModel.load(model), input_file, output_file, text_column=text_column, overwrite=overwrite,
        progress=progress,
    )  # fmt: skip
    _report(summary, output_file, as_json)


def _report(summary: dict, output_file: str, as_json: bool) -> None:
    for message in summary["notes"]:
        note(message)
    if as_json:
        print_json(summary)
        return
    rows, unscored, unknown = summary["rows"], summary["unscored"], summary["no_known_word"]
    unknown_part = f"; {unknown:,} with no known word" if unknown else ""
    noun = "row" if rows == 1 else "rows"
    say(f"Wrote {rows:,} {noun} to {output_file} ({unscored:,} unscored: empty text{unknown_part})")
