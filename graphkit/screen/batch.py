"""Screen a CSV file of addresses row by row (streaming), writing the result atomically."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from graphkit.io.safe_csv import neutralise_formula
from graphkit.model import InvalidInput, Problem
from graphkit.screen.geo import DEFAULT_SCOPE, format_evidence, resolve_address

RESULT_COLUMNS = ("province", "country", "in_scope", "confidence", "evidence", "ambiguous")


@dataclass(frozen=True)
class ScreenSummary:
    rows: int
    in_scope: int
    output: str


def _lines(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[str]:
    """The file's lines as text, reporting bytes read so a progress bar can follow."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle):
            if on_bytes:
                on_bytes(len(raw))
            line = raw.decode("utf-8", errors="replace")
            yield line.lstrip("\ufeff") if number == 0 else line


def _result_names(header: list[str]) -> list[str]:
    """Names of the added columns; one that clashes with an input column gets a screen_ prefix."""
    return [f"screen_{c}" if c in header else c for c in RESULT_COLUMNS]


def _check_columns(path: Path, header: list[str], wanted: list[str | None]) -> None:
    problems = [
        Problem(str(path), 1, column, f"column not found; the file has: {', '.join(header)}")
        for column in wanted
        if column and column not in header
    ]
    if problems:
        raise InvalidInput(problems)


def _cell(row: list[str], at: int | None) -> str:
    return row[at] if at is not None and at < len(row) else ""


def _screen_row(
    row: list[str], address_at: int, country_at: int | None, scope: frozenset[str]
) -> tuple[list[str], bool]:
    """The result cells for one row, and whether it is in scope."""
    res = resolve_address(_cell(row, address_at), _cell(row, country_at), scope)
    cells = [
        res.province,
        res.country,
        "true" if res.in_scope else "false",
        f"{res.confidence:.3f}",
        format_evidence(res.evidence),
        "true" if res.ambiguous else "false",
    ]
    return cells, res.in_scope


def screen_csv(
    input_path: str | Path,
    column: str,
    out_path: str | Path,
    country_column: str | None = None,
    scope: frozenset[str] = DEFAULT_SCOPE,
    on_bytes: Callable[[int], None] | None = None,
) -> ScreenSummary:
    """Add province, country, in_scope, confidence, evidence, ambiguous to every row of a CSV."""
    path, out = Path(input_path), Path(out_path)
    if not path.is_file():
        raise InvalidInput([Problem(str(path), None, None, "file not found")])
    reader = csv.reader(_lines(path, on_bytes))
    header = next(reader, None)
    if header is None:
        raise InvalidInput([Problem(str(path), None, None, "the file is empty (no header row)")])
    _check_columns(path, header, [column, country_column])
    address_at = header.index(column)
    country_at = header.index(country_column) if country_column else None
    descriptor, temporary = tempfile.mkstemp(dir=out.parent, suffix=".part")
    rows = in_scope = 0
    try:
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([neutralise_formula(c) for c in header + _result_names(header)])
            for row in reader:
                added, flagged = _screen_row(row, address_at, country_at, scope)
                writer.writerow([neutralise_formula(c) for c in row + added])
                rows += 1
                in_scope += flagged
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return ScreenSummary(rows, in_scope, str(out))
