"""Benchmark: our NumPy SGNS against gensim's, same tokens, same machine, same run.

The setting of issue 3: the first 20,000 IMDB unlabelled reviews
(``../shared/data/imdb/imdb_unsup.csv.gz``; lower-cased, ``<br />`` removed,
the project's tokenizer for both), skip-gram, 100 dimensions, window 5,
negative 5, min_count 5, sample 1e-3, 3 epochs, gensim with workers = cores.
Downstream accuracy uses 5,000 reviews of the IMDB train split.

    python benchmarks/sgns_vs_gensim.py [--data-dir ../shared/data] [--epochs 3]

Prints the table and writes benchmarks/results/sgns_vs_gensim.{json,md}.
Targets: words/s ratio >= 0.5, analogy >= gensim - 0.01, WS-353 >= gensim - 0.03,
peak memory <= 2x gensim.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rich.console import Console

from sentiment.cli.tables import validation_table
from sentiment.data.reviews import load_reviews, split_reviews
from sentiment.experiments.validate import compare_to_gensim, validation_markdown
from sentiment.tokenize import tokenize_all

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("SENTIMENT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--reviews", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()

    texts = load_reviews(args.data_dir / "imdb" / "imdb_unsup.csv.gz", require_labels=False).texts[: args.reviews]
    sentences = tokenize_all(texts)
    labelled = load_reviews(args.data_dir / "imdb" / "imdb_train.csv.gz")
    labelled, _ = split_reviews(labelled, 1 - 5_000 / len(labelled), seed=0)
    params = dict(vector_size=100, window=5, negative=5, min_count=5, sample=1e-3, epochs=args.epochs, seed=0)
    report = compare_to_gensim(sentences, params=params, labelled=labelled, workers=args.workers)

    ours, gensim = report["results"]["ours"], report["results"]["gensim"]
    report["targets"] = {
        "words_per_second_ratio >= 0.5": report["ratios"]["words_per_second"] >= 0.5,
        "analogy >= gensim - 0.01": ours["analogy_accuracy"] >= gensim["analogy_accuracy"] - 0.01,
        "ws353 >= gensim - 0.03": ours["ws353_spearman"] >= gensim["ws353_spearman"] - 0.03,
        "peak memory <= 2x gensim": report["ratios"]["peak_memory"] <= 2.0,
    }
    Console().print(validation_table(report))
    for target, met in report["targets"].items():
        print(f"{'met ' if met else 'MISSED'}  {target}")
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "sgns_vs_gensim.json").write_text(json.dumps(report, indent=2))
    (out_dir / "sgns_vs_gensim.md").write_text(validation_markdown(report) + "\n")
    return 0 if all(report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
