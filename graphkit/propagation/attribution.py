"""Per-source contributions for every target, without a (node, source) pair budget.

What a source j contributes to a target t, per mode, is t's score if j were the only source
(the engine's own rules, BOM rule included: j injects its own score at itself and, through
each of its own MAKES edges, into that edge's product):

- share: j's exact additive part (the share system is linear, so the parts of all sources
  sum to the share score); j injects its value added, unmapped(j) x s(j);
- path: j's best chain into t, s(j) x the best product of confidences;
- reach: the reach t would have if j were the only source (noisy-OR: not additive), for the
  ``top`` sources with the best chains into t (its path parts).

Share parts are a forward pass over the engine's topological order of loops
(``graph.rounds``) with one column per source, ``CHUNK`` sources at a time: a round's nodes
take their inputs from earlier rounds in one sparse product, and the nodes on a round's
loops are solved together by one sparse LU of the loop block, factorised once for all
chunks. The work is (edges x sources) / CHUNK vectorised steps; depth costs one step per
round and chunk, never recursion. Path parts are every node's ``top`` best sources in one
pass (``strongest.strongest_sources``: about edges x ``top`` work). Reach alone is the
engine's own reach on a copy per listed source of the nodes between it and the targets
(``reach_alone``). Per target the ``top`` largest parts are kept, with the number of sources
that contribute (share: with a positive part; path and reach: with a chain of positive
confidence) and their total (path and reach: the total of the ``top`` listed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from graphkit.errors import ConvergenceError
from graphkit.graph import MODES, buyer_facing_mask
from graphkit.graph.loops import row_starts, stable_order
from graphkit.propagation.leading import leading_sources
from graphkit.propagation.modes import reach_scores, solve_loops
from graphkit.propagation.strongest import StrongestSources, strongest_sources
from graphkit.propagation.upstream import downstream_of, upstream_of

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
    complete: np.ndarray | None = None  # leading parts: per target, whether they are exact

    def of(self, targets: np.ndarray) -> SourceParts:
        """The parts of some of the targets (sorted, each one of ``targets``)."""
        keep = np.isin(self.target, targets)
        where = np.searchsorted(self.targets, targets)
        complete = None if self.complete is None else self.complete[where]
        return SourceParts(self.mode, self.target[keep], self.source[keep], self.amount[keep],
                           targets, self.n_sources[where], self.total[where], complete)  # fmt: skip


def source_parts(
    graph: IndexedGraph,
    s: np.ndarray,
    targets: np.ndarray | None = None,
    modes: Iterable[str] = MODES,
    top: int = TOP,
    reach_targets: np.ndarray | None = None,
    tol: float = 1e-12,
    max_iter: int = 10_000,
) -> dict[str, SourceParts]:
    """Each asked mode's per-source parts for ``targets`` (default: the buyer-facing nodes;
    reach parts for ``reach_targets`` if given, a costlier part)."""
    targets = np.flatnonzero(buyer_facing_mask(graph)) if targets is None else targets
    targets = np.unique(np.asarray(targets, dtype=np.int64))
    modes = tuple(modes)
    found = {}
    if "share" in modes:
        found["share"] = _share_parts(graph, s, targets, top, tol, max_iter)
    if "path" in modes or "reach" in modes:
        found["path"] = _path_parts(strongest_sources(graph, s, top), targets)
    if "reach" in modes:
        listed = found["path"]
        if reach_targets is not None:
            listed = listed.of(np.unique(np.asarray(reach_targets, dtype=np.int64)))
        found["reach"] = reach_alone(graph, s, listed)
    return {mode: found[mode] for mode in modes}


def leading_parts(
    graph: IndexedGraph, s: np.ndarray, mode: str, targets: np.ndarray, top: int = TOP
) -> SourceParts:
    """The targets' ``top`` leading parts in share or reach mode, every node's in one pass
    (``leading.leading_sources``): lower bounds, exact where ``complete``; the number of
    sources is known where they are complete and fewer than ``top`` (-1 elsewhere)."""
    lead = leading_sources(graph, s, mode, top)
    listed = (lead.source[targets] >= 0).sum(axis=1)
    count = np.where(lead.complete[targets] & (listed < top), listed, -1)
    return _listed_parts(mode, lead.source, lead.value, targets, count, lead.complete[targets])


def parts_frame(graph: IndexedGraph, parts: dict[str, SourceParts]) -> pd.DataFrame:
    """The long table (target, source, amount, mode, exact) of ``propagate``'s contributions
    (exact: False for leading parts of a target that is not complete, lower bounds)."""
    import pandas as pd

    frames = [
        pd.DataFrame(
            {
                "target": graph.ids[p.target],
                "source": graph.ids[p.source],
                "amount": p.amount,
                "mode": mode,
                "exact": _exact_rows(p),
            }
        )
        for mode, p in parts.items()
    ]
    empty = pd.DataFrame({"target": [], "source": [], "amount": [], "mode": [], "exact": []})
    return pd.concat(frames, ignore_index=True) if frames else empty


def _exact_rows(parts: SourceParts) -> np.ndarray:
    """Per row of ``parts``, whether its amount is exact (its target's parts are complete)."""
    if parts.complete is None:
        return np.ones(len(parts.target), dtype=bool)
    return parts.complete[np.searchsorted(parts.targets, parts.target)]


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
        node, place = rounds.places()
        ends = rounds.round_starts[1:].tolist()
        loops = np.diff(rounds.looped_starts).tolist()
        starts = rounds.round_starts[:-1].tolist()
        bounds = [(a, b - k, b) for a, b, k in zip(starts, ends, loops)]
        return cls(place=place, bounds=bounds, label=rounds.label[node])


#: a round of at most this many rows takes its product row by row (slicing a scipy matrix costs
#: about 100 microseconds, a deep chain has a round per node)
FEW_ROWS = 8


def _rows_times(matrix, begin: int, end: int, values: np.ndarray) -> np.ndarray:
    """``matrix[begin:end] @ values`` for a CSR matrix."""
    if end - begin > FEW_ROWS:
        return matrix[begin:end] @ values
    lo, hi = matrix.indptr[begin], matrix.indptr[end]
    found = np.zeros((end - begin, values.shape[1]))
    if hi > lo:
        rows = np.repeat(np.arange(end - begin), np.diff(matrix.indptr[begin : end + 1]))
        np.add.at(found, rows, matrix.data[lo:hi, None] * values[matrix.indices[lo:hi]])
    return found


def _by_target(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, rows: int):
    """Edges as a CSR matrix by target (A[dst, src] = weight; parallel edges summed)."""
    from scipy.sparse import csr_matrix

    order = stable_order(dst)
    return csr_matrix((weight[order], src[order], row_starts(dst, rows)), shape=(rows, rows))


@dataclass
class _Flow:
    """The share edges in places: ``cross`` (into a round from earlier rounds, as a CSR
    matrix) and, per round with loops, the sparse LU of I - A on its loop block, factorised
    once for all chunks."""

    cross: object
    inner: dict[int, object]

    @classmethod
    def of(cls, graph: IndexedGraph, schedule: _Schedule) -> _Flow:
        (src, dst, weight), blocks = _share_edges(graph, schedule)
        inner = {number: _share_lu(*block) for number, block in blocks.items()}
        return cls(_by_target(src, dst, weight, graph.n), inner)


def _share_edges(graph: IndexedGraph, schedule: _Schedule):
    """The share edges in places: those between rounds (src, dst, weight), and per round
    with loops its loop block's edges in places from the block's start (src, dst, weight,
    size)."""
    keep = ~graph.own & (graph.share > 0)
    src, dst = schedule.place[graph.src[keep]], schedule.place[graph.dst[keep]]
    weight = graph.share[keep]
    inside = schedule.label[src] == schedule.label[dst]
    blocks = {}
    for number, (_, loop, end) in enumerate(schedule.bounds):
        if loop < end:
            pick = inside & (dst >= loop) & (dst < end)
            blocks[number] = (src[pick] - loop, dst[pick] - loop, weight[pick], end - loop)
    return (src[~inside], dst[~inside], weight[~inside]), blocks


def _share_lu(src, dst, weight, size: int) -> _LoopLU:
    """The sparse LU of I - A on a loop block (A[dst, src] = share), see ``_LoopLU``."""
    from scipy.sparse import identity
    from scipy.sparse.linalg import splu

    order = np.argsort(np.bincount(src, minlength=size) + np.bincount(dst, minlength=size),
                       kind="stable")  # fmt: skip
    rank = np.empty(size, dtype=np.int64)
    rank[order] = np.arange(size)
    block = identity(size, format="csr") - _by_target(rank[src], rank[dst], weight, size)
    try:
        lu = splu(block.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0,
                  options={"SymmetricMode": True})  # fmt: skip
    except RuntimeError:
        raise ConvergenceError(
            "share (contributions)", 1, np.inf, "singular: a loop of shares sums to 1"
        ) from None
    return _LoopLU(lu, order)


@dataclass
class _LoopLU:
    """The LU of I - A on a loop block with rows and columns taken in ascending order of
    degree (a static minimum-degree order; on the 20,415-supplier loop of 100,000 generated
    suppliers it factorises in 0.06 s with 0.7M entries, against 4.6 s and 1.3M for SuperLU's
    own MMD order, which also holds the GIL throughout). No pivoting: I - A with A >= 0 and
    row sums at most 1 is a nonsingular M-matrix unless a loop of shares sums to 1, and every
    symmetric permutation of such a matrix has LU factors without pivoting, which are
    M-matrices again (no growth)."""

    lu: object
    order: np.ndarray

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """x with (I - A) x = rhs, per column; a zero column's x is zero and is not solved
        for (at 100,000 generated suppliers over a third of the big loop's columns)."""
        solved = np.zeros_like(rhs)
        live = np.flatnonzero(rhs.any(axis=0))
        if len(live):
            rows = self.order[:, None]
            solved[rows, live] = self.lu.solve(np.asfortranarray(rhs[rows, live]))
        return solved


# --- share: by sources (forward) or by targets (backward) --------------------------------------


def share_sources(graph: IndexedGraph, s: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The sources whose value can flow into ``targets`` along edges of positive share."""
    return np.flatnonzero((s > 0) & upstream_of(graph, targets, graph.share))


def _share_parts(graph, s, targets, top, tol, max_iter) -> SourceParts:
    """Share parts with one column per source (forward) or, where there are fewer targets
    than sources, one column per target (backward): the same parts, the fewer columns."""
    sources = share_sources(graph, s, targets)
    if len(targets) < len(sources):
        schedule = _Schedule.of(graph)
        return _share_backward(graph, schedule, s, sources, targets, top, tol, max_iter)
    return _share_forward(graph, s, sources, targets, top)


def _share_forward(graph, s, sources, targets, top) -> SourceParts:
    """Share parts by sources, on a copy of the nodes between the sources and the targets
    (nothing else holds value that reaches a target: at 100,000 generated suppliers 84,039 of
    150,000 nodes), one buffer for every chunk."""
    between = downstream_of(graph, sources, graph.share) & upstream_of(graph, targets, graph.share)
    copy, (local,) = copies(graph, [between])
    schedule = _Schedule.of(copy)
    flow = _Flow.of(copy, schedule)
    sources = sources[np.argsort(schedule.place[local[sources]], kind="stable")]
    reached = local[targets] >= 0  # targets no source reaches get no parts
    at_targets = schedule.place[local[targets[reached]]]
    score = s[between]
    kept = _Kept(len(targets), top)
    buffer = np.empty((copy.n, CHUNK))
    for first in range(0, len(sources), CHUNK):
        chunk = sources[first : first + CHUNK]
        value = buffer[:, : len(chunk)]
        _inject(copy, schedule, score, local[chunk], value)
        _forward(schedule, flow, value)
        at = np.zeros((len(targets), len(chunk)))
        at[reached] = np.clip(value[at_targets], 0.0, 1.0)
        kept.add(at, chunk)
    return kept.parts("share", targets)


def _share_backward(graph, schedule, s, sources, targets, top, tol, max_iter) -> SourceParts:
    """Share parts by targets: per chunk of targets each node's weight in them (y = e_t +
    A y, the rounds in reverse; loop blocks by the engine's iterative loop solve); a
    source's part is what it injects times the weight where it injects it. A loop block no
    source reaches is not solved: its weights only pass to nodes no source reaches either
    (and its shares may sum to 1, a singular block the scores never see)."""
    onward, blocks = _backward_edges(graph, schedule)
    reached = np.empty(graph.n, dtype=bool)  # by place
    reached[schedule.place] = downstream_of(graph, sources, graph.share)
    own = np.flatnonzero(graph.own & np.isin(graph.src, sources))
    makes_at = schedule.place[graph.dst[own]]
    makes = (graph.share[own] * s[graph.src[own]])[:, None]
    itself = (graph.unmapped[sources] * s[sources])[:, None]
    row = np.full(graph.n, -1)
    row[sources] = np.arange(len(sources))
    found = []
    for first in range(0, len(targets), CHUNK):
        chunk = targets[first : first + CHUNK]
        y = np.zeros((graph.n, len(chunk)))
        y[schedule.place[chunk], np.arange(len(chunk))] = 1.0
        for number in range(len(schedule.bounds) - 1, -1, -1):
            begin, loop, end = schedule.bounds[number]
            y[begin:end] += _rows_times(onward, begin, end, y)
            if loop < end and reached[loop:end].any():
                y[loop:end] = solve_loops(blocks[number], y[loop:end], tol, max_iter)
        parts = itself * y[schedule.place[sources]]
        np.add.at(parts, row[graph.src[own]], makes * y[makes_at])
        kept = _Kept(len(chunk), top)
        kept.add(np.clip(parts.T, 0.0, 1.0), sources)
        found.append(kept.parts("share", chunk))
    return _joined("share", found, targets)


def _backward_edges(graph, schedule):
    """The share edges by source in places: to later rounds (CSR, [u, v] = share) and per
    round with loops its loop block's."""
    (src, dst, weight), blocks = _share_edges(graph, schedule)
    by_source = {n: _by_target(d, s, w, size) for n, (s, d, w, size) in blocks.items()}
    return _by_target(dst, src, weight, graph.n), by_source


def _joined(mode: str, found: list[SourceParts], targets: np.ndarray) -> SourceParts:
    """Parts of consecutive chunks of ``targets`` as one."""
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return SourceParts(mode, empty, empty, np.zeros(0), targets, empty, np.zeros(0))
    columns = ("target", "source", "amount")
    joined = {name: np.concatenate([getattr(p, name) for p in found]) for name in columns}
    n_sources = np.concatenate([p.n_sources for p in found])
    total = np.concatenate([p.total for p in found])
    return SourceParts(mode, **joined, targets=targets, n_sources=n_sources, total=total)


def _inject(graph, schedule, s, chunk, value: np.ndarray) -> None:
    """Sets ``value`` (places x chunk) to what each source of the chunk puts in: its value
    added at itself and its score through its own MAKES edges (times their shares)."""
    column = np.full(graph.n, -1)
    column[chunk] = np.arange(len(chunk))
    own = graph.own & (column[graph.src] >= 0)
    at = schedule.place[np.concatenate([chunk, graph.dst[own]])]
    col = np.concatenate([np.arange(len(chunk)), column[graph.src[own]]])
    put = np.concatenate([graph.unmapped[chunk] * s[chunk], graph.share[own] * s[graph.src[own]]])
    value.fill(0.0)
    np.add.at(value, (at, col), put)


def _forward(schedule, flow, value: np.ndarray) -> None:
    """Carries what is injected in ``value`` to every place, in place, round by round: a
    round's rows add their inputs from earlier rounds, then its loops are solved (rounds
    before the chunk's first source hold nothing and are skipped)."""
    live = np.flatnonzero(value.any(axis=1))
    first = live.min() if len(live) else len(value)
    for number, (begin, loop, end) in enumerate(schedule.bounds):
        if end <= first:
            continue
        value[begin:end] += _rows_times(flow.cross, begin, end, value)
        if loop < end:
            solved = flow.inner[number].solve(value[loop:end])
            if not np.isfinite(solved).all():
                raise ConvergenceError(
                    "share (contributions)", 1, np.inf, "the share system is singular"
                )
            value[loop:end] = solved


def _path_parts(strongest: StrongestSources, targets: np.ndarray) -> SourceParts:
    """The targets' rows of every node's strongest sources, as parts."""
    count = strongest.count[targets]
    return _listed_parts("path", strongest.source, strongest.value, targets, count, None)


def _listed_parts(mode, source, value, targets, n_sources, complete) -> SourceParts:
    """The targets' rows of per-node lists of sources (best first, -1 where fewer)."""
    source, value = source[targets], value[targets]
    row, col = np.nonzero(source >= 0)
    return SourceParts(
        mode=mode,
        target=targets[row],
        source=source[row, col],
        amount=value[row, col],
        targets=targets,
        n_sources=n_sources,
        total=value.sum(axis=1),
        complete=complete,
    )


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
        return SourceParts(
            mode=mode,
            target=targets[row],
            source=source[row, col],
            amount=value[row, col],
            targets=targets,
            n_sources=self.n_sources,
            total=self.total,
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
