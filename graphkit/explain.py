"""Explanations: the top-k exposure paths into a node, per-node summaries, where to map next
and what-if recomputation.

A path's value is s(source) x the product of the edge confidences along it, honouring the
bill-of-materials rule: a MAKES edge into a component with known parts may only be the
first edge of a path (it carries the maker's own score, not what the maker buys).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from itertools import islice, takewhile
from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.errors import UnknownName
from graphkit.graph.index import explicit_scores, index_graph, score_array
from graphkit.graph.rules import MODES
from graphkit.propagation import Exposure, propagate
from graphkit.propagation.upstream import upstream_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import networkx as nx
    import pandas as pd

    from graphkit.graph.index import IndexedGraph
    from graphkit.model import Bundle

SUPER_SOURCE = ("*", -1)
EXPLICIT_EVIDENCE = "explicit exposure"


@dataclass
class Hop:
    """One edge of a path, with the share and confidence the engine used and its evidence."""

    source: str
    target: str
    kind: str
    share: float
    confidence: float
    item: str
    evidence: str


@dataclass
class ExposurePath:
    """A chain of edges from a source node into a target, and its value."""

    source: str
    target: str
    value: float
    nodes: list[str]
    hops: list[Hop] = field(default_factory=list)
    source_evidence: str = EXPLICIT_EVIDENCE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        """'a -> b -> c' with each edge's kind."""
        parts = [self.nodes[0]] + [f"-{h.kind}-> {h.target}" for h in self.hops]
        return " ".join(parts)


def top_paths(
    bundle: Bundle,
    target: str,
    k: int = 5,
    source_scores: pd.Series | None = None,
    exposure: Exposure | None = None,
    evidence: pd.Series | None = None,
) -> list[ExposurePath]:
    """The k highest-value exposure paths from any source into ``target`` (Yen's algorithm on
    -log weights from a super-source, over the target's ancestors only)."""
    graph = index_graph(bundle)
    s = _scores(graph, bundle, source_scores, exposure)
    return paths_into(bundle, graph, s, target, k, evidence)


def paths_into(
    bundle, graph: IndexedGraph, s: np.ndarray, target: str, k: int, evidence=None, facts=None
):
    """top_paths on an already indexed graph with source scores ``s`` (one array per node);
    ``facts``: the graph's ``EdgeFacts`` when the caller has them already."""
    import networkx as nx

    position = graph.ids.get_indexer([target])[0]
    if position < 0:
        raise UnknownName(f"node {target!r} is not in the bundle")
    split = _split_graph(graph, s, position)
    end = ("all", position)
    if not split.has_node(end) or not nx.has_path(split, SUPER_SOURCE, end):
        return []
    facts = EdgeFacts.of(bundle, graph) if facts is None else facts
    paths = nx.shortest_simple_paths(split, SUPER_SOURCE, end, weight="weight")
    simple = (p for p in paths if len({node for _, node in p[1:]}) == len(p) - 1)
    found = (_exposure_path(facts, split, s, p, evidence) for p in simple)
    return list(islice(takewhile(lambda p: p.value > 0, found), k))  # drop underflow to 0


@dataclass
class EdgeFacts:
    """What a Hop shows of every edge, as arrays in the indexed graph's (source-sorted) order,
    and the node ids: built once, so a path is made without touching the bundle's tables."""

    ids: np.ndarray
    source: np.ndarray
    target: np.ndarray
    kind: np.ndarray
    item: np.ndarray
    evidence: np.ndarray
    share: np.ndarray
    confidence: np.ndarray

    @classmethod
    def of(cls, bundle: Bundle, graph: IndexedGraph) -> EdgeFacts:
        edges, rows = bundle.edges, graph.edge_row

        def column(name: str) -> np.ndarray:
            if name not in edges:
                return np.full(len(rows), "", dtype=object)
            return edges[name].fillna("").astype(str).to_numpy(object)[rows]

        return cls(
            ids=graph.ids.to_numpy(object),
            source=column("source"),
            target=column("target"),
            kind=column("kind"),
            item=column("item"),
            evidence=column("evidence"),
            share=graph.share,
            confidence=graph.confidence,
        )

    def path(self, nodes, edges, value: float, evidence=None) -> ExposurePath:
        """The ExposurePath along node positions ``nodes`` and edge positions ``edges``."""
        hops = [
            Hop(
                source=self.source[e],
                target=self.target[e],
                kind=self.kind[e],
                share=float(self.share[e]),
                confidence=float(self.confidence[e]),
                item=self.item[e],
                evidence=self.evidence[e],
            )
            for e in edges
        ]
        source = str(self.ids[nodes[0]])
        return ExposurePath(
            source=source,
            target=str(self.ids[nodes[-1]]),
            value=float(value),
            nodes=[str(self.ids[n]) for n in nodes],
            hops=hops,
            source_evidence=_evidence_for(source, evidence),
        )


def _scores(graph, bundle, source_scores, exposure) -> np.ndarray:
    if exposure is not None:
        scores = exposure.table["source_score"]
    else:
        scores = explicit_scores(bundle) if source_scores is None else source_scores
    return score_array(graph, scores)


def _split_graph(graph: IndexedGraph, s: np.ndarray, target: int) -> nx.DiGraph:
    """Ancestors of ``target`` with each maker split into an 'own' node (its own score only,
    reachable only from the super-source) and an 'all' node (everything it receives)."""
    import networkx as nx

    inside = upstream_of(graph, np.array([target]), graph.confidence)
    split = nx.DiGraph()
    split.add_node(SUPER_SOURCE)
    usable = inside[graph.dst] & (graph.confidence > 0)
    for e in np.flatnonzero(usable & ~graph.own):
        _add_best(split, ("all", graph.src[e]), ("all", graph.dst[e]), graph.confidence[e], e)
    for e in np.flatnonzero(usable & graph.own & (s[graph.src] > 0)):
        _add_best(split, ("own", graph.src[e]), ("all", graph.dst[e]), graph.confidence[e], e)
    for v in np.flatnonzero(inside & (s > 0)):
        split.add_edge(SUPER_SOURCE, ("all", v), weight=-math.log(s[v]), edge=-1)
    for node in [n for n in split if n[0] == "own"]:
        split.add_edge(SUPER_SOURCE, node, weight=-math.log(s[node[1]]), edge=-1)
    return split


def _add_best(split, u, v, confidence: float, edge: int) -> None:
    """Add an edge, keeping the most confident of parallel edges."""
    weight = -math.log(confidence)
    if not split.has_edge(u, v) or split[u][v]["weight"] > weight:
        split.add_edge(u, v, weight=weight, edge=edge)


def _exposure_path(facts: EdgeFacts, split, s, split_path, evidence) -> ExposurePath:
    nodes = [node for _, node in split_path[1:]]
    edges = [split[a][b]["edge"] for a, b in zip(split_path[1:], split_path[2:], strict=False)]
    value = s[nodes[0]] * np.prod(facts.confidence[edges]) if edges else s[nodes[0]]
    return facts.path(nodes, edges, value, evidence)


def _evidence_for(source: str, evidence: Mapping[str, str] | pd.Series | None) -> str:
    """The source's evidence text (a Series or a dict by node id), else "explicit exposure"."""
    text = None if evidence is None else evidence.get(source)
    return str(text) if isinstance(text, str) and text else EXPLICIT_EVIDENCE


def explain_node(
    bundle: Bundle, exposure: Exposure, node_id: str, k: int = 5, evidence=None
) -> dict[str, Any]:
    """Everything about one node's exposure: scores per mode, top sources, top paths."""
    table = exposure.table
    if node_id not in table.index:
        raise UnknownName(f"node {node_id!r} is not in the bundle")
    row = table.loc[node_id]
    parts = exposure.contributions[exposure.contributions["target"] == node_id]
    parts = parts.sort_values(["mode", "amount"], ascending=[True, False])
    return {
        "id": node_id,
        "name": row["name"],
        "kind": row["kind"],
        "source_score": float(row["source_score"]),
        "scores": {m: (None if np.isnan(row[m]) else float(row[m])) for m in MODES},
        "tier": _optional_int(row["tier"]),
        "n_sources": _optional_int(row["n_sources"]),
        "top_sources": parts.groupby("mode")
        .head(5)[["source", "amount", "mode", "exact"]]
        .to_dict("records"),
        "paths": [
            p.as_dict() for p in top_paths(bundle, node_id, k, exposure=exposure, evidence=evidence)
        ],
    }


def _optional_int(value) -> int | None:
    import pandas as pd

    return None if pd.isna(value) else int(value)


# --- what-if ---------------------------------------------------------------------------------


def whatif(
    bundle: Bundle,
    remove_nodes: Iterable[str] = (),
    remove_edges: Iterable[tuple[str, str]] = (),
    set_shares: Mapping[tuple[str, str], float] | None = None,
    source_scores: pd.Series | None = None,
    mode: str = "reach",
) -> pd.DataFrame:
    """Recompute after removing nodes/edges or changing shares; report each buyer-facing
    node's score before and after, sorted by the size of the change."""
    import pandas as pd

    changed = changed_bundle(bundle, remove_nodes, remove_edges, set_shares or {})
    options = {"modes": (mode,), "contributions_for": ()}
    before = propagate(bundle, source_scores, **options).table
    after = propagate(changed, source_scores, **options).table
    facing = before[before["buyer_facing"]]
    result = pd.DataFrame(
        {
            "id": facing.index,
            "name": facing["name"].to_numpy(),
            "before": facing[mode].to_numpy(),
            "after": after[mode].reindex(facing.index).to_numpy(),
        }
    )
    result["delta"] = result["after"] - result["before"]
    order = result["delta"].abs().fillna(np.inf).sort_values(ascending=False, kind="stable").index
    return result.loc[order].reset_index(drop=True)


def changed_bundle(bundle: Bundle, remove_nodes, remove_edges, set_shares) -> Bundle:
    """A copy of the bundle with nodes/edges removed and shares set; unknown names rejected."""
    from graphkit.model import Bundle

    nodes, edges = bundle.nodes, bundle.edges
    remove_nodes = set(remove_nodes)
    pairs = set(zip(edges["source"], edges["target"], strict=True))
    unknown = [f"node {n!r}" for n in sorted(remove_nodes - set(nodes["id"]))]
    unknown += [f"edge {a}->{b}" for a, b in [*remove_edges, *set_shares] if (a, b) not in pairs]
    if unknown:
        raise UnknownName("what-if names what is not in the bundle: " + ", ".join(unknown))
    bad = [f"{a}->{b}={v}" for (a, b), v in set_shares.items() if not 0 <= v <= 1]
    if bad:
        raise UnknownName("what-if shares must be in 0..1: " + ", ".join(bad))
    keys = list(zip(edges["source"], edges["target"], strict=True))
    drop = set(remove_edges)
    keep = [k not in drop and k[0] not in remove_nodes and k[1] not in remove_nodes for k in keys]
    edges = edges[keep].copy()
    new_share = [set_shares.get(k) for k in zip(edges["source"], edges["target"], strict=True)]
    edges["share"] = [
        old if new is None else new for old, new in zip(edges["share"], new_share, strict=True)
    ]
    return Bundle(
        nodes=nodes[~nodes["id"].isin(remove_nodes)].reset_index(drop=True),
        edges=edges.reset_index(drop=True),
        origin=bundle.origin,
    )
