"""File-system failures as one named error: which path, what went wrong, and whose it is.

A path the user gave that cannot be used (no permission, a file where a folder must be, a
folder where a file must be, a read-only disk) exits 2; a failing environment (the disk is
full, a file-size limit, an I/O error) exits 3. The atomic writers (graphkit.io.atomic) and
the CLI's last resort both go through ``filesystem_error``, so every command says it alike.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from graphkit.errors import FileSystemError

#: errors of the path the user gave (exit 2), each with the cause as the user reads it
USER_CAUSES = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EEXIST: "a part of the path is a file, not a folder",  # from makedirs(exist_ok)
    errno.EISDIR: "is a folder, expected a file",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "no such file or folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ELOOP: "too many symbolic links",
    errno.ENOTEMPTY: "a folder that is not empty is in the way",
}
#: errors of the environment (exit 3)
ENVIRONMENT_CAUSES = {
    errno.ENOSPC: "no space left on the device",
    errno.EFBIG: "file too large (a file-size limit was reached)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EIO: "input/output error",
}


def filesystem_error(
    exc: OSError, action: str = "write", path: str | Path | None = None
) -> FileSystemError:
    """The named error for ``exc``, naming ``path`` (default: the file the OS named)."""
    where = str(path if path is not None else exc.filename or "a file")
    if exc.errno in USER_CAUSES:
        return FileSystemError(where, USER_CAUSES[exc.errno], 2, action)
    cause = ENVIRONMENT_CAUSES.get(exc.errno) or (exc.strerror or str(exc)).lower()
    written = "; nothing was written" if action == "write" else ""
    return FileSystemError(where, cause + written, 3, action)


def outside_stage(exc: OSError | FileSystemError, stage: Path, final: Path) -> FileSystemError:
    """The error of a block writing into the staging file or folder ``stage``: a write there
    names the path the user asked for (``final``, or the file inside it), never the staging
    name; an OS error on another path is a read of an input."""
    if isinstance(exc, FileSystemError):
        error = exc
    elif exc.filename and not _inside(str(exc.filename), stage):
        return filesystem_error(exc, action="read")
    else:
        error = filesystem_error(exc, path=None if exc.filename else final)
    path = error.path
    if _inside(path, stage):
        path = str(final) + path[len(str(stage)) :]
    return FileSystemError(path, error.cause, error.exit_code, error.action)


def _inside(path: str, folder: Path) -> bool:
    return path == str(folder) or path.startswith(str(folder) + os.sep)
