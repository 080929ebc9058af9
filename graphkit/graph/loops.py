"""Loops (strongly connected components) and the topological schedule of them that every
mode walks, with the CSR helpers it needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from graphkit.graph.index import IndexedGraph

    pass


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for non-negative integer keys, several times faster:
    the values key * len + position are unique, so a (SIMD) value sort gives the order."""
    m = len(keys)
    if m == 0 or int(keys.max()) >= np.iinfo(np.int64).max // m - 1:
        return np.argsort(keys, kind="stable")
    return np.sort(keys.astype(np.int64) * m + np.arange(m)) % m


def row_starts(src: np.ndarray, n: int) -> np.ndarray:
    """CSR row starts of edges sorted by source."""
    return np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])


def csr_by_source(n: int, src: np.ndarray, dst: np.ndarray, data: np.ndarray):
    """Edges already sorted by source as an n x n CSR matrix (row = source), no re-sorting
    (32-bit indices where they fit, as scipy would otherwise convert them itself)."""
    from scipy.sparse import csr_matrix

    index = np.int32 if max(n, len(dst)) < np.iinfo(np.int32).max else np.int64
    starts = row_starts(src, n).astype(index)
    return csr_matrix((data, dst.astype(index), starts), shape=(n, n))


def components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Each node's strongly connected component (edges sorted by source)."""
    from scipy.sparse.csgraph import connected_components

    matrix = csr_by_source(n, src, dst, np.ones(len(src)))
    return connected_components(matrix, directed=True, connection="strong")[1]


def on_loops(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Mask of the nodes on a directed loop of the edges (sorted by source)."""
    label = components(n, src, dst)
    looped = np.bincount(label, minlength=n)[label] > 1
    looped[src[src == dst]] = True
    return looped


def certain_loops(graph: IndexedGraph) -> np.ndarray:
    """Nodes on a loop of confidence-1 edges: in reach mode any exposure entering such a loop
    circulates to certainty (p = 1 at the least fixpoint), which plain iteration approaches
    only slowly; setting them to 1 once positive makes the iteration converge fast."""
    sure = ~graph.own & (graph.confidence >= 1.0)
    return on_loops(graph.n, graph.src[sure], graph.dst[sure])


@dataclass
class LoopRounds:
    """The nodes in topological order of their strongly connected components.

    ``rounds``: (nodes, looped, edges) per round. Every edge into a round's nodes comes from
    an earlier round or from the same loop; ``looped`` are the round's nodes on a loop (a
    component of 2+ nodes, or a self-loop); ``edges`` slices ``cross`` (edges between
    components, by round of their source) to the edges out of this round's nodes, whose
    ends are ``cross_src`` and ``cross_dst``. ``inner``: edges within components, by source,
    with CSR row starts ``inner_starts``. ``place_in_round``: a looped node's position in
    its round's ``looped``.
    """

    label: np.ndarray
    rounds: list[tuple[np.ndarray, np.ndarray, slice]]
    cross: np.ndarray
    cross_src: np.ndarray
    cross_dst: np.ndarray
    inner: np.ndarray
    inner_starts: np.ndarray
    place_in_round: np.ndarray


def loop_rounds(n: int, src: np.ndarray, dst: np.ndarray, edge_ids: np.ndarray) -> LoopRounds:
    """Kahn's algorithm over the strongly connected components of the edges (sorted by
    source; reported as ``edge_ids``), one vectorised step per round: a component is
    released once every edge into it from another component comes from a released node."""
    label = components(n, src, dst)
    size = np.bincount(label)
    looped = size[label] > 1
    looped[src[src == dst]] = True
    cross = label[src] != label[dst]
    cross_ids, cross_dst = edge_ids[cross], label[dst[cross]]
    cross_starts = row_starts(src[cross], n)
    members = stable_order(label)
    member_starts = np.concatenate([[0], np.cumsum(size)])
    waiting = np.bincount(cross_dst, minlength=len(size))
    ready, rounds, by_round, done = np.flatnonzero(waiting == 0), [], [], 0
    place_in_round = np.zeros(n, dtype=np.int64)
    while len(ready):
        nodes = members[out_edges(member_starts, ready)]
        edges = out_edges(cross_starts, nodes)
        on_loop = nodes[looped[nodes]]
        place_in_round[on_loop] = np.arange(len(on_loop))
        rounds.append((nodes, on_loop, slice(done, done + len(edges))))
        by_round.append(edges)
        done += len(edges)
        released = cross_dst[edges]
        np.subtract.at(waiting, released, 1)
        ready = marked(released[waiting[released] == 0], len(size))
    inner, by_round = ~cross, np.concatenate(by_round) if by_round else np.zeros(0, dtype=int)
    return LoopRounds(
        label=label,
        rounds=rounds,
        cross=cross_ids[by_round],
        cross_src=src[cross][by_round],
        cross_dst=dst[cross][by_round],
        inner=edge_ids[inner],
        inner_starts=row_starts(src[inner], n),
        place_in_round=place_in_round,
    )


def out_edges(starts: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Positions of all out-edges of ``nodes`` in a source-sorted edge list (CSR rows)."""
    degree = starts[nodes + 1] - starts[nodes]
    first = starts[nodes] - np.cumsum(degree) + degree
    return np.repeat(first, degree) + np.arange(degree.sum())


def marked(positions: np.ndarray, n: int) -> np.ndarray:
    """The distinct positions, sorted (a mask pass: cheaper than np.unique on many; np.unique
    on few, so that a deep graph's many small rounds do not each cost a pass over n)."""
    if len(positions) * 32 < n:
        return np.unique(positions)
    mask = np.zeros(n, dtype=bool)
    mask[positions] = True
    return np.flatnonzero(mask)
