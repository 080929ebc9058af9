"""Write a Bundle back as a CSV folder, an Excel workbook, JSON, or GraphML for Gephi."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from graphkit.io.atomic import atomic_file, staged_dir
from graphkit.io.safe_csv import spreadsheet_safe
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
            spreadsheet_safe(frame).to_csv(stage / name, index=False, float_format="%.12g")


def _write_excel(bundle: Bundle, path: Path) -> None:
    with atomic_file(path) as temp, pd.ExcelWriter(temp, engine="openpyxl") as book:
        spreadsheet_safe(bundle.nodes).to_excel(book, sheet_name="nodes", index=False)
        spreadsheet_safe(bundle.edges).to_excel(book, sheet_name="edges", index=False)


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
    import networkx as nx

    with atomic_file(path) as temp:
        nx.write_graphml(bundle.to_networkx(), temp, encoding="utf-8")
