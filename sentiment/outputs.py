"""Where sentiment may write, replace and delete: the one rule, and the checks that enforce it.

**The rule.** This program deletes or replaces only what it created in this
run, or what carries its own marker. It never removes a path the user gave
recursively. Concretely:

* A **model directory** (``train -o DIR``) is written only where DIR does not
  exist, is an empty directory, or is a sentiment model directory (its
  ``meta.json`` has a ``format_version``) holding nothing but the files that
  model's ``meta.json`` lists. The new model is built in a sibling temporary
  directory and swapped in atomically; only then are the old model's files
  removed, one known name at a time, and the emptied directory with ``rmdir``.
* A **report directory** (``compare/sweep --report DIR``) is written only where
  DIR does not exist, is empty, or was made by the same command (it holds
  ``MARKER``).
* An **output file** (``predict --output``, ``datasets export -o``) is written
  to a temporary file beside it and renamed into place when complete; an
  existing file is replaced only when the caller says so.
* A **predictions directory** (``predict --output DIR/`` of part files) is
  written only where DIR does not exist, is empty, or (with ``--overwrite``)
  holds a previous run's parts (``PREDICTIONS_MARKER`` lists them). The parts
  are written into a sibling temporary directory that is renamed into place
  only when every part is complete, so a failed or interrupted run leaves no
  partial output; a replaced run's listed files are then removed one by one.
* Whatever the contents, an output directory is refused when it is the current
  directory or one of its parents, the home directory, the file system root,
  or a folder that contains one of the run's input files.

Every refusal is a ``SentimentError`` raised *before* any work starts, with one
line naming the path and what to do. Files and directories this program creates
get the permissions the user's umask gives (``tempfile`` would make them
private). Writing a model's files is ``model.py``'s job, writing reports
``experiment_report.py``'s; this module only decides whether a path may be
used and does the guarded removals.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

from sentiment.errors import SentimentError, SentimentWarning

__all__ = [
    "MARKER",
    "PREDICTIONS_MARKER",
    "apply_umask",
    "check_model_dir",
    "check_output_file",
    "check_predictions_dir",
    "check_report_dir",
    "claim_report_dir",
    "model_files",
    "publish_predictions_dir",
    "remove_model_files",
    "swap_into_place",
]

MARKER = ".sentiment-report.json"  # written first into every report directory this program creates
PREDICTIONS_MARKER = ".sentiment-predictions.json"  # lists the part files of a predictions directory


def _refuse(path: Path, why: str, what_to_do: str = "choose a new path, or remove it yourself") -> SentimentError:
    return SentimentError(f"{path}: {why}; {what_to_do}")


def _check_location(path: Path, inputs: Iterable[str | os.PathLike], role: str) -> Path:
    """Refuse paths that can never be an output directory, whatever they hold; return the resolved path."""
    if path.is_symlink():
        raise _refuse(path, f"is a symbolic link; refusing to write a {role} through it", "give the real path")
    resolved = path.expanduser().resolve()
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.is_dir():
            raise _refuse(path, f"{parent} is a file, so no {role} directory can be made there", "choose another path")
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise _refuse(path, f"is the current directory or one of its parents; refusing to write a {role} over it")
    home = Path.home().resolve()
    if resolved == home or resolved == Path(resolved.anchor):
        raise _refuse(path, f"is the home directory or the root; refusing to write a {role} over it")
    for source in inputs:
        source = Path(source or "").expanduser()
        if source == Path() or not source.exists():  # a built-in dataset's name, not a path
            continue
        source = source.resolve()
        if resolved == source or resolved in source.parents:
            raise _refuse(path, f"contains the input {source}; refusing to write a {role} over it")
    return resolved


def model_files(directory: Path) -> set[str] | None:
    """The file names a sentiment model directory is known to contain, from its meta.json; None if not a model."""
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or "format_version" not in meta or not isinstance(meta.get("files", {}), dict):
        return None
    return {"meta.json", "README.md", *(name for name in meta.get("files", {}) if "/" not in name)}


def check_model_dir(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Refuse ``path`` as a model directory unless it is new, empty, or a sentiment model (see the rule)."""
    path = Path(path)
    _check_location(path, inputs, "model")
    if not path.exists():
        return path
    entries = sorted(entry.name for entry in path.iterdir())
    if not entries:
        return path
    known = model_files(path)
    if known is None:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise _refuse(path, f"exists and is not a sentiment model directory (it holds {shown})")
    extra = [name for name in entries if name not in known]
    if extra:
        raise _refuse(
            path,
            f"is a model directory that also holds files a model does not write ({', '.join(extra[:3])})",
            "move them out, or choose a new path",
        )
    return path


def remove_model_files(directory: Path) -> bool:
    """Delete the old model's known files from ``directory`` and the directory itself if then empty.

    Called on the directory an atomic swap moved the old model into. Anything
    else found there stays; returns whether the directory is gone.
    """
    for name in model_files(directory) or {"meta.json", "README.md"}:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            (directory / name).unlink()
    try:
        directory.rmdir()
    except OSError:
        return False
    return True


def _marker_command(directory: Path) -> str | None:
    try:
        value = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value.get("command") if isinstance(value, dict) else None


def check_report_dir(path: str | os.PathLike, command: str, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Refuse ``path`` as ``command``'s report directory unless it is new, empty or made by ``command``."""
    path = Path(path)
    _check_location(path, inputs, "report")
    if not path.exists() or not any(path.iterdir()):
        return path
    made_by = _marker_command(path)
    if made_by is None:
        raise _refuse(path, "exists and holds files that are not a sentiment report")
    if made_by != command:
        raise _refuse(path, f"holds a `sentiment {made_by}` report, not a {command} one")
    return path


def claim_report_dir(path: str | os.PathLike, command: str) -> Path:
    """Create the report directory if needed and mark it as ``command``'s (after ``check_report_dir``)."""
    path = Path(path)
    made = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    if made:
        apply_umask(path, directory=True)
    if _marker_command(path) != command:
        (path / MARKER).write_text(json.dumps({"command": command, "tool": "sentiment"}) + "\n", encoding="utf-8")
    return path


def check_output_file(
    path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), *, overwrite: bool = False
) -> Path:
    """Refuse ``path`` as an output file if it is an input, a directory, or an existing file (unless ``overwrite``)."""
    path = Path(path)
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise _refuse(path, f"{parent} is a file, so no file can be written under it", "choose another path")
    for source in inputs:
        if source is not None and Path(source).exists() and path.exists() and path.resolve() == Path(source).resolve():
            raise _refuse(path, "is the input file; writing there would destroy it", "choose another output file")
    if path.is_dir():
        raise _refuse(path, "is a directory; give a file name", "choose an output file")
    if path.exists() and not overwrite:
        raise _refuse(path, "already exists", "pass --overwrite to replace it, or choose a new file")
    return path


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def apply_umask(path: str | os.PathLike, *, directory: bool = False) -> None:
    """Give a file or directory made by ``tempfile`` (0600/0700) the permissions the umask gives new ones."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def _predictions_parts(directory: Path) -> list[str] | None:
    """The part files a predictions directory's marker lists, or None when it is not one of ours."""
    try:
        value = json.loads((directory / PREDICTIONS_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    parts = value.get("parts") if isinstance(value, dict) else None
    if not isinstance(parts, list) or not all(isinstance(p, str) and "/" not in p for p in parts):
        return None
    return parts


def check_predictions_dir(
    path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), *, overwrite: bool = False
) -> Path:
    """Refuse ``path`` as a predictions directory unless it is new, empty, or (``overwrite``) a previous one."""
    path = Path(path)
    _check_location(path, inputs, "predictions")
    if not path.exists() or not any(path.iterdir()):
        return path
    parts = _predictions_parts(path)
    if parts is None:
        raise _refuse(path, "exists and holds files that are not sentiment predictions")
    if set(p.name for p in path.iterdir()) - {*parts, PREDICTIONS_MARKER}:
        raise _refuse(path, "holds files besides the predictions it lists")
    if not overwrite:
        raise _refuse(path, "already holds predictions", "pass --overwrite to replace them, or choose a new directory")
    return path


def publish_predictions_dir(staging: Path, target: Path, parts: list[str]) -> None:
    """Write the marker into the complete ``staging`` directory and put it at ``target`` (see the rule above)."""
    (staging / PREDICTIONS_MARKER).write_text(
        json.dumps({"tool": "sentiment", "command": "predict", "parts": parts}) + "\n", encoding="utf-8"
    )
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    old_parts = (_predictions_parts(target) or []) if target.exists() else []
    aside = swap_into_place(staging, target)
    if aside is None:
        return
    for name in [*old_parts, PREDICTIONS_MARKER]:
        with contextlib.suppress(FileNotFoundError):
            (aside / name).unlink()
    try:
        aside.rmdir()
    except OSError:  # files that are not ours appeared there meanwhile: keep them, in plain sight
        kept = next(
            candidate
            for n in range(1, 10_000)
            if not (candidate := target.with_name(f"{target.name}.previous{'' if n == 1 else f'-{n}'}")).exists()
        )
        os.rename(aside, kept)  # out of the staging path, which the caller removes
        warnings.warn(
            f"{target}: the previous predictions directory held other files too; they were kept in {kept}",
            SentimentWarning,
            stacklevel=2,
        )


_RENAME_EXCHANGE = 2


def swap_into_place(staging: Path, target: Path) -> Path | None:
    """Make the directory ``staging`` appear at ``target``; return where the old target now is (None: there was none).

    On Linux ``renameat2(RENAME_EXCHANGE)`` swaps the two directories in one
    atomic step, so ``target`` is never missing or half-written and the old
    one lands at ``staging``. Elsewhere the old one is first renamed aside,
    then the new one renamed in (and the old one put back if that fails).
    Removing the old one, by its own files' names, is the caller's job.
    """
    if not target.exists():
        os.rename(staging, target)
        return None
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
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
