"""``sentiment compare``: do embeddings beat one-hot on this data? Repeats, learning curves, a report."""

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
    Doc2VecEpochs,
    Doc2VecNgrams,
    Download,
    InverseRegularisation,
    LabelColumn,
    Normalize,
    Quiet,
    Seed,
    TextColumn,
    Unlabeled,
    Vectors,
    check_compare_features,
    check_test_size,
    doc2vec_params,
    representations,
    word2vec_options,
)
from sentiment.outputs import check_report_dir
from sentiment.progress import Progress


@handle_errors
@word2vec_options(vector_size=DEFAULT_VECTOR_SIZE)
def compare(
    data: Annotated[Path, typer.Argument(help="Labelled reviews (CSV/TSV, optionally .gz) or a dataset name.")],
    unlabeled: Unlabeled = None,
    features: Annotated[
        str,
        typer.Option(
            "--features",
            help="Comma list of embeddings, onehot, both, nbngrams, doc2vec, tfidf.",
            callback=check_compare_features,
        ),
    ] = "embeddings,onehot",
    repeats: Annotated[int, typer.Option("--repeats", help="Repeats with different seeds and splits.")] = 3,
    train_sizes: Annotated[
        str, typer.Option("--train-sizes", help="Labelled fractions for learning curves, e.g. 0.1,0.25,0.5,1.")
    ] = "1.0",
    test_size: Annotated[
        float, typer.Option("--test-size", help="Held-out share of DATA.", callback=check_test_size)
    ] = 0.2,
    text_column: TextColumn = None,
    label_column: LabelColumn = None,
    C: InverseRegularisation = 1.0,
    vectors: Vectors = None,
    doc2vec_ngrams: Doc2VecNgrams = 1,
    doc2vec_epochs: Doc2VecEpochs = None,
    normalize: Normalize = None,
    seed: Seed = 0,
    download: Download = False,
    report: Annotated[Path | None, typer.Option("--report", help="Write report.md, results and plots here.")] = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
    word2vec: dict | None = None,
):
    """Do embeddings beat one-hot here? Mean ± std over repeats, learning curves, rare words."""
    from sentiment.cli.tables import table_from_markdown
    from sentiment.experiments.compare import compare as run_compare
    from sentiment.experiments.report import compare_markdown, summarise_compare, write_compare_report

    progress = Progress(enabled=not quiet)
    try:
        sizes = tuple(float(v) for v in train_sizes.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter("--train-sizes takes fractions separated by commas, e.g. 0.1,0.5,1") from None
    if report is not None:
        check_report_dir(report, "compare", inputs=[data, *(unlabeled or [])])
    pretrained = None
    if vectors is not None:
        from sentiment.embeddings.formats import load_pretrained

        with progress.task(f"Reading {vectors.name}"):
            pretrained = load_pretrained(vectors)
    reviews, extra = read_for_experiment(data, unlabeled, text_column, label_column, download, progress)
    result = run_compare(
        reviews, unlabeled=extra, representations=representations(features),
        repeats=repeats, train_sizes=sizes, test_size=test_size, word2vec=word2vec, C=C, seed=seed,
        progress=progress, pretrained=pretrained, normalize=normalize,
        doc2vec_params=doc2vec_params(doc2vec_ngrams, doc2vec_epochs),
    )  # fmt: skip
    if report is not None:
        write_compare_report(result, report)
    summary = summarise_compare(result)
    if as_json:
        print_json({"settings": result["settings"], "summary": summary.to_dict(orient="records")})
        return
    stdout().print(table_from_markdown(compare_markdown(summary), title=f"Embeddings vs one-hot on {data.name}"))
    if report is not None:
        say(f"Report written to {report}/report.md")
