"""Every node's strongest chains from its ``top`` best sources, in one pass over the graph
(path-mode contributions without a column per source).

The path part of source j at node v is s(j) x the best product of confidences over chains
from j into v (the BOM rule: j's own MAKES edges only start a chain). Keeping per node only
the ``top`` best (value, source) pairs, sources distinct, is exact: a source missing from u's
list is beaten by ``top`` other sources through every edge out of u, so it cannot be among
the ``top`` at any node it reaches through u. The lists flow over a topological order of
the loops of the edges of positive confidence: a wide round takes its nodes' inputs in one
vectorised merge (the predecessors' lists times the edges' confidences, the best per
source, ``top`` per node; ties go to the smaller source position); its loops, and runs of
thin rounds, are then finished by a label-setting search seeded with the merged lists
(Dijkstra on the product of confidences, each node settling its first ``top`` distinct
sources). Work: about edges x ``top`` array elements plus the search's labels on loops, no
recursion. The number of sources with a chain into each node is counted exactly beside it,
with bitsets of the sources over the same schedule, ``WORDS`` words at a time.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from graphkit.graph.loops import loop_rounds, row_starts, stable_order
from graphkit.propagation.lists import SourceLists, injections

if TYPE_CHECKING:
    from graphkit.graph import IndexedGraph
    from graphkit.graph.loops import LoopRounds

#: a round of fewer nodes than this, none on a loop, joins its neighbours' search
THIN = 32
#: 64-bit words of source bitsets carried per counting pass
WORDS = 16
#: sources are counted exactly by bitsets while (sources / 64) x edges stays under this
#: (100,000 generated suppliers: 3.4e7, about 1.5 s); beyond, a node's count is exact where
#: fewer than ``top`` sources reach it and -1 (unknown: at least ``top``) elsewhere
COUNT_WORK = 5e8


@dataclass
class StrongestSources:
    """Per node (rows by node position) its ``top`` best sources, best first: ``source``
    (node positions, -1 where fewer) and ``value`` (s(j) x the best chain; 0 where fewer),
    and ``count``, the number of sources with a chain of positive confidence into it (-1:
    at least ``top``, where counting exactly would cost more than COUNT_WORK)."""

    source: np.ndarray
    value: np.ndarray
    count: np.ndarray


def strongest_sources(graph: IndexedGraph, s: np.ndarray, top: int) -> StrongestSources:
    """Every node's ``top`` best sources by path value, and its number of sources."""
    plan = _Plan.of(graph, s)
    source = np.full((graph.n, top), -1, dtype=np.int64)
    value = np.zeros((graph.n, top))
    for begin, end, search_from in plan.segments:
        plan.merge(source, value, begin, end)
        if search_from < end:
            plan.search(source, value, search_from, end)
    count = plan.count_sources()
    if count is None:
        listed = (source >= 0).sum(axis=1)
        count = np.where(listed < top, listed, -1)
    place = plan.place
    return StrongestSources(source=source[place], value=value[place], count=count[place])


def path_rounds(graph: IndexedGraph) -> LoopRounds:
    """The loop schedule of the edges of positive confidence (the engine's own when every
    carrying edge has a positive confidence: their loops are then the same)."""
    carry = ~graph.own & ((graph.share > 0) | (graph.confidence > 0))
    if (graph.confidence[carry] > 0).all():
        return graph.rounds
    use = np.flatnonzero(~graph.own & (graph.confidence > 0))
    return loop_rounds(graph.n, graph.src[use], graph.dst[use], use)


@dataclass
class _Plan(SourceLists):
    """The path lists (the edges of positive confidence, the most confident of parallels, no
    self-loops; a source's best value counts) with each place's loop component and the
    segments (begin, end, search_from) to walk."""

    label: np.ndarray  # loop component at each place
    segments: list[tuple[int, int, int]]

    @classmethod
    def of(cls, graph: IndexedGraph, s: np.ndarray) -> _Plan:
        rounds = path_rounds(graph)
        node, place = rounds.places()
        carry, own = usable_edges(graph, s)
        injected = injections(graph, s, s, own, graph.confidence, place)
        return cls.on_edges(
            graph, "max", place, carry, graph.confidence, injected,
            label=rounds.label[node],
            segments=walk_segments(rounds.round_starts, rounds.looped_starts),
        )  # fmt: skip

    def search(self, source, value, begin: int, end: int) -> None:
        """Finish places begin:end (a round's loops, or a run of thin rounds) by a
        label-setting search over their edges among themselves, seeded with their lists."""
        top = source.shape[1]
        lo, hi = self.into[begin], self.into[end]
        inside = lo + np.flatnonzero(self.src[lo:hi] >= begin)
        by_src = inside[stable_order(self.src[inside] - begin)]
        starts = row_starts(self.src[by_src] - begin, end - begin).tolist()
        targets = (self.dst[by_src] - begin).tolist()
        weights = self.weight[by_src].tolist()
        rows, cols = np.nonzero(source[begin:end] >= 0)
        heap = list(
            zip(
                (-value[begin:end][rows, cols]).tolist(),
                source[begin:end][rows, cols].tolist(),
                rows.tolist(),
            )
        )
        settled = _settle(heap, starts, targets, weights, end - begin, top)
        source[begin:end], value[begin:end] = -1, 0.0
        for row, pairs in enumerate(settled):
            if pairs:
                got = np.array(pairs)
                value[begin + row, : len(pairs)] = got[:, 0]
                source[begin + row, : len(pairs)] = got[:, 1]

    def count_sources(self) -> np.ndarray | None:
        """Per place, the number of sources with a chain of positive confidence into it
        (None where that would cost more than COUNT_WORK)."""
        n = len(self.place)
        sources = np.unique(self.inject_source)
        if -(-len(sources) // 64) * len(self.src) > COUNT_WORK:
            return None
        bit = np.full(n, -1, dtype=np.int64)
        bit[sources] = np.arange(len(sources))
        count = np.zeros(n, dtype=np.int64)
        for first in range(0, len(sources), 64 * WORDS):
            count += self._count_bits(bit - first, min(WORDS, -(-(len(sources) - first) // 64)))
        return count

    def _count_bits(self, bit: np.ndarray, words: int) -> np.ndarray:
        """Counts for the sources whose ``bit`` is in 0 .. 64 x words - 1."""
        n = len(self.place)
        bits = np.zeros((n, words), dtype=np.uint64)
        which = bit[self.inject_source]
        use = (which >= 0) & (which < 64 * words)
        rows = np.repeat(np.arange(n), np.diff(self.at))[use]
        word, shift = np.divmod(which[use], 64)
        np.bitwise_or.at(bits, (rows, word), np.left_shift(np.uint64(1), shift.astype(np.uint64)))
        for begin, end, search_from in self.segments:
            self._or_arrivals(bits, begin, end)
            if search_from < end:
                self._or_components(bits, search_from, end)
        return np.bitwise_count(bits).sum(axis=1, dtype=np.int64)

    def _or_arrivals(self, bits, begin: int, end: int) -> None:
        lo, hi = self.into[begin], self.into[end]
        outside = lo + np.flatnonzero(self.src[lo:hi] < begin)
        if len(outside) == 0:
            return
        dst = self.dst[outside]
        segments = np.flatnonzero(np.diff(dst, prepend=-1))
        carried = np.bitwise_or.reduceat(bits[self.src[outside]], segments, axis=0)
        bits[dst[segments]] |= carried

    def _or_components(self, bits, begin: int, end: int) -> None:
        """Places begin:end in topological order of their components (a loop is one
        component): each takes its in-component predecessors' bits, a loop's nodes the
        union of the loop's."""
        label = self.label[begin:end]
        lo, hi = self.into[begin], self.into[end]
        inside = lo + np.flatnonzero(self.src[lo:hi] >= begin)
        firsts = np.flatnonzero(np.diff(label, prepend=-1))
        if len(inside) == 0:
            return
        if len(firsts) == 1:  # one loop: every node reaches every other
            bits[begin:end] = np.bitwise_or.reduce(bits[begin:end], axis=0)
            return
        src, dst = self.src[inside].tolist(), self.dst[inside].tolist()
        by_dst: dict[int, list[int]] = {}
        for a, b in zip(src, dst):
            by_dst.setdefault(b, []).append(a)
        bounds = [*firsts.tolist(), end - begin]
        for first, stop in zip(bounds, bounds[1:]):
            nodes = range(begin + first, begin + stop)
            union = np.bitwise_or.reduce(bits[begin + first : begin + stop], axis=0)
            for v in nodes:
                for u in by_dst.get(v, ()):
                    if u < begin + first:
                        union |= bits[u]
            bits[begin + first : begin + stop] = union


def usable_edges(graph: IndexedGraph, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edge ids with confidence > 0, the most confident of parallels, no self-loops:
    carrying ones, and own ones from a source."""
    usable = np.flatnonzero((graph.confidence > 0) & (graph.src != graph.dst))
    own = graph.own[usable]
    order = np.lexsort(
        (usable, -graph.confidence[usable], graph.dst[usable], graph.src[usable], own)
    )
    ranked = usable[order]
    key = np.stack([graph.own[ranked], graph.src[ranked], graph.dst[ranked]])
    first = np.ones(len(ranked), dtype=bool)
    first[1:] = (key[:, 1:] != key[:, :-1]).any(axis=0)
    kept = np.sort(ranked[first])
    own = graph.own[kept]
    return kept[~own], kept[own & (s[graph.src[kept]] > 0)]


def walk_segments(
    round_starts: np.ndarray, looped_starts: np.ndarray
) -> list[tuple[int, int, int]]:
    """(begin, end, search_from) in places: a wide round merges its nodes and searches its
    loops (from its loop nodes; end when it has none); a run of thin rounds merges and then
    searches all its nodes."""
    sizes, loops = np.diff(round_starts), np.diff(looped_starts)
    thin = ((sizes < THIN) & (loops == 0)).tolist()
    starts, loops = round_starts.tolist(), loops.tolist()
    segments, run = [], None
    for r, is_thin in enumerate(thin):
        begin, end = starts[r], starts[r + 1]
        if is_thin:
            run = begin if run is None else run
            continue
        if run is not None:
            segments.append((run, begin, run))
            run = None
        segments.append((begin, end, end - loops[r]))
    if run is not None:
        segments.append((run, starts[-1], run))
    return segments


def _settle(heap: list, starts, targets, weights, size: int, top: int) -> list[list]:
    """Label-setting over local nodes: labels (-value, source, node); each node settles its
    first ``top`` distinct sources (largest values first). Returns per node its settled
    (value, source) pairs in order."""
    heapq.heapify(heap)
    settled: list[list] = [[] for _ in range(size)]
    done: set[tuple[int, int]] = set()
    best: dict[tuple[int, int], float] = {}
    while heap:
        negative, j, v = heapq.heappop(heap)
        if len(settled[v]) >= top or (v, j) in done:
            continue
        done.add((v, j))
        settled[v].append((-negative, j))
        for e in range(starts[v], starts[v + 1]):
            w = targets[e]
            if len(settled[w]) >= top or (w, j) in done:
                continue
            carried = negative * weights[e]
            if carried < best.get((w, j), 0.0):
                best[(w, j)] = carried
                heapq.heappush(heap, (carried, j, w))
    return settled
