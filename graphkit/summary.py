"""Structural facts about a bundle: counts, tiers, connected parts, cycles, unmapped inputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphkit.model import PART_OF, Bundle

#: an input remainder above this counts as unmapped
UNMAPPED_TOLERANCE = 1e-9


def adjacency(bundle: Bundle):
    """The bundle's edges as a scipy CSR matrix over node positions (row = source)."""
    from scipy import sparse

    index = pd.Index(bundle.nodes["id"])
    rows = index.get_indexer(bundle.edges["source"])
    cols = index.get_indexer(bundle.edges["target"])
    n = len(index)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def buyer_facing(bundle: Bundle) -> pd.Series:
    """Final products (components not PART_OF anything) and suppliers with no outgoing edge."""
    nodes, edges = bundle.nodes, bundle.edges
    is_component = nodes["kind"] == "component"
    part_of_sources = edges.loc[edges["kind"] == PART_OF, "source"]
    any_sources = edges["source"]
    final_product = is_component & ~nodes["id"].isin(part_of_sources)
    buyer = ~is_component & ~nodes["id"].isin(any_sources)
    return pd.Series((final_product | buyer).to_numpy(), index=nodes["id"].to_numpy())


def tiers(bundle: Bundle) -> pd.Series:
    """Edges upstream from the nearest buyer-facing node (0 = buyer-facing; -1 = none)."""
    from scipy import sparse
    from scipy.sparse import csgraph

    matrix = adjacency(bundle)
    n = matrix.shape[0]
    start = np.flatnonzero(buyer_facing(bundle).to_numpy())
    # reversed graph plus a super-node n with an edge to every buyer-facing node
    to_start = sparse.csr_matrix((np.ones(len(start)), (np.zeros(len(start)), start)), (1, n))
    reverse = sparse.bmat([[matrix.T, None], [to_start, sparse.csr_matrix((1, 1))]])
    distance = csgraph.shortest_path(reverse.tocsr(), unweighted=True, indices=n)[:n] - 1
    distance[~np.isfinite(distance)] = -1
    return pd.Series(distance.astype(int), index=bundle.nodes["id"].to_numpy())


def unmapped_inputs(bundle: Bundle) -> pd.Series:
    """Per node with declared input shares: the remainder 1 - sum(shares) where above 0."""
    shares = bundle.edges.groupby("target")["share"].agg(lambda s: s.sum(min_count=1))
    remainder = 1 - shares.dropna()
    return remainder[remainder > UNMAPPED_TOLERANCE].sort_values(ascending=False)


def summarise(bundle: Bundle) -> dict[str, Any]:
    """Counts by kind, tiers, weakly connected parts, cycles and unmapped inputs."""
    from scipy.sparse import csgraph

    matrix = adjacency(bundle)
    n_parts, part_labels = csgraph.connected_components(matrix, directed=True, connection="weak")
    n_strong, strong_labels = csgraph.connected_components(matrix, connection="strong")
    strong_sizes = np.bincount(strong_labels)
    cyclic_components = np.flatnonzero(strong_sizes > 1)
    tier = tiers(bundle)
    unmapped = unmapped_inputs(bundle)
    return {
        "bundle": bundle.origin,
        "nodes": int(len(bundle.nodes)),
        "edges": int(len(bundle.edges)),
        "nodes_by_kind": bundle.nodes["kind"].value_counts().sort_index().to_dict(),
        "edges_by_kind": bundle.edges["kind"].value_counts().sort_index().to_dict(),
        "buyer_facing": int(buyer_facing(bundle).sum()),
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
