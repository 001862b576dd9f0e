"""``sentiment sweep``: how a Word2Vec parameter changes cost and quality, resumable, with a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentiment.cli.console import print_json, say, stdout
from sentiment.cli.exits import handle_errors
from sentiment.cli.inputs import read_for_experiment
from sentiment.cli.options import (
    DEFAULT_VECTOR_SIZE,
    AsJson,
    Download,
    InverseRegularisation,
    LabelColumn,
    Quiet,
    Seed,
    TextColumn,
    Unlabeled,
    word2vec_options,
)
from sentiment.outputs import check_report_dir, claim_report_dir
from sentiment.progress import Progress


@handle_errors
@word2vec_options(vector_size=DEFAULT_VECTOR_SIZE)
def sweep(
    data: Annotated[Path, typer.Argument(help="Labelled reviews (CSV or TSV, optionally .gz).")],
    param: Annotated[
        list[str], typer.Option("--param", help="NAME=V1,V2,... (repeatable: the grid is their product).")
    ],
    report: Annotated[Path, typer.Option("--report", help="Directory for results and plots.")] = Path("sweep"),
    unlabeled: Unlabeled = None,
    repeats: Annotated[int, typer.Option("--repeats", help="Repeats per configuration (own seeds).")] = 3,
    resume: Annotated[bool, typer.Option("--resume", help="Skip configurations already in the report.")] = False,
    intrinsic: Annotated[bool, typer.Option("--intrinsic", help="Also measure analogies and WS-353.")] = False,
    text_column: TextColumn = None,
    label_column: LabelColumn = None,
    C: InverseRegularisation = 1.0,
    seed: Seed = 0,
    download: Download = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
    word2vec: dict | None = None,
):
    """How many negative samples (or any Word2Vec parameter)? Cost and quality for each value."""
    from sentiment.cli.tables import table_from_markdown
    from sentiment.experiments.report import summarise_sweep, sweep_markdown, write_sweep_report
    from sentiment.experiments.sweep import parse_grid
    from sentiment.experiments.sweep import sweep as run_sweep

    progress = Progress(enabled=not quiet)
    grid = parse_grid(param)
    check_report_dir(report, "sweep", inputs=[data, *(unlabeled or [])])
    reviews, extra = read_for_experiment(data, unlabeled, text_column, label_column, download, progress)
    claim_report_dir(report, "sweep")  # results.jsonl is appended run by run
    runs = run_sweep(
        reviews, grid, report / "results.jsonl", unlabeled=extra, repeats=repeats, base_params=word2vec,
        intrinsic=intrinsic, resume=resume, C=C, seed=seed, progress=progress,
    )  # fmt: skip
    settings = {"data": str(data), "repeats": repeats, "base_params": word2vec}
    write_sweep_report(runs, report, settings)
    summary = summarise_sweep(runs)
    if as_json:
        print_json({"settings": settings, "summary": summary.to_dict(orient="records")})
        return
    stdout().print(table_from_markdown(sweep_markdown(summary, list(grid)), title=f"Sweep on {data.name}"))
    say(f"Report written to {report}/report.md")
