"""Which nodes can pass exposure into a set of targets, in time linear in the graph: one
compiled breadth-first search backwards (a numpy pass over every edge per hop is quadratic on
deep graphs: 56 s on a 100,000-link chain)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from graphkit.graph import IndexedGraph


def upstream_of(graph: IndexedGraph, targets: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Boolean mask: nodes whose value can flow into ``targets`` along edges of positive
    ``weight`` (BOM rule: into an 'own' edge's target only its maker's own score flows, so
    the maker is upstream but not what it buys)."""
    inside = carried_upstream(graph, targets, weight)
    inside[graph.src[graph.own & inside[graph.dst]]] = True
    return inside


def carried_upstream(graph: IndexedGraph, targets, weight: np.ndarray) -> np.ndarray:
    """Boolean mask: the targets and the nodes whose whole exposure flows into them along
    carrying edges (not 'own') of positive ``weight``."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order

    n = graph.n
    carry = ~graph.own & (weight > 0)
    targets = np.asarray(targets, dtype=np.int64)
    back_src = np.concatenate([graph.dst[carry], np.full(len(targets), n)])
    back_dst = np.concatenate([graph.src[carry], targets])
    ones = np.ones(len(back_src), dtype=np.int8)
    reversed_graph = csr_matrix((ones, (back_src, back_dst)), shape=(n + 1, n + 1))
    inside = np.zeros(n + 1, dtype=bool)
    inside[breadth_first_order(reversed_graph, n, directed=True, return_predecessors=False)] = True
    return inside[:n]
