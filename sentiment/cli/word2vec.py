"""``sentiment word2vec``: train word vectors alone on unlabelled text and write a gensim-readable file.

word2vec.c's command line, in ours: CORPUS files (CSV/TSV tables with a text
column, or plain text with one text per line; ``.gz`` too), the same word2vec
options as ``train``, progress bars, and word2vec binary (or text) output that
``train --vectors`` / ``compare --vectors`` and gensim's ``KeyedVectors`` read.
The output file is written to a temporary sibling and renamed into place; an
existing file is replaced only with ``--overwrite``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from sentiment.cli.console import note, print_json, say
from sentiment.cli.exits import handle_errors
from sentiment.cli.options import AsJson, Quiet, Seed, TextColumn, word2vec_options
from sentiment.progress import Progress


def _check_format(value: str) -> str:
    if value not in ("binary", "text"):
        raise typer.BadParameter(f"{value!r} is not one of binary, text")
    return value


@handle_errors
@word2vec_options()
def word2vec(
    corpus: Annotated[list[Path], typer.Argument(help="Unlabelled text: CSV/TSV (text column) or plain text, .gz.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Vectors file to write (word2vec format).")],
    output_format: Annotated[
        str, typer.Option("--format", help="binary (word2vec.c's) or text.", callback=_check_format)
    ] = "binary",
    text_column: TextColumn = None,
    seed: Seed = 1,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUTPUT if it exists.")] = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
    word2vec: dict | None = None,
):
    """Train SGNS word vectors on unlabelled CORPUS files and write them in word2vec format."""
    from sentiment.data.corpus import read_corpus
    from sentiment.embeddings.formats import write_vectors
    from sentiment.embeddings.word2vec import Word2Vec
    from sentiment.outputs import check_output_file
    from sentiment.tokenize import tokenize_all

    check_output_file(output, inputs=corpus, overwrite=overwrite)  # refused before hours of training
    progress = Progress(enabled=not quiet)
    texts: list[str] = []
    for path in corpus:
        with progress.task(f"Reading {path.name}"):
            read, notes = read_corpus(path, text_column=text_column)
        for message in notes:
            note(message)
        texts.extend(read)
    with progress.task(f"Tokenizing {len(texts):,} texts", total=len(texts)) as bar:
        sentences = []
        for start in range(0, len(texts), 5_000):
            sentences.extend(tokenize_all(texts[start : start + 5_000]))
            bar.advance(len(texts[start : start + 5_000]))
    del texts
    started = time.perf_counter()
    trainer = Word2Vec(**{**word2vec, "seed": seed}).fit(sentences, progress=progress)
    seconds = time.perf_counter() - started
    with progress.task(f"Writing {output}"):
        write_vectors(trainer.wv, output, binary=output_format == "binary", overwrite=overwrite)
    summary = {
        "output": str(output),
        "format": f"word2vec {output_format}",
        "texts": len(sentences),
        "tokens": int(sum(len(s) for s in sentences)),
        "vocabulary_size": len(trainer.wv),
        "vector_size": trainer.wv.vector_size,
        "training_seconds": seconds,
        "words_per_second": float(sum(trainer.words_per_second_) / max(len(trainer.words_per_second_), 1)),
        "loss_per_epoch": trainer.loss_history_,
        "parameters": {**word2vec, "seed": seed},
    }
    if as_json:
        print_json(summary)
        return
    say(
        f"{summary['vocabulary_size']:,} words x {summary['vector_size']} dimensions from {summary['texts']:,} texts "
        f"({summary['tokens']:,} tokens) in {seconds:.1f} s; written to {output} ({summary['format']})"
    )
