"""Which nodes can pass exposure into a set of targets, and which a set of sources can pass it
to, in time linear in the graph: one compiled breadth-first search (a numpy pass over every
edge per hop is quadratic on deep graphs: 56 s on a 100,000-link chain)."""

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
    carry = ~graph.own & (weight > 0)
    return _reached(graph.n, graph.dst[carry], graph.src[carry], targets)


def downstream_of(graph: IndexedGraph, sources, weight: np.ndarray) -> np.ndarray:
    """Boolean mask: the sources and the nodes their value can flow to along edges of
    positive ``weight`` ('own' edges included: they carry a maker's own score)."""
    use = weight > 0
    return _reached(graph.n, graph.src[use], graph.dst[use], sources)


def _reached(n: int, src: np.ndarray, dst: np.ndarray, starts) -> np.ndarray:
    """Boolean mask of the nodes reached from ``starts`` along the edges src -> dst."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order

    starts = np.asarray(starts, dtype=np.int64)
    hop_src = np.concatenate([src, np.full(len(starts), n)])
    hop_dst = np.concatenate([dst, starts])
    ones = np.ones(len(hop_src), dtype=np.int8)
    hops = csr_matrix((ones, (hop_src, hop_dst)), shape=(n + 1, n + 1))
    reached = np.zeros(n + 1, dtype=bool)
    reached[breadth_first_order(hops, n, directed=True, return_predecessors=False)] = True
    return reached[:n]
