"""The one way graphkit writes a table (CSV or .xlsx): cells and headers that spreadsheets
cannot execute (formula injection), rows that no carriage return can split, reversibly for
bundles (``restore_formula`` and ``restore_xlsx`` undo exactly what the writers add).

* A cell or header starting with ``= + - @``, a tab, a CR, or their full-width forms
  (``＝ ＋ － ＠``) gets an apostrophe in front; one that already starts with apostrophes
  gets one more, so reading strips exactly one.
* CSV rows end with CRLF (RFC 4180), so Python's csv writer quotes every field holding a CR
  or an LF: a bare CR inside a cell can never start a new row.
* .xlsx cells hold a CR as Excel's own ``_x000D_`` escape (openpyxl would turn it into an
  LF); what the format cannot hold is refused with a named error: a control character such
  as NUL, a cell over 32,767 characters, more than 16,384 columns or 1,048,575 data rows.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from graphkit.errors import InvalidInput, Problem

if TYPE_CHECKING:
    import pandas as pd

#: a cell starting with one of these is run as a formula by Excel/LibreOffice/Sheets
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_STARTS = "=+\\-@\t\r\uff1d\uff0b\uff0d\uff20"
#: a cell the writers prefixed with one apostrophe (other readers, e.g. Spark, use it too)
ESCAPED_FORMULA = f"^'(?='*[{_STARTS}])"
_ESCAPED = re.compile(f"^'+[{_STARTS}]")
_NEEDS_ESCAPE = re.compile(f"^'*[{_STARTS}]")
#: every CSV row ends so; the csv module quotes a field holding any of these characters
LINE_END = "\r\n"

#: what an .xlsx sheet can hold (Excel's limits)
XLSX_MAX_CELL = 32_767
XLSX_MAX_COLUMNS = 16_384
XLSX_MAX_ROWS = 1_048_576
#: characters XML 1.0 cannot hold (so neither .xlsx nor GraphML can)
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XLSX_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")
_XLSX_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")


def neutralise_formula(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe.

    Reversible: text that already looks escaped gets one more apostrophe, and
    ``restore_formula`` strips exactly one, so bundles survive a write/read round trip.
    """
    if isinstance(value, str) and _NEEDS_ESCAPE.match(value):
        return "'" + value
    return value


def restore_formula(value: object) -> object:
    """Undo ``neutralise_formula`` on a cell read back from a bundle CSV."""
    if isinstance(value, str) and _ESCAPED.match(value):
        return value[1:]
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and every header neutralised; numbers as
    they are."""
    text = frame.select_dtypes(include=["object", "string"]).columns
    safe = frame.assign(**{column: neutralise_column(frame[column]) for column in text})
    return safe.set_axis([neutralise_formula(str(c)) for c in frame.columns], axis=1)


def neutralise_column(values: pd.Series) -> pd.Series:
    """``neutralise_formula`` over a column, matched at once in Arrow (a column that is not
    all text goes cell by cell); only the cells that need it are copied."""
    needs = _needs_escape(values)
    if not needs.any():
        return values
    safe = values.copy()
    safe[needs] = "'" + values[needs].astype(str)
    return safe


def _needs_escape(values: pd.Series):
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(values.to_numpy(object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return values.map(lambda v: isinstance(v, str) and bool(_NEEDS_ESCAPE.match(v))).to_numpy(
            bool
        )
    found = pc.match_substring_regex(text, _NEEDS_ESCAPE.pattern).fill_null(False)
    return found.to_numpy(zero_copy_only=False)


def write_csv(
    frame: pd.DataFrame, path: str | Path, float_format: str | None = None, quote_text: bool = False
) -> None:
    """Write ``frame`` (without its index) as a formula-safe CSV file at ``path``.

    ``float_format`` is ``"%.Ng"`` (N significant digits) or None (all of them);
    ``quote_text``: every text cell quoted, written by Arrow in C++ (for big
    result tables: ~25x faster than pandas; a column Arrow cannot type goes through pandas).
    """
    safe = spreadsheet_safe(frame)
    if quote_text:
        table = _arrow_table(safe, float_format)
        if table is not None:
            import pyarrow.csv as arrow_csv

            with open(path, "w", newline="", encoding="utf-8") as handle:
                csv.writer(handle, lineterminator=LINE_END).writerow(table.column_names)
            with open(path, "ab") as handle:  # the header as the csv module quotes it
                options = arrow_csv.WriteOptions(include_header=False, eol=LINE_END)
                arrow_csv.write_csv(table, handle, options)
            return
    safe.to_csv(path, index=False, na_rep="", float_format=float_format, lineterminator=LINE_END)


def _arrow_table(frame: pd.DataFrame, float_format: str | None):
    """``frame`` as an Arrow table written as pandas would (floats to ``float_format``'s
    significant digits, booleans as True/False), or None where a column has mixed types."""
    import pyarrow as pa

    digits = int(float_format[2:-1]) if float_format else None
    arrays = []
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        if values.dtype == bool:
            values = values.map({True: "True", False: "False"})
        elif digits is not None and values.dtype.kind == "f":
            values = significant(values.to_numpy(), digits)
        try:
            arrays.append(pa.array(values, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    return pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])


def significant(values, digits: int):
    """Floats rounded to ``digits`` significant digits (what ``"%.{digits}g"`` shows)."""
    import numpy as np

    rounded = values.astype(float)
    finite = np.isfinite(rounded) & (rounded != 0)
    magnitude = np.zeros(len(rounded), dtype=np.int64)
    magnitude[finite] = np.floor(np.log10(np.abs(rounded[finite])))
    for m in np.unique(magnitude[finite]).tolist():
        at, decimals = finite & (magnitude == m), digits - 1 - m
        if abs(decimals) <= EXACT_POWERS:
            rounded[at] = np.round(rounded[at], decimals)
        else:  # 10**decimals is not exact as a float: the few such values one by one
            rounded[at] = [float(f"{v:.{digits}g}") for v in rounded[at].tolist()]
    return rounded


#: 10**n is exact as a float up to this n
EXACT_POWERS = 22


@contextmanager
def csv_rows(path: str | Path, header: list[str]) -> Iterator[Callable[[Iterable[object]], None]]:
    """Stream rows into the CSV file ``path`` (staged by the caller): yields a function that
    writes one row; the header and every row are neutralised."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator=LINE_END)

        def write(row: Iterable[object]) -> None:
            writer.writerow([neutralise_formula(c) for c in row])

        write(header)
        yield write


def xlsx_ready(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """``frame`` neutralised and escaped for one .xlsx sheet; InvalidInput naming every cell
    the format cannot hold."""
    safe = spreadsheet_safe(frame)
    text = safe.select_dtypes(include=["object", "string"]).columns
    safe = safe.assign(**{column: safe[column].map(escape_xlsx) for column in text})
    problems = _xlsx_problems(safe, frame.columns, label)
    if problems:
        raise InvalidInput(problems)
    return safe.set_axis([escape_xlsx(c) for c in safe.columns], axis=1)


def _xlsx_problems(frame: pd.DataFrame, names: pd.Index, label: str) -> list[Problem]:
    """What ``frame`` (cells as they would be stored) holds that a sheet cannot; ``names``
    are the columns as the user knows them."""
    if len(frame.columns) > XLSX_MAX_COLUMNS:
        message = f"{len(frame.columns):,} columns; an .xlsx sheet holds {XLSX_MAX_COLUMNS:,}"
        return [Problem(label, None, None, message + _OTHER_FORMAT)]
    if len(frame) >= XLSX_MAX_ROWS:
        message = f"{len(frame):,} rows; an .xlsx sheet holds {XLSX_MAX_ROWS - 1:,}"
        return [Problem(label, None, None, message + _OTHER_FORMAT)]
    problems = [
        Problem(label, 1, str(name), CONTROL_CHARACTER.format(format=".xlsx"))
        for name in names
        if XML_ILLEGAL.search(str(name))
    ]
    from pandas.api.types import is_numeric_dtype

    for position, name in enumerate(names):
        values = frame.iloc[:, position]
        if is_numeric_dtype(values):
            continue
        values = values.astype(str)
        lengths = values.str.len()
        for i in (lengths > XLSX_MAX_CELL).to_numpy().nonzero()[0]:
            message = (
                f"cell needs {lengths.iat[i]:,} characters; an .xlsx cell holds {XLSX_MAX_CELL:,}"
            )
            problems.append(Problem(label, int(i) + 2, str(name), message + _OTHER_FORMAT))
        for i in values.str.contains(XML_ILLEGAL).to_numpy().nonzero()[0]:
            message = CONTROL_CHARACTER.format(format=".xlsx")
            problems.append(Problem(label, int(i) + 2, str(name), message))
    return problems


_OTHER_FORMAT = ": write a CSV folder or .json instead"
#: the message for a character XML cannot hold, for .xlsx and GraphML
CONTROL_CHARACTER = (
    "holds a control character (such as NUL) that {format} cannot hold" + _OTHER_FORMAT
)


def escape_xlsx(value: object) -> object:
    """Excel's escape for a CR (``_x000D_``), and for text that looks like an escape."""
    if not isinstance(value, str):
        return value
    return _XLSX_ESCAPE.sub(r"_x005F_\1", value).replace("\r", "_x000D_")


def restore_xlsx(value: object) -> object:
    """Undo Excel's ``_xHHHH_`` escapes on a cell read from a workbook."""
    if not isinstance(value, str) or "_x" not in value:
        return value
    return _XLSX_ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), value)
