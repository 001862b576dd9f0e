"""The Markdown model card written into every model directory, and the names results are shown with.

``model_card(meta)`` renders a model's ``meta.json`` (data, held-out metrics,
parameters, files) for people who open the folder; it computes nothing new.
``FEATURE_NAMES`` and ``format_metric`` are shared with the terminal tables.
"""

from __future__ import annotations

import json
import math

__all__ = ["FEATURE_NAMES", "format_metric", "model_card"]

FEATURE_NAMES = {
    "embeddings": "SGNS mean embeddings",
    "onehot": "one-hot baseline",
    "nbngrams": "NB-weighted 1-3-grams",
    "doc2vec": "PV-DBOW document vectors",
    "stack": "stack (weighted vote)",
    "tfidf": "TF-IDF",
}


def format_metric(value: float | None, digits: int = 4) -> str:
    """A metric with ``digits`` decimals; ``n/a`` where it is undefined (None or NaN).

    >>> format_metric(0.86801), format_metric(None), format_metric(float("nan"))
    ('0.8680', 'n/a', 'n/a')
    """
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def model_card(meta: dict) -> str:
    """A Markdown README for a model directory, from its meta.json."""
    data = meta.get("data", {})
    params = meta.get("parameters", {})
    lines = [
        "# Sentiment model",
        "",
        f"Created {meta.get('created', '?')} by sentiment {meta.get('versions', {}).get('sentiment', '?')}; "
        f"predicts {', '.join(meta.get('classes', []))} with the **{meta.get('primary')}** pipeline.",
        "",
        "## Data",
        "",
        f"- trained on `{data.get('source', '?')}` (sha256 `{data.get('sha256', '?')[:16]}...`): "
        f"{data.get('train_rows', 0):,} training rows, {data.get('unlabeled_rows', 0):,} unlabelled texts for the "
        "word vectors",
        f"- held out: {data.get('held_out_rows', 0):,} rows ({data.get('held_out_source', '?')})",
        "",
        "## Held-out metrics",
        "",
        "| features | accuracy | macro-F1 | ROC AUC |",
        "|---|---:|---:|---:|",
    ]
    for kind, m in meta.get("metrics", {}).items():
        scores = (format_metric(m[name]) for name in ("accuracy", "macro_f1", "roc_auc"))
        cells = [FEATURE_NAMES.get(kind, kind), *scores]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Parameters", "", "```json"]
    lines += [json.dumps(params, indent=2), "```", ""]
    lines += [
        "## Files",
        "",
        "No pickle: `meta.json`, NumPy `.npz` archives (load with `allow_pickle=False`), `vectors.bin` in word2vec",
        "binary format (gensim's `KeyedVectors.load_word2vec_format(path, binary=True)` reads it) and",
        "`onehot_vocabulary.json`. Load with `sentiment.SentimentModel.load(path)`.",
        "",
    ]
    return "\n".join(lines)
