"""graphkit: find hidden exposure to North Korean forced labour in multi-tier supply chains.

The public API, imported lazily so that ``import graphkit`` (and ``graphkit --help``) stays
fast::

    bundle = graphkit.read_bundle("sample_graphs/electronics_machinery")
    screening = graphkit.screen_nodes(bundle.nodes)
    exposure = graphkit.propagate(bundle, source_scores=graphkit.source_scores_for(bundle))
    paths = graphkit.top_paths(bundle, "c-km500", k=5, exposure=exposure)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Bundle": "graphkit.model",
    "GraphError": "graphkit.errors",
    "InvalidInput": "graphkit.errors",
    "read_bundle": "graphkit.io",
    "write_bundle": "graphkit.io",
    "bundle_facts": "graphkit.facts",
    "resolve_address": "graphkit.screen.geo",
    "classify_sector": "graphkit.screen.sectors",
    "screen_nodes": "graphkit.screen.score",
    "propagate": "graphkit.propagation",
    "source_scores_for": "graphkit.screen.sources",
    "map_next": "graphkit.propagation",
    "top_paths": "graphkit.explain",
    "explain_node": "graphkit.explain",
    "whatif": "graphkit.explain",
    "exposure_view": "graphkit.render",
    "display_view": "graphkit.render",
    "write_view": "graphkit.render",
    "run_bundle": "graphkit.pipeline",
    "evidence_pack": "graphkit.evidence",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'graphkit' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
