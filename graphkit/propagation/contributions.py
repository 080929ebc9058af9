"""Per-source contributions: each source's part of each target's value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from graphkit.errors import ConvergenceError, TooManyPairs
from graphkit.graph.loops import certain_loops, out_edges, row_starts
from graphkit.graph.rules import AGGREGATE, mode_weight, reduce_by
from graphkit.propagation.modes import relative_change
from graphkit.propagation.upstream import upstream_of

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.graph.index import IndexedGraph


#: how many contributing sources ``top_sources`` lists
TOP_SOURCES = 5


#: graphs up to this many nodes get per-source contributions for every node by default
CONTRIBUTIONS_ALL_NODES_UP_TO = 2_000
#: above that, "auto" computes exact share parts for every exposed buyer-facing node while
#: their columns (the fewer of sources and targets) x share edges stay under this (2,861 x
#: 758,382 at 100,000 generated suppliers: about 6 s), else leading share parts
#: (``leading.leading_sources``, lower bounds with a certified rest)
SHARE_WORK = 4e9


#: per-source contributions give up beyond this many (node, source) pairs
MAX_PAIRS = 300_000


@dataclass
class Contributions:
    """Per (target, source) amounts for one mode, as parallel arrays of node positions."""

    target: np.ndarray
    source: np.ndarray
    amount: np.ndarray


def per_source(
    graph: IndexedGraph,
    mode: str,
    term: np.ndarray,
    own_score: np.ndarray,
    targets: np.ndarray,
    tol: float = 1e-12,
    max_iter: int = 10_000,
    max_pairs: int = MAX_PAIRS,
) -> Contributions:
    """Each source's part of each target's value: the same propagation, one column per source.

    share: the exact additive part (sums to the score); reach: the reach the target would
    have if this were the only source; path: the best chain value from this source.
    Only (node, source) pairs that can reach ``targets`` are propagated.
    """
    agg = AGGREGATE[mode]
    if len(targets) == 0:
        return Contributions(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, float)))
    tol = 0.0 if agg == "max" else tol  # path values settle exactly
    weight = mode_weight(graph, agg)
    inside = upstream_of(graph, targets, weight)
    fixed_keys, fixed_values = _initial_pairs(graph, term, own_score, weight, inside, agg)
    carry = ~graph.own & (weight > 0) & inside[graph.dst]
    _, e_dst, e_weight, starts = _by_source(graph, carry, weight)
    n = np.int64(graph.n)
    saturate = certain_loops(graph) if agg == "noisy_or" else np.zeros(graph.n, dtype=bool)
    keys, values, residual, refining = fixed_keys, fixed_values, np.inf, 0
    while refining < max_iter:  # rounds that reach new (node, source) pairs do not count
        node = keys // n
        degree = starts[node + 1] - starts[node]
        edge = out_edges(starts, node)
        new_keys, new_values = _aggregate_pairs(
            np.concatenate([fixed_keys, e_dst[edge] * n + np.repeat(keys % n, degree)]),
            np.concatenate([fixed_values, e_weight[edge] * np.repeat(values, degree)]),
            agg,
        )
        if len(new_keys) > max_pairs:
            raise TooManyPairs(
                f"per-source contributions need more than {max_pairs:,} (node, source) pairs; "
                "ask for fewer targets (contributions_for)"
            )
        new_values[saturate[new_keys // n] & (new_values > 0)] = 1.0
        same = np.array_equal(new_keys, keys)
        residual = relative_change(np.abs(new_values - values), new_values) if same else np.inf
        keys, values, refining = new_keys, new_values, refining + same
        if residual <= tol:
            break
    else:
        raise ConvergenceError(f"{mode} (per-source contributions)", max_iter, residual)
    at_target = np.isin(keys // n, targets) & (values > 0)
    found = keys[at_target]
    return Contributions(found // n, found % n, np.clip(values[at_target], 0.0, 1.0))


def _by_source(graph: IndexedGraph, edges: np.ndarray, weight: np.ndarray):
    """The selected edges (sorted by source): src, dst, weight, CSR row starts per node."""
    src = graph.src[edges]
    return src, graph.dst[edges], weight[edges], row_starts(src, graph.n)


def _initial_pairs(graph, term, own_score, weight, inside, agg):
    """(node, source) pairs before any propagation: a source's own term, its 'own' edges."""
    n = np.int64(graph.n)
    sources = np.flatnonzero((term > 0) & inside)
    own = graph.own & inside[graph.dst] & (own_score[graph.src] > 0) & (weight > 0)
    keys = np.concatenate([sources * n + sources, graph.dst[own] * n + graph.src[own]])
    values = np.concatenate([term[sources], weight[own] * own_score[graph.src[own]]])
    return _aggregate_pairs(keys, values, agg)


def _aggregate_pairs(keys: np.ndarray, values: np.ndarray, agg: str):
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, reduce_by(inverse, values, agg, len(unique))


def top_sources_text(contributions: pd.DataFrame, k: int = TOP_SOURCES) -> pd.Series:
    """Per target, the k largest contributors as 'id=0.123; id2=0.05' ('id>=0.123' where the
    amount is a lower bound: a leading part that is not exact)."""
    import pandas as pd

    ranked = contributions.sort_values(
        ["target", "amount", "source"], ascending=[True, False, True]
    )
    top = ranked.groupby("target", sort=False).head(k)
    amounts = [format(float(a), ".3g") for a in top["amount"]]
    exact = top["exact"] if "exact" in top else np.ones(len(top), dtype=bool)
    signs = ["=" if e else ">=" for e in exact]
    text = [f"{j}{sign}{a}" for j, sign, a in zip(top["source"], signs, amounts, strict=True)]
    return (
        pd.Series(text, index=top.index, dtype=object)
        .groupby(top["target"].to_numpy(), sort=False)
        .agg("; ".join)
    )
