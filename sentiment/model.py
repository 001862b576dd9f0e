"""``SentimentModel``: fitted classifiers and their pickle-free model directory.

A model holds one or two scikit-learn pipelines over the same labels:
``embeddings`` (mean SGNS vectors -> StandardScaler -> LogisticRegression) and
``onehot`` (binary bag of words -> LogisticRegression); ``primary`` names the
one ``predict`` uses, the other is the baseline reported beside it.

The directory (format 1 shown; see ``FORMAT_VERSION`` for what later formats add) holds only files that cannot
run code:

    meta.json               format version, versions, parameters, data, metrics
    README.md               generated model card
    vectors.bin             word vectors, word2vec binary format (embeddings)
    embeddings.npz          scaler mean/scale, classifier coef/intercept/classes
    onehot_vocabulary.json  bag-of-words columns, in order (onehot)
    onehot.npz              classifier coef/intercept/classes
    embeddings_scorer.npz   (format 4) the lean scorer's folded per-word numbers and the words, so that
                            scoring reads neither vectors.bin nor builds anything from it

Arrays are read with ``allow_pickle=False`` and checked against the shapes in
meta.json. A loaded model scores with the lean NumPy scorers of
``scoring/linear.py`` (no scikit-learn import; ``doc2vec`` pipelines excepted,
they infer with their own code); its scikit-learn ``pipelines`` are rebuilt
from the same arrays on first use (``explain``, ``save``, ...).

Saving writes a sibling temporary directory and swaps it in, so an
interrupted save leaves the previous model whole; it replaces only an empty
directory or another model, and deletes only the old model's own files (the
rule is in ``outputs.py``). Training is ``train.py``'s job.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sentiment.calibration import SigmoidCalibrator
from sentiment.embeddings.phrases import Phrases
from sentiment.embeddings.vectors import WordVectors
from sentiment.errors import ModelError
from sentiment.model_card import model_card
from sentiment.outputs import apply_umask, check_model_dir, remove_model_files, swap_into_place
from sentiment.scoring.linear import fold_mean_embeddings, make_scorer
from sentiment.tokenize import iter_tokens, tokenize

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from sentiment.explain import Explanation

# scikit-learn, and the features and explanations built on it, are imported where they are used: a loaded
# model scores with NumPy alone (``sentiment/scoring/linear.py``), so `sentiment predict` never imports them.

__all__ = ["FORMAT_VERSION", "SentimentModel"]

# 2: weighted/pooled embeddings, NB n-grams, stacks; "pipelines" in meta.json.
# 3: embeddings may pull short reviews towards the average training review ("prior_tokens", "center").
# 4: plain weighted-mean embeddings also store their lean scorer's folded numbers and words ("{kind}_scorer.npz"),
#    so scoring reads about 2 MB (IMDB) and vectors.bin only when the vectors themselves are asked for.
# 5: NB n-grams may scale each review's row to unit length ("norm": "l2"), and document vectors may predict
#    word n-grams ("ngrams"); earlier formats load with neither.
FORMAT_VERSION = 5
READABLE_FORMATS = (1, 2, 3, 4, 5)
STACK = "stack"  # the primary "pipeline" of a stacked model: a weighted vote of its component pipelines


class SentimentModel:
    """Fitted sentiment pipelines plus what is known about them.

    ``pipelines`` maps a name (``embeddings``, ``onehot``, ``nbngrams``, ...)
    to a scikit-learn pipeline ending in logistic regression. ``primary`` is
    the one ``predict`` uses; it may be ``"stack"``, a weighted vote of
    ``stack["components"]``: the class probabilities are
    ``softmax(sum_i weights[i] * log p_i)``, weights chosen on out-of-fold
    probabilities of the training rows at training time (``train.py``). Every other pipeline is a baseline.
    """

    def __init__(
        self, pipelines: dict[str, Pipeline] | None, primary: str, meta: dict | None = None, stack=None,
        calibrators=None, *, specs: dict[str, dict] | None = None,
    ):  # fmt: skip
        names = list(pipelines if pipelines is not None else specs)
        if primary not in names and not (primary == STACK and _stack_is_usable(stack, names)):
            raise ModelError(f"primary pipeline {primary!r} is not among {sorted(names)}")
        self._pipelines = pipelines
        self._names = names
        self._specs = specs or {}  # a loaded model: what each pipeline is rebuilt from, on first use
        self._scorers: dict = {}  # kind -> lean scorer (or None: doc2vec), built on first use
        self.primary = primary
        self.meta = meta or {}
        self.stack = stack
        self.calibrators = calibrators or {}  # issue 11: kind -> SigmoidCalibrator fitted on the dev split

    @property
    def scorers(self) -> dict:
        """The lean NumPy scorers of a loaded model (every kind but doc2vec); empty for a model trained here."""
        return {kind: scorer for kind in self._specs if (scorer := self._scorer(kind)) is not None}

    def _scorer(self, kind: str):
        if kind not in self._specs:
            return None
        if kind not in self._scorers:
            self._scorers[kind] = make_scorer(self._specs[kind])
        return self._scorers[kind]

    @property
    def pipelines(self) -> dict[str, Pipeline]:
        """The scikit-learn pipelines (for a loaded model rebuilt from its arrays here, importing scikit-learn)."""
        if self._pipelines is None:
            self._pipelines = {kind: _build_pipeline(spec) for kind, spec in self._specs.items()}
        return self._pipelines

    @property
    def kinds(self) -> list[str]:
        """Everything ``predict_proba`` can be asked for: the primary, a stack's components, then the baselines."""
        rest = [kind for kind in self._names if kind != self.primary and kind not in self._parts]
        return [self.primary, *self._parts, *rest]

    @property
    def _parts(self) -> list[str]:
        return self.stack["components"] if self.primary == STACK else []

    @property
    def classes_(self) -> np.ndarray:
        return self.classes_of(self.primary)

    def classes_of(self, kind: str) -> np.ndarray:
        """One pipeline's classes (a stack's: its first part's), read without rebuilding scikit-learn pipelines."""
        kind = self._parts[0] if kind == STACK else kind
        if kind in self._specs:
            return self._specs[kind]["classes"]
        return self.pipelines[kind][-1].classes_

    @property
    def label_mapping(self) -> dict[str, str] | None:
        """Label spelling -> class as in training (meta.json); ``None`` for models saved before it was kept."""
        return self.meta.get("data", {}).get("label_mapping")

    @property
    def baseline(self) -> str | None:
        """The first pipeline that is neither the primary nor part of it, if the model has one."""
        return next((kind for kind in self.kinds[1:] if kind not in self._parts), None)

    @property
    def word_vectors(self) -> WordVectors | None:
        if self._pipelines is None:
            return next((_vectors_of(spec) for spec in self._specs.values() if spec["features"] == "embeddings"), None)
        from sentiment.features import MeanEmbeddingVectorizer

        embedded = [p[0] for p in self.pipelines.values() if isinstance(p[0], MeanEmbeddingVectorizer)]
        return embedded[0].wv_ if embedded else None

    def predict_proba(self, texts, kind: str | None = None) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        kind = kind or self.primary
        texts = _as_text_list(texts)
        if kind != STACK:
            proba = self._proba(kind, texts)
            return self.calibrators[kind].apply(proba) if kind in self.calibrators else proba
        log_odds = sum(
            weight * np.log(np.clip(self._proba(part, texts), 1e-12, 1.0))
            for part, weight in zip(self.stack["components"], self.stack["weights"], strict=True)
        )
        log_odds -= log_odds.max(axis=1, keepdims=True)
        proba = np.exp(log_odds)
        return proba / proba.sum(axis=1, keepdims=True)

    def _proba(self, kind: str, texts: list[str]) -> np.ndarray:
        """One pipeline's probabilities (before calibration): the lean scorer where there is one."""
        scorer = self._scorer(kind)
        if scorer is not None:
            return scorer.predict_proba(texts)
        if kind not in self._names:
            raise ModelError(f"this model has no {kind!r} pipeline (it has {', '.join(self._names)})")
        return self.pipelines[kind].predict_proba(texts)

    def predict(self, texts, kind: str | None = None) -> np.ndarray:
        return self.classes_[self.predict_proba(texts, kind).argmax(axis=1)]

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
        """The words (or n-grams) a pipeline knows; a stack's are its first component's."""
        kind = kind or self.primary
        kind = self._parts[0] if kind == STACK else kind
        if self._scorer(kind) is not None:
            return self._scorer(kind).vocabulary
        if kind in self._specs and self._specs[kind]["features"] == "doc2vec":
            return {term: i for i, term in enumerate(self._specs[kind]["vocabulary"])}
        from sentiment.features import DocVectorizer, MeanEmbeddingVectorizer, NBNgramVectorizer

        features = self.pipelines[kind][0]
        if isinstance(features, MeanEmbeddingVectorizer):
            return features.wv_.key_to_index
        if isinstance(features, DocVectorizer):
            return features.doc2vec_.key_to_index_
        if isinstance(features, NBNgramVectorizer):
            return features.term_index
        return features.vocabulary_

    def explain(self, text: str, kind: str | None = None) -> Explanation:
        """Each token's exact contribution to the decision on one ``text`` (see ``explain.py`` for which logit).

        The contributions plus ``constant`` add up to the pipeline's ``decision_function`` for the text.
        """
        from sentiment.explain import explain_pipeline, explain_stack

        if not isinstance(text, str):
            raise TypeError(f"explain expects one text, got {type(text).__name__}")
        kind = kind or self.primary
        if kind == STACK:
            pairs = zip(self.stack["components"], self.stack["weights"], strict=True)
            parts = [(self.pipelines[part], weight, part) for part, weight in pairs]
            return explain_stack(parts, text, self.predict_proba([text], STACK)[0], self.classes_)
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
            old_model = swap_into_place(staging, target)
        finally:
            if old_model is None:
                shutil.rmtree(staging, ignore_errors=True)  # only the new files this call wrote
        if old_model is not None:
            remove_model_files(old_model)
        return target

    def _write(self, directory: Path) -> None:
        from sentiment.features import DocVectorizer, MeanEmbeddingVectorizer, NBNgramVectorizer

        files: dict[str, dict] = {}
        settings: dict[str, dict] = {}
        for kind, pipeline in self.pipelines.items():
            classifier = pipeline[-1]
            arrays = {
                # Dtypes kept as fitted, so a loaded model computes bit-identical probabilities.
                "coef": classifier.coef_,
                "intercept": classifier.intercept_,
                "classes": np.asarray(classifier.classes_).astype(str),
            }
            features = pipeline[0]
            if isinstance(features, MeanEmbeddingVectorizer):
                wv = features.wv_
                wv.save_word2vec_format(directory / "vectors.bin", binary=True)
                files["vectors.bin"] = {"shape": [len(wv), wv.vector_size]}
                scaler = pipeline[1]
                arrays.update(scaler_mean=scaler.mean_, scaler_scale=scaler.scale_, word_weights=features.word_weights_)
                settings[kind] = {"weighting": features.weighting, "pooling": features.pooling,
                                  "normalize": bool(features.normalize)}  # fmt: skip
                if features.prior_tokens:
                    arrays["center"] = features.center_
                    settings[kind]["prior_tokens"] = float(features.prior_tokens)
                if features.pooling == "mean" and not features.normalize:
                    folded = fold_mean_embeddings(
                        wv.vectors, np.asarray(features.word_weights_, dtype=np.float32).reshape(-1, len(wv)),
                        classifier.coef_, classifier.intercept_, scaler.mean_, scaler.scale_,
                        features.center_ if features.prior_tokens else None,
                    )  # fmt: skip
                    # The words as one UTF-8 block, one per line (word2vec's format has no whitespace in words).
                    folded["words"] = np.frombuffer("\n".join(wv.index_to_key).encode("utf-8"), dtype=np.uint8)
                    np.savez(directory / f"{kind}_scorer.npz", **folded)
                    files[f"{kind}_scorer.npz"] = {name: {"shape": list(a.shape)} for name, a in folded.items()}
                if features.phrases_ is not None:
                    _write_json(directory / f"{kind}_phrases.json", features.phrases_.pairs_)
                    files[f"{kind}_phrases.json"] = {"shape": [len(joined) for joined in features.phrases_.pairs_]}
            elif isinstance(features, DocVectorizer):
                doc2vec = features.doc2vec_
                _write_json(directory / f"{kind}_vocabulary.json", doc2vec.index_to_key_)
                files[f"{kind}_vocabulary.json"] = {"shape": [len(doc2vec.index_to_key_)]}
                scaler = pipeline[1]
                arrays.update(scaler_mean=scaler.mean_, scaler_scale=scaler.scale_, syn1neg=doc2vec.syn1neg_,
                              counts=doc2vec.counts_.astype(np.float64))  # fmt: skip
                settings[kind] = {name: getattr(doc2vec, name) for name in _DOC2VEC_SETTINGS}
            elif isinstance(features, NBNgramVectorizer):
                _write_json(directory / f"{kind}_vocabulary.json", features.vocabulary_)
                files[f"{kind}_vocabulary.json"] = {"shape": [len(features.vocabulary_)]}
                arrays.update(ratios=features.ratios_, ratio_classes=np.asarray(features.classes_).astype(str))
                settings[kind] = {"ngram_range": list(features.ngram_range), "min_df": features.min_df,
                                  "alpha": features.alpha, "norm": features.norm}  # fmt: skip
            else:
                vocabulary = features.get_feature_names_out().tolist()
                _write_json(directory / f"{kind}_vocabulary.json", vocabulary)
                files[f"{kind}_vocabulary.json"] = {"shape": [len(vocabulary)]}
            if kind in self.calibrators:  # issue 11: Platt scaling's parameters
                arrays["calibration"] = self.calibrators[kind].params
                settings.setdefault(kind, {})["calibration"] = "sigmoid"
            np.savez(directory / f"{kind}.npz", **arrays)
            files[f"{kind}.npz"] = {name: {"shape": list(a.shape)} for name, a in arrays.items()}
        meta = {**self.meta, "format_version": FORMAT_VERSION, "primary": self.primary, "files": files,
                "pipelines": {kind: {"features": _feature_kind(p[0]), **settings.get(kind, {})}
                              for kind, p in self.pipelines.items()}}  # fmt: skip
        if self.stack is not None:
            meta["stack"] = self.stack
        _write_json(directory / "meta.json", meta)

        (directory / "README.md").write_text(model_card(meta), encoding="utf-8")

    # ----------------------------------------------------------------- load

    @classmethod
    def load(cls, path: str | os.PathLike) -> SentimentModel:
        """Read a model directory (any of ``READABLE_FORMATS``), checking format version and every array's shape."""
        directory = Path(path)
        if not directory.is_dir():
            raise ModelError(f"{directory}: no model directory here (train one with `sentiment train`)")
        meta = _read_json(directory / "meta.json")
        if not isinstance(meta, dict) or "format_version" not in meta:
            raise ModelError(f"{directory}/meta.json: not a sentiment model's metadata")
        version = meta["format_version"]
        if version not in READABLE_FORMATS:
            newer = isinstance(version, int) and version > FORMAT_VERSION
            raise ModelError(
                f"{directory}: model format {version!r} "
                + ("was written by a newer sentiment: upgrade to load it" if newer else "is not one this version reads")
            )
        files = meta.get("files", {})
        # Format 1 had two fixed pipelines; format 2 says what each pipeline's features are.
        described = meta.get("pipelines") or {kind: {"features": kind} for kind in ("embeddings", "onehot")}
        if not isinstance(described, dict):
            raise ModelError(f"{directory}/meta.json: 'pipelines' is not a mapping")
        specs, calibrators = {}, {}
        for kind, settings in described.items():
            if f"{kind}.npz" in files:
                specs[kind] = _read_pipeline(directory, kind, files, settings if isinstance(settings, dict) else {})
                if isinstance(settings, dict) and settings.get("calibration") is not None:
                    calibrators[kind] = _load_calibrator(directory, kind, files, settings["calibration"])
        stack = meta.get("stack")
        primary = meta.get("primary")
        usable = primary in specs or (primary == STACK and _stack_is_usable(stack, specs))
        if not specs or not usable:
            raise ModelError(f"{directory}: meta.json names no usable classifier")
        return cls(None, primary, meta, stack=stack, calibrators=calibrators, specs=specs)


_DOC2VEC_SETTINGS = ("vector_size", "epochs", "min_count", "negative", "ns_exponent", "sample", "alpha", "min_alpha",
                     "batch_words", "seed", "ngrams")  # fmt: skip


def _load_calibrator(directory: Path, kind: str, files: dict, method) -> SigmoidCalibrator:
    params = _read_npz(directory / f"{kind}.npz", files[f"{kind}.npz"]).get("calibration")
    if method != "sigmoid" or params is None or params.ndim != 1 or len(params) not in (1, 2):
        raise ModelError(f"{directory}/{kind}.npz: calibration {method!r} is missing or not one this version reads")
    return SigmoidCalibrator(params)


def _feature_kind(features) -> str:
    from sentiment.features import DocVectorizer, MeanEmbeddingVectorizer, NBNgramVectorizer

    if isinstance(features, MeanEmbeddingVectorizer):
        return "embeddings"
    if isinstance(features, DocVectorizer):
        return "doc2vec"
    if isinstance(features, NBNgramVectorizer):
        return "nbngrams"
    return "onehot"


def _stack_is_usable(stack, pipelines) -> bool:
    return (
        isinstance(stack, dict)
        and isinstance(stack.get("components"), list)
        and isinstance(stack.get("weights"), list)
        and len(stack["components"]) == len(stack["weights"]) > 0
        and all(component in pipelines for component in stack["components"])
        and all(isinstance(w, int | float) and math.isfinite(w) for w in stack["weights"])
    )


def _read_pipeline(directory: Path, kind: str, files: dict, settings: dict) -> dict:
    """One pipeline's arrays and settings, read and checked (NumPy only): what it is scored or rebuilt from."""
    arrays = _read_npz(directory / f"{kind}.npz", files[f"{kind}.npz"])
    coef, intercept, classes = arrays["coef"], arrays["intercept"], arrays["classes"]
    n_rows = 1 if len(classes) == 2 else len(classes)
    if len(classes) < 2 or coef.ndim != 2 or coef.shape[0] != n_rows or intercept.shape != (n_rows,):
        raise ModelError(f"{directory}/{kind}.npz: classifier arrays do not fit together")
    features = settings.get("features", kind)
    spec = {"features": features, "coef": coef, "intercept": intercept, "classes": classes}
    if features == "embeddings":
        shape = files.get("vectors.bin", {}).get("shape")
        if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(n, int) and n > 0 for n in shape)):
            raise ModelError(f"{directory}/meta.json: no shape for vectors.bin")
        n_words, dim = shape
        weighting, pooling = settings.get("weighting", "uniform"), settings.get("pooling", "mean")
        weights = arrays.get("word_weights", np.ones((1, n_words), dtype=np.float32))  # format 1: plain means
        n_blocks = (weights.shape[0] if weights.ndim == 2 else 1) + (pooling == "mean_max")
        width = dim * n_blocks
        scaler_mean, scaler_scale = arrays["scaler_mean"], arrays["scaler_scale"]
        if coef.shape[1] != width or scaler_mean.shape != (width,) or weights.shape[1:] != (n_words,):
            raise ModelError(f"{directory}/{kind}.npz: arrays do not match {dim}-dimensional vectors")
        prior_tokens, center = settings.get("prior_tokens", 0.0), arrays.get("center")
        valid_prior = isinstance(prior_tokens, int | float) and prior_tokens > 0
        if prior_tokens and (not valid_prior or getattr(center, "shape", None) != (width,)):
            raise ModelError(f"{directory}/{kind}.npz: prior_tokens needs a center of {width} numbers")
        weightings = str(weighting).split("+")
        if pooling not in ("mean", "mean_max") or not all(
            w in ("uniform", "idf", "sif", "nb", "nbs") for w in weightings
        ):
            raise ModelError(f"{directory}/meta.json: weighting {weighting!r} / pooling {pooling!r} unknown")
        phrases = None
        if f"{kind}_phrases.json" in files:
            pairs = _read_json(directory / f"{kind}_phrases.json")
            if not isinstance(pairs, list) or not all(
                isinstance(joined, list) and all(isinstance(p, list) and len(p) == 2 for p in joined)
                for joined in pairs
            ):
                raise ModelError(f"{directory}/{kind}_phrases.json: not a list of word pairs per pass")
            phrases = Phrases.from_pairs(pairs)
        foldable = pooling == "mean" and settings.get("normalize", False) is not True
        folded = None
        if foldable and f"{kind}_scorer.npz" in files:
            folded = _read_folded(directory, kind, files, n_words, n_rows, n_blocks, with_center=bool(prior_tokens))
        spec.update(
            folded=folded, weights=np.asarray(weights, dtype=np.float32).reshape(-1, n_words), weighting=weighting,
            pooling=pooling, phrases=phrases, normalize=settings.get("normalize", False) is True,
            scaler_mean=scaler_mean, scaler_scale=scaler_scale, prior_tokens=float(prior_tokens or 0.0), center=center,
        )  # fmt: skip
        # With the folded numbers, the vectors are read when first asked for (rebuilding the pipeline,
        # explain, similar words); without them the scorer needs them now.
        spec["wv"] = None
        spec["read_vectors"] = lambda: _read_vectors(directory, n_words, dim)
        if folded is None:
            _vectors_of(spec)
        else:
            _check_vectors_header(directory / "vectors.bin", n_words, dim)
        return spec
    vocabulary = _read_json(directory / f"{kind}_vocabulary.json")
    if not isinstance(vocabulary, list) or len(set(vocabulary)) != len(vocabulary):
        raise ModelError(f"{directory}/{kind}_vocabulary.json: not a list of distinct features")
    spec["vocabulary"] = vocabulary
    if features == "doc2vec":
        syn1neg, counts = arrays.get("syn1neg"), arrays.get("counts")
        width = coef.shape[1]
        if (
            syn1neg is None
            or counts is None
            or syn1neg.shape != (len(vocabulary), width)
            or counts.shape != (len(vocabulary),)
        ):
            raise ModelError(f"{directory}/{kind}.npz: document-vector arrays do not match the vocabulary")
        params = {name: settings[name] for name in _DOC2VEC_SETTINGS if name in settings}
        if params.get("vector_size", width) != width:
            raise ModelError(f"{directory}/meta.json: doc2vec vector_size differs from the classifier's columns")
        spec.update(syn1neg=syn1neg, counts=counts, params=params, scaler_mean=arrays["scaler_mean"],
                    scaler_scale=arrays["scaler_scale"])  # fmt: skip
        return spec
    if features == "nbngrams":
        ratios = arrays.get("ratios")
        if ratios is None or ratios.ndim != 2 or ratios.shape[1] != len(vocabulary):
            raise ModelError(f"{directory}/{kind}.npz: NB ratios do not match the vocabulary")
        if coef.shape[1] != ratios.size:
            raise ModelError(f"{directory}/{kind}.npz: does not match the classifier's {coef.shape[1]} columns")
        spec.update(
            ratios=np.asarray(ratios, dtype=np.float32), ratio_classes=arrays.get("ratio_classes", classes),
            ngram_range=tuple(settings.get("ngram_range", (1, 3))), min_df=settings.get("min_df", 2),
            alpha=settings.get("alpha", 1.0), norm=_nb_norm(settings.get("norm"), directory),
        )  # fmt: skip
        return spec
    if len(vocabulary) != coef.shape[1]:
        raise ModelError(f"{directory}/{kind}_vocabulary.json: does not match the classifier's {coef.shape[1]} columns")
    spec["features"] = "onehot"
    return spec


def _read_vectors(directory: Path, n_words: int, dim: int) -> WordVectors:
    wv = WordVectors.load_word2vec_format(directory / "vectors.bin", binary=True)
    if (len(wv), wv.vector_size) != (n_words, dim):
        raise ModelError(f"{directory}/vectors.bin: shape {len(wv)}x{wv.vector_size} differs from meta.json")
    return wv


def _vectors_of(spec: dict) -> WordVectors:
    """An embeddings spec's word vectors, read from vectors.bin on first use (and checked against the scorer's
    words: the directory may have been replaced by another model since it was loaded)."""
    if spec["wv"] is None:
        wv = spec["read_vectors"]()
        if spec.get("folded") is not None and wv.index_to_key != spec["folded"]["words"]:
            raise ModelError("vectors.bin does not hold the words the model was loaded with (was it replaced?)")
        spec["wv"] = wv
    return spec["wv"]


def _check_vectors_header(path: Path, n_words: int, dim: int) -> None:
    """vectors.bin's header and size, checked without reading the vectors (format 4 reads them when needed)."""
    try:
        with open(path, "rb") as stream:
            header = stream.readline(100)
            size = os.fstat(stream.fileno()).st_size
    except FileNotFoundError:
        raise ModelError(f"{path}: missing from the model directory") from None
    except OSError as error:
        raise ModelError(f"{path}: unreadable ({error.strerror or error})") from None
    if header.split() != [str(n_words).encode(), str(dim).encode()]:
        raise ModelError(f"{path}: header {header[:40]!r} does not match meta.json ({n_words} x {dim})")
    if size < len(header) + n_words * (dim * 4 + 2):  # each row: a word, a space, the floats
        raise ModelError(f"{path}: truncated ({size:,} bytes for {n_words:,} vectors of {dim})")


def _read_folded(directory: Path, kind: str, files: dict, n_words: int, n_rows: int, n_blocks: int, *, with_center):
    """The lean scorer's stored numbers and words (format 4), checked against the pipeline they fold."""
    path = directory / f"{kind}_scorer.npz"
    arrays = _read_npz(path, files[f"{kind}_scorer.npz"])
    expected = {"per_word": (n_words, n_blocks * n_rows), "sizes": (n_words, n_blocks), "constant": (n_rows,)}
    if with_center:
        expected["center_part"] = (n_rows,)
    raw = arrays.get("words")
    if any(arrays.get(name) is None or arrays[name].shape != shape for name, shape in expected.items()) or (
        raw is None or raw.dtype != np.uint8 or raw.ndim != 1
    ):
        raise ModelError(f"{path}: arrays do not fit the pipeline's {n_words} words")
    try:
        words = raw.tobytes().decode("utf-8").split("\n")
    except UnicodeDecodeError as error:
        raise ModelError(f"{path}: damaged word list ({error})") from None
    key_to_index = {word: i for i, word in enumerate(words)}
    if len(words) != n_words or len(key_to_index) != n_words:
        raise ModelError(f"{path}: not {n_words} distinct words, as vectors.bin holds")
    return {**{name: arrays[name] for name in expected}, "words": words, "key_to_index": key_to_index}


def _build_pipeline(spec: dict) -> Pipeline:
    """The scikit-learn pipeline a stored pipeline's arrays describe (``_read_pipeline`` checked them)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from sentiment.embeddings.doc2vec import Doc2Vec
    from sentiment.features import DocVectorizer, MeanEmbeddingVectorizer, NBNgramVectorizer, one_hot_vectorizer

    classifier = LogisticRegression()
    classifier.coef_, classifier.intercept_, classifier.classes_ = spec["coef"], spec["intercept"], spec["classes"]
    classifier.n_features_in_ = spec["coef"].shape[1]

    def scaler():
        fitted = StandardScaler()
        fitted.mean_, fitted.scale_ = spec["scaler_mean"], spec["scaler_scale"]
        fitted.var_, fitted.n_features_in_ = fitted.scale_**2, len(fitted.mean_)
        return fitted

    features = spec["features"]
    if features == "embeddings":
        try:
            vectorizer = MeanEmbeddingVectorizer.from_arrays(
                _vectors_of(spec), spec["weights"], weighting=spec["weighting"], pooling=spec["pooling"],
                phrases=spec["phrases"], normalize=spec["normalize"], prior_tokens=spec["prior_tokens"],
                center=spec["center"],
            )  # fmt: skip
        except ValueError as error:
            raise ModelError(f"meta.json: {error}") from None
        return Pipeline([("features", vectorizer), ("scale", scaler()), ("classifier", classifier)])
    if features == "doc2vec":
        doc2vec = Doc2Vec.from_arrays(spec["vocabulary"], spec["counts"], spec["syn1neg"], **spec["params"])
        vectorizer = DocVectorizer(doc2vec=doc2vec).fit([])
        return Pipeline([("features", vectorizer), ("scale", scaler()), ("classifier", classifier)])
    if features == "nbngrams":
        vectorizer = NBNgramVectorizer.from_arrays(
            spec["vocabulary"], spec["ratios"], spec["ratio_classes"], ngram_range=spec["ngram_range"],
            min_df=spec["min_df"], alpha=spec["alpha"], norm=spec["norm"],
        )  # fmt: skip
        return Pipeline([("features", vectorizer), ("classifier", classifier)])
    vectorizer = one_hot_vectorizer()
    vectorizer.set_params(vocabulary={word: i for i, word in enumerate(spec["vocabulary"])})
    vectorizer.fit([])  # with a fixed vocabulary, fit only validates it
    return Pipeline([("features", vectorizer), ("classifier", classifier)])


def _nb_norm(norm, directory: Path) -> str | None:
    """The stored ``norm`` of NB n-grams: absent before format 5, which never scaled rows."""
    if norm not in (None, "l2"):  # features.nb_ngrams.NORMS, not imported: loading a model stays free of sklearn
        raise ModelError(f"{directory}/meta.json: NB n-grams norm {norm!r} is not one this version reads")
    return norm


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
        if arrays[name].dtype.kind not in "fUu":
            raise ModelError(f"{path}: array {name!r} has unexpected type {arrays[name].dtype}")
        if arrays[name].dtype.kind == "f" and not np.isfinite(arrays[name]).all():
            raise ModelError(f"{path}: array {name!r} holds NaN or infinite values")
    return arrays
