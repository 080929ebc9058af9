"""Structural facts about a bundle: counts, tiers, connected parts, cycles, unmapped inputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphkit.graph.index import IndexedGraph, index_graph
from graphkit.graph.rules import buyer_facing_mask
from graphkit.model import Bundle

#: an input remainder above this counts as unmapped
UNMAPPED_TOLERANCE = 1e-9


def adjacency(graph: IndexedGraph):
    """The graph's edges as a scipy CSR matrix over node positions (row = source)."""
    from scipy import sparse

    n = graph.n
    return sparse.csr_matrix((np.ones(len(graph.src)), (graph.src, graph.dst)), shape=(n, n))


def tiers(graph: IndexedGraph) -> pd.Series:
    """Edges upstream from the nearest buyer-facing node (0 = buyer-facing; -1 = none)."""
    from scipy import sparse
    from scipy.sparse import csgraph

    n = graph.n
    start = np.flatnonzero(buyer_facing_mask(graph))
    # reversed graph plus a super-node n with an edge to every buyer-facing node
    to_start = sparse.csr_matrix((np.ones(len(start)), (np.zeros(len(start)), start)), (1, n))
    reverse = sparse.bmat([[adjacency(graph).T, None], [to_start, sparse.csr_matrix((1, 1))]])
    distance = csgraph.shortest_path(reverse.tocsr(), unweighted=True, indices=n)[:n] - 1
    distance[~np.isfinite(distance)] = -1
    return pd.Series(distance.astype(int), index=graph.ids)


def unmapped_inputs(bundle: Bundle) -> pd.Series:
    """Per node with declared input shares: the remainder 1 - sum(shares) where above 0."""
    shares = bundle.edges.groupby("target")["share"]
    remainder = (1 - shares.sum())[shares.count() > 0]
    return remainder[remainder > UNMAPPED_TOLERANCE].sort_values(ascending=False)


def summarise(bundle: Bundle) -> dict[str, Any]:
    """Counts by kind, tiers, weakly connected parts, cycles and unmapped inputs."""
    from scipy.sparse import csgraph

    graph = index_graph(bundle)
    matrix = adjacency(graph)
    n_parts, part_labels = csgraph.connected_components(matrix, directed=True, connection="weak")
    n_strong, strong_labels = csgraph.connected_components(matrix, connection="strong")
    strong_sizes = np.bincount(strong_labels)
    cyclic_components = np.flatnonzero(strong_sizes > 1)
    tier = tiers(graph)
    unmapped = unmapped_inputs(bundle)
    return {
        "bundle": bundle.origin,
        "nodes": int(len(bundle.nodes)),
        "edges": int(len(bundle.edges)),
        "nodes_by_kind": bundle.nodes["kind"].value_counts().sort_index().to_dict(),
        "edges_by_kind": bundle.edges["kind"].value_counts().sort_index().to_dict(),
        "buyer_facing": int(buyer_facing_mask(graph).sum()),
        "nodes_by_tier": {int(k): int(v) for k, v in tier.value_counts().sort_index().items()},
        "max_tier": int(tier.max()) if len(tier) else 0,
        "weakly_connected_parts": int(n_parts),
        "largest_part": int(np.bincount(part_labels).max()) if len(part_labels) else 0,
        "cycles": int(len(cyclic_components)),
        "nodes_in_cycles": int(strong_sizes[cyclic_components].sum()),
        "nodes_with_unmapped_inputs": int(len(unmapped)),
        "most_unmapped": {k: round(float(v), 6) for k, v in unmapped.head(10).items()},
        "warnings": len(bundle.warnings),
    }
