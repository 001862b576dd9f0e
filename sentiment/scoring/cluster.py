"""Batch scoring on a Dask cluster: ``sentiment predict MODEL --input 'reviews/*.parquet' --output scored/ --dask``.

The input files (``tables.input_parts``) become a Dask DataFrame with
``dd.from_map``: one partition per CSV file, and per group of Parquet row
groups of about ``PARTITION_ROWS`` rows (one partition per file for small
files). Each partition is scored by ``score_partition`` with the model that
the worker process loaded itself, once, from the model directory's path
(``_model`` caches it per process): the task graph carries only that path
string, never the model (no pickle). On a real cluster the path must
therefore be on storage every worker sees (NFS, a shared volume) at the same
place; on a ``LocalCluster`` it just works. Each partition is written as one
part file (``part-00000.parquet``, ...) by the worker that scored it, into a
sibling temporary directory of ``--output`` that is renamed into place only
when every part is done (``outputs.py``): a failed or interrupted job leaves
no partial output directory behind. Rows keep their order within each part
and every other column is untouched (Parquet columns go through pandas'
Arrow-backed dtypes and back).

Without an address a ``distributed.LocalCluster`` is started with one worker
process per core (``workers`` to change it); with ``tcp://host:8786`` that
scheduler is used. Progress is our bar, advanced as partitions finish.
Single-process scoring of the same files is ``tables.py``'s job; this module
needs the ``scale`` extra (``dask[dataframe]``, ``distributed``, ``pyarrow``).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sentiment.errors import DataError, SentimentError
from sentiment.model import SentimentModel
from sentiment.outputs import check_predictions_dir, publish_predictions_dir
from sentiment.predict import CHUNK_ROWS, NEW_COLUMNS, NO_KNOWN_WORD, _sniff
from sentiment.progress import Progress
from sentiment.scoring.tables import (
    _parquet_error,
    input_parts,
    part_name,
    scored_batch,
    staging_directory,
    table_format,
    text_column_of,
)

__all__ = ["LOCAL", "PARTITION_ROWS", "predict_on_dask", "score_partition"]

LOCAL = "local"  # `--dask` without an address: start a LocalCluster
PARTITION_ROWS = 100_000


_LOADED: dict[str, tuple[tuple[int, int], SentimentModel]] = {}
_LOADING = threading.Lock()


def _model(path: str) -> SentimentModel:
    """The model at ``path``, loaded once per worker process and again when it changes (a lock makes the
    worker's threads wait for the first load instead of each loading their own copy).

    A long-lived worker outlives a retrained model saved to the same path: the cache is keyed on the
    identity of its ``meta.json`` (inode and modification time; a save swaps in a whole new directory).
    """
    meta = os.stat(Path(path) / "meta.json")
    version = (meta.st_ino, meta.st_mtime_ns)
    with _LOADING:
        if path not in _LOADED or _LOADED[path][0] != version:
            _LOADED[path] = (version, SentimentModel.load(path))
        return _LOADED[path][1]


def _pieces(parts: list[Path], fmt: str) -> list[tuple[str, tuple[int, ...] | None]]:
    """One (file, row groups) per partition: Parquet row groups gathered up to ``PARTITION_ROWS`` rows."""
    if fmt != "parquet":
        return [(str(part), None) for part in parts]
    import pyarrow as pa
    import pyarrow.parquet as pq

    pieces = []
    for part in parts:
        try:
            metadata = pq.ParquetFile(part).metadata
        except (OSError, pa.ArrowException) as error:
            raise _parquet_error(part, error) from None
        groups: list[int] = []
        rows = 0
        for index in range(metadata.num_row_groups):
            groups.append(index)
            rows += metadata.row_group(index).num_rows
            if rows >= PARTITION_ROWS:
                pieces.append((str(part), tuple(groups)))
                groups, rows = [], 0
        if groups or metadata.num_row_groups == 0:
            pieces.append((str(part), tuple(groups)))
    return pieces


def read_piece(piece: tuple[str, tuple[int, ...] | None], nrows: int | None = None):
    """One partition as a pandas DataFrame (runs on a worker): Arrow-backed columns, or CSV fields as strings.

    Every stored Parquet column stays a plain column (a pandas index saved as a column included), so the
    part written back holds all of them. A pandas ``RangeIndex`` kept only as schema metadata (row numbers,
    no column) is not carried into the parts: a part's rows are a slice of its file's, in order.
    """
    import pandas as pd

    path, groups = piece
    if groups is None:
        encoding, delimiter, quoting = _sniff(Path(path))
        try:
            return pd.read_csv(path, sep=delimiter, quoting=quoting, encoding=encoding.codec, dtype=str,
                               keep_default_na=False, encoding_errors=encoding.errors, nrows=nrows)  # fmt: skip
        except (ValueError, OSError, UnicodeError) as error:
            raise DataError(f"{path}: cannot read ({str(error).strip().splitlines()[-1]})") from None
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path).read_row_groups(list(groups)) if groups else pq.read_table(path)
    except (OSError, pa.ArrowException) as error:
        raise _parquet_error(Path(path), error) from None
    return table.to_pandas(types_mapper=pd.ArrowDtype, ignore_metadata=True)


def score_partition(frame, model_path: str, column: str):
    """``frame`` plus the three prediction columns, scored in chunks by this process's copy of the model."""
    import pandas as pd
    import pyarrow as pa

    model = _model(model_path)
    counts = {"rows": 0, "unscored": 0, NO_KNOWN_WORD: 0}
    texts = frame[column].tolist()
    new: dict[str, list] = {name: [] for name in NEW_COLUMNS}
    for start in range(0, len(texts), CHUNK_ROWS):
        for name, values in scored_batch(model, texts[start : start + CHUNK_ROWS], counts).items():
            new[name].extend(values)
    types = (pa.string(), pa.float64(), pa.string())
    pairs = zip(NEW_COLUMNS, types, strict=True)
    columns = {name: pd.array(new[name], dtype=pd.ArrowDtype(kind)) for name, kind in pairs}
    return frame.assign(**{name: pd.Series(values, index=frame.index) for name, values in columns.items()})


def write_partition(frame, path: str, fmt: str, source: str) -> dict:
    """Write one scored partition as one part file (runs on the worker that scored it); return its counts.

    A Parquet part keeps its ``source`` file's schema metadata, as the single-process path does.
    """
    notes = frame[NEW_COLUMNS[2]].tolist()
    counts = {"rows": len(frame), "unscored": int(frame[NEW_COLUMNS[0]].isna().sum()),
              "no_known_word": notes.count(NO_KNOWN_WORD)}  # fmt: skip
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        # The source's schema metadata is kept except pandas' own, which describes the whole file's index
        # (a part holds a slice of it): every stored column, an index column included, is a plain column here.
        table = pa.Table.from_pandas(frame, preserve_index=False)
        metadata = {k: v for k, v in (pq.read_schema(source).metadata or {}).items() if k != b"pandas"}
        pq.write_table(table.replace_schema_metadata(metadata or None), path)
        return counts
    text = frame.copy()
    text[NEW_COLUMNS[0]] = text[NEW_COLUMNS[0]].astype(object).where(text[NEW_COLUMNS[0]].notna(), "")
    text[NEW_COLUMNS[1]] = [f"{p:.6f}" if p == p else "" for p in frame[NEW_COLUMNS[1]].astype(float).tolist()]
    _, delimiter, _ = _sniff(Path(source))  # a TSV part stays tab-separated
    text.to_csv(path, sep=delimiter, index=False, compression="gzip" if path.endswith(".gz") else None)
    return counts


def _headerless(part: Path) -> bool:
    """Whether a CSV/TSV file's first row is data (a UCI-style file): Dask would read it as the header."""
    from sentiment.data.reviews import is_headerless

    _, delimiter, _ = _sniff(part)
    return is_headerless([str(c) for c in read_piece((str(part), None), nrows=0).columns], delimiter)


def _meta(piece, fmt: str):
    """An empty frame with the partitions' columns and dtypes (read from the first file's schema or header)."""
    import pandas as pd

    path, _ = piece
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_schema(path).empty_table().to_pandas(types_mapper=pd.ArrowDtype, ignore_metadata=True)
    return read_piece(piece, nrows=0)


def predict_on_dask(
    model_path: str | os.PathLike,
    input_spec: str | os.PathLike,
    output: str | os.PathLike,
    *,
    address: str = LOCAL,
    workers: int | None = None,
    processes: bool = True,
    text_column: str | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Score ``input_spec``'s files on a Dask cluster into the directory ``output``, one part per partition."""
    try:
        import dask
        import dask.dataframe as dd
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SentimentError("--dask needs Dask: pip install 'sentiment[scale]'") from None
    progress = progress or Progress(enabled=False)
    model_path = str(Path(model_path).expanduser().resolve())
    SentimentModel.load(model_path)  # a clear error here, before any cluster starts, if it is not a model
    parts = input_parts(input_spec)
    formats = {table_format(part) for part in parts}
    if len(formats) > 1:
        raise DataError(f"{input_spec}: mixes Parquet and CSV/TSV files; give one kind")
    fmt = formats.pop()
    if fmt == "csv":
        headerless = [part for part in parts if _headerless(part)]
        if headerless:
            raise DataError(f"{headerless[0]}: has no header row; --dask needs one (score it without --dask)")
    target = check_predictions_dir(Path(output), inputs=parts, overwrite=overwrite)
    pieces = _pieces(parts, fmt)
    meta = _meta(pieces[0], fmt)
    column = text_column_of(list(meta.columns), text_column, parts[0])
    clash = [name for name in NEW_COLUMNS if name in meta.columns]
    if clash:
        raise DataError(f"{parts[0]}: already has the column(s) {clash}; score the original file")
    names = [part_name(i, fmt, Path(piece[0])) for i, piece in enumerate(pieces)]  # each part as its input
    counts = {"rows": 0, "unscored": 0, "no_known_word": 0}
    # The staging directory outlives the cluster: on failure or Ctrl-C the futures are cancelled and a local
    # cluster's workers stopped first, then the partial parts are removed.
    with staging_directory(target) as staging:
        with progress.task("Starting Dask"):
            if address == LOCAL:
                cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                       processes=processes, dashboard_address=None)  # fmt: skip
                client = Client(cluster)
            else:
                cluster = None
                try:
                    client = Client(address, timeout="20s")
                except OSError as error:
                    raise SentimentError(f"{address}: cannot reach the Dask scheduler ({error})") from None
        futures = []
        try:
            frame = dd.from_map(read_piece, pieces, meta=meta, enforce_metadata=False)
            scored = frame.map_partitions(score_partition, model_path, column, meta=_scored_meta(meta))
            tasks = [dask.delayed(write_partition)(part, str(staging / name), fmt, piece[0])
                     for part, name, piece in zip(scored.to_delayed(), names, pieces, strict=True)]  # fmt: skip
            futures = client.compute(tasks)
            with progress.task(f"Scoring {len(pieces)} partitions on Dask", total=len(pieces), unit="items") as bar:
                for future in as_completed(futures):
                    for key, value in future.result().items():
                        counts[key] += value
                    bar.advance(1, status=f"{counts['rows']:,} rows")
        finally:
            if futures:
                client.cancel(futures)
            client.close()
            if cluster is not None:
                cluster.close()
        publish_predictions_dir(staging, target, names)
    return {
        "input": [str(p) for p in parts],
        "output": str(target),
        "partitions": len(pieces),
        "rows": counts["rows"],
        "unscored": counts["unscored"],
        "no_known_word": counts["no_known_word"],
        "notes": [],
    }


def _scored_meta(meta):
    import pandas as pd
    import pyarrow as pa

    types = (pa.string(), pa.float64(), pa.string())
    pairs = zip(NEW_COLUMNS, types, strict=True)
    return meta.assign(**{name: pd.Series([], dtype=pd.ArrowDtype(kind)) for name, kind in pairs})
