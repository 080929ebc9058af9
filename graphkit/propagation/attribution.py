"""Per-source contributions for every target, without a (node, source) pair budget.

What a source j contributes to a target t, per mode:

- share: its exact additive part, [(I - A^T)^-1]_{t,.} b_j, where b_j is what j injects
  (its value added, unmapped(j) x s(j), at j; share x s(j) at the target of each of its own
  MAKES edges). The parts of all sources sum to the share score. The row of (I - A^T)^-1 for
  t is the solution y of (I - A) y = e_t, a backward solve from the target: one sparse LU of
  the target block's upstream system in the engine's topological order of loops
  (triangular outside loops, so no fill-in there) and one triangular solve per target.
- path: the best chain value from j into t, s(j) x the best product of confidences (j may
  start with an own MAKES edge): one Dijkstra on -log confidences from each target
  backwards over its upstream nodes (compiled, scipy).
- reach: the reach t would have if j were the only source, for the ``top`` sources with
  the best chains into t (path parts; reach-alone is not additive, so it needs a forward
  run per source: the engine's own reach, on a copy per source of the nodes between it
  and the targets, all copies of a batch in one run).

Targets go in blocks (``BLOCK`` at a time, halved while the block's upstream rows times
its targets exceed ``DENSE_CELLS``); per target only the ``top`` largest parts are kept,
with the number of contributing sources and their total. Time: one upstream search and
one factorisation per block, linear in depth (no rounds, no recursion).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from graphkit.errors import ConvergenceError
from graphkit.graph import MODES, buyer_facing_mask
from graphkit.propagation.modes import reach_scores
from graphkit.propagation.upstream import upstream_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

    from graphkit.graph import IndexedGraph

#: sources kept per target (largest parts first)
TOP = 20
#: targets solved together
BLOCK = 64
#: largest dense (upstream nodes x targets) block
DENSE_CELLS = 20_000_000


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
    modes = tuple(modes)
    targets = np.flatnonzero(buyer_facing_mask(graph)) if targets is None else targets
    targets = np.unique(np.asarray(targets, dtype=np.int64))
    found = {}
    if "share" in modes:
        found["share"] = _by_blocks(graph, s, targets, top, "share")
    if "path" in modes or "reach" in modes:
        path = _by_blocks(graph, s, targets, top, "path")
        if "path" in modes:
            found["path"] = path
        if "reach" in modes:
            found["reach"] = reach_alone(graph, s, path)
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


# --- blocks of targets, solved backwards ------------------------------------------------------


def _by_blocks(graph, s, targets, top, mode) -> SourceParts:
    weight = graph.share if mode == "share" else graph.confidence
    pieces = [
        _block(graph, s, block, inside, top, mode)
        for block, inside in _blocks(graph, targets, weight)
    ]
    return _joined(mode, targets, pieces)


def _blocks(graph, targets, weight):
    """(targets, their upstream mask) in blocks whose dense solve fits DENSE_CELLS."""
    pending = [targets[i : i + BLOCK] for i in range(0, len(targets), BLOCK)]
    while pending:
        block = pending.pop()
        inside = upstream_of(graph, block, weight)
        if len(block) > 1 and inside.sum() * len(block) > DENSE_CELLS:
            half = len(block) // 2
            pending += [block[:half], block[half:]]
        else:
            yield block, inside


def _block(graph, s, block, inside, top, mode) -> tuple[np.ndarray, ...]:
    """(target, source, amount) rows and per-target (n_sources, total) of one block."""
    nodes = np.flatnonzero(inside)
    local = np.full(graph.n, -1)
    local[nodes] = np.arange(len(nodes))
    reach = _share_rows if mode == "share" else _path_rows
    rows = reach(graph, nodes, local, local[block])  # (len(block), len(nodes))
    amount = _injected(graph, s, nodes, local, rows, mode)
    return _kept(block, nodes, amount, top)


def _carrying(graph, local, weight):
    """Carrying edges with both ends upstream, in local positions, and their weights (a
    maker upstream only through its own MAKES edges passes on nothing it buys)."""
    keep = ~graph.own & (weight > 0) & (local[graph.dst] >= 0) & (local[graph.src] >= 0)
    return local[graph.src[keep]], local[graph.dst[keep]], weight[keep]


def _share_rows(graph, nodes, local, ends) -> np.ndarray:
    """Rows of (I - A^T)^-1 for the targets: solve (I - A) Y = E by one sparse LU, the nodes
    in the order of the loop schedule (so the system is triangular outside loops and the
    factors fill in only within loops)."""
    from scipy.sparse import csc_matrix, identity
    from scipy.sparse.linalg import splu

    src, dst, share = _carrying(graph, local, graph.share)
    m = len(nodes)
    place = np.empty(m, dtype=np.int64)
    place[np.argsort(_schedule_position(graph)[nodes], kind="stable")] = np.arange(m)
    a = csc_matrix((share, (place[src], place[dst])), shape=(m, m))
    unit = np.zeros((m, len(ends)))
    unit[place[ends], np.arange(len(ends))] = 1.0
    try:
        lu = splu(identity(m, format="csc") - a, permc_spec="NATURAL", diag_pivot_thresh=0.0)
        solved = lu.solve(unit)[place]
    except RuntimeError:
        raise ConvergenceError(
            "share (contributions)", 1, np.inf, "singular: a loop of shares sums to 1"
        ) from None
    if not np.isfinite(solved).all():
        raise ConvergenceError("share (contributions)", 1, np.inf, "the share system is singular")
    return np.clip(solved.T, 0.0, None)


def _schedule_position(graph: IndexedGraph) -> np.ndarray:
    """Each node's place in the engine's topological order of loops (``graph.rounds``)."""
    order = np.concatenate([nodes for nodes, _, _ in graph.rounds.rounds] or [np.zeros(0, int)])
    position = np.empty(graph.n, dtype=np.int64)
    position[order] = np.arange(len(order))
    return position


def _path_rows(graph, nodes, local, ends) -> np.ndarray:
    """Best product of confidences from every upstream node into each target."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    src, dst, confidence = _carrying(graph, local, graph.confidence)
    m = len(nodes)
    # backwards (target to source); csgraph drops explicit zeros and sums parallel edges, so
    # certain edges get the smallest positive cost and parallels keep their best (max conf)
    key = dst.astype(np.int64) * m + src
    order = np.lexsort((-confidence, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    pick = order[first]
    cost = np.maximum(-np.log(confidence[pick]), np.finfo(float).tiny)
    backwards = csr_matrix((cost, (dst[pick], src[pick])), shape=(m, m))
    return np.exp(-dijkstra(backwards, indices=ends))


def _injected(graph, s, nodes, local, rows, mode) -> np.ndarray:
    """Per (target, upstream node as source) the source's part, from the backward rows."""
    own = graph.own & (local[graph.dst] >= 0) & (s[graph.src] > 0)
    maker, into = local[graph.src[own]], local[graph.dst[own]]
    if mode == "share":
        amount = rows * (graph.unmapped[nodes] * s[nodes])
        through_own = rows[:, into] * (graph.share[own] * s[graph.src[own]])
        np.add.at(amount.T, maker, through_own.T)
        return amount
    amount = rows * s[nodes]
    through_own = rows[:, into] * (graph.confidence[own] * s[graph.src[own]])
    np.maximum.at(amount.T, maker, through_own.T)
    return amount


def _kept(block, nodes, amount, top) -> tuple[np.ndarray, ...]:
    """The ``top`` largest positive parts per target, the count and total of all of them."""
    amount = np.clip(amount, 0.0, 1.0)
    positive = amount > 0
    n_sources, total = positive.sum(axis=1), amount.sum(axis=1)
    keep = min(top, amount.shape[1])
    best = np.argpartition(-amount, keep - 1, axis=1)[:, :keep] if keep else amount[:, :0]
    chosen = np.take_along_axis(amount, best, axis=1)
    order = np.lexsort((nodes[best], -chosen), axis=1) if keep else best
    best, chosen = np.take_along_axis(best, order, 1), np.take_along_axis(chosen, order, 1)
    row, col = np.nonzero(chosen > 0)
    return block[row], nodes[best[row, col]], chosen[row, col], block, n_sources, total


def _joined(mode, targets, pieces) -> SourceParts:
    parts = [np.concatenate([p[i] for p in pieces]) if pieces else np.zeros(0) for i in range(6)]
    target, source, amount, blocks, n_sources, total = parts
    place = np.argsort(blocks.astype(np.int64), kind="stable")
    order = np.argsort(target.astype(np.int64), kind="stable")
    return SourceParts(
        mode=mode,
        target=target[order].astype(np.int64),
        source=source[order].astype(np.int64),
        amount=amount[order].astype(float),
        targets=targets,
        n_sources=np.asarray(n_sources[place], dtype=np.int64),
        total=np.asarray(total[place], dtype=float),
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
