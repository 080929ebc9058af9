"""Loops (strongly connected components) and the topological schedule of them that every
mode walks, with the CSR helpers it needs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
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
    """Each node's strongly connected component. Parallel edges are merged first: scipy's
    strong components (1.17) never return on a row that holds the same column twice."""
    from scipy.sparse.csgraph import connected_components

    pairs = np.sort(src.astype(np.int64) * max(n, 1) + dst)
    distinct = np.ones(len(pairs), dtype=bool)
    np.not_equal(pairs[1:], pairs[:-1], out=distinct[1:])
    pairs = pairs[distinct]
    ends = np.divmod(pairs, max(n, 1))
    matrix = csr_by_source(n, ends[0], ends[1], np.ones(len(pairs)))
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
    """The nodes in topological order of their strongly connected components, in rounds.

    Round r holds the nodes ``order[round_starts[r]:round_starts[r + 1]]`` (by component,
    then node): every edge into them comes from an earlier round or from the same loop.
    ``looped_order`` lists the nodes on a loop (a component of 2+ nodes, or a self-loop) in
    the same order, round r's at ``looped_starts[r]:looped_starts[r + 1]``; a looped node's
    position among its round's is ``place_in_round``. ``cross``: the edges between
    components, by position of their source in ``order`` (round r's out-edges at
    ``edge_starts[r]:edge_starts[r + 1]``), with ends ``cross_src`` and ``cross_dst``.
    ``inner``: edges within components, by source, with CSR row starts ``inner_starts``.
    """

    label: np.ndarray
    order: np.ndarray
    round_starts: np.ndarray
    looped_order: np.ndarray
    looped_starts: np.ndarray
    edge_starts: np.ndarray
    cross: np.ndarray
    cross_src: np.ndarray
    cross_dst: np.ndarray
    inner: np.ndarray
    inner_starts: np.ndarray
    place_in_round: np.ndarray

    @property
    def n_rounds(self) -> int:
        return len(self.round_starts) - 1

    def places(self) -> tuple[np.ndarray, np.ndarray]:
        """The nodes in round order with each round's loop nodes last, and each node's place
        in that order."""
        looped = np.zeros(len(self.order), dtype=bool)
        looped[self.looped_order] = True
        sizes = np.diff(self.round_starts)
        round_of = np.repeat(np.arange(len(sizes)), sizes)
        node = self.order[stable_order(2 * round_of + looped[self.order])]
        place = np.empty(len(node), dtype=np.int64)
        place[node] = np.arange(len(node))
        return node, place

    @cached_property
    def rounds(self) -> list[tuple[np.ndarray, np.ndarray, slice]]:
        """(nodes, looped, slice of ``cross``) per round."""
        nodes = np.split(self.order, self.round_starts[1:-1])
        looped = np.split(self.looped_order, self.looped_starts[1:-1])
        edges = self.edge_starts.tolist()
        return [(a, b, slice(c, d)) for a, b, c, d in zip(nodes, looped, edges, edges[1:])]


def loop_rounds(n: int, src: np.ndarray, dst: np.ndarray, edge_ids: np.ndarray) -> LoopRounds:
    """The schedule of the edges (sorted by source; reported as ``edge_ids``): their
    strongly connected components, released in rounds by ``component_rounds``, and the
    nodes and edges sorted by round with vectorised stable sorts."""
    label = components(n, src, dst)
    size = np.bincount(label)
    looped = size[label] > 1
    looped[src[src == dst]] = True
    cross = label[src] != label[dst]
    round_of = component_rounds(len(size), label[src[cross]], label[dst[cross]])[label]
    by_label = stable_order(label)
    order = by_label[stable_order(round_of[by_label])]
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    n_rounds = int(round_of.max()) + 1 if n else 0
    looped_order = order[looped[order]]
    looped_round = round_of[looped_order]
    looped_starts = _starts(looped_round, n_rounds)
    place_in_round = np.zeros(n, dtype=np.int64)
    place_in_round[looped_order] = np.arange(len(looped_order)) - looped_starts[looped_round]
    cross_src, cross_dst = src[cross], dst[cross]
    by_round = stable_order(position[cross_src])
    inner = ~cross
    return LoopRounds(
        label=label,
        order=order,
        round_starts=_starts(round_of, n_rounds),
        looped_order=looped_order,
        looped_starts=looped_starts,
        edge_starts=_starts(round_of[cross_src], n_rounds),
        cross=edge_ids[cross][by_round],
        cross_src=cross_src[by_round],
        cross_dst=cross_dst[by_round],
        inner=edge_ids[inner],
        inner_starts=row_starts(src[inner], n),
        place_in_round=place_in_round,
    )


def _starts(keys: np.ndarray, n: int) -> np.ndarray:
    """Where each key's run starts in ``keys`` sorted, and the end (CSR row starts)."""
    return row_starts(keys, n).astype(np.int64)


#: below this many nodes in a round, Kahn's step runs in Python (no array overhead) ...
THIN_ROUND = 32

#: ... except over a node with more out-edges than this (one array step for those)
THIN_DEGREE = 64


def component_rounds(k: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Each node's round in Kahn's algorithm on an acyclic graph of ``k`` nodes and edges
    ``src -> dst`` (the longest chain of edges into it): a node is released once all its
    in-edges come from released nodes. Wide rounds take one vectorised step; thin ones (a
    deep graph has many) a step of plain Python over the few nodes and their edges."""
    order = stable_order(src)
    starts, targets = row_starts(src[order], k), dst[order]
    waiting = np.bincount(dst, minlength=k)
    round_of = np.full(k, -1, dtype=np.int64)
    ready, number, thin_starts = np.flatnonzero(waiting == 0), 0, None
    while len(ready):
        round_of[ready] = number
        if len(ready) < THIN_ROUND:
            thin_starts = starts.tolist() if thin_starts is None else thin_starts
            ready = _thin_step(ready.tolist(), thin_starts, targets, waiting)
        else:
            ready = _release(targets[out_edges(starts, ready)], waiting)
        number += 1
    return round_of


def _release(hit: np.ndarray, waiting: np.ndarray) -> np.ndarray:
    """Count off the edges into ``hit``; the nodes left waiting for none, sorted."""
    np.subtract.at(waiting, hit, 1)
    return marked(hit[waiting[hit] == 0], len(waiting))


def _thin_step(ready: list[int], starts: list[int], targets: np.ndarray, waiting) -> np.ndarray:
    """One round of Kahn's algorithm in plain Python: the nodes it releases, sorted."""
    released: list[int] = []
    for node in ready:
        low, high = starts[node], starts[node + 1]
        if high - low > THIN_DEGREE:
            released.extend(_release(targets[low:high], waiting).tolist())
            continue
        for target in targets[low:high].tolist():
            waiting[target] -= 1
            if waiting[target] == 0:
                released.append(target)
    return np.array(sorted(released), dtype=np.int64)


def out_edges(starts: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Positions of all out-edges of ``nodes`` in a source-sorted edge list (CSR rows)."""
    degree = starts[nodes + 1] - starts[nodes]
    first = starts[nodes] - np.cumsum(degree) + degree
    return np.repeat(first, degree) + np.arange(degree.sum())


def marked(positions: np.ndarray, n: int) -> np.ndarray:
    """The distinct positions, sorted (a mask pass on many; a sort on few, so that a deep
    graph's many small rounds do not each cost a pass over n; np.unique is ~10x slower)."""
    if len(positions) * 32 < n:
        ordered = np.sort(positions)
        first = np.ones(len(ordered), dtype=bool)
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        return ordered[first]
    mask = np.zeros(n, dtype=bool)
    mask[positions] = True
    return np.flatnonzero(mask)
