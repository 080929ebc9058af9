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
from graphkit.propagation.lists import SourceLists, injections, top_distinct

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
        flow.merge_complete(source, value, complete, begin, end)
        if loops[r]:
            flow.sweep(source, value, complete, end - loops[r], end, tol)
    place = flow.place
    return LeadingSources(source[place], value[place], complete[place])


@dataclass
class _Flow(SourceLists):
    """The mode's lists over the engine's rounds (each round's loop nodes last)."""

    @classmethod
    def of(cls, graph: IndexedGraph, s: np.ndarray, mode: str) -> _Flow:
        rule = RULE[mode]
        _, place = graph.rounds.places()
        weight = mode_weight(graph, rule)
        carry = np.flatnonzero(~graph.own & (weight > 0))
        own = np.flatnonzero(graph.own & (s[graph.src] > 0) & (weight > 0))
        saturate = np.zeros(graph.n, dtype=bool)
        if rule == "noisy_or":
            saturate[place[certain_loops(graph)]] = True
        injected = injections(graph, s, _term(graph, s, mode), own, weight, place)
        return cls.on_edges(graph, rule, place, carry, weight, injected, saturate=saturate)

    def merge_complete(self, source, value, complete, begin: int, end: int) -> None:
        """``merge``, and places begin:end are complete where nothing was dropped at them
        and every input is complete."""
        dropped, src, rows = self.merge(source, value, begin, end)
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
            (new_source, new_value), dropped = self.top_distinct(
                np.repeat(rows, top),
                np.concatenate([source[src], fixed_source[active]]).ravel(),
                values.ravel(),
                begin + active,
                top,
            )
            places = begin + active
            (new_source, new_value), kept_out = _not_below(
                source[places], value[places], new_source, new_value
            )
            dropped_any |= bool(dropped.any() or kept_out.any())
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


def _not_below(source, value, new_source, new_value):
    """Per row the ``top`` largest of its listed and its new parts, each source's larger
    one: both are lower bounds, so a sweep never lowers a part and the lists of a loop cannot
    cycle through the sources at their ``top``-th place (the sweeps of a truncated loop
    ascend to a limit). Also per row whether a part was dropped."""
    n, top = source.shape
    return top_distinct(
        np.repeat(np.arange(n), 2 * top),
        np.hstack([source, new_source]).ravel(),
        np.hstack([value, new_value]).ravel(),
        n,
        top,
        "max",
    )


def _term(graph: IndexedGraph, s: np.ndarray, mode: str) -> np.ndarray:
    """What a source puts in at itself: share, its value added (unmapped x s); reach, s."""
    return graph.unmapped * s if mode == "share" else s
