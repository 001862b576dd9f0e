"""Built-in datasets: a registry, verified downloads, local imports and a compact cache.

``sentiment datasets download imdb`` fetches the dataset's own archive,
checks its published checksum *before* reading anything from it, reads the
reviews straight out of the archive (no extraction to disk: members with
absolute or ``..`` paths, links and device files make the whole archive
refused) and stores one compact table (``table.csv.gz``: text, label, split)
under the data home (``./data``, or ``$SENTIMENT_DATA``). Every file appears
atomically, so a failed or interrupted download leaves the cache as it was
and a retry starts clean. ``import`` does the same from a local archive or
folder (no checksum: the layout is validated instead).

What is here: the registry, download, import, export, and ``load_dataset``.
What is not: reading user CSV files (``data.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import stat
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sentiment.data.reviews import NEGATIVE, POSITIVE, Reviews
from sentiment.errors import DataError
from sentiment.outputs import apply_umask, check_output_file
from sentiment.progress import Progress

__all__ = [
    "DATASETS",
    "data_home",
    "download",
    "export",
    "import_dataset",
    "is_dataset",
    "load_dataset",
    "status",
    "training_data",
]

Member = tuple[str, Callable[[], bytes]]  # path inside the archive or folder, and how to read it


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    url: str
    checksum: str | None  # "md5:..." / "sha256:..." as published by others who pin it; None if none is
    size: str
    splits: tuple[str, ...]
    citation: str
    parse: Callable[[Iterator[Member]], pd.DataFrame]

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1].replace("%20", " ")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # the MR files as Cornell serves them


# aclImdb/train/pos/ID_RATING.txt, also when the folder given is aclImdb itself.
_IMDB_FILE = re.compile(r"(?:^|/)(?:aclImdb/)?(train|test)/(pos|neg|unsup)/\d+_\d+\.txt$")


def _parse_imdb(members: Iterator[Member]) -> pd.DataFrame:
    rows = []
    for path, read in members:
        match = _IMDB_FILE.search(path)
        if match:
            split, polarity = match.groups()
            label = {"pos": POSITIVE, "neg": NEGATIVE}.get(polarity, "")
            rows.append((_decode(read()), label, "unsup" if polarity == "unsup" else split))
    return pd.DataFrame(rows, columns=["text", "label", "split"])


def _parse_mr(members: Iterator[Member]) -> pd.DataFrame:
    rows = []
    for path, read in members:
        name = path.rsplit("/", 1)[-1]
        if name in ("rt-polarity.pos", "rt-polarity.neg"):
            label = POSITIVE if name.endswith("pos") else NEGATIVE
            rows += [(line.strip(), label, "train") for line in _decode(read()).splitlines() if line.strip()]
    return pd.DataFrame(rows, columns=["text", "label", "split"])


def _parse_uci(members: Iterator[Member]) -> pd.DataFrame:
    rows = []
    for path, read in members:
        name = path.rsplit("/", 1)[-1]
        if name in ("amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt") and "MACOSX" not in path:
            for line in _decode(read()).splitlines():
                text, _, label = line.rstrip().rpartition("\t")
                if text.strip() and label in ("0", "1"):
                    rows.append((text.strip(), POSITIVE if label == "1" else NEGATIVE, "train"))
    return pd.DataFrame(rows, columns=["text", "label", "split"])


DATASETS = {
    "imdb": Dataset(
        name="imdb",
        title="Large Movie Review Dataset v1.0",
        url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        checksum="md5:7c2ac02c03563afcf9b574c7e56c153a",  # as torchtext and PaddleNLP pin it
        size="84 MB",
        splits=("train", "test", "unsup"),
        citation="Maas et al., Learning Word Vectors for Sentiment Analysis, ACL 2011",
        parse=_parse_imdb,
    ),
    "mr": Dataset(
        name="mr",
        title="Sentence polarity dataset v1.0 (MR)",
        url="https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz",
        checksum=None,
        size="0.5 MB",
        splits=("train",),
        citation="Pang and Lee, Seeing stars, ACL 2005",
        parse=_parse_mr,
    ),
    "uci": Dataset(
        name="uci",
        title="Sentiment Labelled Sentences",
        url="https://archive.ics.uci.edu/ml/machine-learning-databases/00331/sentiment%20labelled%20sentences.zip",
        checksum=None,
        size="0.1 MB",
        splits=("train",),
        citation="Kotzias et al., From Group to Individual Labels using Deep Features, KDD 2015",
        parse=_parse_uci,
    ),
}


def data_home() -> Path:
    home = Path(os.environ.get("SENTIMENT_DATA", "data"))
    if home.exists() and not home.is_dir():
        raise DataError(f"the data home {home} (SENTIMENT_DATA, default ./data) is a file: point it at a folder")
    return home


def is_dataset(name: str | os.PathLike) -> bool:
    """True for a registry name that is not also an existing file (a file always wins)."""
    return str(name) in DATASETS and not Path(name).exists()


def _spec(name: str) -> Dataset:
    if name not in DATASETS:
        raise DataError(f"no built-in dataset {name!r}; built-in: {', '.join(DATASETS)}")
    return DATASETS[name]


def _table_path(name: str) -> Path:
    return data_home() / name / "table.csv.gz"


def status() -> list[dict]:
    """One row per built-in dataset: what it is and whether it is in the cache."""
    rows = []
    for spec in DATASETS.values():
        table = _table_path(spec.name)
        rows.append({
            "name": spec.name, "title": spec.title, "size": spec.size, "splits": list(spec.splits),
            "downloaded": table.exists(), "citation": spec.citation, "url": spec.url,
        })  # fmt: skip
    return rows


# ------------------------------------------------------------- archives


def _checked(name: str, info_kind: str, is_link: bool, is_special: bool) -> str:
    """Refuse paths that could escape a target directory, links and device files."""
    clean = name.replace("\\", "/")
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean) or ".." in parts:
        raise DataError(f"unsafe archive: member {name!r} points outside the dataset folder; refusing the archive")
    if is_link or is_special:
        raise DataError(f"unsafe archive: member {name!r} is a {info_kind}; refusing the archive")
    return "/".join(parts)


def _archive_members(path: Path) -> Iterator[Member]:
    """Regular files of a .tar(.gz) or .zip archive, after every member is checked."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
                for info in infos:
                    mode = info.external_attr >> 16  # Unix mode bits, 0 when the zip has none
                    is_link = stat.S_ISLNK(mode)
                    is_special = bool(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or is_link)
                    _checked(info.filename, "link" if is_link else "special file", is_link, is_special)
                for info in infos:
                    if not info.is_dir():
                        yield _checked(info.filename, "", False, False), lambda info=info: archive.read(info)
            return
        with tarfile.open(path, "r:*") as archive:
            for member in archive.getmembers():  # checks all before reading any
                kind = "link" if member.issym() or member.islnk() else "device or special file"
                _checked(member.name, kind, member.issym() or member.islnk(), not (member.isfile() or member.isdir()))
            for member in archive:
                if member.isfile():
                    yield member.name, lambda member=member: archive.extractfile(member).read()
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, zlib.error) as error:
        raise DataError(f"{path}: not a readable archive ({error})") from None


def _folder_members(folder: Path) -> Iterator[Member]:
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise DataError(f"{path}: is a link; refusing to import a folder with links")
        if path.is_file():
            yield path.relative_to(folder).as_posix(), path.read_bytes


def _build_table(spec: Dataset, members: Iterator[Member], source: str, progress: Progress) -> pd.DataFrame:
    with progress.task(f"Reading {spec.name} reviews from {source}"):
        table = spec.parse(members)
    if table.empty or not (table["label"] != "").any():
        raise DataError(f"{source}: holds no {spec.title} reviews in the expected layout")
    return table


def _store(spec: Dataset, table: pd.DataFrame) -> Path:
    """Write the compact table atomically into the cache."""
    target = _table_path(spec.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".table.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        apply_umask(temporary)
        table.to_csv(temporary, index=False, compression="gzip")
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return target


# ------------------------------------------------------------- download


def _verify(path: Path, checksum: str) -> None:
    algorithm, _, expected = checksum.partition(":")
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise DataError(
            f"checksum mismatch for {path.name}: expected {algorithm} {expected}, got {digest.hexdigest()}; "
            "the download is corrupt or not the published file (nothing was stored)"
        )


def _fetch(url: str, destination: Path, progress: Progress) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            received, started = 0, time.perf_counter()
            with open(destination, "wb") as out, progress.task(f"Downloading {url}", total=total) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    received += len(block)
                    rate = received / max(time.perf_counter() - started, 1e-9)
                    bar.advance(len(block), status=f"{received / 1e6:,.1f} MB at {rate / 1e6:,.1f} MB/s")
            if total is not None and received != total:
                raise DataError(f"download of {url} stopped after {received:,} of {total:,} bytes: try again")
    except urllib.error.HTTPError as error:
        error.close()  # it holds the response's socket
        raise DataError(f"download of {url} failed: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DataError(
            f"download of {url} failed ({reason}); with a copy of the archive, use "
            f"`sentiment datasets import NAME PATH` or --mirror"
        ) from None


def download(name: str, *, mirror: str | None = None, progress: Progress | None = None) -> Path:
    """Download, verify and cache a built-in dataset; returns the cached table's path."""
    spec = _spec(name)
    if mirror and "://" not in mirror and not Path(mirror).is_dir():
        raise DataError(f"--mirror {mirror}: no such folder; give a folder holding {spec.filename} or a URL base")
    progress = progress or Progress(enabled=False)
    folder = data_home() / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    if mirror and Path(mirror).is_dir():
        local = Path(mirror) / spec.filename
        if not local.is_file():
            raise DataError(f"mirror folder {mirror} has no {spec.filename}")
        return _verified_import(spec, local, progress)
    url = f"{mirror.rstrip('/')}/{spec.url.rsplit('/', 1)[-1]}" if mirror else spec.url
    handle, partial = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=folder)
    os.close(handle)
    try:
        _fetch(url, Path(partial), progress)
        return _verified_import(spec, Path(partial), progress, source=url)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


def _verified_import(spec: Dataset, archive: Path, progress: Progress, source: str | None = None) -> Path:
    if spec.checksum:
        with progress.task(f"Verifying {spec.filename}"):
            _verify(archive, spec.checksum)
    table = _build_table(spec, _archive_members(archive), source or str(archive), progress)
    return _store(spec, table)


def import_dataset(name: str, path: str | os.PathLike, *, progress: Progress | None = None) -> Path:
    """Cache a built-in dataset from a local archive or an extracted folder (layout checked, no checksum)."""
    spec = _spec(name)
    path = Path(path)
    progress = progress or Progress(enabled=False)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    members = _folder_members(path) if path.is_dir() else _archive_members(path)
    return _store(spec, _build_table(spec, members, str(path), progress))


# ------------------------------------------------------------- loading


def load_table(name: str, *, auto_download: bool = False, progress: Progress | None = None) -> tuple[pd.DataFrame, str]:
    """The cached table of a dataset and the sha256 of its file, read once."""
    spec = _spec(name)
    table_path = _table_path(name)
    if not table_path.exists():
        if not auto_download:
            raise DataError(
                f"dataset {name!r} is not downloaded: run `sentiment datasets download {name}` "
                f"(or `sentiment datasets import {name} PATH` with a local copy), or pass --download"
            )
        download(name, progress=progress)
    try:
        raw = table_path.read_bytes()
        table = pd.read_csv(io.BytesIO(raw), compression="gzip", dtype=str, keep_default_na=False)
    except (OSError, EOFError, zlib.error, pd.errors.ParserError) as error:
        raise DataError(f"{table_path}: the cached table is damaged ({error}); download or import it again") from None
    if list(table.columns) != ["text", "label", "split"]:
        raise DataError(f"{table_path}: not a dataset table; download or import {spec.name} again")
    return table, hashlib.sha256(raw).hexdigest()


def _split(table: pd.DataFrame, sha256: str, name: str, split: str) -> Reviews | None:
    rows = table[table["split"] == split]
    if rows.empty:
        return None
    labels = None if split == "unsup" else rows["label"].to_numpy(dtype=str)
    return Reviews(
        texts=rows["text"].tolist(),
        labels=labels,
        source=f"{name}:{split}",
        sha256=sha256,
        text_column="text",
        label_column=None if labels is None else "label",
    )


def load_dataset(name: str, split: str, *, auto_download: bool = False, progress=None) -> Reviews | None:
    """One split of a cached dataset as ``Reviews`` (``None`` when the copy has no such split)."""
    return _split(*load_table(name, auto_download=auto_download, progress=progress), name, split)


def training_data(name: str, *, auto_download: bool = False, progress=None):
    """``(train, test or None, unlabelled texts)`` of a built-in dataset, for train/compare/sweep."""
    table, sha256 = load_table(name, auto_download=auto_download, progress=progress)
    train = _split(table, sha256, name, "train")
    if train is None:
        raise DataError(f"dataset {name!r} has no training split in this copy; import it again")
    test = _split(table, sha256, name, "test")
    unsup = _split(table, sha256, name, "unsup")
    return train, test, ([] if unsup is None else unsup.texts)


def export(name: str, split: str, output: str | os.PathLike, *, overwrite: bool = False) -> int:
    """Write one split as a CSV (text,label; gzip when the name ends in .gz); returns the number of rows.

    The output may not lie inside the dataset cache, and an existing file is
    replaced only with ``overwrite`` (``outputs.py`` has the rule).
    """
    output = check_output_file(output, overwrite=overwrite)
    cache = data_home().resolve()
    if output.resolve() == cache or cache in output.resolve().parents:
        raise DataError(f"{output}: is inside the dataset cache {data_home()}; export to a path outside it")
    reviews = load_dataset(name, split)
    if reviews is None:
        raise DataError(f"dataset {name!r} has no split {split!r} in this copy")
    frame = pd.DataFrame({"text": reviews.texts})
    if reviews.labels is not None:
        frame["label"] = reviews.labels
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(handle)
    try:
        apply_umask(temporary)
        frame.to_csv(temporary, index=False, compression="gzip" if output.name.endswith(".gz") else None)
        os.replace(temporary, output)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return len(frame)
