"""Tier distance: how many edges from the nearest source, honouring the BOM rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from graphkit.graph.loops import csr_by_source

if TYPE_CHECKING:
    from graphkit.graph.index import IndexedGraph

    pass


def tier_distance(graph: IndexedGraph, s: np.ndarray) -> np.ndarray:
    """Edges from the nearest source (inf where none reaches), honouring the BOM rule.

    One breadth-first search from a super-source linked to every source node (distance 1)
    and, through a hub (distance 2), to the targets of sources' own MAKES edges.
    """
    from scipy.sparse.csgraph import shortest_path

    n, super_source, hub = graph.n, graph.n, graph.n + 1
    usable = graph.confidence > 0
    carry = ~graph.own & usable
    own = graph.own & usable & (s[graph.src] > 0)
    sources = np.flatnonzero(s > 0)
    src = np.concatenate([graph.src[carry], np.full(len(sources), super_source), [super_source],
                          np.full(own.sum(), hub)])  # fmt: skip
    dst = np.concatenate([graph.dst[carry], sources, [hub], graph.dst[own]])
    matrix = csr_by_source(n + 2, src, dst, np.ones(len(src)))  # src is still sorted
    dist = shortest_path(matrix, method="D", unweighted=True, indices=super_source)
    return dist[:n] - 1.0
