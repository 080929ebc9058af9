"""Every node's leading sources in share or reach mode, in one pass over the loop schedule
(contributions at any size, without a column per source).

Per node the ``top`` largest (source, part) pairs are carried, where a source's part is what
``per_source`` computes (share: its additive part; reach: the reach the node would have with
that source alone). A wide round takes its nodes' inputs in one vectorised merge (the
predecessors' lists times the edges' shares or confidences, aggregated per source by the
mode's rule, ``top`` per node); the nodes on its loops are then iterated together (Jacobi
sweeps over the loop's edges, only where an input changed) until no part changes by more
than ``tol`` relative to its node's largest, or ``MAX_SWEEPS`` (sweeps that bring a node a
source it did not list yet do not count, so that exposure always spreads round a loop).

Unlike path mode, keeping ``top`` per node is not exact here: a source dropped at u may
still add up to a leading part at v through other nodes. Every listed part is therefore a
lower bound (each iterate is: the rules are monotone, a dropped pair only takes value away),
and each node says whether anything was dropped on the way to it (``complete``: nothing was,
so its listed parts are its exact parts, all of them when it has fewer than ``top``). In
share mode the parts add up to the score, so the rest (score minus the listed parts) bounds
both what any unlisted source contributes and how much any listed part is understated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from graphkit.graph.loops import certain_loops, out_edges, row_starts, stable_order
from graphkit.graph.rules import mode_weight
from graphkit.propagation.strongest import injections

if TYPE_CHECKING:
    from graphkit.graph import IndexedGraph

#: Jacobi sweeps at most per loop block (the parts stay lower bounds if it stops there)
MAX_SWEEPS = 200
#: how the modes aggregate a node's inputs
RULE = {"share": "sum", "reach": "noisy_or"}


@dataclass
class LeadingSources:
    """Per node (rows by node position) its ``top`` largest parts, largest first: ``source``
    (node positions, -1 where fewer) and ``value`` (lower bounds, 0 where fewer), and
    ``complete`` (no part was dropped or left unconverged on the way: the parts are exact)."""

    source: np.ndarray
    value: np.ndarray
    complete: np.ndarray


def leading_sources(
    graph: IndexedGraph, s: np.ndarray, mode: str, top: int, tol: float = 1e-9
) -> LeadingSources:
    """Every node's ``top`` largest per-source parts in ``mode`` ("share" or "reach")."""
    flow = _Flow.of(graph, s, mode)
    n = graph.n
    source = np.full((n, top), -1, dtype=np.int64)
    value = np.zeros((n, top))
    complete = np.ones(n, dtype=bool)
    rounds = graph.rounds
    starts, loops = rounds.round_starts.tolist(), np.diff(rounds.looped_starts).tolist()
    for r in range(rounds.n_rounds):
        begin, end = starts[r], starts[r + 1]
        flow.merge(source, value, complete, begin, end)
        if loops[r]:
            flow.sweep(source, value, complete, end - loops[r], end, tol)
    place = flow.place
    return LeadingSources(source[place], value[place], complete[place])


@dataclass
class _Flow:
    """The mode's edges in places (the engine's rounds, each round's loop nodes last) by
    target place, and what each source injects, by place."""

    rule: str
    place: np.ndarray
    into: np.ndarray  # CSR starts of the edges by target place
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    at: np.ndarray  # injections: CSR starts by place, then source node and value
    inject_source: np.ndarray
    inject_value: np.ndarray
    saturate: np.ndarray  # reach: places on loops of certain edges (a positive part is 1)

    @classmethod
    def of(cls, graph: IndexedGraph, s: np.ndarray, mode: str) -> _Flow:
        rule = RULE[mode]
        _, place = graph.rounds.places()
        weight = mode_weight(graph, rule)
        carry = np.flatnonzero(~graph.own & (weight > 0))
        own = np.flatnonzero(graph.own & (s[graph.src] > 0) & (weight > 0))
        src, dst = place[graph.src[carry]], place[graph.dst[carry]]
        by_dst = np.lexsort((src, dst))
        saturate = np.zeros(graph.n, dtype=bool)
        if rule == "noisy_or":
            saturate[place[certain_loops(graph)]] = True
        return cls(
            rule,
            place,
            row_starts(dst[by_dst], graph.n),
            src[by_dst],
            dst[by_dst],
            weight[carry[by_dst]],
            *injections(graph, s, _term(graph, s, mode), own, weight, place),
            saturate,
        )

    def merge(self, source, value, complete, begin: int, end: int) -> None:
        """Places begin:end from their injections and their edges from earlier rounds."""
        top = source.shape[1]
        lo, hi = self.into[begin], self.into[end]
        outside = lo + np.flatnonzero(self.src[lo:hi] < begin)
        src, rows = self.src[outside], self.dst[outside] - begin
        i, j = self.at[begin], self.at[end]
        injected_at = np.repeat(np.arange(end - begin), np.diff(self.at[begin : end + 1]))
        found, dropped = self._aggregate(
            np.concatenate([np.repeat(rows, top), injected_at]),
            np.concatenate([source[src].ravel(), self.inject_source[i:j]]),
            np.concatenate(
                [(value[src] * self.weight[outside, None]).ravel(), self.inject_value[i:j]]
            ),  # fmt: skip
            np.arange(begin, end),
            top,
        )
        source[begin:end], value[begin:end] = found
        inherited = np.ones(end - begin, dtype=bool)
        np.logical_and.at(inherited, rows, complete[src])
        complete[begin:end] = inherited & ~dropped

    def sweep(self, source, value, complete, begin: int, end: int, tol: float) -> None:
        """Iterate places begin:end (a round's loop nodes) over their edges among themselves,
        from their merged inputs, until no part changes by more than ``tol``."""
        top = source.shape[1]
        lo, hi = self.into[begin], self.into[end]
        inside = lo + np.flatnonzero(self.src[lo:hi] >= begin)
        local_dst = self.dst[inside] - begin
        into = row_starts(local_dst, end - begin)
        by_src = stable_order(self.src[inside] - begin)
        onward = row_starts(self.src[inside][by_src] - begin, end - begin)
        fixed_source, fixed_value = source[begin:end].copy(), value[begin:end].copy()
        active, converged, dropped_any, sweeps = np.arange(end - begin), False, False, 0
        while sweeps < MAX_SWEEPS:  # sweeps that bring a node a new source do not count
            edges = inside[out_edges(into, active)]
            src = self.src[edges]
            rows = np.searchsorted(active, np.concatenate([self.dst[edges] - begin, active]))
            values = np.concatenate([value[src] * self.weight[edges, None], fixed_value[active]])
            (new_source, new_value), dropped = self._aggregate(
                np.repeat(rows, top),
                np.concatenate([source[src], fixed_source[active]]).ravel(),
                values.ravel(),
                begin + active,
                top,
            )
            dropped_any |= bool(dropped.any())
            places = begin + active
            change = np.abs(new_value - value[places]).max(axis=1, initial=0.0)
            moved = change > tol * new_value.max(axis=1, initial=0.0)  # values by rank
            arrived = ((new_source >= 0).sum(axis=1) > (source[places] >= 0).sum(axis=1)).any()
            sweeps += not arrived
            source[places], value[places] = new_source, new_value
            changed = active[moved]
            if len(changed) == 0:
                converged = True
                break
            active = np.unique(local_dst[by_src[out_edges(onward, changed)]])
        inherited = bool(complete[begin:end].all())
        complete[begin:end] = inherited and converged and not dropped_any

    def _aggregate(self, rows, sources, values, places: np.ndarray, top: int):
        """Per row (at ``places``) the ``top`` largest parts of distinct sources, each
        source's values aggregated by the mode's rule, and per row whether one was dropped."""
        n_rows = len(places)
        keep = (sources >= 0) & (values > 0)
        rows, sources, values = rows[keep], sources[keep], values[keep]
        pair = rows * (int(sources.max(initial=0)) + 1) + sources
        order = stable_order(pair)
        pair = pair[order]
        first = np.ones(len(pair), dtype=bool)
        np.not_equal(pair[1:], pair[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        rows, sources = rows[order][starts], sources[order][starts]
        summed = self._combined(values[order], starts, places[rows])
        by_value = np.lexsort((sources, -summed, rows))
        rows, sources, summed = rows[by_value], sources[by_value], summed[by_value]
        rank = np.arange(len(rows)) - row_starts(rows, n_rows)[rows]
        listed = rank < top
        out_source = np.full((n_rows, top), -1, dtype=np.int64)
        out_value = np.zeros((n_rows, top))
        out_source[rows[listed], rank[listed]] = sources[listed]
        out_value[rows[listed], rank[listed]] = summed[listed]
        dropped = np.bincount(rows[~listed], minlength=n_rows) > 0
        return (out_source, out_value), dropped

    def _combined(self, values: np.ndarray, starts: np.ndarray, places: np.ndarray):
        """The values of each run (from ``starts``) aggregated by the mode's rule."""
        if len(starts) == 0:
            return values[:0]
        if self.rule == "sum":
            return np.add.reduceat(values, starts)
        with np.errstate(divide="ignore"):
            combined = -np.expm1(np.add.reduceat(np.log1p(-values), starts))
        return np.where(self.saturate[places], 1.0, combined)


def _term(graph: IndexedGraph, s: np.ndarray, mode: str) -> np.ndarray:
    """What a source puts in at itself: share, its value added (unmapped x s); reach, s."""
    return graph.unmapped * s if mode == "share" else s
