"""Small supply-chain graphs for the engine tests: builders, a hypothesis strategy, brute force."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from graphkit.model import EDGE_COLUMNS, EDGE_ENDPOINTS, MAKES, NODE_COLUMNS, PART_OF, Bundle

KIND_OF_EDGE = {ends: kind for kind, ends in EDGE_ENDPOINTS.items()}


def make_bundle(nodes: list[tuple], edges: list[tuple]) -> Bundle:
    """nodes: (id, kind, exposure|None); edges: (source, target, share|None, confidence|None)."""
    node_frame = pd.DataFrame(
        [{"id": i, "kind": k, "name": f"name of {i}", "exposure": e} for i, k, e in nodes]
    )
    for column in NODE_COLUMNS:
        if column not in node_frame:
            node_frame[column] = ""
    node_frame["exposure"] = pd.to_numeric(node_frame["exposure"]).astype(float)
    kinds = dict(zip(node_frame["id"], node_frame["kind"], strict=True))
    rows = [
        {
            "source": u,
            "target": v,
            "kind": KIND_OF_EDGE[(kinds[u], kinds[v])],
            "share": share,
            "confidence": conf,
            "item": "",
            "evidence": f"evidence {u}->{v}",
        }
        for u, v, share, conf in edges
    ]
    edge_frame = pd.DataFrame(rows, columns=list(EDGE_COLUMNS))
    edge_frame[["share", "confidence"]] = edge_frame[["share", "confidence"]].astype(float)
    return Bundle(nodes=node_frame[list(NODE_COLUMNS)], edges=edge_frame)


def cheese_sandwich() -> Bundle:
    """DESIGN.md's example: the ready-meal maker buys Liaoning prawns for its curry only."""
    return make_bundle(
        [
            ("prawnco", "supplier", 0.9),
            ("dairy", "supplier", None),
            ("maker", "supplier", None),
            ("prawns", "component", None),
            ("cheese", "component", None),
            ("curry", "component", None),
            ("sandwich", "component", None),
            ("retailer", "supplier", None),
        ],
        [
            ("prawnco", "prawns", 1.0, 1.0),
            ("dairy", "cheese", 1.0, 1.0),
            ("prawns", "maker", 0.5, 1.0),
            ("cheese", "maker", 0.5, 1.0),
            ("prawns", "curry", 0.4, 1.0),
            ("maker", "curry", 0.6, 1.0),
            ("cheese", "sandwich", 0.3, 1.0),
            ("maker", "sandwich", 0.7, 1.0),
            ("curry", "retailer", 0.5, 0.8),
            ("sandwich", "retailer", 0.5, 1.0),
        ],
    )


@st.composite
def graphs(draw, acyclic: bool, max_nodes: int = 6):
    """Random small bundles respecting edge-kind endpoint rules (mixed kinds, shares <= 1)."""
    n = draw(st.integers(2, max_nodes))
    kinds = draw(st.lists(st.sampled_from(["supplier", "component"]), min_size=n, max_size=n))
    unit = st.floats(0, 1, allow_nan=False)
    exposure = draw(st.lists(st.one_of(st.none(), unit), min_size=n, max_size=n))
    pairs = [(u, v) for u in range(n) for v in range(n) if (u < v if acyclic else u != v)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=min(len(pairs), 12)))
    edges = []
    for v in range(n):
        into = [u for u, w in chosen if w == v]
        shares = draw(st.lists(st.one_of(st.none(), unit), min_size=len(into), max_size=len(into)))
        total = sum(x for x in shares if x is not None)
        shares = [x / total if x is not None and total > 1 else x for x in shares]
        for u, share in zip(into, shares, strict=True):
            edges.append((f"v{u}", f"v{v}", share, draw(st.one_of(st.none(), unit))))
    nodes = [(f"v{i}", kinds[i], exposure[i]) for i in range(n)]
    return make_bundle(nodes, edges)


# --- brute force, written independently of the engine ---------------------------------------


def plain_graph(bundle: Bundle):
    """Per node: s, own value added; per edge: share (imputed), confidence, 'own' flag."""
    nodes, edges = bundle.nodes, bundle.edges
    s = {r.id: (0.0 if math.isnan(r.exposure) else r.exposure) for r in nodes.itertuples()}
    has_bom = set(edges.loc[edges["kind"] == PART_OF, "target"])
    into: dict[str, list] = {v: [] for v in s}
    for r in edges.itertuples():
        conf = 1.0 if math.isnan(r.confidence) else r.confidence
        own = r.kind == MAKES and r.target in has_bom
        into[r.target].append([r.source, r.share, conf, own])
    value_added = {}
    for v, ins in into.items():
        given = sum(e[1] for e in ins if not math.isnan(e[1]))
        missing = [e for e in ins if math.isnan(e[1])]
        for e in missing:
            e[1] = max(0.0, 1.0 - given) / len(missing)
        value_added[v] = max(0.0, 1.0 - sum(e[1] for e in ins))
    return s, value_added, into


def all_paths_into(into, target):
    """Every simple path ending at target, as node lists (source first) with the edges used."""
    found = [([target], [])]
    stack = [([target], [])]
    while stack:
        path, used = stack.pop()
        for edge in into[path[0]]:
            u = edge[0]
            if u in path or any(e[3] for e in used[:1]):  # an own edge must be the first
                continue
            item = ([u, *path], [edge, *used])
            found.append(item)
            stack.append(item)
    return found


def brute_share(bundle: Bundle, target: str) -> float:
    s, value_added, into = plain_graph(bundle)
    total = 0.0
    for path, used in all_paths_into(into, target):
        start = s[path[0]] if used and used[0][3] else value_added[path[0]] * s[path[0]]
        total += start * np.prod([e[1] for e in used])
    return total


def brute_path(bundle: Bundle, target: str) -> float:
    s, _, into = plain_graph(bundle)
    return max(s[p[0]] * np.prod([e[2] for e in used]) for p, used in all_paths_into(into, target))


def brute_reach(bundle: Bundle, iterations: int = 20_000) -> dict[str, float]:
    """Kleene iteration of the noisy-OR equations from p = 0 (the least fixpoint)."""
    s, _, into = plain_graph(bundle)
    p = dict.fromkeys(s, 0.0)
    for _ in range(iterations):
        p = reach_equation(s, into, p)
    return p


def reach_equation(s, into, p):
    """Right-hand side of p(v) = 1 - (1 - s(v)) prod(1 - c p(u)) (own edges use s(u))."""
    out = {}
    for v, ins in into.items():
        miss = 1.0 - s[v]
        for u, _, conf, own in ins:
            miss *= 1.0 - conf * (s[u] if own else p[u])
        out[v] = 1.0 - miss
    return out
