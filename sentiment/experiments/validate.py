"""Our SGNS against gensim's on identical tokens: speed, memory, loss and quality, side by side.

Both train with the same number of worker threads (``params["workers"]``);
the scaling table adds the words/s of both at 1, 2, 4, ... workers up to that
number, measured in the same run, one after the other. Each trainer runs in
a fresh child process so that its wall time and its peak memory (the rise
of the child's peak resident set over its size at the start, Linux
``/proc``, plus the private memory of our worker processes) are its own; both see the same token lists and the same
hyperparameters (gensim: ``sg=1, hs=0``). Quality is measured on the same
yardsticks for both: Google analogies (30,000 most frequent words), WS-353 and
SimLex-999 Spearman, neighbour overlap@10 between the two models over the most
frequent words, the SGNS loss of both final models on the same sampled pairs
and noise words, and downstream accuracy of mean vectors + logistic regression
on a labelled set. Printing is ``report.py``'s job.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
import traceback

import numpy as np

from sentiment.embeddings.intrinsic import analogy_accuracy, gensim_test_file, word_pair_spearman
from sentiment.embeddings.processes import release_free_heap, status_kib
from sentiment.embeddings.sgns import NOISE_GROUP, block_gradients, noise_pool_size
from sentiment.embeddings.vectors import WordVectors
from sentiment.embeddings.vocab import noise_distribution
from sentiment.errors import TrainingError
from sentiment.model_card import format_metric

__all__ = [
    "SCALING_HEADER",
    "compare_to_gensim",
    "scaling_markdown",
    "scaling_rows",
    "validation_markdown",
    "validation_rows",
    "worker_counts",
]


def _in_child(job, args) -> dict:
    """Run ``job(*args)`` in a fresh interpreter; return its result plus seconds and peak memory.

    Spawned, not forked: a forked child would inherit this process's heap,
    whose free space (left by the runs before it) it could fill without its
    resident size rising, so the same trainer would measure differently
    depending on what ran earlier. A fresh interpreter receives ``args``
    (the token lists) and starts from the same state for every trainer.
    """
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_measured, args=(job, args, send))
    process.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = {"error": f"the child process died (exit code {process.exitcode})"}
    process.join()
    if "error" in result:
        raise TrainingError(f"{job.__name__} failed: {result['error']}")
    return result


def _measured(job, args, pipe) -> None:
    """In the child: time ``job(*args)`` and measure its peak memory (see ``_in_child``), send the result."""
    try:
        # Both trainers' libraries are loaded before the start mark, whichever runs: the peak is training's
        # own, not that of importing scikit-learn or gensim (tens of MB each, and whichever the caller had
        # imported already would otherwise be free).
        import gensim.models  # noqa: F401

        import sentiment.embeddings.word2vec  # noqa: F401

        gc.collect()
        release_free_heap()
        try:
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")  # reset the peak-RSS counter to the current size
        except OSError:
            pass
        start_rss = status_kib("VmRSS")
        started = time.perf_counter()
        result = job(*args)
        result["seconds"] = time.perf_counter() - started
        # plus the private memory of worker processes of its own (the weights they share are counted here)
        extra = result.pop("worker_peak_bytes", 0) / 2**20
        result["peak_memory_mib"] = (status_kib("VmHWM") - start_rss) / 1024 + extra
        pipe.send(result)
    except BaseException as error:  # sent to the parent, which raises it
        pipe.send({"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()})
    finally:
        pipe.close()


def _train_ours(sentences, params):
    from sentiment.embeddings.word2vec import Word2Vec

    model = Word2Vec(**params).fit(sentences)
    return {
        "index_to_key": model.wv.index_to_key,
        "syn0": model.syn0_,
        "syn1neg": model.syn1neg_,
        "reported_loss": model.loss_history_[-1],
        "counts": model.vocabulary_.counts,
        "worker_peak_bytes": getattr(model, "worker_peak_bytes_", 0),
    }


def _train_gensim(sentences, params, workers):
    from gensim.models import Word2Vec as GensimWord2Vec

    from sentiment.embeddings.params import learning_rates

    gensim_params = {k: v for k, v in params.items() if k not in ("seed", "batch_words", "optimizer", "workers")}
    # gensim has only SGD: an unset alpha/min_alpha is SGD's default there, whatever optimizer ours uses.
    gensim_params.update(learning_rates({**params, "optimizer": "sgd"}))
    model = GensimWord2Vec(sentences, sg=1, hs=0, workers=workers, seed=params["seed"], **gensim_params)
    return {"index_to_key": list(model.wv.index_to_key), "syn0": model.wv.vectors, "syn1neg": model.syn1neg}


def sgns_loss(syn0, syn1neg, token_ids: list[np.ndarray], counts, *, window: int, negative: int, seed: int) -> float:
    """Mean SGNS loss per pair of given weights on ``token_ids``, with windows and noise drawn from ``seed``.

    The same seed gives the same pairs and noise words for any pair of weight
    matrices indexed alike, which is what makes two models comparable.
    """
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(noise_distribution(counts))
    total_loss, total_pairs = 0.0, 0
    for ids in token_ids:
        if ids.size < 2:
            continue
        windows = rng.integers(1, window + 1, size=ids.size)
        groups = -(-ids.size // NOISE_GROUP)
        noise = np.minimum(
            np.searchsorted(cdf / cdf[-1], rng.random((groups, noise_pool_size(negative, window)))), len(cdf) - 1
        )
        grads = block_gradients(
            syn0[ids], syn1neg[ids], syn1neg[noise], np.zeros(ids.size, int), windows, window, negative
        )
        total_loss += grads.loss
        total_pairs += grads.pairs
    return total_loss / max(total_pairs, 1)


def _neighbour_overlap(a: WordVectors, b: WordVectors, words: list[str], topn: int = 10) -> float:
    overlaps = []
    for word in words:
        ours = {w for w, _ in a.most_similar(word, topn=topn)}
        theirs = {w for w, _ in b.most_similar(word, topn=topn)}
        overlaps.append(len(ours & theirs) / topn)
    return float(np.mean(overlaps)) if overlaps else float("nan")


def _downstream_accuracy(wv: WordVectors, labelled, seed: int) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sentiment.features.mean_embeddings import mean_vectors
    from sentiment.tokenize import tokenize_all

    features = mean_vectors(tokenize_all(labelled.texts), wv)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labelled.labels, test_size=0.2, random_state=seed, stratify=labelled.labels
    )
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x_train, y_train)
    return float(classifier.score(x_test, y_test))


def compare_to_gensim(
    sentences: list[list[str]],
    *,
    params: dict,
    labelled=None,
    overlap_words: int = 1000,
    progress=None,
) -> dict:
    """Train both on ``sentences`` and measure them side by side; returns ``{"ours": {...}, "gensim": {...}}``."""
    from sentiment.embeddings.word2vec import effective_window
    from sentiment.progress import Progress

    progress = progress or Progress(enabled=False)
    # Both trainers and the loss get the same window, narrowed to the longest sentence (or they would loop for
    # nothing over offsets that never pair).
    params = {**params, "window": effective_window(params["window"], max(map(len, sentences), default=0))}
    workers = params.get("workers", 1)
    raw_words = sum(len(s) for s in sentences)
    runs, scaling = {}, []
    for count in worker_counts(workers):
        # Ours, then gensim's, at each worker count: the two numbers of a row are taken close together in time.
        with progress.task(f"Training our SGNS ({count} workers)"):
            ours = _in_child(_train_ours, (sentences, {**params, "workers": count}))
        with progress.task(f"Training gensim's SGNS ({count} workers)"):
            theirs = _in_child(_train_gensim, (sentences, params, count))
        scaling.append({
            "workers": count,
            "ours_words_per_second": raw_words * params["epochs"] / ours["seconds"],
            "gensim_words_per_second": raw_words * params["epochs"] / theirs["seconds"],
        })  # fmt: skip
        if count == workers:
            runs["ours"], runs["gensim"] = ours, theirs
    for row in scaling:
        row["ours_over_gensim"] = row["ours_words_per_second"] / row["gensim_words_per_second"]
        row["ours_speedup"] = row["ours_words_per_second"] / scaling[0]["ours_words_per_second"]
        row["gensim_speedup"] = row["gensim_words_per_second"] / scaling[0]["gensim_words_per_second"]

    vectors = {name: WordVectors(run["index_to_key"], run["syn0"]) for name, run in runs.items()}
    # Index gensim's matrices like ours, so the loss sees identical pairs and noise.
    ours_keys = runs["ours"]["index_to_key"]
    common = [w for w in ours_keys if w in vectors["gensim"]]
    order = {name: np.array([vectors[name].key_to_index[w] for w in common]) for name in runs}
    key_to_index = {w: i for i, w in enumerate(common)}
    counts = runs["ours"]["counts"][order["ours"]]  # corpus counts, in the order of `common`
    rng = np.random.default_rng(params.get("seed", 0) + 1)
    sample = rng.choice(len(sentences), size=min(2000, len(sentences)), replace=False)
    sample_ids = [np.array([key_to_index[w] for w in sentences[i] if w in key_to_index]) for i in sample]

    results = {}
    with progress.task("Measuring quality"):
        for name, run in runs.items():
            wv = vectors[name]
            analogies = analogy_accuracy(wv, gensim_test_file("questions-words.txt"))
            same_rows = order[name]
            loss = sgns_loss(
                run["syn0"][same_rows], run["syn1neg"][same_rows], sample_ids, counts,
                window=params["window"], negative=params["negative"], seed=params.get("seed", 0),
            )  # fmt: skip
            results[name] = {
                "seconds": run["seconds"],
                "words_per_second": raw_words * params["epochs"] / run["seconds"],
                "peak_memory_mib": run["peak_memory_mib"],
                "vocabulary": len(wv),
                "sgns_loss": loss,
                "analogy_accuracy": analogies.accuracy,
                "analogy_answered": analogies.answered,
                "ws353_spearman": word_pair_spearman(wv, gensim_test_file("wordsim353.tsv")).spearman,
                "simlex999_spearman": word_pair_spearman(wv, gensim_test_file("simlex999.txt")).spearman,
            }
            if labelled is not None:
                results[name]["downstream_accuracy"] = _downstream_accuracy(wv, labelled, params.get("seed", 0))
        frequent = [w for w in ours_keys[:overlap_words] if w in vectors["gensim"]]
        overlap = _neighbour_overlap(vectors["ours"], vectors["gensim"], frequent)
    for name in results:
        results[name]["neighbour_overlap_at_10"] = overlap
    results["ours"]["reported_loss"] = runs["ours"]["reported_loss"]
    return {
        "corpus": {"sentences": len(sentences), "words": raw_words},
        "params": params,
        "gensim_workers": workers,
        "workers": workers,
        "scaling": scaling,
        "results": results,
        "ratios": {
            "words_per_second": results["ours"]["words_per_second"] / results["gensim"]["words_per_second"],
            "peak_memory": results["ours"]["peak_memory_mib"] / max(results["gensim"]["peak_memory_mib"], 1e-9),
        },
    }


def worker_counts(workers: int) -> list[int]:
    """1, 2, 4, ... below ``workers``, then ``workers``: the rows of the scaling table.

    >>> worker_counts(1), worker_counts(2), worker_counts(6)
    ([1], [1, 2], [1, 2, 4, 6])
    """
    counts = [1]
    while counts[-1] * 2 < workers:
        counts.append(counts[-1] * 2)
    return counts if workers == 1 else [*counts, workers]


def scaling_rows(report: dict) -> list[tuple[str, ...]]:
    """(workers, ours words/s, gensim words/s, ours/gensim, ours speed-up, gensim speed-up) rows."""
    return [
        (
            str(row["workers"]),
            f"{row['ours_words_per_second']:,.0f}",
            f"{row['gensim_words_per_second']:,.0f}",
            f"{row['ours_over_gensim']:.2f}x",
            f"{row['ours_speedup']:.2f}x",
            f"{row['gensim_speedup']:.2f}x",
        )
        for row in report["scaling"]
    ]


SCALING_HEADER = ("workers", "ours words/s", "gensim words/s", "ours/gensim", "ours vs 1 worker", "gensim vs 1 worker")


def scaling_markdown(report: dict) -> str:
    lines = ["| " + " | ".join(SCALING_HEADER) + " |", "|---:|---:|---:|---:|---:|---:|"]
    lines += ["| " + " | ".join(row) + " |" for row in scaling_rows(report)]
    return "\n".join(lines)


_VALIDATION_ROWS = [
    ("training time (s)", "seconds", 1),
    ("words/s", "words_per_second", 0),
    ("peak memory (MiB)", "peak_memory_mib", 1),
    ("vocabulary", "vocabulary", 0),
    ("SGNS loss per pair, same pairs", "sgns_loss", 4),
    ("Google analogy accuracy", "analogy_accuracy", 4),
    ("WS-353 Spearman", "ws353_spearman", 4),
    ("SimLex-999 Spearman", "simlex999_spearman", 4),
    ("neighbour overlap@10", "neighbour_overlap_at_10", 3),
    ("downstream accuracy (mean vectors + LR)", "downstream_accuracy", 4),
]


def validation_rows(report: dict) -> list[tuple[str, str, str, str]]:
    """(measure, ours, gensim, ours/gensim) rows of a ``compare_to_gensim`` report."""
    ours, gensim = report["results"]["ours"], report["results"]["gensim"]
    rows = []
    for label, key, digits in _VALIDATION_ROWS:
        if key not in ours:
            continue
        a, b = ours[key], gensim[key]
        ratio = f"{a / b:.2f}x" if key in ("seconds", "words_per_second", "peak_memory_mib") and b else ""
        fmt = (lambda v: f"{v:,.0f}") if digits == 0 else (lambda v, d=digits: format_metric(v, d))
        rows.append((label, fmt(a), fmt(b), ratio))
    return rows


def validation_markdown(report: dict) -> str:
    lines = ["| measure | ours | gensim | ours/gensim |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in validation_rows(report)]
    return "\n".join(lines)
