"""Screen a CSV file of addresses row by row (streaming), writing the result atomically.

The input is read as UTF-8 (a BOM allowed) unless another encoding is given; a file that
does not decode is refused with the same named error as every other reader, with a guess
of its encoding (graphkit.io.encodings). Cells of any size are read.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from graphkit.errors import InvalidInput, Problem
from graphkit.io.atomic import atomic_file
from graphkit.io.csv_shape import header_problems, raise_field_limit
from graphkit.io.encodings import SAMPLE, guess_encoding
from graphkit.io.safe_csv import csv_rows
from graphkit.screen.geo import DEFAULT_SCOPE, format_evidence, resolve_address

RESULT_COLUMNS = ("province", "country", "in_scope", "confidence", "evidence", "ambiguous")


@dataclass(frozen=True)
class ScreenSummary:
    rows: int
    in_scope: int
    output: str


def _rows(path: Path, encoding: str, on_bytes: Callable[[int], None] | None) -> Iterator[list[str]]:
    """The file's CSV rows, decoded strictly, reporting bytes read so a progress bar can follow."""
    codec = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    with path.open("rb") as raw, io.TextIOWrapper(raw, codec, errors="strict", newline="") as text:
        done = 0
        try:
            for row in csv.reader(text):
                if on_bytes and raw.tell() > done:
                    on_bytes(raw.tell() - done)
                    done = raw.tell()
                yield row
        except UnicodeDecodeError:
            raise InvalidInput([_not_decodable(path, encoding)]) from None
        except csv.Error as exc:
            problem = Problem(str(path), None, None, f"cannot parse CSV: {exc}")
            raise InvalidInput([problem]) from None


def _not_decodable(path: Path, encoding: str) -> Problem:
    """Where ``path`` stops decoding in ``encoding``, and what it looks like instead."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, line = 0, 1
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(SAMPLE), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                offset += exc.start
                line += chunk.count(b"\n", 0, exc.start)
                break
            offset += len(chunk)
            line += chunk.count(b"\n")
        handle.seek(max(0, offset - SAMPLE // 2))
        guess = guess_encoding(handle.read(SAMPLE))
    name = "UTF-8" if codecs.lookup(encoding).name == "utf-8" else encoding
    hint = f"; it looks like {guess}" if guess else ""
    message = (
        f"file is not {name} (invalid byte at offset {offset}){hint}; save as UTF-8 "
        "or give its encoding with --encoding"
    )
    return Problem(str(path), line, None, message)


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
    encoding: str = "utf-8",
) -> ScreenSummary:
    """Add province, country, in_scope, confidence, evidence, ambiguous to every row of a CSV."""
    path, out = Path(input_path), Path(out_path)
    if not path.is_file():
        raise InvalidInput([Problem(str(path), None, None, "file not found")])
    raise_field_limit()
    reader = _rows(path, encoding, on_bytes)
    header = next(reader, None)
    if header is None:
        raise InvalidInput([Problem(str(path), None, None, "the file is empty (no header row)")])
    first = next(reader, None)
    problems = header_problems(str(path), header, first)
    if first is None:
        problems.append(Problem(str(path), None, None, "file has a header but no rows"))
    if problems:
        raise InvalidInput(problems)
    _check_columns(path, header, [column, country_column])
    address_at = header.index(column)
    country_at = header.index(country_column) if country_column else None
    rows = in_scope = 0
    with (
        atomic_file(out) as temporary,
        csv_rows(temporary, header + _result_names(header)) as write,
    ):
        for row in itertools.chain([first], reader):
            added, flagged = _screen_row(row, address_at, country_at, scope)
            write(row + added)
            rows += 1
            in_scope += flagged
    return ScreenSummary(rows, in_scope, str(out))
