"""What the header and first row of a CSV file say about its shape, before any reader
guesses: a semicolon-separated file (as Excel saves CSV in much of Europe), duplicate column
headers (pandas would silently rename the second), a stray field on the first data row
(pandas would silently take the first column as an index and shift every row)."""

from __future__ import annotations

import csv
import io
import sys

from graphkit.errors import Problem

#: Python's csv module refuses cells over 128 KiB by default; graphkit reads any size
FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


def raise_field_limit() -> None:
    """Let Python's csv module read cells of any size (the default limit is 131,072)."""
    csv.field_size_limit(FIELD_LIMIT)


def text_problems(label: str, text: str) -> list[Problem]:
    """``header_problems`` for the first two records of a CSV text."""
    raise_field_limit()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        first_row = next(reader, None)
    except csv.Error as exc:
        return [Problem(label, reader.line_num or None, None, f"cannot parse CSV: {exc}")]
    return header_problems(label, header, first_row)


def header_problems(label: str, header: list[str], first_row: list[str] | None) -> list[Problem]:
    """Every problem of the header (row 1) and the first data row (row 2)."""
    names = [name.strip() for name in header]
    if sum(name.count(";") for name in names) >= len(names):
        message = (
            "the file is separated by semicolons, not commas (as Excel saves CSV in many "
            "European locales): save it as CSV UTF-8 (comma delimited)"
        )
        return [Problem(label, 1, None, message)]
    problems = []
    first_at: dict[str, int] = {}
    for position, name in enumerate(names, 1):
        if name in first_at and name:
            message = (
                f"duplicate column header {name!r} (columns {first_at[name]} and {position}): "
                "give every column its own name"
            )
            problems.append(Problem(label, 1, name, message))
        first_at.setdefault(name, position)
    if first_row is not None and len(first_row) > len(header):
        message = (
            f"row 2 has {len(first_row)} fields but the header has {len(header)}: a stray "
            "separator (such as an unquoted comma) would shift every column; quote that cell "
            "or remove the extra field"
        )
        problems.append(Problem(label, 2, None, message))
    return problems
