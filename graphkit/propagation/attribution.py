"""Per-source contributions for every target, without a (node, source) pair budget.

What a source j contributes to a target t, per mode, is t's score if j were the only source
(the engine's own rules, BOM rule included: j injects its own score at itself and, through
each of its own MAKES edges, into that edge's product):

- share: j's exact additive part (the share system is linear, so the parts of all sources
  sum to the share score); j injects its value added, unmapped(j) x s(j);
- path: j's best chain into t, s(j) x the best product of confidences;
- reach: the reach t would have if j were the only source (noisy-OR: not additive), for the
  ``top`` sources with the best chains into t (its path parts).

Share and path parts are forward passes over the engine's topological order of loops
(``graph.rounds``) with one column per source, ``CHUNK`` sources at a time: a round's nodes
take their inputs from earlier rounds in one step (a sparse product for share, a gather and a
segment max for path), and the nodes on a round's loops are solved together (share: one
sparse LU of the loop block, factorised once for all chunks; path: one Dijkstra per column).
The work is (edges x sources) / CHUNK vectorised steps; depth costs one step per round and
chunk, never recursion. Reach alone is the engine's own reach on a copy per listed source of
the nodes between it and the targets (``reach_alone``). Per target the ``top`` largest parts
are kept, with the number of sources that contribute and their total (for reach: the total
of the ``top`` listed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from graphkit.errors import ConvergenceError
from graphkit.graph import MODES, buyer_facing_mask
from graphkit.graph.loops import row_starts, stable_order
from graphkit.propagation.modes import reach_scores
from graphkit.propagation.upstream import upstream_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

    from graphkit.graph import IndexedGraph

#: sources kept per target (largest parts first)
TOP = 20
#: sources (columns) carried through the graph together
CHUNK = 64


@dataclass
class SourceParts:
    """One mode's parts as columns: rows (target, source, amount), largest first per target;
    per target (aligned with ``targets``) the number of contributing sources and their total
    (for reach: of the sources listed)."""

    mode: str
    target: np.ndarray
    source: np.ndarray
    amount: np.ndarray
    targets: np.ndarray
    n_sources: np.ndarray
    total: np.ndarray


def source_parts(
    graph: IndexedGraph,
    s: np.ndarray,
    targets: np.ndarray | None = None,
    modes: Iterable[str] = MODES,
    top: int = TOP,
) -> dict[str, SourceParts]:
    """Each asked mode's per-source parts for ``targets`` (default: the buyer-facing nodes)."""
    targets = np.flatnonzero(buyer_facing_mask(graph)) if targets is None else targets
    targets = np.unique(np.asarray(targets, dtype=np.int64))
    modes = tuple(modes)
    schedule = _Schedule.of(graph)
    found = {}
    for mode in ("share", "path"):
        if mode in modes or (mode == "path" and "reach" in modes):
            flow = _Flow.of(graph, schedule, mode)
            found[mode] = _parts(graph, schedule, flow, s, targets, top)
    if "reach" in modes:
        found["reach"] = reach_alone(graph, s, found["path"])
    return {mode: found[mode] for mode in modes}


def parts_frame(graph: IndexedGraph, parts: dict[str, SourceParts]) -> pd.DataFrame:
    """The long table (target, source, amount, mode) of ``propagate``'s contributions."""
    import pandas as pd

    frames = [
        pd.DataFrame(
            {
                "target": graph.ids[p.target],
                "source": graph.ids[p.source],
                "amount": p.amount,
                "mode": mode,
            }
        )
        for mode, p in parts.items()
    ]
    empty = pd.DataFrame({"target": [], "source": [], "amount": [], "mode": []})
    return pd.concat(frames, ignore_index=True) if frames else empty


# --- the schedule and each mode's edges on it -------------------------------------------------


@dataclass
class _Schedule:
    """The nodes in the engine's round order, each round's loop nodes last: ``place`` of
    every node, and per round (start, loop start, end) in places."""

    place: np.ndarray
    bounds: list[tuple[int, int, int]]
    label: np.ndarray  # loop component of each place

    @classmethod
    def of(cls, graph: IndexedGraph) -> _Schedule:
        rounds = graph.rounds
        looped = np.zeros(graph.n, dtype=bool)
        order, bounds, start = [], [], 0
        for nodes, on_loop, _ in rounds.rounds:
            looped[on_loop] = True
            plain = nodes[~looped[nodes]]
            order += [plain, on_loop]
            bounds.append((start, start + len(plain), start + len(nodes)))
            start += len(nodes)
        order = np.concatenate(order) if order else np.zeros(0, dtype=np.int64)
        place = np.empty(graph.n, dtype=np.int64)
        place[order] = np.arange(len(order))
        return cls(place=place, bounds=bounds, label=rounds.label[order])


@dataclass
class _Edges:
    """Edges as rows by target: ``starts`` (CSR row starts over ``rows`` targets), and each
    edge's source and weight in that order (parallel edges kept apart)."""

    starts: np.ndarray
    src: np.ndarray
    weight: np.ndarray

    @classmethod
    def of(cls, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, rows: int) -> _Edges:
        order = stable_order(dst)
        return cls(starts=row_starts(dst, rows), src=src[order], weight=weight[order])

    def matrix(self):
        """As a scipy CSR matrix (parallel edges summed: right for share only)."""
        from scipy.sparse import csr_matrix

        rows = len(self.starts) - 1
        return csr_matrix((self.weight, self.src, self.starts), shape=(rows, rows))


@dataclass
class _Flow:
    """One mode's (share or path) carrying edges in places: ``cross`` (into a round from
    earlier rounds) and, per round with loops, its loop block (``inner``): share the sparse
    LU of I - A on the block, factorised once; path the block's edges for Dijkstra."""

    mode: str
    cross: _Edges
    inner: dict[int, object]
    cross_matrix: object = None  # share: ``cross`` as a scipy CSR matrix

    @classmethod
    def of(cls, graph: IndexedGraph, schedule: _Schedule, mode: str) -> _Flow:
        weight = graph.share if mode == "share" else graph.confidence
        keep = ~graph.own & (weight > 0)
        src, dst, w = schedule.place[graph.src[keep]], schedule.place[graph.dst[keep]], weight[keep]
        inside = schedule.label[src] == schedule.label[dst]
        flow = cls(mode, _Edges.of(src[~inside], dst[~inside], w[~inside], graph.n), {})
        for number, (_, loop, end) in enumerate(schedule.bounds):
            if loop < end:
                pick = inside & (dst >= loop) & (dst < end)
                flow.add_loop(number, src[pick] - loop, dst[pick] - loop, w[pick], end - loop)
        if mode == "share":
            flow.cross_matrix = flow.cross.matrix()  # built once, used by every chunk
        return flow

    def add_loop(self, number: int, src, dst, weight, size: int) -> None:
        if self.mode == "share":
            self.inner[number] = _share_lu(src, dst, weight, size)
        else:
            self.inner[number] = _strongest(src, dst, weight)


def _share_lu(src, dst, weight, size: int):
    """The sparse LU of I - A on a loop block (A[dst, src] = share)."""
    from scipy.sparse import identity
    from scipy.sparse.linalg import splu

    block = identity(size, format="csr") - _Edges.of(src, dst, weight, size).matrix()
    try:
        return splu(block.tocsc(), permc_spec="MMD_AT_PLUS_A")
    except RuntimeError:
        raise ConvergenceError(
            "share (contributions)", 1, np.inf, "singular: a loop of shares sums to 1"
        ) from None


def _strongest(src, dst, weight) -> tuple[np.ndarray, ...]:
    """A loop block's edges for Dijkstra: the strongest of parallel edges, cost -log w (at
    least the smallest positive float: scipy's csgraph drops explicit zeros)."""
    key = src.astype(np.int64) * (int(dst.max(initial=0)) + 1) + dst
    order = np.lexsort((-weight, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    pick = order[first]
    cost = np.maximum(-np.log(weight[pick]), np.finfo(float).tiny)
    return src[pick], dst[pick], cost


# --- one chunk of sources, forward --------------------------------------------------------------


def _parts(graph, schedule, flow, s, targets, top) -> SourceParts:
    weight = graph.share if flow.mode == "share" else graph.confidence
    sources = np.flatnonzero((s > 0) & upstream_of(graph, targets, weight))
    sources = sources[np.argsort(schedule.place[sources], kind="stable")]
    kept = _Kept(len(targets), top)
    for first in range(0, len(sources), CHUNK):
        chunk = sources[first : first + CHUNK]
        start = _injected(graph, schedule, s, chunk, flow.mode)
        values = _forward(schedule, flow, start)
        kept.add(values[schedule.place[targets]], chunk)
    return kept.parts(flow.mode, targets)


def _injected(graph, schedule, s, chunk, mode) -> np.ndarray:
    """What each source of the chunk puts in, per place and column: its value at itself and
    through its own MAKES edges."""
    column = np.full(graph.n, -1)
    column[chunk] = np.arange(len(chunk))
    own = graph.own & (column[graph.src] >= 0)
    at = schedule.place[np.concatenate([chunk, graph.dst[own]])]
    col = np.concatenate([np.arange(len(chunk)), column[graph.src[own]]])
    edge_weight = graph.share[own] if mode == "share" else graph.confidence[own]
    itself = graph.unmapped[chunk] if mode == "share" else np.ones(len(chunk))
    value = np.concatenate([itself * s[chunk], edge_weight * s[graph.src[own]]])
    start = np.zeros((graph.n, len(chunk)))
    (np.add if mode == "share" else np.maximum).at(start, (at, col), value)
    return start


def _forward(schedule, flow, start) -> np.ndarray:
    """Every place's value per column, round by round (rounds before the chunk's first
    source hold nothing and are skipped)."""
    value = np.zeros_like(start)
    live = np.flatnonzero(start.any(axis=1))
    first = live.min() if len(live) else len(value)
    for number, (begin, loop, end) in enumerate(schedule.bounds):
        if end <= first:
            continue
        value[begin:end] = _arrived(flow, value, start, begin, end)
        if loop < end:
            value[loop:end] = _solve_loop(flow, number, value[loop:end])
    return np.clip(value, 0.0, 1.0)


def _arrived(flow, value, start, begin, end) -> np.ndarray:
    """The places begin:end's injections with what their cross edges bring: the sum of
    share x value, or the max of confidence x value."""
    if flow.mode == "share":
        return start[begin:end] + flow.cross_matrix[begin:end] @ value
    edges, into = flow.cross, start[begin:end].copy()
    lo, hi = edges.starts[begin], edges.starts[end]
    if hi == lo:
        return into
    carried = value[edges.src[lo:hi]] * edges.weight[lo:hi, None]
    rows = np.flatnonzero(np.diff(edges.starts[begin : end + 1]))
    segments = edges.starts[begin:end][rows] - lo
    into[rows] = np.maximum(into[rows], np.maximum.reduceat(carried, segments, axis=0))
    return into


def _solve_loop(flow, number, arrived) -> np.ndarray:
    """A round's loop block given what arrived from outside: share by its LU, path by
    Dijkstra."""
    if flow.mode == "path":
        return _strongest_chains(flow.inner[number], arrived)
    solved = flow.inner[number].solve(np.asfortranarray(arrived))
    if not np.isfinite(solved).all():
        raise ConvergenceError("share (contributions)", 1, np.inf, "the share system is singular")
    return solved


def _strongest_chains(edges, arrived: np.ndarray) -> np.ndarray:
    """Path values on a loop block: per column, the best of arrived(v) x the best chain from
    v, by one Dijkstra from a virtual start per column (edges to every v, cost -log arrived)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    src, dst, cost = edges
    size, columns = arrived.shape
    node, column = np.nonzero(arrived > 0)
    start_cost = np.maximum(-np.log(arrived[node, column]), np.finfo(float).tiny)
    rows = np.concatenate([src, size + column])
    cols = np.concatenate([dst, node])
    graph = csr_matrix(
        (np.concatenate([cost, start_cost]), (rows, cols)), shape=(size + columns,) * 2
    )
    distance = dijkstra(graph, indices=np.arange(size, size + columns))[:, :size]
    return np.exp(-distance).T


# --- the largest parts per target, chunk by chunk ---------------------------------------------


class _Kept:
    """Per target the ``top`` largest parts so far, the count of positive parts and their sum."""

    def __init__(self, targets: int, top: int):
        self.top = top
        self.value = np.zeros((targets, 0))
        self.source = np.zeros((targets, 0), dtype=np.int64)
        self.n_sources = np.zeros(targets, dtype=np.int64)
        self.total = np.zeros(targets)

    def add(self, values: np.ndarray, sources: np.ndarray) -> None:
        self.n_sources += (values > 0).sum(axis=1)
        self.total += values.sum(axis=1)
        value = np.concatenate([self.value, values], axis=1)
        source = np.concatenate([self.source, np.broadcast_to(sources, values.shape)], axis=1)
        if value.shape[1] > self.top:
            best = (
                np.argpartition(-value, self.top - 1, axis=1)[:, : self.top]
                if self.top
                else value[:, :0].astype(int)
            )
            value, source = np.take_along_axis(value, best, 1), np.take_along_axis(source, best, 1)
        self.value, self.source = value, source

    def parts(self, mode: str, targets: np.ndarray) -> SourceParts:
        order = np.lexsort((self.source, -self.value), axis=1)
        value = np.take_along_axis(self.value, order, 1)
        source = np.take_along_axis(self.source, order, 1)
        row, col = np.nonzero(value > 0)
        amount = value[row, col]
        total = value.sum(axis=1) if mode == "reach" else self.total
        return SourceParts(
            mode=mode,
            target=targets[row],
            source=source[row, col],
            amount=amount,
            targets=targets,
            n_sources=self.n_sources,
            total=total,
        )


# --- reach: one forward run per listed source, side by side -----------------------------------


def reach_alone(graph: IndexedGraph, s: np.ndarray, path: SourceParts) -> SourceParts:
    """The reach each target would have with only that source, for the sources ``path``
    lists per target (their best chains). Each source gets its own copy of the nodes its
    exposure can reach, upstream of the targets; the copies are scored by the engine's reach
    in one run per batch (the rounds walk all copies at once, so depth is paid once)."""
    sources = np.unique(path.source)
    upstream = upstream_of(graph, path.targets, graph.confidence)
    forward = _forward_matrix(graph)
    value_of: dict[tuple[int, int], float] = {}
    for batch in _batches(graph, forward, sources, upstream):
        value_of.update(_reach_batch(graph, s, batch, path))
    amount = np.array([value_of[key] for key in zip(path.target.tolist(), path.source.tolist())])
    order = np.lexsort((path.source, -amount, path.target))
    listed = np.bincount(path.target, weights=amount, minlength=graph.n)
    return SourceParts(
        mode="reach",
        target=path.target[order],
        source=path.source[order],
        amount=amount[order],
        targets=path.targets,
        n_sources=path.n_sources,
        total=listed[path.targets],
    )


#: nodes of the source copies scored together in reach_alone
COPIES_NODES = 4_000_000


def _forward_matrix(graph: IndexedGraph):
    """Every edge of positive confidence, as a CSR matrix by source (for reachability)."""
    from scipy.sparse import csr_matrix

    use = graph.confidence > 0
    ones = np.ones(int(use.sum()), dtype=np.int8)
    return csr_matrix((ones, (graph.src[use], graph.dst[use])), shape=(graph.n, graph.n))


def _batches(graph, forward, sources, upstream):
    """(source, mask of the nodes between it and the targets) in batches of COPIES_NODES."""
    from scipy.sparse.csgraph import breadth_first_order

    batch, size = [], 0
    for source in sources.tolist():
        between = np.zeros(graph.n, dtype=bool)
        between[breadth_first_order(forward, source, return_predecessors=False)] = True
        between &= upstream
        batch.append((source, between))
        size += int(between.sum())
        if size >= COPIES_NODES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _reach_batch(graph, s, batch, path) -> dict[tuple[int, int], float]:
    """Reach-alone of the listed (target, source) pairs of one batch of sources."""
    union, offsets = copies(graph, [between for _, between in batch])
    only = np.zeros(union.n)
    for (source, _), offset in zip(batch, offsets, strict=True):
        only[offset[source]] = s[source]
    values = reach_scores(union, only, own_score=only)
    found = {}
    for (source, _), offset in zip(batch, offsets, strict=True):
        for t in path.target[path.source == source].tolist():
            found[(t, source)] = float(values[offset[t]])
    return found


def copies(graph: IndexedGraph, masks: list[np.ndarray]) -> tuple[IndexedGraph, list]:
    """One graph holding a copy of the graph on each mask's nodes (the edges between them,
    flags as in the whole graph), and per copy every node's position in it (-1 outside)."""
    from dataclasses import replace

    offsets, edges, placed = [], [], 0
    for keep in masks:
        local = np.full(graph.n, -1)
        local[keep] = placed + np.arange(int(keep.sum()))
        offsets.append(local)
        edges.append(np.flatnonzero((local[graph.src] >= 0) & (local[graph.dst] >= 0)))
        placed += int(keep.sum())
    nodes = np.concatenate([np.flatnonzero(keep) for keep in masks])
    local_src = np.concatenate([o[graph.src[e]] for o, e in zip(offsets, edges, strict=True)])
    local_dst = np.concatenate([o[graph.dst[e]] for o, e in zip(offsets, edges, strict=True)])
    edges = np.concatenate(edges)
    union = replace(
        graph,
        ids=graph.ids[nodes],
        is_supplier=graph.is_supplier[nodes],
        src=local_src,
        dst=local_dst,
        edge_row=graph.edge_row[edges],
        confidence=graph.confidence[edges],
        share=graph.share[edges],
        own=graph.own[edges],
        part_of=graph.part_of[edges],
        share_imputed=graph.share_imputed[nodes],
        unmapped=graph.unmapped[nodes],
    )
    return union, offsets
