"""``SentimentModel``: fitted classifiers and their pickle-free model directory.

A model holds one or two scikit-learn pipelines over the same labels:
``embeddings`` (mean SGNS vectors -> StandardScaler -> LogisticRegression) and
``onehot`` (binary bag of words -> LogisticRegression); ``primary`` names the
one ``predict`` uses, the other is the baseline reported beside it.

The directory (``FORMAT_VERSION`` 1) contains only files that cannot run code:

    meta.json               format version, versions, parameters, data, metrics
    README.md               generated model card
    vectors.bin             word vectors, word2vec binary format (embeddings)
    embeddings.npz          scaler mean/scale, classifier coef/intercept/classes
    onehot_vocabulary.json  bag-of-words columns, in order (onehot)
    onehot.npz              classifier coef/intercept/classes

Arrays are read with ``allow_pickle=False`` and checked against the shapes in
meta.json. Saving writes a sibling temporary directory and swaps it in, so an
interrupted save leaves the previous model whole; it replaces only an empty
directory or another model, and deletes only the old model's own files (the
rule is in ``outputs.py``). Training is ``train.py``'s job.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sentiment.embeddings.vectors import WordVectors
from sentiment.errors import ModelError
from sentiment.explain import Explanation, explain_pipeline
from sentiment.features import MeanEmbeddingVectorizer, one_hot_vectorizer
from sentiment.model_card import model_card
from sentiment.outputs import apply_umask, check_model_dir, remove_model_files
from sentiment.tokenize import iter_tokens, tokenize

__all__ = ["FORMAT_VERSION", "SentimentModel"]

FORMAT_VERSION = 1
_KINDS = ("embeddings", "onehot")


class SentimentModel:
    """Fitted sentiment pipelines (``embeddings`` and/or ``onehot``) plus what is known about them."""

    def __init__(self, pipelines: dict[str, Pipeline], primary: str, meta: dict | None = None):
        if primary not in pipelines:
            raise ModelError(f"primary pipeline {primary!r} is not among {sorted(pipelines)}")
        self.pipelines = pipelines
        self.primary = primary
        self.meta = meta or {}

    @property
    def classes_(self) -> np.ndarray:
        return self.pipelines[self.primary][-1].classes_

    @property
    def label_mapping(self) -> dict[str, str] | None:
        """Label spelling -> class as in training (meta.json); ``None`` for models saved before it was kept."""
        return self.meta.get("data", {}).get("label_mapping")

    @property
    def baseline(self) -> str | None:
        """The other pipeline's name, if the model has one."""
        return next((kind for kind in self.pipelines if kind != self.primary), None)

    @property
    def word_vectors(self) -> WordVectors | None:
        pipeline = self.pipelines.get("embeddings")
        return None if pipeline is None else pipeline[0].wv_

    def predict_proba(self, texts, kind: str | None = None) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        return self.pipelines[kind or self.primary].predict_proba(_as_text_list(texts))

    def predict(self, texts, kind: str | None = None) -> np.ndarray:
        return self.pipelines[kind or self.primary].predict(_as_text_list(texts))

    def known_words(self, texts, kind: str | None = None) -> np.ndarray:
        """How many of each text's tokens the pipeline knows; with none, its prediction is only a prior."""
        vocabulary = self._vocabulary(kind)
        counts = [sum(token in vocabulary for token in tokenize(text)) for text in _as_text_list(texts)]
        return np.array(counts, dtype=np.int64)

    def knows_any_word(self, texts, kind: str | None = None) -> np.ndarray:
        """Whether the pipeline knows at least one of each text's tokens (``known_words > 0``, stopping early)."""
        vocabulary = self._vocabulary(kind)
        found = [any(token in vocabulary for token in iter_tokens(text)) for text in _as_text_list(texts)]
        return np.array(found, dtype=bool)

    def _vocabulary(self, kind: str | None):
        features = self.pipelines[kind or self.primary][0]
        embedded = isinstance(features, MeanEmbeddingVectorizer)
        return features.wv_.key_to_index if embedded else features.vocabulary_

    def explain(self, text: str, kind: str | None = None) -> Explanation:
        """Each token's exact contribution to the decision on one ``text`` (see ``explain.py`` for which logit).

        The contributions plus ``constant`` add up to the pipeline's ``decision_function`` for the text.
        """
        if not isinstance(text, str):
            raise TypeError(f"explain expects one text, got {type(text).__name__}")
        kind = kind or self.primary
        if kind not in self.pipelines:
            raise ModelError(f"this model has no {kind!r} pipeline (it has {', '.join(self.pipelines)})")
        return explain_pipeline(self.pipelines[kind], text, kind)

    # ----------------------------------------------------------------- save

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model directory atomically; see ``outputs.py`` for what may be replaced.

        ``path`` must be new, empty, or a sentiment model directory. The new
        model is written to a sibling temporary directory and swapped in; only
        then are the old model's known files removed.
        """
        target = check_model_dir(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        old_model = None
        try:
            apply_umask(staging, directory=True)
            self._write(staging)
            old_model = _swap_into_place(staging, target)
        finally:
            if old_model is None:
                shutil.rmtree(staging, ignore_errors=True)  # only the new files this call wrote
        if old_model is not None:
            remove_model_files(old_model)
        return target

    def _write(self, directory: Path) -> None:
        files: dict[str, dict] = {}
        for kind, pipeline in self.pipelines.items():
            classifier: LogisticRegression = pipeline[-1]
            arrays = {
                # Dtypes kept as fitted, so a loaded model computes bit-identical probabilities.
                "coef": classifier.coef_,
                "intercept": classifier.intercept_,
                "classes": np.asarray(classifier.classes_).astype(str),
            }
            if kind == "embeddings":
                wv = pipeline[0].wv_
                wv.save_word2vec_format(directory / "vectors.bin", binary=True)
                files["vectors.bin"] = {"shape": [len(wv), wv.vector_size]}
                scaler: StandardScaler = pipeline[1]
                arrays["scaler_mean"] = scaler.mean_
                arrays["scaler_scale"] = scaler.scale_
            else:
                vocabulary = pipeline[0].get_feature_names_out().tolist()
                _write_json(directory / "onehot_vocabulary.json", vocabulary)
                files["onehot_vocabulary.json"] = {"shape": [len(vocabulary)]}
            np.savez(directory / f"{kind}.npz", **arrays)
            files[f"{kind}.npz"] = {name: {"shape": list(a.shape)} for name, a in arrays.items()}
        meta = {**self.meta, "format_version": FORMAT_VERSION, "primary": self.primary, "files": files}
        _write_json(directory / "meta.json", meta)

        (directory / "README.md").write_text(model_card(meta), encoding="utf-8")

    # ----------------------------------------------------------------- load

    @classmethod
    def load(cls, path: str | os.PathLike) -> SentimentModel:
        """Read a model directory, checking format version and every array's shape."""
        directory = Path(path)
        if not directory.is_dir():
            raise ModelError(f"{directory}: no model directory here (train one with `sentiment train`)")
        meta = _read_json(directory / "meta.json")
        if not isinstance(meta, dict) or "format_version" not in meta:
            raise ModelError(f"{directory}/meta.json: not a sentiment model's metadata")
        version = meta["format_version"]
        if version != FORMAT_VERSION:
            newer = isinstance(version, int) and version > FORMAT_VERSION
            raise ModelError(
                f"{directory}: model format {version!r} "
                + ("was written by a newer sentiment: upgrade to load it" if newer else "is not one this version reads")
            )
        files = meta.get("files", {})
        pipelines = {}
        for kind in _KINDS:
            if f"{kind}.npz" in files:
                pipelines[kind] = _load_pipeline(directory, kind, files)
        if not pipelines or meta.get("primary") not in pipelines:
            raise ModelError(f"{directory}: meta.json names no usable classifier")
        return cls(pipelines, meta["primary"], meta)


def _load_pipeline(directory: Path, kind: str, files: dict) -> Pipeline:
    arrays = _read_npz(directory / f"{kind}.npz", files[f"{kind}.npz"])
    coef, intercept, classes = arrays["coef"], arrays["intercept"], arrays["classes"]
    n_rows = 1 if len(classes) == 2 else len(classes)
    if len(classes) < 2 or coef.ndim != 2 or coef.shape[0] != n_rows or intercept.shape != (n_rows,):
        raise ModelError(f"{directory}/{kind}.npz: classifier arrays do not fit together")
    classifier = LogisticRegression()
    classifier.coef_, classifier.intercept_, classifier.classes_ = coef, intercept, classes
    classifier.n_features_in_ = coef.shape[1]
    if kind == "embeddings":
        wv = WordVectors.load_word2vec_format(directory / "vectors.bin", binary=True)
        if [len(wv), wv.vector_size] != files.get("vectors.bin", {}).get("shape"):
            raise ModelError(f"{directory}/vectors.bin: shape {len(wv)}x{wv.vector_size} differs from meta.json")
        scaler = StandardScaler()
        scaler.mean_, scaler.scale_ = arrays["scaler_mean"], arrays["scaler_scale"]
        scaler.var_, scaler.n_features_in_ = scaler.scale_**2, wv.vector_size
        if coef.shape[1] != wv.vector_size or scaler.mean_.shape != (wv.vector_size,):
            raise ModelError(f"{directory}/embeddings.npz: arrays do not match {wv.vector_size}-dimensional vectors")
        vectorizer = MeanEmbeddingVectorizer(word_vectors=wv).fit([])
        return Pipeline([("features", vectorizer), ("scale", scaler), ("classifier", classifier)])
    vocabulary = _read_json(directory / "onehot_vocabulary.json")
    if not isinstance(vocabulary, list) or len(vocabulary) != coef.shape[1] or len(set(vocabulary)) != len(vocabulary):
        raise ModelError(f"{directory}/onehot_vocabulary.json: does not match the classifier's {coef.shape[1]} columns")
    vectorizer: CountVectorizer = one_hot_vectorizer()
    vectorizer.set_params(vocabulary={word: i for i, word in enumerate(vocabulary)})
    vectorizer.fit([])  # with a fixed vocabulary, fit only validates it
    return Pipeline([("features", vectorizer), ("classifier", classifier)])


def _as_text_list(texts) -> list[str]:
    if isinstance(texts, str):
        raise ValueError("expected a list of texts, got a single string: wrap it in a list")
    return list(texts)


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: missing from the model directory") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelError(f"{path}: damaged ({error})") from None


def _read_npz(path: Path, expected: dict) -> dict[str, np.ndarray]:
    try:
        # Open the file ourselves: np.load leaks its handle when the zip is damaged.
        with open(path, "rb") as stream, np.load(stream, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise ModelError(f"{path}: missing from the model directory") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:  # truncated, object arrays, garbage
        raise ModelError(f"{path}: damaged or not a plain NumPy archive ({error})") from None
    for name, spec in expected.items():
        if name not in arrays or list(arrays[name].shape) != spec.get("shape"):
            raise ModelError(f"{path}: array {name!r} is missing or has the wrong shape")
        if arrays[name].dtype.kind not in "fU":
            raise ModelError(f"{path}: array {name!r} has unexpected type {arrays[name].dtype}")
        if arrays[name].dtype.kind == "f" and not np.isfinite(arrays[name]).all():
            raise ModelError(f"{path}: array {name!r} holds NaN or infinite values")
    return arrays


_RENAME_EXCHANGE = 2


def _swap_into_place(staging: Path, target: Path) -> Path | None:
    """Make ``staging`` appear at ``target``; return where the old target now is (None if there was none).

    On Linux ``renameat2(RENAME_EXCHANGE)`` swaps the two directories in one
    atomic step, so ``target`` is never missing or half-written and the old
    model lands at ``staging``. Elsewhere the old model is first renamed aside,
    then the new one renamed in (and the old one put back if that fails).
    """
    if not target.exists():
        os.rename(staging, target)
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        renameat2 = None
    at_fdcwd = -100
    if renameat2 is not None and renameat2(at_fdcwd, bytes(staging), at_fdcwd, bytes(target), _RENAME_EXCHANGE) == 0:
        return staging
    aside = staging.with_name(staging.name + ".old")
    os.rename(target, aside)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(aside, target)
        raise
    return aside
