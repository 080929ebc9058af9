"""Bundle rules shared by the sample and generator tests, written straight from DESIGN.md."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import networkx as nx
import pandas as pd

ENDPOINTS = {
    "SUPPLIES": ("supplier", "supplier"),
    "MAKES": ("supplier", "component"),
    "PART_OF": ("component", "component"),
    "USED_BY": ("component", "supplier"),
}


def read_csv_bundle(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read nodes.csv and edges.csv as text, '' for missing."""
    nodes, edges = (
        pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        for name in ("nodes.csv", "edges.csv")
    )
    return nodes, edges


def numeric(column: pd.Series) -> pd.Series:
    """A text or numeric column as floats, NaN for ''."""
    return pd.to_numeric(column.replace("", None), errors="raise").astype(float)


def rule_violations(nodes: pd.DataFrame, edges: pd.DataFrame) -> list[str]:
    """Every way the bundle breaks the data model; empty when it is valid."""
    found = []
    if not nodes["id"].is_unique:
        found.append("duplicate node ids")
    if not nodes["kind"].isin(["supplier", "component"]).all():
        found.append("unknown node kind")
    kind_of = nodes.set_index("id")["kind"]
    src_kind = edges["source"].map(kind_of)
    dst_kind = edges["target"].map(kind_of)
    if src_kind.isna().any() or dst_kind.isna().any():
        found.append("edge endpoint missing from nodes")
    expected_src = edges["kind"].map(lambda k: ENDPOINTS.get(k, ("?", "?"))[0])
    expected_dst = edges["kind"].map(lambda k: ENDPOINTS.get(k, ("?", "?"))[1])
    if ((src_kind != expected_src) | (dst_kind != expected_dst)).any():
        found.append("edge kind does not fit its endpoints")
    if (edges["source"] == edges["target"]).any():
        found.append("self-loop")
    if edges.duplicated(["source", "target"]).any():
        found.append("duplicate edge")
    share, confidence = numeric(edges["share"]), numeric(edges["confidence"])
    for name, values in (("share", share), ("confidence", confidence)):
        if ((values < 0) | (values > 1)).any():
            found.append(f"{name} outside 0..1")
    if (share.groupby(edges["target"]).sum() > 1 + 1e-9).any():
        found.append("incoming shares above 1")
    return found


def part_of_graph(edges: pd.DataFrame) -> nx.DiGraph:
    part_of = edges[edges["kind"] == "PART_OF"]
    return nx.DiGraph(list(zip(part_of["source"], part_of["target"], strict=True)))


def bom_depth(edges: pd.DataFrame) -> int:
    """Number of PART_OF edges on the longest bill-of-materials chain."""
    graph = part_of_graph(edges)
    return nx.dag_longest_path_length(graph) if len(graph) else 0


def buyer_facing(nodes: pd.DataFrame, edges: pd.DataFrame) -> set[str]:
    """Components that are not PART_OF anything and suppliers with no outgoing edge."""
    part_sources = set(edges.loc[edges["kind"] == "PART_OF", "source"])
    with_out_edges = set(edges["source"])
    is_component = nodes["kind"] == "component"
    products = set(nodes.loc[is_component & ~nodes["id"].isin(part_sources), "id"])
    buyers = set(nodes.loc[~is_component & ~nodes["id"].isin(with_out_edges), "id"])
    return products | buyers


def carries_own_score_only(edges: pd.DataFrame) -> pd.Series:
    """MAKES edges into a component with a known BOM carry only the maker's own score."""
    bom_known = set(edges.loc[edges["kind"] == "PART_OF", "target"])
    return (edges["kind"] == "MAKES") & edges["target"].isin(bom_known)


def reached(edges: pd.DataFrame, sources: set[str]) -> set[str]:
    """Nodes with reach score > 0 when exactly ``sources`` have a positive source score."""
    own_only = carries_own_score_only(edges)
    confident = numeric(edges["confidence"]).fillna(1.0) > 0
    flows = list(zip(edges["source"], edges["target"], own_only, confident, strict=True))
    exposed = set(sources)
    changed = True
    while changed:
        changed = False
        for source, target, own, positive in flows:
            carrying = source in sources if own else source in exposed
            if positive and carrying and target not in exposed:
                exposed.add(target)
                changed = True
    return exposed


def is_valid_path(edges: pd.DataFrame, path: list[str]) -> bool:
    """A walk along edges; a MAKES edge into a known BOM may only be its first step."""
    pairs = zip(edges["source"], edges["target"], strict=True)
    own_only = dict(zip(pairs, carries_own_score_only(edges), strict=True))
    steps = list(pairwise(path))
    return all(step in own_only for step in steps) and not any(own_only[step] for step in steps[1:])
