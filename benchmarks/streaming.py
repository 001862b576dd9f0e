"""Benchmark: word vectors from a corpus file bigger than memory should need, streamed from disk.

Writes a plain-text corpus of at least ``--gigabytes`` (2 by default) into a
temporary folder by repeating the IMDB unlabelled reviews (one review per
line, ``<br />`` removed; in a child process, so that its memory is not
counted), trains our SGNS on it for one epoch from a ``TextCorpus`` (read once
for the vocabulary and once for the epoch, never held in memory), prints
words/s and the peak memory of training: this process's peak resident set plus
each worker process's own peak beyond what it shares with this one, and
deletes the file. Nothing is written into the repository.

    python benchmarks/streaming.py [--data-dir ../shared/data] [--gigabytes 2] [--workers CORES]

Target: peak RSS under 1.5 GB (exit status 1 if missed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sentiment.data.corpus import TextCorpus
from sentiment.data.reviews import load_reviews
from sentiment.embeddings.word2vec import Word2Vec

ROOT = Path(__file__).resolve().parents[1]
TARGET_PEAK_BYTES = 1.5e9


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def write_corpus(source: Path, target: Path, gigabytes: float) -> int:
    """Repeat the reviews of ``source`` into ``target``, one per line, until it holds ``gigabytes``; its size."""
    texts = [" ".join(text.split()) for text in load_reviews(source, require_labels=False).texts]
    block = ("\n".join(texts) + "\n").encode("utf-8")
    del texts
    written = 0
    with open(target, "wb") as out:
        while written < gigabytes * 1e9:
            out.write(block)
            written += len(block)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("SENTIMENT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--vector-size", type=int, default=100)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="sentiment-streaming-"))
    try:
        path = folder / "corpus.txt"
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(1) as pool:  # its memory is not the trainer's
            size = pool.apply(write_corpus, (args.data_dir / "imdb" / "imdb_unsup.csv.gz", path, args.gigabytes))
        print(f"corpus: {path} {size / 1e9:.2f} GB, written in {time.perf_counter() - started:.0f} s", flush=True)
        baseline = _peak_rss_bytes()
        corpus = TextCorpus(path)
        model = Word2Vec(vector_size=args.vector_size, epochs=1, workers=args.workers, seed=0)
        started = time.perf_counter()
        model.fit(corpus)
        seconds = time.perf_counter() - started
        words = model.vocabulary_.total_words
        peak = _peak_rss_bytes() + model.worker_peak_bytes_
        print(f"texts: {model.vocabulary_.corpus_count:,}  words: {words:,}  vocabulary: {len(model.wv):,}")
        print(f"workers: {args.workers}  dimensions: {args.vector_size}  epochs: 1")
        print(
            f"fit (vocabulary pass + 1 epoch): {seconds:.0f} s; training epoch: {model.epoch_seconds_[0]:.0f} s, "
            f"{model.words_per_second_[0]:,.0f} words/s"
        )
        print(
            f"peak RSS: {peak / 1e9:.3f} GB = this process {(peak - model.worker_peak_bytes_) / 1e9:.3f} GB "
            f"(before training: {baseline / 1e9:.3f} GB) "
            f"+ worker processes' own {model.worker_peak_bytes_ / 1e9:.3f} GB"
        )
        met = peak < TARGET_PEAK_BYTES
        print(
            f"{'met ' if met else 'MISSED'}  peak RSS < {TARGET_PEAK_BYTES / 1e9:.1f} GB "
            f"with a {size / 1e9:.2f} GB corpus"
        )
        return 0 if met else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
