"""Read the raw node and edge tables of a bundle from a CSV folder, an Excel workbook or JSON.

Every cell comes back as text (``""`` for missing) so that nothing is lost or guessed:
postal codes keep their leading zeros, ids are never turned into numbers. Problems that stop
a table from being read at all (encoding, empty file, unparsable CSV) are returned as
``Problem`` objects, all at once. Large CSV files are read by Arrow (see read_csv_table);
cells come back as pandas' Arrow-backed ``str`` columns, never copied into Python objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from graphkit.errors import Problem
from graphkit.io.csv_shape import header_problems, text_problems
from graphkit.io.encodings import guess_encoding
from graphkit.io.safe_csv import restore_formula, restore_xlsx
from graphkit.model import EDGES_FILE, NODES_FILE

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class RawTable:
    """One table as read from disk: text cells plus where each row came from."""

    label: str  # the file (and sheet/key) to name in messages
    frame: pd.DataFrame | None  # None when the table could not be read
    first_row: int = 2  # spreadsheet row number of frame's first row (header = 1)
    problems: list[Problem] = field(default_factory=list)

    def row_number(self, position: int) -> int:
        return self.first_row + position


def read_tables(path: str | Path) -> tuple[RawTable, RawTable]:
    """Read the nodes and edges tables of the bundle at ``path`` (folder, .xlsx or .json)."""
    path = Path(path)
    if path.is_dir():
        return read_csv_table(path / NODES_FILE), read_csv_table(path / EDGES_FILE)
    suffix = path.suffix.lower()
    if not path.exists():
        missing = RawTable(str(path), None, problems=[_whole(str(path), "no such file or folder")])
        return missing, RawTable(str(path), None)
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(path)
    if suffix == ".json":
        return _read_json(path)
    expected = "not a bundle: expected a folder, an .xlsx workbook or a .json file"
    problem = _whole(str(path), expected)
    return RawTable(str(path), None, problems=[problem]), RawTable(str(path), None)


def _whole(label: str, message: str) -> Problem:
    return Problem(label, None, None, message)


def read_csv_table(path: Path) -> RawTable:
    """Read one UTF-8 CSV file as text cells, or say why it cannot be read.

    Well-formed files take Arrow's multithreaded reader; anything it refuses (bad bytes,
    ragged rows, duplicate header names, no data rows) goes through the tolerant pandas
    reader, so messages and edge cases are those of one reader whichever path a file takes.
    """
    label = str(path)
    if not path.is_file():
        return RawTable(label, None, problems=[_whole(label, "file is missing")])
    frame = _read_csv_arrow(path)
    if frame is None:
        return read_csv_table_pandas(path)
    shape = header_problems(label, [str(c) for c in frame.columns], None)  # e.g. semicolons
    return RawTable(label, None, problems=shape) if shape else RawTable(label, _clean(frame))


def read_csv_table_pandas(path: Path) -> RawTable:
    """The tolerant reader: decode in Python (locating bad bytes), parse with pandas."""
    label = str(path)
    data = path.read_bytes()
    text, problem = _decode_utf8(label, data)
    if problem:
        return RawTable(label, None, problems=[problem])
    if not text.strip():
        return RawTable(label, None, problems=[_whole(label, "file is empty")])
    return _parse_csv_text(label, text)


def _read_csv_arrow(path: Path) -> pd.DataFrame | None:
    """Every cell as text with Arrow, or None where the file needs the tolerant reader."""
    import pyarrow as pa
    from pyarrow import csv

    parse = csv.ParseOptions(newlines_in_values=True)
    read = csv.ReadOptions(block_size=_ARROW_BLOCK)
    try:
        sniff = csv.ReadOptions(block_size=1 << 20)  # the header is in the first block
        names = csv.open_csv(path, read_options=sniff, parse_options=parse).schema.names
        if len(set(names)) < len(names):
            return None  # pandas numbers repeated names ("a", "a.1"); leave that to it
        convert = csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
        table = csv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowException, ValueError):  # bad UTF-8 or ragged rows: ArrowInvalid, ...
        return None
    if table.num_rows == 0:
        return None
    unnamed = [name or f"Unnamed: {i}" for i, name in enumerate(names)]
    return table.rename_columns(unnamed).to_pandas(types_mapper=_text_dtype)


#: Arrow reads CSV in blocks of this many bytes; one row must fit in a block
_ARROW_BLOCK = 16 << 20


def _text_dtype(arrow_type: pa.DataType) -> pd.StringDtype | None:
    """pandas' text dtype (Arrow-backed ``str``) for Arrow strings, so no cell is copied."""
    import numpy as np
    import pyarrow as pa

    if arrow_type == pa.string():
        return pd.StringDtype("pyarrow", na_value=np.nan)
    return None


def _decode_utf8(label: str, data: bytes) -> tuple[str, Problem | None]:
    """Decode UTF-8 (BOM allowed); otherwise say where it breaks and what it looks like."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        guess = guess_encoding(data)
        hint = f"; it looks like {guess}" if guess else ""
        message = f"file is not UTF-8 (invalid byte at offset {exc.start}){hint}; save as UTF-8"
        return "", Problem(label, row, None, message)


def _parse_csv_text(label: str, text: str) -> RawTable:
    import io
    import re

    shape = text_problems(label, text)
    if shape:
        return RawTable(label, None, problems=shape)
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=False
        )
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+)", str(exc))
        row = int(match.group(1)) if match else None
        problem = Problem(label, row, None, f"cannot parse CSV: {exc}")
        return RawTable(label, None, problems=[problem])
    except pd.errors.EmptyDataError:
        return RawTable(label, None, problems=[_whole(label, "file is empty")])
    return RawTable(label, _clean(frame))


def _clean(frame: pd.DataFrame, restore: bool = True, excel: bool = False) -> pd.DataFrame:
    """Strip header whitespace, make every cell text, undo formula neutralising (CSV, Excel)
    in cells and headers, and Excel's _xHHHH_ escapes (Excel)."""
    undo = (lambda v: restore_formula(restore_xlsx(v))) if excel else restore_formula
    frame = frame.rename(columns=lambda c: undo(str(c).strip()) if restore else str(c).strip())
    frame = frame.fillna("").astype(str)
    for column in frame.columns if restore else ():
        values = frame[column]
        escaped = values.str.startswith("'").to_numpy(dtype=bool, copy=True)
        if excel:
            escaped = escaped | values.str.contains("_x", regex=False).to_numpy(dtype=bool)
        if escaped.any():
            frame.loc[escaped, column] = values[escaped].map(undo)
    return frame.reset_index(drop=True)


def _read_excel(path: Path) -> tuple[RawTable, RawTable]:
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        problem = _whole(str(path), f"cannot read Excel workbook: {exc}")
        return RawTable(str(path), None, problems=[problem]), RawTable(str(path), None)
    return tuple(_sheet(path, sheets, name) for name in ("nodes", "edges"))  # type: ignore[return-value]


def _sheet(path: Path, sheets: dict[str, pd.DataFrame], name: str) -> RawTable:
    label = f"{path} [sheet {name}]"
    if name not in sheets:
        found = ", ".join(sheets) or "none"
        return RawTable(label, None, problems=[_whole(label, f"sheet is missing (found: {found})")])
    frame = sheets[name]
    if frame.empty and len(frame.columns) == 0:
        return RawTable(label, None, problems=[_whole(label, "sheet is empty")])
    return RawTable(label, _clean(frame, excel=True))


def _read_json(path: Path) -> tuple[RawTable, RawTable]:
    label = str(path)
    text, problem = _decode_utf8(label, path.read_bytes())
    if not problem and not text.strip():
        problem = _whole(label, "file is empty")
    if not problem:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            problem = Problem(label, exc.lineno, None, f"invalid JSON: {exc.msg}")
        except RecursionError:
            problem = _whole(label, "invalid JSON: nested too deeply to read")
    if not problem and not isinstance(document, dict):
        problem = _whole(label, 'expected an object {"nodes": [...], "edges": [...]}')
    if problem:
        return RawTable(label, None, problems=[problem]), RawTable(label, None)
    return _json_table(label, document, "nodes"), _json_table(label, document, "edges")


def _json_table(label: str, document: dict, key: str) -> RawTable:
    label = f"{label} [{key}]"
    records = document.get(key)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return RawTable(label, None, problems=[_whole(label, f'"{key}" must be a list of objects')])
    frame = pd.DataFrame.from_records(records)
    frame = frame.map(_json_cell) if len(frame) else frame
    return RawTable(label, _clean(frame, restore=False), first_row=1)


def _json_cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
