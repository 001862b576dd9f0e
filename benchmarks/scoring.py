"""Benchmark: scoring many reviews (issue 13), in one process, with `sentiment predict --input`, and on Dask.

Builds an input of ``--reviews`` rows (1,000,000 by default) by repeating the
IMDB training reviews (all their columns; ``id`` made unique) in a temporary
folder: one CSV file, one Parquet file, and a directory of 10 Parquet part
files for Dask. Then prints reviews/s and peak memory (each run is a child
process; its own peak resident set, from ``wait4``) for:

* the library in one process (``SentimentModel.load`` + ``predict_proba`` in
  chunks of 5,000), for the embeddings model and the one-hot baseline;
* ``sentiment predict MODEL --input reviews.csv`` and ``--input reviews.parquet``;
* ``sentiment predict MODEL --input 'parts/*.parquet' --output dir/ --dask
  --workers 1`` and ``--workers 2`` (LocalCluster; the peak shown is the
  client's, workers are separate processes), whose output is checked to be
  identical row for row to the single-process command's on the same parts;
* the cold start of ``sentiment predict MODEL "one text"`` against
  ``python -c "import numpy"`` (median of 5 runs each), in the same run.

``--model`` is a model directory (the default IMDB model of `sentiment train
imdb`, 300 dimensions, for the issue's targets). Without it a stand-in is
built first: random 300-dimensional vectors for every word of the training
reviews seen 5 times or more, with the default weighting and the one-hot
baseline (scoring speed depends on the vocabulary and the dimensions, not on
the vectors' quality). Everything is deleted at the end; nothing is written
into the repository.

    python benchmarks/scoring.py [--model DIR] [--reviews 1000000] [--data-dir ../shared/data] [--skip-dask]

Targets (2 cores): library >= 15,000 reviews/s for embeddings and no slower
than one-hot; `predict --input` peak RSS <= 400 MB; Dask 2 workers >= 1.7x 1
worker; cold start <= 3x `import numpy`. Exit status 1 if one is missed.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, here and in the children (PYTHONPATH below)
CHUNK = 5_000

_LIBRARY = """
import sys, time
import pyarrow.parquet as pq
from sentiment.model import SentimentModel
model = SentimentModel.load(sys.argv[1])
kind, seconds = sys.argv[3], 0.0
for batch in pq.ParquetFile(sys.argv[2]).iter_batches(batch_size=5000, columns=["text"]):
    texts = batch.column("text").to_pylist()
    started = time.perf_counter()
    model.predict_proba(texts, kind)
    seconds += time.perf_counter() - started
print(seconds)
"""


def _measure(command: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """Wall seconds, the child's own peak RSS in bytes (``wait4``) and its stdout; raises if it fails."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        process = subprocess.Popen(command, stdout=out_file, stderr=err_file, env=env, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{err[-2000:]}")
    return seconds, usage.ru_maxrss * 1024, out


def _prepare(data_dir: Path, folder: Path, n: int, model: Path | None) -> None:
    if model is not None:
        build_stand_in_model(data_dir, model)
    build_input(data_dir, folder, n)


def build_input(data_dir: Path, folder: Path, n: int) -> dict[str, Path]:
    """reviews.csv, reviews.parquet and parts/part-*.parquet with ``n`` rows of repeated IMDB reviews."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pd.read_csv(data_dir / "imdb" / "imdb_train.csv.gz")
    index = np.arange(n) % len(source)
    table = source.iloc[index].reset_index(drop=True)
    table["id"] = np.arange(n)
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    paths = {"csv": folder / "reviews.csv", "parquet": folder / "reviews.parquet", "parts": folder / "parts"}
    table.to_csv(paths["csv"], index=False)
    pq.write_table(arrow, paths["parquet"], row_group_size=50_000)
    paths["parts"].mkdir()
    bounds = np.linspace(0, n, 11).astype(int)
    for i, (start, stop) in enumerate(itertools.pairwise(bounds)):
        pq.write_table(arrow.slice(start, stop - start), paths["parts"] / f"part-{i:05d}.parquet",
                       row_group_size=50_000)  # fmt: skip
    return paths


def build_stand_in_model(data_dir: Path, target: Path) -> None:
    """Random 300-dimensional vectors over the training vocabulary (min count 5), default weighting + one-hot."""
    import numpy as np

    from sentiment.data.reviews import load_reviews
    from sentiment.embeddings.formats import Pretrained
    from sentiment.embeddings.vectors import WordVectors
    from sentiment.embeddings.vocab import build_vocab
    from sentiment.tokenize import tokenize_all
    from sentiment.train import train

    reviews = load_reviews(data_dir / "imdb" / "imdb_train.csv.gz")
    vocab = build_vocab(tokenize_all(reviews.texts), min_count=5)
    rng = np.random.default_rng(0)
    vectors = ((rng.random((len(vocab), 300), dtype=np.float32) - 0.5) / 300).astype(np.float32)
    wv = WordVectors(list(vocab.index_to_key), vectors)
    pretrained = Pretrained(wv=wv, source="random stand-in", format="word2vec-binary", sha256="-")
    train(reviews, vectors=pretrained, C=1.0, seed=0).model.save(target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model directory (default: build a 300-dimensional stand-in)")
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("SENTIMENT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    # Children import this checkout; bytecode is cached in the temporary folder (never in the repository), so
    # the cold start is measured as an installed package runs, not with every module compiled from source.
    folder = Path(tempfile.mkdtemp(prefix="sentiment-scoring-"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "PYTHONPYCACHEPREFIX": str(folder / "pycache")}  # fmt: skip
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    sentiment = [sys.executable, "-m", "sentiment"]
    rows, missed = [], []
    try:
        model = args.model
        if model is None:
            print("Building a stand-in model (random 300-dimensional vectors) ...", file=sys.stderr, flush=True)
            model = folder / "model"
        print(f"Writing {args.reviews:,} reviews (CSV, Parquet, 10 Parquet parts) ...", file=sys.stderr, flush=True)
        # In a fresh process: this one stays small, and a child's peak RSS (which Linux carries over from the
        # process it was forked from) then measures only the child.
        prepare = multiprocessing.get_context("spawn").Process(
            target=_prepare, args=(args.data_dir, folder, args.reviews, None if args.model else model)
        )
        prepare.start()
        prepare.join()
        if prepare.exitcode != 0:
            raise RuntimeError("preparing the model or the input failed")
        paths = {"csv": folder / "reviews.csv", "parquet": folder / "reviews.parquet", "parts": folder / "parts"}
        n = args.reviews

        def add(name: str, seconds: float, peak: int | None, note: str = "") -> float:
            rate = n / seconds
            rows.append((name, f"{rate:,.0f}", f"{peak / 1e6:,.0f} MB" if peak else "-", note))
            print(f"  {name}: {rate:,.0f} reviews/s" + (f", peak {peak / 1e6:,.0f} MB" if peak else ""),
                  file=sys.stderr, flush=True)  # fmt: skip
            return rate

        rates = {}
        for kind in ("embeddings", "onehot"):
            _, peak, out = _measure([sys.executable, "-c", _LIBRARY, str(model), str(paths["parquet"]), kind], env)
            rates[kind] = add(f"library, one process ({kind})", float(out.strip().splitlines()[-1]), peak,
                              "predict_proba only; model load and reading excluded")  # fmt: skip
        for fmt in ("csv", "parquet"):
            output = folder / f"scored.{fmt}"
            seconds, peak, _ = _measure([*sentiment, "predict", str(model), "--input", str(paths[fmt]),
                                         "--output", str(output), "--quiet"], env)  # fmt: skip
            add(f"sentiment predict --input ({fmt.upper()})", seconds, peak, "whole command")
            if peak > 400e6:
                missed.append(f"predict --input {fmt} peak {peak / 1e6:,.0f} MB > 400 MB")
        if rates["embeddings"] < 15_000:
            missed.append(f"library embeddings {rates['embeddings']:,.0f}/s < 15,000/s")
        if rates["embeddings"] < rates["onehot"]:
            missed.append("library embeddings slower than one-hot")
        if not args.skip_dask:
            glob = str(paths["parts"] / "*.parquet")
            _measure([*sentiment, "predict", str(model), "--input", glob, "--output", str(folder / "single"),
                      "--quiet"], env)  # fmt: skip
            dask_rates = {}
            for workers in (1, 2):
                output = folder / f"dask-{workers}"
                command = [*sentiment, "predict", str(model), "--input", glob, "--output", str(output), "--dask",
                           "--workers", str(workers), "--quiet"]  # fmt: skip
                seconds, peak, _ = _measure(command, env)
                dask_rates[workers] = add(f"--dask, LocalCluster of {workers} worker{'s' * (workers > 1)}", seconds,
                                          peak, "whole command, cluster start included; peak: client")  # fmt: skip
                if not _same_output(folder / "single", output):
                    missed.append(f"--dask --workers {workers} output differs from the single-process command")
            speedup = dask_rates[2] / dask_rates[1]
            rows.append(("Dask speed-up, 2 workers vs 1", f"{speedup:.2f}x", "", "target >= 1.7x"))
            if speedup < 1.7:
                missed.append(f"Dask 2 workers only {speedup:.2f}x 1 worker")
        _measure([*sentiment, "predict", str(model), "warm-up: writes the bytecode cache"], env)
        numpy_times = [_measure([sys.executable, "-c", "import numpy"], env)[0] for _ in range(5)]
        predict_times = [_measure([*sentiment, "predict", str(model), "A wonderful film."], env)[0] for _ in range(5)]
        cold, base = statistics.median(predict_times), statistics.median(numpy_times)
        rows.append(("cold start: predict MODEL 'one text'", f"{cold:.2f} s", "", f"{cold / base:.1f}x import numpy"))
        rows.append(("cold start: python -c 'import numpy'", f"{base:.2f} s", "", ""))
        if cold > 3 * base:
            missed.append(f"cold start {cold / base:.1f}x import numpy > 3x")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{n:,} reviews, {os.cpu_count()} cores\n")
    print("| route | reviews/s | peak RSS | note |\n|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for message in missed:
        print(f"MISSED: {message}", file=sys.stderr)
    return 1 if missed else 0


def _same_output(a: Path, b: Path) -> bool:
    import pyarrow.parquet as pq

    names = sorted(p.name for p in a.glob("part-*"))
    if names != sorted(p.name for p in b.glob("part-*")):
        return False
    return all(
        pq.read_table(a / name)
        .replace_schema_metadata(None)
        .equals(pq.read_table(b / name).replace_schema_metadata(None))
        for name in names
    )


if __name__ == "__main__":
    sys.exit(main())
