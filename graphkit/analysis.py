"""One run's analysis, built once: the bundle, its indexed graph, the screening table, the
scores, the paths of every exposed buyer-facing node and the bundle digest. Every output
(result files, views, report, index page, Neo4j) reads it; nothing downstream recomputes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from graphkit.graph.rules import MODES, most_exposed

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.explain import EdgeFacts, ExposurePath
    from graphkit.graph.index import IndexedGraph
    from graphkit.model import Bundle
    from graphkit.propagation import Exposure
    from graphkit.propagation.paths import TopPaths

#: a progress callback: one line per phase (and per step of long phases)
Progress = Callable[[str], Any]


def _silent(_message: str) -> None:
    return None


@dataclass
class Analysis:
    """Everything one run computed about a bundle (see the module docstring)."""

    bundle: Bundle
    graph: IndexedGraph
    screening: pd.DataFrame  # screen_nodes output, indexed by node id
    exposure: Exposure
    paths: Mapping[str, list[ExposurePath]]  # exposed buyer-facing node id -> top paths
    digest: str
    k: int
    priors: pd.DataFrame | None = None
    map_next: pd.DataFrame | None = None
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> path, sha256
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        return self.exposure.table

    @cached_property
    def evidence(self) -> pd.Series:
        """Per node id, the evidence behind its source score (screening or the analyst)."""
        from graphkit.screen.score import source_evidence

        return source_evidence(self.screening)

    @cached_property
    def edge_facts(self) -> EdgeFacts:
        """What a path's hops show of each edge (built once for all paths)."""
        from graphkit.explain import EdgeFacts

        return EdgeFacts.of(self.bundle, self.graph)

    def exposed(self, mode: str) -> pd.DataFrame:
        """Exposed buyer-facing nodes in ``mode``, most exposed first."""
        return exposed_products(self.table, mode)


def analyse(
    bundle: Bundle,
    *,
    modes: tuple[str, ...] = MODES,
    priors: pd.DataFrame | str | None = None,
    k: int = 5,
    tol: float = 1e-12,
    max_iter: int = 10_000,
    progress: Progress = _silent,
) -> Analysis:
    """Screen, propagate and explain ``bundle`` once; see ``Analysis``."""
    from graphkit.graph.index import index_graph
    from graphkit.propagation import propagate
    from graphkit.propagation.priors import map_next, read_priors
    from graphkit.screen.score import screen_nodes

    timings: dict[str, float] = {}
    name = bundle.origin or "bundle"
    with phase(timings, "index"):
        graph = index_graph(bundle)
    progress(f"{name}: screening {len(bundle.nodes):,} nodes")
    with phase(timings, "screen"):
        screening = screen_nodes(bundle.nodes).set_axis(bundle.nodes["id"].to_numpy())
    table = read_priors(priors) if priors is not None else None
    progress(f"{name}: propagating ({', '.join(modes)})")
    with phase(timings, "propagate"):
        exposure = propagate(
            bundle, screening["source_score"], modes, table, tol, max_iter, graph=graph
        )
    analysis = Analysis(bundle, graph, screening, exposure, {}, "", k, table, timings=timings)
    if priors is not None:
        analysis.inputs["priors"] = input_record(priors)
    targets = list(most_exposed(exposure.table))
    progress(f"{name}: explaining {len(targets):,} exposed buyer-facing nodes")
    with phase(timings, "explain"):
        analysis.paths = top_paths_of(analysis, targets)
        if table is not None:
            analysis.map_next = map_next(bundle, exposure, table)
    with phase(timings, "digest"):
        analysis.digest = bundle.digest()
    return analysis


def input_record(given: pd.DataFrame | str) -> dict[str, Any]:
    """An input file (or table) as run.json names it: its path and SHA-256."""
    import hashlib
    from pathlib import Path

    if isinstance(given, str | Path):
        return {"path": str(given), "sha256": hashlib.sha256(Path(given).read_bytes()).hexdigest()}
    data = given.to_csv(index=False).encode("utf-8")
    return {"path": None, "sha256": hashlib.sha256(data).hexdigest()}


def exposed_products(table: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Buyer-facing nodes with a score above zero in ``mode``, most exposed first."""
    return table.loc[most_exposed(table, (mode,))]


def top_paths_of(analysis: Analysis, targets: list[str]) -> TopPaths:
    """The top-k paths into each target, all in one pass over the analysis's graph
    (``graphkit.propagation.paths``; equal to Yen's search per target, ``explain.top_paths``),
    as a mapping that makes a target's ExposurePaths when asked."""
    from graphkit.graph.index import score_array
    from graphkit.propagation.paths import TopPaths, top_paths_all

    graph = analysis.graph
    s = score_array(graph, analysis.table["source_score"])
    table = top_paths_all(graph, s, graph.ids.get_indexer(targets), analysis.k)
    return TopPaths(table, analysis.edge_facts, analysis.evidence.to_dict(), targets)


@contextmanager
def phase(timings: dict[str, float], name: str) -> Iterator[None]:
    """Time the block into ``timings[name]`` (seconds)."""
    clock = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - clock, 3)
