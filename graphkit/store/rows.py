"""Bundle tables <-> the rows graphkit sends to and reads from Neo4j, in batches.

Pure data conversion, no driver: the $rows of the load and write-back statements, the
bundle tables rebuilt from exported records, and the check that every column name is a
property key a Neo4j server can store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphkit import model
from graphkit.errors import Problem
from graphkit.model import Bundle

if TYPE_CHECKING:
    import pandas as pd

LABELS = {model.SUPPLIER: "Supplier", model.COMPONENT: "Component"}
#: propagation table column -> node property written back
RESULT_PROPERTIES = {
    "reach": "exposure_reach",
    "share": "exposure_share",
    "path": "exposure_path",
    "tier": "exposure_tier",
    "n_sources": "exposure_n_sources",
    "top_sources": "exposure_sources",
    "unmapped": "exposure_unmapped",
    "inputs": "exposure_inputs",
}
#: the longest column name graphkit stores as a property key
MAX_KEY_LENGTH = 1000


# --- property names -----------------------------------------------------------------------


def property_name_problems(bundle: Bundle) -> list[Problem]:
    """Every extra column whose name a Neo4j server cannot store as a property key."""
    problems = []
    tables = (
        (model.NODES_FILE, bundle.nodes, model.NODE_COLUMNS),
        (model.EDGES_FILE, bundle.edges, model.EDGE_COLUMNS),
    )
    for file, table, standard in tables:
        for column in table.columns:
            reason = None if column in standard else _key_problem(str(column))
            if reason:
                problems.append(Problem(file, 1, str(column)[:80], reason))
    return problems


def _key_problem(key: str) -> str | None:
    """Why `key` cannot be a property key, or None."""
    if not key.strip():
        return "a column name must not be empty (Neo4j has no empty property keys)"
    if "\x00" in key:
        return "a column name must not hold a NUL character (Neo4j refuses it in keys)"
    if len(key) > MAX_KEY_LENGTH:
        return f"a column name must be at most {MAX_KEY_LENGTH:,} characters long"
    if key.startswith("@"):
        return "a column name must not start with '@' (reserved by Bolt servers such as ArcadeDB)"
    if key in RESULT_PROPERTIES.values():
        return f"'{key}' is reserved for the results graphkit writes back; rename the column"
    return None


# --- bundle -> rows -----------------------------------------------------------------------


def batches(table: pd.DataFrame, batch_size: int) -> Iterator[pd.DataFrame]:
    """Consecutive slices of at most batch_size rows (views, not copies)."""
    for start in range(0, len(table), batch_size):
        yield table.iloc[start : start + batch_size]


def _props(table: pd.DataFrame, skip: set[str], stale_keys: set[str]) -> list[dict[str, Any]]:
    """One property map per row: missing values and stale keys as None (removes them)."""
    columns = [c for c in table.columns if c not in skip]
    values = table[columns].astype(object)
    values = values.where(~(values.isna() | (values == "")), None)
    removed = sorted(stale_keys - set(columns) - skip - set(RESULT_PROPERTIES.values()))
    for key in removed:
        values[key] = None
    records = values.to_dict("records")
    return [{k: _native(v) for k, v in record.items()} for record in records]


def _native(value: Any) -> Any:
    """A numpy scalar as the plain Python value the driver can send."""
    import numpy as np

    return value.item() if isinstance(value, np.generic) else value


def node_rows(nodes: pd.DataFrame, stale_keys: set[str] = frozenset()) -> list[dict[str, Any]]:
    """The $rows of a load_*s.cypher statement for these nodes."""
    props = _props(nodes, {"id", "kind"}, stale_keys)
    return [{"id": str(i), "props": p} for i, p in zip(nodes["id"], props, strict=True)]


def edge_rows(edges: pd.DataFrame, stale_keys: set[str] = frozenset()) -> list[dict[str, Any]]:
    """The $rows of a load_<kind>.cypher statement for these edges."""
    props = _props(edges, {"source", "target", "kind"}, stale_keys)
    return [
        {"source": str(s), "target": str(t), "props": p}
        for s, t, p in zip(edges["source"], edges["target"], props, strict=True)
    ]


def result_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The $rows of a write_results_*.cypher statement: exposure_* properties per node."""
    present = {col: prop for col, prop in RESULT_PROPERTIES.items() if col in table.columns}
    renamed = table[list(present)].rename(columns=present)
    props = _props(renamed, set(), set())
    return [{"id": str(i), "props": p} for i, p in zip(table.index, props, strict=True)]


# --- exported records -> bundle tables ----------------------------------------------------


def columns_for(keys: Iterable[str], standard: tuple[str, ...]) -> list[str]:
    """A table's columns: the standard ones first, then every other key sorted; results out."""
    extra = set(keys) - set(standard) - set(RESULT_PROPERTIES.values())
    return [*standard, *sorted(extra)]


def nodes_frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Nodes table rows from exported {kind, props} records, with exactly these columns."""
    import pandas as pd

    rows = [{**r["props"], "kind": r["kind"]} for r in records]
    return _typed(pd.DataFrame(rows, columns=columns), model.NODE_NUMERIC)


def edges_frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Edges table rows from exported {kind, source, target, props} records."""
    import pandas as pd

    rows = [
        {**r["props"], "source": r["source"], "target": r["target"], "kind": r["kind"]}
        for r in records
    ]
    return _typed(pd.DataFrame(rows, columns=columns), model.EDGE_NUMERIC)


def _typed(frame: pd.DataFrame, numeric: tuple[str, ...]) -> pd.DataFrame:
    """Numeric columns as float with NaN for missing; every other column str with ''."""
    import pandas as pd

    for column in frame.columns:
        if column in numeric:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        else:
            frame[column] = frame[column].where(frame[column].notna(), "").astype(str)
    return frame


@dataclass
class TableStream:
    """A graph as batches of bundle-table rows, with every column known up front."""

    node_columns: list[str]
    edge_columns: list[str]
    nodes: Iterator[pd.DataFrame]
    edges: Iterator[pd.DataFrame]

    @classmethod
    def of_bundle(cls, bundle: Bundle, batch_size: int = 100_000) -> TableStream:
        """A bundle in memory as a stream (its own column order)."""
        return cls(
            list(bundle.nodes.columns),
            list(bundle.edges.columns),
            batches(bundle.nodes, batch_size),
            batches(bundle.edges, batch_size),
        )

    def collect(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Every batch read into one nodes table and one edges table."""
        import pandas as pd

        def whole(frames: Iterator[pd.DataFrame], columns: list[str], numeric) -> pd.DataFrame:
            parts = list(frames)
            if not parts:
                return _typed(pd.DataFrame(columns=columns), numeric)
            return pd.concat(parts, ignore_index=True)

        return (
            whole(self.nodes, self.node_columns, model.NODE_NUMERIC),
            whole(self.edges, self.edge_columns, model.EDGE_NUMERIC),
        )
