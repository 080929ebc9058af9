"""Validate raw bundle tables and turn them into a Bundle, reporting every problem at once.

Each check is a column operation (Arrow hash lookups, numpy over integer codes of the ids),
so a bundle of millions of edges validates in seconds; Python runs only to word the message
of a row that has a problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from graphkit.columns import distinct, first_equal, first_positions, positions_in
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
        node_frame, node_problems, index = _check_nodes(nodes)
        edge_frame, edge_problems, ends = _check_edges(edges, index)
        problems += node_problems + edge_problems + _check_isolated(nodes, node_frame, index, ends)
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
    raw: RawTable, mask: object, column: str, message: Callable[[int], str], severity="error"
) -> list[Problem]:
    """One Problem per row where ``mask`` holds; ``message`` gets the row's position."""
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    return [
        Problem(raw.label, raw.row_number(int(i)), column, message(int(i)), severity)
        for i in positions
    ]


@dataclass
class _NodeIndex:
    """The node ids as codes: what edges are matched against, once."""

    ids: pa.Array  # distinct ids in order of first appearance
    code: np.ndarray  # per node row, the code of its id
    kind: np.ndarray  # per distinct id, the code (in kind_names) of its first row's kind
    kind_names: list[str]


def _check_nodes(raw: RawTable) -> tuple[pd.DataFrame, list[Problem], _NodeIndex]:
    frame = _with_standard_columns(raw.frame, NODE_COLUMNS)
    frame["id"] = frame["id"].str.strip()
    frame["kind"] = frame["kind"].str.strip().str.lower()
    ids, kinds = frame["id"], frame["kind"]
    code, distinct_ids = distinct(ids)
    problems = _rows_where(raw, ids == "", "id", lambda i: "id is empty")
    first = first_positions(code)[code]
    problems += _duplicates(raw, first, ids != "", "id", lambda i: f"duplicate id {ids.iat[i]!r}")
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
    kind_code, kind_names = distinct(kinds)
    index = _NodeIndex(distinct_ids, code, kind_code[first_positions(code)], kind_names.tolist())
    return frame, problems, index


@dataclass
class _Ends:
    """One end (source or target) of every edge as codes of the node ids."""

    text: pd.Series
    node: np.ndarray  # the node's code in _NodeIndex.ids, -1 where no node has that id
    key: np.ndarray  # node code, or a code past the node ids for each unmatched text


def _ends(columns: list[pd.Series], index: _NodeIndex) -> list[_Ends]:
    ends = []
    for text, node in zip(columns, positions_in(columns, index.ids), strict=True):
        key = node.astype(np.int64)
        unmatched = np.flatnonzero(node < 0)
        if len(unmatched):
            codes, _ = distinct(text.iloc[unmatched])
            key[unmatched] = len(index.ids) + codes
        ends.append(_Ends(text, node, key))
    return ends


def _check_edges(
    raw: RawTable, nodes: _NodeIndex
) -> tuple[pd.DataFrame, list[Problem], list[_Ends]]:
    frame = _with_standard_columns(raw.frame, EDGE_COLUMNS)
    for column in ("source", "target"):
        frame[column] = frame[column].str.strip()
    frame["kind"] = frame["kind"].str.strip().str.upper()
    problems: list[Problem] = []
    ends = dict(zip(("source", "target"), _ends([frame["source"], frame["target"]], nodes)))
    for column, end in ends.items():
        text = end.text
        problems += _rows_where(raw, text == "", column, lambda i, c=column: f"{c} is empty")
        problems += _rows_where(
            raw,
            (text != "").to_numpy() & (end.node < 0),
            column,
            lambda i, text=text: f"unknown node {text.iat[i]!r} (not in the nodes table)",
        )
    source, target = ends["source"], ends["target"]
    problems += _rows_where(
        raw,
        (source.text == target.text) & (source.text != ""),
        "target",
        lambda i: f"self-loop: {source.text.iat[i]!r} points to itself",
    )
    problems += _check_edge_kinds(raw, frame["kind"], source, target, nodes)
    pair = source.key * (target.key.max(initial=0) + 1) + target.key
    problems += _duplicates(
        raw,
        first_equal(pair),
        None,
        "target",
        lambda i: f"duplicate edge {source.text.iat[i] + ' -> ' + target.text.iat[i]!r}",
    )
    for column in EDGE_NUMERIC:
        frame[column], found = _unit_interval(raw, frame[column], column)
        problems += found
    problems += _check_incoming_shares(raw, frame["share"].to_numpy(), target)
    return frame, problems, [source, target]


def _check_edge_kinds(
    raw: RawTable, kinds: pd.Series, source: _Ends, target: _Ends, nodes: _NodeIndex
) -> list[Problem]:
    problems = _rows_where(
        raw,
        ~kinds.isin(EDGE_KINDS),
        "kind",
        lambda i: f"unknown edge kind {kinds.iat[i]!r} (expected one of: {', '.join(EDGE_KINDS)})",
    )
    names = nodes.kind_names
    code = {name: names.index(name) if name in names else -1 for name in NODE_KINDS}
    (edge_kind,) = positions_in([kinds], pa.array(EDGE_KINDS, type=pa.large_string()))
    want = np.array([[code[EDGE_ENDPOINTS[k][end]] for end in (0, 1)] for k in EDGE_KINDS])
    known = np.flatnonzero((edge_kind >= 0) & (source.node >= 0) & (target.node >= 0))
    have_s = nodes.kind[source.node[known]]
    have_t = nodes.kind[target.node[known]]
    wanted = want[edge_kind[known]]
    misfit = np.zeros(len(kinds), dtype=bool)
    misfit[known] = (have_s != wanted[:, 0]) | (have_t != wanted[:, 1])

    def message(i: int) -> str:
        want_s, want_t = EDGE_ENDPOINTS[kinds.iat[i]]
        return (
            f"{kinds.iat[i]} goes from a {want_s} to a {want_t}, but "
            f"{source.text.iat[i]!r} is a {names[nodes.kind[source.node[i]]]} and "
            f"{target.text.iat[i]!r} is a {names[nodes.kind[target.node[i]]]}"
        )

    return problems + _rows_where(raw, misfit, "kind", message)


def _check_incoming_shares(raw: RawTable, share: np.ndarray, target: _Ends) -> list[Problem]:
    valid = (share >= 0) & (share <= 1)
    group = target.key
    totals = _share_totals(np.where(valid, share, 0.0), group)
    over = totals.index[totals.to_numpy() > 1 + SHARE_TOLERANCE].to_numpy()
    problems = []
    for code, positions in _rows_by_group(group, np.isin(group, over) & valid):
        rows = ", ".join(str(raw.row_number(int(i))) for i in positions)
        name = target.text.iat[int(positions[0])]
        message = f"shares of the edges into {name!r} sum to {totals[code]:.4g} (> 1): rows {rows}"
        problems.append(Problem(raw.label, raw.row_number(int(positions[0])), "share", message))
    has = ~np.isnan(share)
    with_share = np.bincount(group, weights=has)
    size = np.bincount(group, minlength=len(with_share))
    mixed = np.flatnonzero((with_share > 0) & (with_share < size))
    for _, positions in _rows_by_group(group, np.isin(group, mixed) & ~has):
        name = target.text.iat[int(positions[0])]
        message = (
            f"some edges into {name!r} have a share and others do not; "
            "the missing ones get an equal split of the remainder"
        )
        problems.append(
            Problem(raw.label, raw.row_number(int(positions[0])), "share", message, WARNING)
        )
    return problems


def _share_totals(share: np.ndarray, group: np.ndarray) -> pd.Series:
    """Sums of share by group, for the groups that may pass 1 (pandas' compensated sum)."""
    rough = np.bincount(group, weights=share)
    maybe = np.flatnonzero(rough > 1 + SHARE_TOLERANCE - 1e-6)
    rows = np.flatnonzero(np.isin(group, maybe))
    return pd.Series(share[rows]).groupby(group[rows]).sum()


def _rows_by_group(group: np.ndarray, mask: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(group, its positions in row order) for the rows where ``mask`` holds, by group."""
    positions = np.flatnonzero(mask)
    if len(positions) == 0:
        return []
    positions = positions[np.argsort(group[positions], kind="stable")]
    groups, starts = np.unique(group[positions], return_index=True)
    return list(zip(groups.tolist(), np.split(positions, starts[1:]), strict=True))


def _check_isolated(
    raw: RawTable, nodes: pd.DataFrame, index: _NodeIndex, ends: list[_Ends]
) -> list[Problem]:
    linked = np.zeros(len(index.ids), dtype=bool)
    for end in ends:
        linked[end.node[end.node >= 0]] = True
    return _rows_where(
        raw,
        ~linked[index.code] & (nodes["id"] != "").to_numpy(),
        "id",
        lambda i: f"node {nodes['id'].iat[i]!r} has no edges (isolated)",
        WARNING,
    )


def _duplicates(
    raw: RawTable,
    first: np.ndarray,
    counted: pd.Series | None,
    column: str,
    what: Callable[[int], str],
) -> list[Problem]:
    """A problem for each row whose key is on an earlier row (``first``), naming that row."""
    repeated = first != np.arange(len(first))
    if counted is not None:
        repeated &= counted.to_numpy(dtype=bool)
    return _rows_where(
        raw,
        repeated,
        column,
        lambda i: f"{what(i)} (first on row {raw.row_number(int(first[i]))})",
    )


def _unit_interval(raw: RawTable, text: pd.Series, column: str) -> tuple[pd.Series, list[Problem]]:
    """Parse a column of numbers in [0, 1]; empty cells become NaN. Each distinct text once."""
    stripped = text.str.strip()
    codes, values = distinct(stripped)
    values = pd.Series(values.to_numpy(zero_copy_only=False), dtype=object)
    numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()[codes]
    numbers = pd.Series(numbers, index=text.index)
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
