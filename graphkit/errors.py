"""Every error graphkit reports to a user, each with the exit code the CLI ends with.

1: an error of graphkit itself; 2: invalid input (a file, a row, an option the user gave);
3: the environment (an unreachable backend, a failing disk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding about input data, located as a spreadsheet shows it (header = row 1)."""

    file: str
    row: int | None
    column: str | None
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{self.severity}: {where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class GraphError(Exception):
    """Base class of every error graphkit reports to a user (no traceback needed)."""

    exit_code = 1


class InvalidInput(GraphError):
    """Input data is invalid; carries every problem found, not just the first."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == ERROR]
        lines = [f"{len(errors)} problem(s) in input:"] + [str(p) for p in errors]
        super().__init__("\n".join(lines))


class UnknownName(GraphError):
    """The user named a node or edge that is not in the bundle (or a value out of range)."""

    exit_code = 2


class BackendError(GraphError):
    """A backend (database server) could not be reached or refused us."""

    exit_code = 3


class FileSystemError(GraphError):
    """Reading or writing a path failed (graphkit.io.fs names the path and the cause): exit 2
    when the path the user gave is unusable (permission, a file where a folder must be,
    read-only), 3 when the environment failed (disk full, file too large, I/O error)."""

    def __init__(self, path: str, cause: str, exit_code: int, action: str = "write"):
        self.path, self.cause, self.exit_code, self.action = path, cause, exit_code, action
        super().__init__(f"cannot {action} {path}: {cause}")


class ConvergenceError(GraphError):
    """A propagation mode did not converge (or its linear system is singular)."""

    def __init__(self, mode: str, iterations: int, residual: float, hint: str = ""):
        self.mode, self.iterations, self.residual = mode, iterations, residual
        message = (
            f"{mode} mode did not converge: residual {residual:.3g} after {iterations} iteration(s)"
        )
        super().__init__(message + (f"; {hint}" if hint else ""))


class TooManyPairs(GraphError):
    """Per-source contributions would need more than the allowed (node, source) pairs."""


class Interrupted(BaseException):
    """The run was stopped by a signal (SIGINT, SIGTERM); staged output is removed on the way
    out. Not an Exception (nor a KeyboardInterrupt, which click turns into "Aborted!"), so
    that no ``except Exception`` swallows it."""

    def __init__(self, signal_name: str, exit_code: int):
        self.exit_code = exit_code
        super().__init__(f"interrupted by {signal_name}; nothing was written")
