"""The one way graphkit writes output: staged beside the destination, then put in its place.

A crash, a full disk or a signal (the CLI turns SIGINT and SIGTERM into exceptions) leaves
either the previous content or nothing: never a half-written file, never the staging file
or folder. A folder is replaced as a whole, so a re-run leaves only the new results; a
non-empty folder graphkit did not write is never replaced (an error says so). An OS error
on the way (permission, disk full, ...) becomes a FileSystemError naming the path the user
asked for, never the staging name (graphkit.io.fs).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from graphkit.errors import FileSystemError, InvalidInput, Problem
from graphkit.io.fs import filesystem_error, outside_stage

#: written into every folder graphkit stages, so a later run knows it may replace it
MARKER = ".graphkit-output"


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    if path.is_dir():
        raise FileSystemError(str(path), "is a folder, expected a file", 2)
    temp = _make_temp(path)
    try:
        yield temp
        os.replace(temp, path)
    except (OSError, FileSystemError) as exc:
        raise outside_stage(exc, temp, path) from exc
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def _make_temp(path: Path) -> Path:
    """An empty file beside ``path`` with the user's default mode (mkstemp makes 0600)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise filesystem_error(exc, path=path) from exc
    os.close(handle)
    os.chmod(temp, 0o666 & ~_umask())
    return Path(temp)


@contextmanager
def staged_dir(out_dir: str | Path) -> Iterator[Path]:
    """Yield an empty staging folder that replaces ``out_dir`` as a whole if the block succeeds.

    ``out_dir`` may be missing, empty, or a folder graphkit wrote before (it holds MARKER);
    anything else is refused before any work starts.
    """
    out_dir = Path(out_dir)
    check_replaceable(out_dir)
    stage = _make_stage(out_dir)
    try:
        yield stage
        (stage / MARKER).write_text("written by graphkit; the next run replaces this folder\n")
        replace_dir(stage, out_dir)
    except (OSError, FileSystemError) as exc:
        raise outside_stage(exc, stage, out_dir) from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _make_stage(out_dir: Path) -> Path:
    """An empty folder beside ``out_dir`` with the user's default mode."""
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        stage = tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent)
    except OSError as exc:
        raise filesystem_error(exc, path=out_dir) from exc
    os.chmod(stage, 0o777 & ~_umask())
    return Path(stage)


def check_replaceable(out_dir: Path) -> None:
    """Refuse (exit 2) an output folder that is a file, or holds files graphkit did not write."""
    if out_dir.is_file():
        raise InvalidInput([Problem(str(out_dir), None, None, "is a file, not a folder")])
    if out_dir.is_dir() and not (out_dir / MARKER).exists() and any(out_dir.iterdir()):
        message = "folder exists and was not written by graphkit; give a new or empty folder"
        raise InvalidInput([Problem(str(out_dir), None, None, message)])


def replace_dir(new: Path, target: Path) -> None:
    """Put folder ``new`` in place of ``target`` by renames, so a crash leaves one of them."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
