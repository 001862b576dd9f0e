"""The ``sentiment`` command line: thin typer wrappers over the library.

Each command parses options, calls one library function, and prints: results
on stdout (a rich table, or one JSON document with ``--json``), progress and
errors on stderr. A ``SentimentError`` becomes one line and exit status 1;
Ctrl-C exits 130 and SIGTERM 143 after the library's cleanup has run; typer's
usage errors keep status 2. ``--debug`` shows tracebacks. No ML logic here.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import signal
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sentiment.errors import SentimentError
from sentiment.outputs import check_model_dir, check_report_dir, claim_report_dir
from sentiment.progress import Progress

app = typer.Typer(
    name="sentiment",
    help="Train sentiment classifiers from review text: our NumPy SGNS word vectors vs a one-hot baseline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_state = {"debug": False}
# The classifier's default: measured on IMDB (word vectors from train + unsup, 5 epochs, held-out 20% of
# train), mean vectors of 100 dimensions reached 0.851 accuracy and 300 dimensions 0.865 (README).
# `validate` keeps gensim's 100, the setting it compares at.
DEFAULT_VECTOR_SIZE = 300


def _stdout() -> Console:
    # Piped or redirected, rich would cut tables to 80 columns: the reader of a file wants every cell whole.
    width = None if sys.stdout.isatty() else 10_000
    return Console(file=sys.stdout, soft_wrap=False, width=width)


def _say(message: str) -> None:
    """A line of results on stdout, printed literally: paths and names are never rich markup."""
    _stdout().print(message, markup=False, highlight=False)


def _note(message: str) -> None:
    """Something the user should hear about, on one unwrapped line of stderr."""
    sys.stderr.write(f"note: {message}\n")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` cleans up."""


def _on_sigterm(signum, frame):
    raise _Terminated()


@contextlib.contextmanager
def _warnings_as_notes():
    """Warnings meant for users (scikit-learn's ConvergenceWarning, our SentimentWarning, NumPy's RuntimeWarning)
    become one ``note:`` line each, once per distinct message; other categories keep Python's handling."""
    seen = set()
    show_other = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, UserWarning | RuntimeWarning):
            return show_other(message, category, filename, lineno, file, line)
        text = " ".join(str(message).split())
        if text not in seen:
            seen.add(text)
            _note(text)

    with warnings.catch_warnings():
        warnings.filterwarnings("always", category=UserWarning)  # "always": deduplicated above, by message
        warnings.filterwarnings("always", category=RuntimeWarning)
        warnings.showwarning = show
        yield


def _cli_errors(command):
    """Map library errors and interruptions to one line on stderr and an exit status."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            with _warnings_as_notes():
                return command(*args, **kwargs)
        except SentimentError as error:
            if _state["debug"]:
                raise
            line = " ".join(str(error).split())  # one line, never wrapped, even if a cause spans several
            sys.stderr.write(f"error: {line}\n")
            raise typer.Exit(1) from None
        except _Terminated:
            sys.stderr.write("terminated: unfinished work was dropped; existing files are as they were\n")
            raise typer.Exit(143) from None
        except KeyboardInterrupt:
            sys.stderr.write("interrupted: unfinished work was dropped; existing files are as they were\n")
            raise typer.Exit(130) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper


def _print_json(value) -> None:
    sys.stdout.write(json.dumps(_json_safe(value), indent=2, ensure_ascii=False) + "\n")


def _json_safe(value):
    """NaN is not JSON: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _default_model_dir(data: Path) -> Path:
    name = data.name
    for suffix in (".gz", ".csv", ".tsv", ".txt"):
        name = name.removesuffix(suffix)
    return Path("models") / (name or "model")


def _read_data(data: Path, *, unlabeled=None, text_column=None, label_column=None, download=False, progress):
    """Labelled reviews, the dataset's own held-out split (or None) and extra texts for the word vectors.

    DATA is a file, or the name of a built-in dataset (``sentiment datasets list``).
    """
    from sentiment.data import load_reviews
    from sentiment.datasets import is_dataset, training_data

    if is_dataset(data):
        with progress.task(f"Loading dataset {data}"):
            reviews, held_out, extra = training_data(str(data), auto_download=download, progress=progress)
        if held_out is None:
            _note(f"this copy of {data} has no test split: holding out a stratified share of train")
    else:
        with progress.task(f"Reading {data.name}"):
            reviews = load_reviews(data, text_column=text_column, label_column=label_column)
        held_out, extra = None, []
    for note in reviews.notes:
        _note(note)
    extra = list(extra)
    for path in unlabeled or []:
        with progress.task(f"Reading {path.name}"):
            extra.extend(load_reviews(path, text_column=text_column, require_labels=False).texts)
    return reviews, held_out, extra


def _test_size(value: float) -> float:
    """A held-out share in (0, 1), or a whole number of held-out rows."""
    if not (0 < value < 1 or (value >= 1 and value.is_integer())):
        raise typer.BadParameter(f"{value:g} is neither a share in (0, 1) nor a whole number of rows (1 or more)")
    return value


def _train_features(value: str) -> str:
    from sentiment.train import FEATURES

    if value not in FEATURES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(FEATURES)}")
    return value


def _compare_features(value: str) -> str:
    from sentiment.compare import REPRESENTATIONS

    unknown = [name for name in _representations(value) if name not in REPRESENTATIONS]
    if unknown or not _representations(value):
        raise typer.BadParameter(f"{', '.join(unknown) or value!r}: choose from both, {', '.join(REPRESENTATIONS)}")
    return value


Download = Annotated[
    bool, typer.Option("--download", help="Download a built-in dataset given as DATA if it is not cached.")
]


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks on errors.")] = False):
    _state["debug"] = debug


TextColumn = Annotated[str | None, typer.Option("--text-column", help="Column holding the review text.")]
LabelColumn = Annotated[str | None, typer.Option("--label-column", help="Column holding the label.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout instead of tables.")]
VectorSize = Annotated[int, typer.Option("--vector-size", help="Word vector dimensions.")]
Window = Annotated[int, typer.Option("--window", help="Maximum context distance.")]
Negative = Annotated[int, typer.Option("--negative", help="Noise words per positive pair.")]
MinCount = Annotated[int, typer.Option("--min-count", help="Ignore words rarer than this.")]
Sample = Annotated[float, typer.Option("--sample", help="Subsampling threshold for frequent words.")]
Epochs = Annotated[int, typer.Option("--epochs", help="Passes of SGNS over the text.")]
InverseRegularisation = Annotated[float, typer.Option("--C", help="Inverse regularisation strength of the classifier.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed (splits, SGNS).")]
Optimizer = Annotated[str, typer.Option("--optimizer", help="SGNS updates: sgd (word2vec's) or adagrad (row-wise).")]


@app.command()
@_cli_errors
def train(
    data: Annotated[Path, typer.Argument(help="Labelled reviews (CSV/TSV, optionally .gz) or a dataset name.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Model folder (models/<data name>).")] = None,
    unlabeled: Annotated[
        list[Path] | None, typer.Option("--unlabeled", help="More text for the word vectors (repeatable).")
    ] = None,
    test: Annotated[Path | None, typer.Option("--test", help="Held-out labelled file (default: split DATA).")] = None,
    test_size: Annotated[
        float, typer.Option("--test-size", help="Held-out share of DATA without --test.", callback=_test_size)
    ] = 0.2,
    text_column: TextColumn = None,
    label_column: LabelColumn = None,
    features: Annotated[
        str, typer.Option("--features", help="embeddings, onehot or both.", callback=_train_features)
    ] = "both",
    vector_size: VectorSize = DEFAULT_VECTOR_SIZE,
    window: Window = 5,
    negative: Negative = 5,
    min_count: MinCount = 5,
    sample: Sample = 1e-3,
    epochs: Epochs = 5,
    alpha: Annotated[float, typer.Option("--alpha", help="Initial SGNS learning rate.")] = 0.025,
    optimizer: Optimizer = "sgd",
    seed: Seed = 0,
    C: InverseRegularisation = 1.0,
    download: Download = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
):
    """Train on DATA: SGNS word vectors + logistic regression, beside the one-hot baseline; save the model."""
    from sentiment.data import load_reviews
    from sentiment.report import comparison_table
    from sentiment.train import train as train_model

    target = check_model_dir(output or _default_model_dir(data), inputs=[data, test, *(unlabeled or [])])
    progress = Progress(enabled=not quiet)
    reviews, held_out, extra_texts = _read_data(
        data, unlabeled=unlabeled, text_column=text_column, label_column=label_column, download=download,
        progress=progress,
    )  # fmt: skip
    if test is not None:
        with progress.task(f"Reading {test.name}"):
            held_out = load_reviews(test, text_column=text_column, label_column=label_column)
    word2vec = {
        "vector_size": vector_size, "window": window, "negative": negative, "min_count": min_count,
        "sample": sample, "epochs": epochs, "alpha": alpha, "optimizer": optimizer,
    }  # fmt: skip
    result = train_model(
        reviews, test=held_out, test_size=test_size, unlabeled=extra_texts, features=features,
        word2vec=word2vec, C=C, seed=seed, progress=progress,
    )  # fmt: skip
    for kind, metrics in result.metrics.items():
        undefined = [name for name, value in metrics.items() if value is None]
        if undefined:
            _note(f"{kind}: {', '.join(undefined)} undefined: a class is missing from the held-out reviews (n/a, null)")
    with progress.task(f"Saving {target}"):
        result.model.save(target)
    if as_json:
        _print_json({"model": str(target), "metrics": result.metrics, "fit_seconds": result.fit_seconds})
        return
    out = _stdout()
    out.print(comparison_table(result.metrics, result.fit_seconds, title=f"Held-out results ({data.name})"))
    _say(f"Model saved to {target}")


@app.command()
@_cli_errors
def evaluate(
    model: Annotated[Path, typer.Argument(help="A model directory from `sentiment train`.")],
    data: Annotated[Path, typer.Argument(help="Labelled reviews (CSV/TSV, optionally .gz) or a dataset name.")],
    text_column: TextColumn = None,
    label_column: LabelColumn = None,
    download: Download = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
):
    """Score a saved model and its baseline on labelled DATA (a file, or a dataset's test split).

    Labels are read with the model's own mapping. If DATA is what the model was trained on, only the rows
    it held out are scored; if those cannot be found again, the scores are flagged as on trained-on rows.
    """
    from sentiment.evaluate import evaluate as evaluate_model
    from sentiment.evaluate import unseen_rows
    from sentiment.model import SentimentModel
    from sentiment.report import evaluation_tables

    progress = Progress(enabled=not quiet)
    with progress.task(f"Loading {model}"):
        loaded = SentimentModel.load(model)
    reviews, held_out, _ = _read_data(
        data, text_column=text_column, label_column=label_column, download=download, progress=progress
    )
    selection = {"rows": "all", "trained_on": False, "note": None}
    if held_out is not None:
        reviews = held_out  # a built-in dataset: score on its test split, which training never sees
    else:
        reviews, selection = unseen_rows(loaded, reviews)
    reviews = reviews.relabelled(loaded.label_mapping, loaded.classes_.tolist())
    notes = reviews.notes + [selection["note"]] * bool(selection["note"])
    for note in notes:
        _note(note)
    with progress.task(f"Scoring {len(reviews):,} reviews"):
        metrics = evaluate_model(loaded, reviews)
    if as_json:
        _print_json({
            "model": str(model), "data": str(data), "rows": selection["rows"], "trained_on": selection["trained_on"],
            "notes": notes, "metrics": metrics,
        })  # fmt: skip
        return
    out = _stdout()
    title = "Evaluation on rows the model was trained on" if selection["trained_on"] else "Held-out evaluation"
    for table in evaluation_tables(metrics, title=title):
        out.print(table)


@app.command()
@_cli_errors
def predict(
    model: Annotated[Path, typer.Argument(help="A model directory from `sentiment train`.")],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to label.")] = None,
    input_file: Annotated[Path | None, typer.Option("--input", "-i", help="CSV/TSV file of texts to label.")] = None,
    output_file: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write --input's rows.")] = None,
    text_column: TextColumn = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --output if it exists.")] = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
):
    """Label TEXTs, or every row of --input into --output (streamed in chunks)."""
    from sentiment.model import SentimentModel
    from sentiment.predict import predict_file, predict_texts
    from sentiment.report import predictions_table

    if (input_file is None) == (not texts):
        raise typer.BadParameter("give either TEXT arguments or --input FILE --output FILE")
    if input_file is not None and output_file is None:
        raise typer.BadParameter("--input needs --output")
    progress = Progress(enabled=not quiet)
    loaded = SentimentModel.load(model)
    if input_file is not None:
        summary = predict_file(
            loaded, input_file, output_file, text_column=text_column, overwrite=overwrite, progress=progress
        )
        for note in summary["notes"]:
            _note(note)
        if as_json:
            _print_json(summary)
        else:
            rows, unscored, unknown = summary["rows"], summary["unscored"], summary["no_known_word"]
            unknown_part = f"; {unknown:,} with no known word" if unknown else ""
            _say(
                f"Wrote {rows:,} {'row' if rows == 1 else 'rows'} to {output_file} "
                f"({unscored:,} unscored: empty text{unknown_part})"
            )
        return
    predictions = predict_texts(loaded, texts)
    if as_json:
        _print_json({"predictions": predictions})
        return
    _stdout().print(predictions_table(predictions))


@app.command()
@_cli_errors
def similar(
    model: Annotated[Path, typer.Argument(help="A model directory with word vectors.")],
    word: Annotated[str, typer.Argument(help="The word to look up.")],
    topn: Annotated[int, typer.Option("--topn", help="How many neighbours.", min=1)] = 10,
    as_json: AsJson = False,
):
    """Nearest words to WORD by cosine similarity of the model's SGNS vectors."""
    from sentiment.errors import ModelError
    from sentiment.model import SentimentModel
    from sentiment.report import similar_table
    from sentiment.tokenize import tokenize

    wv = SentimentModel.load(model).word_vectors
    if wv is None:
        raise ModelError(f"{model}: was trained with one-hot features only and has no word vectors")
    key = word if word in wv else " ".join(tokenize(word))
    if key not in wv:
        raise ModelError(f"{word!r} is not in the model's vocabulary of {len(wv):,} words")
    neighbours = wv.most_similar(key, topn=topn)
    if as_json:
        _print_json({"word": key, "neighbours": [{"word": w, "similarity": s} for w, s in neighbours]})
        return
    _stdout().print(similar_table(key, neighbours))


@app.command()
@_cli_errors
def validate(
    corpus: Annotated[
        Path, typer.Argument(help="Review text to train both on (CSV/TSV/.gz, or a dataset name).")
    ] = Path("imdb"),
    labelled: Annotated[
        Path | None, typer.Option("--labelled", help="Labelled reviews for downstream accuracy.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Use the first N texts of CORPUS (0: all).", min=0)] = 20_000,
    labelled_limit: Annotated[int, typer.Option("--labelled-limit", help="Use N labelled reviews.", min=0)] = 5_000,
    epochs: Epochs = 3,
    vector_size: VectorSize = 100,
    window: Window = 5,
    negative: Negative = 5,
    min_count: MinCount = 5,
    sample: Sample = 1e-3,
    workers: Annotated[int, typer.Option("--workers", help="gensim worker threads (0: one per core).", min=0)] = 0,
    optimizer: Optimizer = "sgd",
    seed: Seed = 0,
    download: Download = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
):
    """Train our SGNS and gensim's on the same tokens and compare speed, memory, loss and quality."""
    from sentiment.data import load_reviews, split_reviews
    from sentiment.datasets import is_dataset, training_data
    from sentiment.report import validation_table
    from sentiment.tokenize import tokenize_all
    from sentiment.validate import compare_to_gensim

    progress = Progress(enabled=not quiet)
    labelled_reviews = None
    if is_dataset(corpus):
        train_part, _, unsup = training_data(str(corpus), auto_download=download, progress=progress)
        texts = unsup or train_part.texts
        labelled_reviews = train_part  # downstream accuracy on the dataset's own labels, unless --labelled
    else:
        with progress.task(f"Reading {corpus.name}"):
            texts = load_reviews(corpus, require_labels=False).texts
    sentences = tokenize_all(texts[:limit] if limit else texts)
    if labelled is not None:
        labelled_reviews, _, _ = _read_data(labelled, download=download, progress=progress)
    if labelled_reviews is not None and labelled_limit and len(labelled_reviews) > labelled_limit:
        labelled_reviews, _ = split_reviews(labelled_reviews, 1 - labelled_limit / len(labelled_reviews), seed)
    params = {
        "vector_size": vector_size, "window": window, "negative": negative, "min_count": min_count,
        "sample": sample, "epochs": epochs, "seed": seed, "optimizer": optimizer,
    }  # fmt: skip
    report = compare_to_gensim(
        sentences, params=params, labelled=labelled_reviews, workers=workers or None, progress=progress
    )
    if as_json:
        _print_json(report)
        return
    _stdout().print(validation_table(report))


def _read_for_experiment(data, unlabeled, text_column, label_column, download, progress):
    """Labelled reviews and extra texts; a built-in dataset's test split stays unseen (compare/sweep split train)."""
    reviews, _, extra = _read_data(
        data, unlabeled=unlabeled, text_column=text_column, label_column=label_column, download=download,
        progress=progress,
    )  # fmt: skip
    return reviews, extra


def _representations(features: str) -> tuple[str, ...]:
    """``"both,tfidf"`` -> ``("embeddings", "onehot", "tfidf")``: ``both`` means embeddings and one-hot."""
    names: list[str] = []
    for name in (f.strip() for f in features.split(",")):
        for expanded in ("embeddings", "onehot") if name == "both" else (name,):
            if expanded and expanded not in names:
                names.append(expanded)
    return tuple(names)


Unlabeled = Annotated[list[Path] | None, typer.Option("--unlabeled", help="More text for the word vectors.")]


@app.command()
@_cli_errors
def compare(
    data: Annotated[Path, typer.Argument(help="Labelled reviews (CSV/TSV, optionally .gz) or a dataset name.")],
    unlabeled: Unlabeled = None,
    features: Annotated[
        str,
        typer.Option("--features", help="Comma list of embeddings, onehot, both, tfidf.", callback=_compare_features),
    ] = "embeddings,onehot",
    repeats: Annotated[int, typer.Option("--repeats", help="Repeats with different seeds and splits.")] = 3,
    train_sizes: Annotated[
        str, typer.Option("--train-sizes", help="Labelled fractions for learning curves, e.g. 0.1,0.25,0.5,1.")
    ] = "1.0",
    test_size: Annotated[float, typer.Option("--test-size", help="Held-out share of DATA.", callback=_test_size)] = 0.2,
    text_column: TextColumn = None,
    label_column: LabelColumn = None,
    vector_size: VectorSize = DEFAULT_VECTOR_SIZE,
    window: Window = 5,
    negative: Negative = 5,
    min_count: MinCount = 5,
    epochs: Epochs = 5,
    C: InverseRegularisation = 1.0,
    seed: Seed = 0,
    download: Download = False,
    report: Annotated[Path | None, typer.Option("--report", help="Write report.md, results and plots here.")] = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
):
    """Do embeddings beat one-hot here? Mean ± std over repeats, learning curves, rare words."""
    from sentiment.compare import compare as run_compare
    from sentiment.experiment_report import compare_markdown, summarise_compare, write_compare_report

    progress = Progress(enabled=not quiet)
    try:
        sizes = tuple(float(v) for v in train_sizes.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter("--train-sizes takes fractions separated by commas, e.g. 0.1,0.5,1") from None
    if report is not None:
        check_report_dir(report, "compare", inputs=[data, *(unlabeled or [])])
    reviews, extra = _read_for_experiment(data, unlabeled, text_column, label_column, download, progress)
    word2vec = {"vector_size": vector_size, "window": window, "negative": negative, "min_count": min_count,
                "epochs": epochs}  # fmt: skip
    result = run_compare(
        reviews, unlabeled=extra, representations=_representations(features),
        repeats=repeats, train_sizes=sizes, test_size=test_size, word2vec=word2vec, C=C, seed=seed,
        progress=progress,
    )  # fmt: skip
    if report is not None:
        write_compare_report(result, report)
    summary = summarise_compare(result)
    if as_json:
        _print_json({"settings": result["settings"], "summary": summary.to_dict(orient="records")})
        return
    from sentiment.report import table_from_markdown

    _stdout().print(table_from_markdown(compare_markdown(summary), title=f"Embeddings vs one-hot on {data.name}"))
    if report is not None:
        _say(f"Report written to {report}/report.md")


@app.command()
@_cli_errors
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
    vector_size: VectorSize = DEFAULT_VECTOR_SIZE,
    window: Window = 5,
    negative: Negative = 5,
    min_count: MinCount = 5,
    epochs: Epochs = 5,
    C: InverseRegularisation = 1.0,
    seed: Seed = 0,
    download: Download = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
):
    """How many negative samples (or any Word2Vec parameter)? Cost and quality for each value."""
    from sentiment.experiment_report import summarise_sweep, sweep_markdown, write_sweep_report
    from sentiment.sweep import parse_grid
    from sentiment.sweep import sweep as run_sweep

    progress = Progress(enabled=not quiet)
    grid = parse_grid(param)
    check_report_dir(report, "sweep", inputs=[data, *(unlabeled or [])])
    reviews, extra = _read_for_experiment(data, unlabeled, text_column, label_column, download, progress)
    claim_report_dir(report, "sweep")  # results.jsonl is appended run by run
    base = {"vector_size": vector_size, "window": window, "negative": negative, "min_count": min_count,
            "epochs": epochs}  # fmt: skip
    runs = run_sweep(
        reviews, grid, report / "results.jsonl", unlabeled=extra, repeats=repeats, base_params=base,
        intrinsic=intrinsic, resume=resume, C=C, seed=seed, progress=progress,
    )  # fmt: skip
    settings = {"data": str(data), "repeats": repeats, "base_params": base}
    write_sweep_report(runs, report, settings)
    summary = summarise_sweep(runs)
    if as_json:
        _print_json({"settings": settings, "summary": summary.to_dict(orient="records")})
        return
    from sentiment.report import table_from_markdown

    _stdout().print(table_from_markdown(sweep_markdown(summary, list(grid)), title=f"Sweep on {data.name}"))
    _say(f"Report written to {report}/report.md")


datasets_app = typer.Typer(
    help="Built-in datasets (imdb, mr, uci): list, download, import, export.", no_args_is_help=True
)
app.add_typer(datasets_app, name="datasets")
DatasetName = Annotated[str, typer.Argument(help="imdb, mr or uci.")]


@datasets_app.command("list")
@_cli_errors
def datasets_list(as_json: AsJson = False):
    """Built-in datasets: size, splits, whether they are in the cache, and whom to cite."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from sentiment.datasets import data_home, status

    rows = status()
    if as_json:
        _print_json({"data_home": str(data_home()), "datasets": rows})
        return
    table = Table(title=escape(f"Built-in datasets (cache: {data_home()})"))
    for column in ("name", "title", "size", "splits", "downloaded", "cite"):
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = (row["name"], row["title"], row["size"], ", ".join(row["splits"]),
                 "yes" if row["downloaded"] else "no", row["citation"])  # fmt: skip
        table.add_row(*map(Text, cells))
    _stdout().print(table)


@datasets_app.command("download")
@_cli_errors
def datasets_download(
    name: DatasetName,
    mirror: Annotated[
        str | None, typer.Option("--mirror", help="Another URL base, or a folder holding the archive.")
    ] = None,
    quiet: Quiet = False,
):
    """Download NAME, verify its checksum, and cache it as one compact table."""
    from sentiment.datasets import DATASETS, download

    table = download(name, mirror=mirror, progress=Progress(enabled=not quiet))
    if DATASETS[name].checksum is None:
        _note(f"{name} has no published checksum; its layout was checked instead")
    _say(f"{name} is ready: {table}")


@datasets_app.command("import")
@_cli_errors
def datasets_import(
    name: DatasetName,
    path: Annotated[Path, typer.Argument(help="A local archive or an extracted folder.")],
    quiet: Quiet = False,
):
    """Cache NAME from a local archive or folder (the layout is checked; no checksum needed)."""
    from sentiment.datasets import import_dataset

    table = import_dataset(name, path, progress=Progress(enabled=not quiet))
    _say(f"{name} is ready: {table}")


@datasets_app.command("export")
@_cli_errors
def datasets_export(
    name: DatasetName,
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write (.csv or .csv.gz).")],
    split: Annotated[str, typer.Option("--split", help="train, test or unsup.")] = "train",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUTPUT if it exists.")] = False,
):
    """Write one split of a cached dataset as a CSV with text and label columns."""
    from sentiment.datasets import export

    rows = export(name, split, output, overwrite=overwrite)
    _say(f"Wrote {rows:,} {'row' if rows == 1 else 'rows'} to {output}")


def main() -> None:
    """Console-script entry point."""
    app()
