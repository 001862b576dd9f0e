"""Review tables for ``predict --input/--output``: CSV/TSV (.gz) and Parquet files, globs, directories of parts.

``input_parts`` turns ``--input`` (a file, a directory of part files, or a
glob) into the list of files, in name order. ``predict_table`` scores them in
one process, chunk by chunk, so memory is bounded by the chunk size and the
model whatever the files' size:

* one CSV/TSV file to one file: ``predict.predict_file`` (every record written
  back byte for byte);
* one Parquet file to one file: the input's record batches, every column
  untouched, plus ``predicted_label`` (string, null when unscored),
  ``predicted_probability`` (float64, null when unscored) and
  ``prediction_note``;
* several files, or an ``--output`` that ends in ``/`` or is a directory: a
  directory of part files, ``part-00000.csv`` (or ``.parquet``) for the first
  input part and so on, each as above. It is written into a sibling
  temporary directory and renamed into place when complete (the rules are
  ``outputs.py``'s), so a failed or interrupted run leaves no partial output.

The output format is the input's (CSV parts stay CSV, Parquet stays Parquet):
converting between them is not this module's job. An unreadable part file is
one ``DataError`` naming it. Scoring on a Dask cluster is ``cluster.py``'s.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from sentiment.data.reviews import TEXT_COLUMNS, named_columns
from sentiment.errors import DataError, SentimentError
from sentiment.model import SentimentModel
from sentiment.outputs import apply_umask, check_output_file, check_predictions_dir, publish_predictions_dir
from sentiment.predict import CHUNK_ROWS, NEW_COLUMNS, NO_KNOWN_WORD, predict_file, score_chunk
from sentiment.progress import Progress

__all__ = [
    "PARQUET_SUFFIXES",
    "input_parts",
    "part_name",
    "predict_table",
    "scored_batch",
    "table_format",
    "text_column_of",
    "wants_directory",
]

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".gz")


def table_format(path: str | os.PathLike) -> str:
    """``"parquet"`` or ``"csv"`` (CSV/TSV text, gzipped or not), from the file name."""
    return "parquet" if str(path).lower().endswith(PARQUET_SUFFIXES) else "csv"


def input_parts(spec: str | os.PathLike) -> list[Path]:
    """The files ``--input`` names: a file, every table file of a directory, or a glob's matches; in name order."""
    text = str(spec)
    path = Path(text).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(PARQUET_SUFFIXES))
        found = found or sorted(
            p
            for p in path.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.name.lower().endswith(TEXT_SUFFIXES)
        )
        if not found:
            raise DataError(f"{path}: a directory with no .parquet, .csv or .tsv(.gz) files in it")
        return found
    if glob.has_magic(text):
        found = sorted(Path(p) for p in glob.glob(os.path.expanduser(text)) if Path(p).is_file())
        if not found:
            raise DataError(f"{text}: no file matches this pattern")
        return found
    raise DataError(f"{path}: no such file or directory")


def wants_directory(output: str | os.PathLike, parts: list[Path]) -> bool:
    """Whether ``--output`` is a directory of parts: several inputs, a trailing slash, or an existing directory."""
    text = str(output)
    return len(parts) > 1 or text.endswith(("/", os.sep)) or Path(text).is_dir()


def part_name(index: int, fmt: str, template: Path | None = None) -> str:
    """``part-00003.parquet``; a CSV part keeps its input's suffixes (``.tsv.gz``)."""
    if fmt == "parquet":
        return f"part-{index:05d}.parquet"
    suffix = "".join(template.suffixes[-2:]) if template is not None and template.suffixes else ".csv"
    return f"part-{index:05d}{suffix.lower()}"


def text_column_of(columns: list[str], wanted: str | None, path: Path) -> str:
    """The text column among a table's ``columns``: ``wanted`` (any case), else the one usual name present."""
    found = named_columns(columns, wanted, TEXT_COLUMNS, path)
    if len(found) > 1:
        raise DataError(f"{path}: columns {found} could each hold the text: pass --text-column")
    if not found:
        raise DataError(f"{path}: no text column (looked for {', '.join(TEXT_COLUMNS)}); pass --text-column")
    return found[0]


def scored_batch(model: SentimentModel, texts: list, counts: dict) -> dict[str, list]:
    """The three new columns for ``texts`` (None and NaN read as empty text), as Python lists; updates ``counts``."""
    clean = [text if isinstance(text, str) else "" for text in texts]
    labels, probability, notes = score_chunk(model, clean)
    counts["rows"] += len(clean)
    counts["unscored"] += labels.count(None)
    counts[NO_KNOWN_WORD] += notes.count(NO_KNOWN_WORD)
    values = [None if np.isnan(p) else p for p in probability.tolist()]
    return dict(zip(NEW_COLUMNS, (labels, values, notes), strict=True))


def _pyarrow():
    """``pyarrow`` and ``pyarrow.parquet``, or one clear error: they come with the ``scale`` extra."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise SentimentError("Parquet needs pyarrow: pip install 'sentiment[scale]'") from None
    return pa, pq


def _parquet_error(path: Path, error: Exception) -> DataError:
    message = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    return DataError(f"{path}: cannot read as Parquet ({message})")


def predict_parquet(
    model: SentimentModel, input_path: Path, output_path: Path, *, text_column: str | None, bar=None
) -> dict:
    """Score one Parquet file batch by batch into ``output_path`` (written directly: the caller makes it atomic)."""
    pa, pq = _pyarrow()

    counts = {"rows": 0, "unscored": 0, NO_KNOWN_WORD: 0}
    try:
        # Buffered reads decode a column chunk page by page: memory stays at a batch even when one row group
        # holds the whole file (pyarrow writes row groups of up to a million rows by default).
        source = pq.ParquetFile(input_path, buffer_size=1 << 20, pre_buffer=False)
        schema = source.schema_arrow
    except (OSError, pa.ArrowException) as error:
        raise _parquet_error(input_path, error) from None
    clash = [name for name in NEW_COLUMNS if name in schema.names]
    if clash:
        raise DataError(f"{input_path}: already has the column(s) {clash}; score the original file")
    column = text_column_of(schema.names, text_column, input_path)
    new_fields = [pa.field(NEW_COLUMNS[0], pa.string()), pa.field(NEW_COLUMNS[1], pa.float64()),
                  pa.field(NEW_COLUMNS[2], pa.string())]  # fmt: skip
    out_schema = pa.schema([*schema, *new_fields], metadata=schema.metadata)
    with pq.ParquetWriter(output_path, out_schema) as writer:
        try:
            batches = source.iter_batches(batch_size=CHUNK_ROWS)
            for batch in batches:
                scored = scored_batch(model, batch.column(column).to_pylist(), counts)
                arrays = [*batch.columns, *(pa.array(scored[f.name], type=f.type) for f in new_fields)]
                writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=out_schema))
                if bar is not None:
                    bar.advance(batch.num_rows, status=f"{counts['rows']:,} rows")
        except (OSError, pa.ArrowException) as error:
            raise _parquet_error(input_path, error) from None
    return counts


def predict_table(
    model: SentimentModel,
    input_spec: str | os.PathLike,
    output: str | os.PathLike,
    *,
    text_column: str | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Score every row of ``input_spec``'s files into ``output`` (a file, or a directory of parts); return counts."""
    progress = progress or Progress(enabled=False)
    parts = input_parts(input_spec)
    formats = {table_format(part) for part in parts}
    if len(formats) > 1:
        raise DataError(f"{input_spec}: mixes Parquet and CSV/TSV files; give one kind")
    fmt = formats.pop()
    if not wants_directory(output, parts):
        output_path = Path(output)
        if table_format(output_path) != fmt:
            raise DataError(f"{output_path}: write {fmt.upper()} output for {fmt.upper()} input (same format)")
        if fmt == "csv":
            return predict_file(model, parts[0], output_path, text_column=text_column, overwrite=overwrite,
                                progress=progress)  # fmt: skip
        check_output_file(output_path, inputs=parts, overwrite=overwrite)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{output_path.name}.", suffix=".tmp", dir=output_path.parent)
        os.close(handle)
        apply_umask(temporary)
        try:
            with progress.task(f"Predicting {parts[0].name}", total=_parquet_rows(parts)) as bar:
                counts = predict_parquet(model, parts[0], Path(temporary), text_column=text_column, bar=bar)
            os.replace(temporary, output_path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        return _summary(parts, output_path, counts, [])
    target = check_predictions_dir(Path(output), inputs=parts, overwrite=overwrite)
    counts, notes, names = {"rows": 0, "unscored": 0, NO_KNOWN_WORD: 0}, [], []
    with staging_directory(target) as staging:
        total = _parquet_rows(parts) if fmt == "parquet" else None
        with progress.task(f"Predicting {len(parts)} part{'s' if len(parts) > 1 else ''}", total=total) as bar:
            for index, part in enumerate(parts):
                name = part_name(index, fmt, part)
                if fmt == "parquet":
                    part_counts = predict_parquet(model, part, staging / name, text_column=text_column, bar=bar)
                else:
                    summary = predict_file(model, part, staging / name, text_column=text_column)
                    part_counts = {"rows": summary["rows"], "unscored": summary["unscored"],
                                   NO_KNOWN_WORD: summary["no_known_word"]}  # fmt: skip
                    notes += summary["notes"]
                    bar.advance(summary["rows"], status=f"{index + 1} of {len(parts)} parts")
                for key, value in part_counts.items():
                    counts[key] += value
                names.append(name)
        publish_predictions_dir(staging, target, names)
    return _summary(parts, target, counts, notes)


@contextlib.contextmanager
def staging_directory(target: Path):
    """A new sibling temporary directory for ``target``'s parts; removed unless it was renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    apply_umask(staging, directory=True)
    try:
        yield staging
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)  # only what this run wrote there


def _parquet_rows(parts: list[Path]) -> int | None:
    """Total rows of Parquet files from their footers (for the progress bar); None if one cannot be read."""
    pa, pq = _pyarrow()

    total = 0
    for part in parts:
        try:
            total += pq.ParquetFile(part).metadata.num_rows
        except (OSError, pa.ArrowException) as error:
            raise _parquet_error(part, error) from None
    return total


def _summary(parts: list[Path], output: Path, counts: dict, notes: list[str]) -> dict:
    return {
        "input": str(parts[0]) if len(parts) == 1 else [str(p) for p in parts],
        "output": str(output),
        "rows": counts["rows"],
        "unscored": counts["unscored"],
        "no_known_word": counts[NO_KNOWN_WORD],
        "notes": notes,
    }
