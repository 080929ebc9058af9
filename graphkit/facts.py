"""Structural facts about a bundle (`graphkit info`): counts, distance to the buyer,
connected parts, cycles, unmapped inputs (the engine's definition: graphkit.graph)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphkit.graph.index import IndexedGraph, index_graph
from graphkit.graph.rules import buyer_facing_mask
from graphkit.model import Bundle


def adjacency(graph: IndexedGraph):
    """The graph's edges as a scipy CSR matrix over node positions (row = source)."""
    from scipy import sparse

    n = graph.n
    return sparse.csr_matrix((np.ones(len(graph.src)), (graph.src, graph.dst)), shape=(n, n))


def distance_to_buyer(graph: IndexedGraph) -> pd.Series:
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


def unmapped_inputs(graph: IndexedGraph) -> pd.Series:
    """Per node with inputs: the unmapped remainder of its input value (1 - its input shares,
    missing shares imputed) where above 0, largest first; the same numbers the engine uses."""
    has_inputs = np.bincount(graph.dst, minlength=graph.n) > 0
    remainder = pd.Series(graph.unmapped, index=graph.ids)[has_inputs]
    return remainder[remainder > 0].sort_values(ascending=False, kind="stable")


def bundle_facts(bundle: Bundle) -> dict[str, Any]:
    """Counts by kind, distance to the buyer, weakly connected parts, cycles, unmapped inputs."""
    from scipy.sparse import csgraph

    graph = index_graph(bundle)
    matrix = adjacency(graph)
    n_parts, part_labels = csgraph.connected_components(matrix, directed=True, connection="weak")
    n_strong, strong_labels = csgraph.connected_components(matrix, connection="strong")
    strong_sizes = np.bincount(strong_labels)
    cyclic_components = np.flatnonzero(strong_sizes > 1)
    distance = distance_to_buyer(graph)
    unmapped = unmapped_inputs(graph)
    return {
        "bundle": bundle.origin,
        "nodes": int(len(bundle.nodes)),
        "edges": int(len(bundle.edges)),
        "nodes_by_kind": bundle.nodes["kind"].value_counts().sort_index().to_dict(),
        "edges_by_kind": bundle.edges["kind"].value_counts().sort_index().to_dict(),
        "buyer_facing": int(buyer_facing_mask(graph).sum()),
        "nodes_by_distance_to_buyer": {
            int(k): int(v) for k, v in distance.value_counts().sort_index().items()
        },
        "max_distance_to_buyer": int(distance.max()) if len(distance) else 0,
        "weakly_connected_parts": int(n_parts),
        "largest_part": int(np.bincount(part_labels).max()) if len(part_labels) else 0,
        "cycles": int(len(cyclic_components)),
        "nodes_in_cycles": int(strong_sizes[cyclic_components].sum()),
        "nodes_with_unmapped_inputs": int(len(unmapped)),
        "most_unmapped": {k: round(float(v), 6) for k, v in unmapped.head(10).items()},
        "warnings": len(bundle.warnings),
    }
