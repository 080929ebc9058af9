"""The public entry point: ``propagate`` scores every asked mode, the tiers, contributions
and (with priors) expected exposure, in one table."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.errors import ConvergenceError, GraphError, UnknownName
from graphkit.graph.index import explicit_scores, index_graph, score_array
from graphkit.graph.rules import MODES, buyer_facing_mask, most_exposed
from graphkit.propagation.attribution import (
    TOP,
    SourceParts,
    leading_parts,
    parts_frame,
    share_sources,
    source_parts,
)
from graphkit.propagation.contributions import (
    CONTRIBUTIONS_ALL_NODES_UP_TO,
    SHARE_WORK,
    per_source,
    top_sources_text,
)
from graphkit.propagation.modes import SCORERS
from graphkit.propagation.priors import expected_scores, prior_for_nodes, read_priors
from graphkit.propagation.tiers import tier_distance

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

    from graphkit.graph.index import IndexedGraph
    from graphkit.model import Bundle


#: how contributions are computed, as run.json says
CONTRIBUTIONS_METHOD = (
    f"per target, the {TOP} largest per-source parts, each the target's score if that source "
    "were the only one: share = its exact additive part (a pass over the loop schedule per 64 "
    "sources, or per 64 targets where targets are fewer); path = its best chain (every node's "
    f"{TOP} best distinct sources in one pass); reach = reach alone (the engine's reach on a "
    "copy per listed source). Modes listed under contributions_leading instead carry every "
    f"node's {TOP} leading parts in one pass: lower bounds, exact for the targets counted "
    "under contributions_complete (in share mode the target's score minus its listed parts "
    "bounds any unlisted source's part and how much a listed one is understated)"
)


@dataclass
class Exposure:
    """The result of ``propagate``: one row per node, per-source contributions, parameters."""

    table: pd.DataFrame
    contributions: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


def propagate(
    bundle: Bundle,
    source_scores: pd.Series | None = None,
    modes: Iterable[str] = MODES,
    priors: pd.DataFrame | str | None = None,
    tol: float = 1e-12,
    max_iter: int = 10_000,
    contributions_for: str | Iterable[str] = "auto",
    graph: IndexedGraph | None = None,
) -> Exposure:
    """Propagate exposure through the bundle in the given modes; see the module docstring.

    ``tol``: reach and share iterate until no node's value changes by more than ``tol``
    relative to itself (path mode is always exact); ``max_iter`` caps the rounds, beyond
    which ConvergenceError is raised.

    ``contributions_for``: "auto" (every node up to CONTRIBUTIONS_ALL_NODES_UP_TO nodes; above,
    every mode's parts for every exposed buyer-facing node: path exact, reach as leading
    parts, share exact while that is at most SHARE_WORK, else as leading parts), "exposed"
    (every exposed buyer-facing node, every mode exact), "all", "buyer", or node ids; computed
    as CONTRIBUTIONS_METHOD says (``graphkit.propagation.attribution``); ``params`` says for
    how many per mode, which are leading parts and for how many of those they are exact.

    ``graph``: the bundle already indexed (``index_graph``), so a run indexes it once.
    """
    modes = tuple(modes)
    unknown = set(modes) - set(MODES)
    if unknown:
        raise GraphError(f"unknown mode(s): {', '.join(sorted(unknown))}; use {', '.join(MODES)}")
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    graph = index_graph(bundle) if graph is None else graph
    scores = explicit_scores(bundle) if source_scores is None else source_scores
    s = score_array(graph, scores)
    timings["index"] = time.perf_counter() - clock

    table = _node_frame(bundle, graph, s)
    clock = time.perf_counter()
    scored, seconds = score_modes(graph, s, modes, tol, max_iter)
    timings.update(seconds, modes=time.perf_counter() - clock)
    for mode in modes:
        table[mode] = scored[mode]
    tier = scored["tier"]
    table["tier"] = nullable_int(np.where(np.isfinite(tier), tier, -1).astype(np.int64))

    clock = time.perf_counter()
    targets, leading = _contribution_targets(graph, s, table, contributions_for, modes)
    parts = _source_parts(graph, s, targets, leading, tol, max_iter)
    contributions = parts_frame(graph, parts)
    _add_source_summary(table, graph, parts)
    timings["contributions"] = time.perf_counter() - clock

    if priors is not None:
        _add_expected(table, bundle, graph, s, modes, read_priors(priors), tol, max_iter)
    params = {
        "modes": list(modes),
        "tol": tol,
        "max_iter": max_iter,
        "priors": priors is not None,  # the file and its hash: run.json's inputs
        "contributions_for": {mode: len(found) for mode, found in targets.items()},
        "contributions": CONTRIBUTIONS_METHOD,
        "contributions_leading": sorted(leading),
        "contributions_complete": {
            mode: int(p.complete.sum()) for mode, p in parts.items() if p.complete is not None
        },
        "timings_s": timings,
    }
    return Exposure(table=table, contributions=contributions, params=params)


def score_modes(
    graph: IndexedGraph, s: np.ndarray, modes: Iterable[str], tol: float, max_iter: int
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Every asked mode's scores and the tiers, and the seconds each took ("rounds": the loop
    schedule the modes share). Side by side in threads: numpy and scipy release the GIL in
    their loops, and the modes only read the graph."""
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        running = {"tier": pool.submit(_timed, partial(tier_distance, graph, s))}
        _, rounds_seconds = _timed(lambda: graph.rounds)
        for mode in modes:
            task = partial(SCORERS[mode], graph, s, tol=tol, max_iter=max_iter)
            running[mode] = pool.submit(_timed, task)
        done = {name: future.result() for name, future in running.items()}
    scores = {name: _checked(name, values) for name, (values, _) in done.items()}
    return scores, {"rounds": rounds_seconds} | {name: sec for name, (_, sec) in done.items()}


def _timed(task) -> tuple[Any, float]:
    clock = time.perf_counter()
    return task(), time.perf_counter() - clock


def _checked(mode: str, values: np.ndarray) -> np.ndarray:
    if np.isnan(values).any():
        raise ConvergenceError(mode, 0, float("nan"), "the engine produced NaN")
    return values


def _node_frame(bundle: Bundle, graph: IndexedGraph, s: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    nodes = bundle.nodes
    table = pd.DataFrame(
        {
            "id": graph.ids,
            "kind": nodes["kind"].array,
            "name": nodes["name"].array if "name" in nodes else "",
            "source_score": s,
        },
        index=graph.ids.rename(None),
    )
    for mode in MODES:
        table[mode] = np.nan
    table["buyer_facing"] = buyer_facing_mask(graph)
    table["share_imputed"] = graph.share_imputed
    table["unmapped"] = graph.unmapped
    return table


def nullable_int(values: np.ndarray):
    """Integers with -1 meaning missing, as a pandas nullable Int64 array."""
    import pandas as pd

    return pd.arrays.IntegerArray(values, values < 0)


def _contribution_targets(graph, s, table, contributions_for, modes):
    """Per mode, the node positions to compute per-source contributions for, and the modes
    to compute as leading parts (see ``propagate``)."""
    if contributions_for in ("auto", "exposed") and graph.n > CONTRIBUTIONS_ALL_NODES_UP_TO:
        exposed = graph.ids.get_indexer(most_exposed(table))
        if contributions_for == "exposed":
            return dict.fromkeys(modes, exposed), set()
        columns = min(len(exposed), len(share_sources(graph, s, exposed)))
        share_exact = columns * int((graph.share > 0).sum()) <= SHARE_WORK
        leading = {"reach"} if share_exact else {"reach", "share"}
        return dict.fromkeys(modes, exposed), leading & set(modes)
    return dict.fromkeys(modes, _named_targets(graph, contributions_for)), set()


def _named_targets(graph, contributions_for) -> np.ndarray:
    if contributions_for in ("auto", "all"):
        return np.arange(graph.n)
    if contributions_for == "buyer":
        return np.flatnonzero(buyer_facing_mask(graph))
    wanted = list(contributions_for)
    positions = graph.ids.get_indexer(wanted) if wanted else np.zeros(0, dtype=np.int64)
    if (positions < 0).any():
        raise UnknownName("contributions_for names node id(s) not in the bundle")
    return positions


def _source_parts(graph, s, targets: dict[str, np.ndarray], leading, tol, max_iter) -> dict:
    """``attribution.source_parts`` per mode for its targets (path and reach in one call:
    reach alone starts from the path parts; ``leading``: the modes taken as leading parts),
    side by side in threads (numpy and scipy release the GIL in their loops; each task only
    reads the graph, so the numbers do not depend on timing); where a loop of shares sums to
    1 (its LU is singular, while the scores are the least solution), share parts come from
    the forward per-source iteration instead, which finds that least solution."""
    tasks = {
        mode: partial(leading_parts, graph, s, mode, np.unique(targets[mode]))
        for mode in sorted(leading)
    }
    targets = {mode: found for mode, found in targets.items() if mode not in leading}
    if "share" in targets:
        tasks["share"] = partial(_exact_share_parts, graph, s, targets["share"], tol, max_iter)
    chains = [mode for mode in ("path", "reach") if mode in targets]
    if chains:
        found = targets.get("path", targets.get("reach"))
        reach = targets.get("reach")
        tasks["chains"] = partial(source_parts, graph, s, found, chains, reach_targets=reach)
    with ThreadPoolExecutor(min(len(tasks), os.cpu_count() or 1) or 1) as pool:
        running = {name: pool.submit(task) for name, task in tasks.items()}
        done = {name: future.result() for name, future in running.items()}
    chained = done.pop("chains", {})
    return done | chained


def _exact_share_parts(graph, s, targets, tol, max_iter) -> SourceParts:
    """Exact share parts; where a loop of shares sums to 1, by the per-source iteration."""
    try:
        return source_parts(graph, s, targets, ("share",), tol=tol, max_iter=max_iter)["share"]
    except ConvergenceError:
        return _share_by_iteration(graph, s, np.unique(targets), tol, max_iter)


def _share_by_iteration(graph, s, targets, tol, max_iter) -> SourceParts:
    found = per_source(graph, "share", graph.unmapped * s, s, targets, tol, max_iter)
    order = np.lexsort((-found.amount, found.target))
    counts = np.bincount(found.target, minlength=graph.n)[targets]
    totals = np.bincount(found.target, weights=found.amount, minlength=graph.n)[targets]
    return SourceParts("share", found.target[order], found.source[order],
                       found.amount[order], targets, counts, totals)  # fmt: skip


def _add_source_summary(table, graph, parts: dict) -> None:
    """n_sources (sources with a chain of positive confidence into the node, from the path or
    reach parts; where only share parts were computed: sources with a positive part) and
    top_sources (the largest parts, share mode first) per node that contributions were
    computed for."""
    table["n_sources"] = nullable_int(np.full(graph.n, -1))
    table["top_sources"] = ""
    if not parts:
        return
    n_sources = np.full(graph.n, -1)
    for mode in ("share", "reach", "path"):  # the later ones count chains: they win
        if mode in parts:
            counted = parts[mode].n_sources >= 0  # -1: not counted exactly
            n_sources[parts[mode].targets[counted]] = parts[mode].n_sources[counted]
    table["n_sources"] = nullable_int(n_sources)
    mode = next(m for m in ("share", "reach", "path") if m in parts)
    frame = parts_frame(graph, {mode: parts[mode]})
    table["top_sources"] = top_sources_text(frame).reindex(table.index, fill_value="")


def _add_expected(table, bundle, graph, s, modes, priors, tol, max_iter) -> None:
    """reach_expected / share_expected: mapped exposure plus priors on unmapped remainders."""
    prior = prior_for_nodes(bundle, priors).to_numpy(float)
    expected = expected_scores(graph, s, prior)
    table["prior"] = prior
    for mode in ("reach", "share"):
        table[f"{mode}_expected"] = np.nan
        if mode in modes:
            values = SCORERS[mode](graph, expected, own_score=s, tol=tol, max_iter=max_iter)
            table[f"{mode}_expected"] = _checked(mode, values)
