"""Validate raw bundle tables and turn them into a Bundle, reporting every problem at once."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from graphkit.errors import WARNING, InvalidInput, Problem
from graphkit.io.tables import RawTable
from graphkit.model import (
    EDGE_COLUMNS,
    EDGE_ENDPOINTS,
    EDGE_KINDS,
    EDGE_NUMERIC,
    EDGE_REQUIRED,
    NODE_COLUMNS,
    NODE_KINDS,
    NODE_NUMERIC,
    NODE_REQUIRED,
    SUPPLIER,
    Bundle,
)

#: tolerance when checking that incoming shares sum to at most 1
SHARE_TOLERANCE = 1e-9


def build_bundle(nodes: RawTable, edges: RawTable, origin: str = "") -> Bundle:
    """Check both tables and return the Bundle; raise InvalidInput listing every error."""
    problems = nodes.problems + edges.problems
    node_frame = edge_frame = None
    if nodes.frame is not None:
        problems += _check_columns(nodes, NODE_REQUIRED)
    if edges.frame is not None:
        problems += _check_columns(edges, EDGE_REQUIRED)
    if not any(p.severity != WARNING for p in problems):
        node_frame, node_problems = _check_nodes(nodes)
        edge_frame, edge_problems = _check_edges(edges, node_frame)
        problems += node_problems + edge_problems + _check_isolated(nodes, node_frame, edge_frame)
    order = {nodes.label: 0, edges.label: 1}
    problems.sort(key=lambda p: (order.get(p.file, 2), p.row or 0))
    errors = [p for p in problems if p.severity != WARNING]
    if errors:
        raise InvalidInput(problems)
    warnings = [p for p in problems if p.severity == WARNING]
    return Bundle(node_frame, edge_frame, origin=origin, warnings=warnings)


def _check_columns(raw: RawTable, required: tuple[str, ...]) -> list[Problem]:
    frame = raw.frame
    found = ", ".join(frame.columns) or "none"
    problems = [
        Problem(raw.label, 1, column, f"required column is missing (found: {found})")
        for column in required
        if column not in frame.columns
    ]
    if len(frame) == 0:
        problems.append(Problem(raw.label, None, None, "file has a header but no rows"))
    return problems


def _rows_where(
    raw: RawTable, mask: pd.Series, column: str, message: Callable[[int], str], severity="error"
) -> list[Problem]:
    """One Problem per row where ``mask`` holds; ``message`` gets the row's position."""
    positions = np.flatnonzero(mask.to_numpy())
    return [
        Problem(raw.label, raw.row_number(int(i)), column, message(int(i)), severity)
        for i in positions
    ]


def _check_nodes(raw: RawTable) -> tuple[pd.DataFrame, list[Problem]]:
    frame = _with_standard_columns(raw.frame, NODE_COLUMNS)
    frame["id"] = frame["id"].str.strip()
    frame["kind"] = frame["kind"].str.strip().str.lower()
    ids, kinds = frame["id"], frame["kind"]
    problems = _rows_where(raw, ids == "", "id", lambda i: "id is empty")
    problems += _duplicates(raw, ids, "id")
    problems += _rows_where(
        raw,
        ~kinds.isin(NODE_KINDS),
        "kind",
        lambda i: f"unknown node kind {kinds.iat[i]!r} (expected one of: {', '.join(NODE_KINDS)})",
    )
    country = frame["country"].str.strip()
    problems += _rows_where(
        raw,
        (country != "") & ~country.str.fullmatch(r"[A-Za-z]{2}"),
        "country",
        lambda i: f"{country.iat[i]!r} is not an ISO 3166-1 alpha-2 code (e.g. CN, KP, GB)",
    )
    problems += _rows_where(
        raw,
        (kinds == SUPPLIER) & (country == ""),
        "country",
        lambda i: f"supplier {ids.iat[i]!r} has no country",
        WARNING,
    )
    for column in NODE_NUMERIC:
        frame[column], found = _unit_interval(raw, frame[column], column)
        problems += found
    return frame, problems


def _check_edges(raw: RawTable, nodes: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    frame = _with_standard_columns(raw.frame, EDGE_COLUMNS)
    for column in ("source", "target"):
        frame[column] = frame[column].str.strip()
    frame["kind"] = frame["kind"].str.strip().str.upper()
    problems: list[Problem] = []
    node_kind = pd.Series(nodes["kind"].to_numpy(), index=nodes["id"].to_numpy())
    node_kind = node_kind[~node_kind.index.duplicated()]
    for column in ("source", "target"):
        ends = frame[column]
        problems += _rows_where(raw, ends == "", column, lambda i, c=column: f"{c} is empty")
        problems += _rows_where(
            raw,
            (ends != "") & ~ends.isin(node_kind.index),
            column,
            lambda i, ends=ends: f"unknown node {ends.iat[i]!r} (not in the nodes table)",
        )
    problems += _rows_where(
        raw,
        (frame["source"] == frame["target"]) & (frame["source"] != ""),
        "target",
        lambda i: f"self-loop: {frame['source'].iat[i]!r} points to itself",
    )
    problems += _check_edge_kinds(raw, frame, node_kind)
    problems += _duplicates(raw, frame["source"] + " -> " + frame["target"], "target", "edge")
    for column in EDGE_NUMERIC:
        frame[column], found = _unit_interval(raw, frame[column], column)
        problems += found
    problems += _check_incoming_shares(raw, frame)
    return frame, problems


def _check_edge_kinds(raw: RawTable, frame: pd.DataFrame, node_kind: pd.Series) -> list[Problem]:
    kinds = frame["kind"]
    problems = _rows_where(
        raw,
        ~kinds.isin(EDGE_KINDS),
        "kind",
        lambda i: f"unknown edge kind {kinds.iat[i]!r} (expected one of: {', '.join(EDGE_KINDS)})",
    )
    source_kind = frame["source"].map(node_kind)
    target_kind = frame["target"].map(node_kind)
    expected = pd.DataFrame(
        [EDGE_ENDPOINTS.get(k, (None, None)) for k in kinds], columns=["s", "t"], index=frame.index
    )
    known = kinds.isin(EDGE_KINDS) & source_kind.notna() & target_kind.notna()
    misfit = known & ((source_kind != expected["s"]) | (target_kind != expected["t"]))

    def message(i: int) -> str:
        want_s, want_t = EDGE_ENDPOINTS[kinds.iat[i]]
        return (
            f"{kinds.iat[i]} goes from a {want_s} to a {want_t}, but "
            f"{frame['source'].iat[i]!r} is a {source_kind.iat[i]} and "
            f"{frame['target'].iat[i]!r} is a {target_kind.iat[i]}"
        )

    return problems + _rows_where(raw, misfit, "kind", message)


def _check_incoming_shares(raw: RawTable, frame: pd.DataFrame) -> list[Problem]:
    share = frame["share"]
    valid = share.between(0, 1)
    totals = share.where(valid, 0).groupby(frame["target"]).sum()
    problems = []
    for target in totals.index[totals > 1 + SHARE_TOLERANCE]:
        positions = np.flatnonzero((frame["target"] == target).to_numpy() & valid.to_numpy())
        rows = ", ".join(str(raw.row_number(int(i))) for i in positions)
        total = totals[target]
        message = f"shares of the edges into {target!r} sum to {total:.4g} (> 1): rows {rows}"
        problems.append(Problem(raw.label, raw.row_number(int(positions[0])), "share", message))
    counts = frame.assign(has=share.notna()).groupby("target")["has"].agg(["sum", "size"])
    mixed = counts.index[(counts["sum"] > 0) & (counts["sum"] < counts["size"])]
    for target in mixed:
        first = int(np.flatnonzero(((frame["target"] == target) & share.isna()).to_numpy())[0])
        message = (
            f"some edges into {target!r} have a share and others do not; "
            "the missing ones get an equal split of the remainder"
        )
        problems.append(Problem(raw.label, raw.row_number(first), "share", message, WARNING))
    return problems


def _check_isolated(raw: RawTable, nodes: pd.DataFrame, edges: pd.DataFrame) -> list[Problem]:
    linked = pd.concat([edges["source"], edges["target"]])
    return _rows_where(
        raw,
        ~nodes["id"].isin(linked) & (nodes["id"] != ""),
        "id",
        lambda i: f"node {nodes['id'].iat[i]!r} has no edges (isolated)",
        WARNING,
    )


def _duplicates(raw: RawTable, keys: pd.Series, column: str, what: str = "id") -> list[Problem]:
    duplicated = keys.duplicated(keep="first") & (keys != "")
    first_position = pd.Series(range(len(keys))).groupby(keys.to_numpy()).min()

    def message(i: int) -> str:
        first = raw.row_number(int(first_position[keys.iat[i]]))
        return f"duplicate {what} {keys.iat[i]!r} (first on row {first})"

    return _rows_where(raw, duplicated, column, message)


def _unit_interval(raw: RawTable, text: pd.Series, column: str) -> tuple[pd.Series, list[Problem]]:
    """Parse a column of numbers in [0, 1]; empty cells become NaN."""
    stripped = text.str.strip()
    numbers = pd.to_numeric(stripped, errors="coerce").astype(float)
    not_number = (stripped != "") & numbers.isna()
    infinite = numbers.abs() == np.inf
    out_of_range = numbers.notna() & ~numbers.between(0, 1) & ~infinite
    problems = (
        _rows_where(raw, not_number, column, lambda i: f"{stripped.iat[i]!r} is not a number")
        + _rows_where(
            raw, infinite, column, lambda i: f"{stripped.iat[i]!r} is not a finite number"
        )
        + _rows_where(raw, out_of_range, column, lambda i: f"{stripped.iat[i]} is outside [0, 1]")
    )
    return numbers, problems


def _with_standard_columns(frame: pd.DataFrame, standard: tuple[str, ...]) -> pd.DataFrame:
    """Standard columns first (added empty when absent), then the extra columns as found."""
    frame = frame.copy()
    for column in standard:
        if column not in frame.columns:
            frame[column] = ""
    extras = [c for c in frame.columns if c not in standard]
    return frame[list(standard) + extras]
