"""Write a Bundle back as a CSV folder, an Excel workbook, JSON, or GraphML for Gephi."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pandas as pd

from graphkit.errors import InvalidInput, Problem
from graphkit.io.atomic import atomic_file, staged_dir
from graphkit.io.safe_csv import CONTROL_CHARACTER, XML_ILLEGAL, write_csv, xlsx_ready
from graphkit.model import EDGES_FILE, NODES_FILE, Bundle

FORMATS = ("csv", "xlsx", "json", "graphml")


def format_for(path: str | Path) -> str:
    """The output format implied by a path: .xlsx, .json, .graphml, else a CSV folder."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else "csv"


def write_bundle(bundle: Bundle, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``bundle`` to ``path`` in ``fmt`` (guessed from the path when not given)."""
    fmt = fmt or format_for(path)
    writer = {"csv": _write_csv_folder, "xlsx": _write_excel, "json": _write_json}.get(fmt)
    if fmt == "graphml":
        writer = _write_graphml
    if writer is None:
        raise ValueError(f"unknown bundle format {fmt!r} (expected one of {', '.join(FORMATS)})")
    writer(bundle, Path(path))
    return Path(path)


def _write_csv_folder(bundle: Bundle, folder: Path) -> None:
    with staged_dir(folder) as stage:
        for frame, name in ((bundle.nodes, NODES_FILE), (bundle.edges, EDGES_FILE)):
            write_csv(frame, stage / name, float_format="%.12g")


def _write_excel(bundle: Bundle, path: Path) -> None:
    """Both sheets, or InvalidInput naming every cell a sheet cannot hold (nothing written)."""
    sheets = {}
    problems: list[Problem] = []
    for name, frame in (("nodes", bundle.nodes), ("edges", bundle.edges)):
        try:
            sheets[name] = xlsx_ready(frame, f"{path} [sheet {name}]")
        except InvalidInput as exc:
            problems += exc.problems
    if problems:
        raise InvalidInput(problems)
    with atomic_file(path) as temp:
        workbook = io.BytesIO()  # openpyxl's own temporary files fail inside this block too
        with pd.ExcelWriter(workbook, engine="openpyxl") as book:
            for name, frame in sheets.items():
                frame.to_excel(book, sheet_name=name, index=False)
        temp.write_bytes(workbook.getvalue())


def _json_records(frame: pd.DataFrame) -> list[dict]:
    """Records with missing values (NaN) as null."""
    records = frame.to_dict("records")
    for record in records:
        for key, value in record.items():
            if isinstance(value, float) and math.isnan(value):
                record[key] = None
    return records


def _write_json(bundle: Bundle, path: Path) -> None:
    document = {"nodes": _json_records(bundle.nodes), "edges": _json_records(bundle.edges)}
    with atomic_file(path) as temp:
        temp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_graphml(bundle: Bundle, path: Path) -> None:
    """GraphML for Gephi; a CR is written as ``&#13;`` (an XML reader would turn a raw one
    into LF), a character XML cannot hold is refused with a named error."""
    import networkx as nx

    problems = _xml_problems(bundle.nodes, f"{path} [nodes]") + _xml_problems(
        bundle.edges, f"{path} [edges]"
    )
    if problems:
        raise InvalidInput(problems)
    with atomic_file(path) as temp:
        nx.write_graphml(bundle.to_networkx(), temp, encoding="utf-8")
        temp.write_bytes(temp.read_bytes().replace(b"\r", b"&#13;"))


def _xml_problems(frame: pd.DataFrame, label: str) -> list[Problem]:
    """Every header and text cell holding a character XML 1.0 cannot hold."""
    message = CONTROL_CHARACTER.format(format="GraphML")
    problems = [
        Problem(label, 1, str(c), message) for c in frame.columns if XML_ILLEGAL.search(str(c))
    ]
    for column in frame.select_dtypes(include=["object", "string"]).columns:
        hits = frame[column].astype(str).str.contains(XML_ILLEGAL).to_numpy().nonzero()[0]
        problems += [Problem(label, int(i) + 2, str(column), message) for i in hits]
    return problems
