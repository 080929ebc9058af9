"""Per-node lists of a mode's ``top`` sources, carried over a loop schedule: what
``strongest`` (path parts, exact) and ``leading`` (share and reach parts, lower bounds) share.

The nodes sit in places (the schedule's rounds, each round's loop nodes last); the mode's
edges are held by target place, and what each source injects (its term at itself, its score
through its own MAKES edges) by place. A round's places take their inputs from earlier
places in one vectorised merge: the predecessors' lists times the edges' weights plus the
injections, combined per source by the mode's rule, the ``top`` largest per place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from graphkit.graph.loops import row_starts, stable_order

if TYPE_CHECKING:
    from graphkit.graph import IndexedGraph


@dataclass
class SourceLists:
    """A mode's edges in places, by target place, its injections, by place, and how it
    combines a source's values (``top_distinct``'s rule; ``saturate``: places where every
    positive part is 1, reach on loops of certain edges)."""

    rule: str
    place: np.ndarray  # place of each node
    into: np.ndarray  # CSR starts of the edges by target place
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    at: np.ndarray  # injections: CSR starts by place, then source node and value
    inject_source: np.ndarray
    inject_value: np.ndarray
    saturate: np.ndarray

    @classmethod
    def on_edges(cls, graph: IndexedGraph, rule, place, edges, weight, injected, **more):
        """The lists' fields for ``edges`` (edge ids) weighted by ``weight`` (per edge id),
        the ``injected`` (CSR starts, sources, values) of ``injections``, and ``more``
        fields (``saturate`` nowhere unless given)."""
        src, dst = place[graph.src[edges]], place[graph.dst[edges]]
        by_dst = np.lexsort((src, dst))
        more.setdefault("saturate", np.zeros(graph.n, dtype=bool))
        return cls(
            rule,
            place,
            row_starts(dst[by_dst], graph.n),
            src[by_dst],
            dst[by_dst],
            weight[edges[by_dst]],
            *injected,
            **more,
        )

    def merge(self, source, value, begin: int, end: int):
        """Sets places begin:end's lists from their injections and their edges from earlier
        places (``top_distinct``). Returns per place whether a part was dropped, and per
        edge taken its earlier place and its row (place - begin)."""
        top = source.shape[1]
        lo, hi = self.into[begin], self.into[end]
        outside = lo + np.flatnonzero(self.src[lo:hi] < begin)
        src, rows = self.src[outside], self.dst[outside] - begin
        i, j = self.at[begin], self.at[end]
        injected_at = np.repeat(np.arange(end - begin), np.diff(self.at[begin : end + 1]))
        (source[begin:end], value[begin:end]), dropped = self.top_distinct(
            np.concatenate([np.repeat(rows, top), injected_at]),
            np.concatenate([source[src].ravel(), self.inject_source[i:j]]),
            np.concatenate(
                [(value[src] * self.weight[outside, None]).ravel(), self.inject_value[i:j]]
            ),  # fmt: skip
            np.arange(begin, end),
            top,
        )
        return dropped, src, rows

    def top_distinct(self, rows, sources, values, places: np.ndarray, top: int):
        """``top_distinct`` by the mode's rule for rows at ``places``."""
        return top_distinct(rows, sources, values, len(places), top, self.rule,
                            self.saturate[places])  # fmt: skip


def injections(graph: IndexedGraph, s, term, own, weight, place: np.ndarray):
    """What each source j puts in, by place: ``term[j]`` at itself, weight x s(j) through each
    of its ``own`` MAKES edges (edge ids). Returns CSR starts by place, source nodes, values."""
    sources = np.flatnonzero(s > 0)
    at = place[np.concatenate([sources, graph.dst[own]])]
    source = np.concatenate([sources, graph.src[own]])
    value = np.concatenate([term[sources], weight[own] * s[graph.src[own]]])
    keep = value > 0
    order = stable_order(at[keep])
    return row_starts(at[keep][order], len(place)), source[keep][order], value[keep][order]


def top_distinct(rows, sources, values, n_rows: int, top: int, rule: str, saturated=None):
    """Per row the ``top`` largest parts of distinct sources, each source's values combined
    by ``rule`` ("max", "sum" or "noisy_or"; every part of a ``saturated`` row is 1), ties
    to the smaller source, as (n_rows, top) arrays (source -1 and value 0 where fewer); and
    per row whether a part was dropped."""
    keep = (sources >= 0) & (values > 0)
    rows, sources, values = rows[keep], sources[keep], values[keep]
    pair = rows * (int(sources.max(initial=0)) + 1) + sources
    order = stable_order(pair)
    pair = pair[order]
    first = np.ones(len(pair), dtype=bool)
    np.not_equal(pair[1:], pair[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    rows, sources = rows[order][starts], sources[order][starts]
    part = _combined(values[order], starts, rule)
    if saturated is not None:
        part = np.where(saturated[rows], 1.0, part)
    by_part = np.lexsort((-part, rows))  # stable: tied parts keep their sources ascending
    rows, sources, part = rows[by_part], sources[by_part], part[by_part]
    rank = np.arange(len(rows)) - row_starts(rows, n_rows)[rows]
    listed = rank < top
    out_source = np.full((n_rows, top), -1, dtype=np.int64)
    out_value = np.zeros((n_rows, top))
    out_source[rows[listed], rank[listed]] = sources[listed]
    out_value[rows[listed], rank[listed]] = part[listed]
    dropped = np.bincount(rows[~listed], minlength=n_rows) > 0
    return (out_source, out_value), dropped


def _combined(values: np.ndarray, starts: np.ndarray, rule: str) -> np.ndarray:
    """The values of each run (from ``starts``) combined by ``rule``."""
    if len(starts) == 0:
        return values[:0]
    if rule == "max":
        return np.maximum.reduceat(values, starts)
    if rule == "sum":
        return np.add.reduceat(values, starts)
    with np.errstate(divide="ignore"):
        return -np.expm1(np.add.reduceat(np.log1p(-values), starts))
