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

from graphkit.errors import ConvergenceError, GraphError, TooManyPairs, UnknownName
from graphkit.graph.index import explicit_scores, index_graph, score_array
from graphkit.graph.rules import MODES, buyer_facing_mask
from graphkit.propagation.contributions import (
    CONTRIBUTIONS_ALL_NODES_UP_TO,
    CONTRIBUTIONS_TOP,
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

    ``contributions_for``: "auto" (every node up to CONTRIBUTIONS_ALL_NODES_UP_TO nodes, else
    the CONTRIBUTIONS_TOP most exposed buyer-facing ones), "all", "buyer", or node ids. When
    that needs more than MAX_PAIRS (node, source) pairs, or does not converge, contributions
    are skipped (empty, the reason in ``params["contributions_skipped"]``); scores stand.

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
    targets = _contribution_targets(graph, table, contributions_for)
    skipped = ""
    try:
        contributions = _contributions(graph, s, modes, targets, tol, max_iter)
        _add_source_summary(table, graph, s, targets, contributions, tol, max_iter)
    except (TooManyPairs, ConvergenceError) as exc:  # scores stand; say why parts are missing
        contributions, skipped = _contributions(graph, s, (), targets, tol, max_iter), str(exc)
        table["n_sources"], table["top_sources"] = nullable_int(np.full(graph.n, -1)), ""
    timings["contributions"] = time.perf_counter() - clock

    if priors is not None:
        _add_expected(table, bundle, graph, s, modes, read_priors(priors), tol, max_iter)
    params = {
        "modes": list(modes),
        "tol": tol,
        "max_iter": max_iter,
        "priors": priors is not None,  # the file and its hash: run.json's inputs
        "contributions_for": len(targets),
        "contributions_skipped": skipped,
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


def _contribution_targets(graph, table, contributions_for) -> np.ndarray:
    """Node positions to compute per-source contributions for (see ``propagate``)."""
    if contributions_for == "auto" and graph.n > CONTRIBUTIONS_ALL_NODES_UP_TO:
        score = table[list(MODES)].max(axis=1).to_numpy()
        facing = np.flatnonzero(buyer_facing_mask(graph) & (score > 0))
        return facing[np.argsort(-score[facing], kind="stable")[:CONTRIBUTIONS_TOP]]
    if contributions_for in ("auto", "all"):
        return np.arange(graph.n)
    if contributions_for == "buyer":
        return np.flatnonzero(buyer_facing_mask(graph))
    wanted = list(contributions_for)
    positions = graph.ids.get_indexer(wanted) if wanted else np.zeros(0, dtype=np.int64)
    if (positions < 0).any():
        raise UnknownName("contributions_for names node id(s) not in the bundle")
    return positions


def _contributions(graph, s, modes, targets, tol, max_iter) -> pd.DataFrame:
    import pandas as pd

    frames = []
    for mode in modes:
        term = graph.unmapped * s if mode == "share" else s
        part = per_source(graph, mode, term, s, targets, tol, max_iter)
        frames.append(
            pd.DataFrame(
                {
                    "target": graph.ids[part.target],
                    "source": graph.ids[part.source],
                    "amount": part.amount,
                    "mode": mode,
                }
            )
        )
    if not frames:
        return pd.DataFrame({"target": [], "source": [], "amount": [], "mode": []})
    return pd.concat(frames, ignore_index=True)


def _add_source_summary(table, graph, s, targets, contributions, tol, max_iter) -> None:
    """n_sources (sources with a chain of positive confidence) and top_sources per target."""
    reached = per_source(graph, "path", s, s, targets, max_iter=max_iter)
    counts = np.bincount(reached.target, minlength=graph.n)
    n_sources = np.full(graph.n, -1)
    n_sources[targets] = counts[targets]
    table["n_sources"] = nullable_int(n_sources)
    table["top_sources"] = ""
    if contributions.empty:
        return
    mode = next(m for m in ("share", "reach", "path") if m in set(contributions["mode"]))
    table["top_sources"] = top_sources_text(contributions[contributions["mode"] == mode]).reindex(
        table.index, fill_value=""
    )


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
