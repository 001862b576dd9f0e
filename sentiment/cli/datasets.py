"""``sentiment datasets``: list, download, import and export the built-in datasets (imdb, mr, uci)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentiment.cli.console import note, print_json, say, stdout
from sentiment.cli.exits import handle_errors
from sentiment.cli.options import AsJson, Quiet
from sentiment.progress import Progress

app = typer.Typer(help="Built-in datasets (imdb, mr, uci): list, download, import, export.", no_args_is_help=True)
DatasetName = Annotated[str, typer.Argument(help="imdb, mr or uci.")]


@app.command("list")
@handle_errors
def datasets_list(as_json: AsJson = False):
    """Built-in datasets: size, splits, whether they are in the cache, and whom to cite."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from sentiment.data.datasets import data_home, status

    rows = status()
    if as_json:
        print_json({"data_home": str(data_home()), "datasets": rows})
        return
    table = Table(title=escape(f"Built-in datasets (cache: {data_home()})"))
    for column in ("name", "title", "size", "splits", "downloaded", "cite"):
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = (row["name"], row["title"], row["size"], ", ".join(row["splits"]),
                 "yes" if row["downloaded"] else "no", row["citation"])  # fmt: skip
        table.add_row(*map(Text, cells))
    stdout().print(table)


@app.command("download")
@handle_errors
def datasets_download(
    name: DatasetName,
    mirror: Annotated[
        str | None, typer.Option("--mirror", help="Another URL base, or a folder holding the archive.")
    ] = None,
    quiet: Quiet = False,
):
    """Download NAME, verify its checksum, and cache it as one compact table."""
    from sentiment.data.datasets import DATASETS, download

    table = download(name, mirror=mirror, progress=Progress(enabled=not quiet))
    if DATASETS[name].checksum is None:
        note(f"{name} has no published checksum; its layout was checked instead")
    say(f"{name} is ready: {table}")


@app.command("import")
@handle_errors
def datasets_import(
    name: DatasetName,
    path: Annotated[Path, typer.Argument(help="A local archive or an extracted folder.")],
    quiet: Quiet = False,
):
    """Cache NAME from a local archive or folder (the layout is checked; no checksum needed)."""
    from sentiment.data.datasets import import_dataset

    table = import_dataset(name, path, progress=Progress(enabled=not quiet))
    say(f"{name} is ready: {table}")


@app.command("export")
@handle_errors
def datasets_export(
    name: DatasetName,
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write (.csv or .csv.gz).")],
    split: Annotated[str, typer.Option("--split", help="train, test or unsup.")] = "train",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUTPUT if it exists.")] = False,
):
    """Write one split of a cached dataset as a CSV with text and label columns."""
    from sentiment.data.datasets import export

    rows = export(name, split, output, overwrite=overwrite)
    say(f"Wrote {rows:,} {'row' if rows == 1 else 'rows'} to {output}")
