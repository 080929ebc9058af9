"""Small random supply-chain bundles with cycles, for comparing engines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphkit.model import Bundle


def random_cyclic_bundle(n_suppliers: int, n_components: int, seed: int) -> Bundle:
    """A random bundle respecting the edge-kind endpoint rules, with supplier and BOM cycles.

    Given shares sum to at most 0.8 per target (so the share system is well conditioned);
    some confidences are missing (= 1) or 0; a quarter of the suppliers are sources.
    """
    rng = np.random.default_rng(seed)
    suppliers = [f"s{i}" for i in range(n_suppliers)]
    components = [f"c{i}" for i in range(n_components)]
    pairs = [
        *_random_pairs(rng, suppliers, suppliers, 2 * n_suppliers, "SUPPLIES"),
        *[(rng.choice(suppliers), c, "MAKES") for c in components],
        *_random_pairs(rng, components, components, n_components, "PART_OF"),
        *_random_pairs(rng, components, suppliers, n_components, "USED_BY"),
    ]
    edges = pd.DataFrame(pairs, columns=["source", "target", "kind"])
    edges = edges.drop_duplicates(["source", "target"]).reset_index(drop=True)
    edges["share"] = _shares(rng, edges)
    confidence = rng.uniform(0.2, 0.7, len(edges))
    draw = rng.uniform(size=len(edges))
    edges["confidence"] = np.where(draw < 0.2, np.nan, np.where(draw < 0.3, 0.0, confidence))
    ids = suppliers + components
    exposure = np.where(rng.uniform(size=len(ids)) < 0.25, rng.uniform(0.1, 1.0, len(ids)), np.nan)
    exposure[len(suppliers) :] = np.nan
    nodes = pd.DataFrame(
        {
            "id": ids,
            "kind": ["supplier"] * len(suppliers) + ["component"] * len(components),
            "name": [f"Node {i}" for i in ids],
            "exposure": exposure,
        }
    )
    return Bundle(_with_text_columns(nodes, ("address", "country")), _with_text_columns(edges))


def _random_pairs(rng, sources, targets, count, kind):
    for _ in range(count):
        source, target = rng.choice(sources), rng.choice(targets)
        if source != target:
            yield source, target, kind


def _shares(rng, edges: pd.DataFrame) -> np.ndarray:
    raw = rng.uniform(0.05, 1.0, len(edges))
    total = pd.Series(raw).groupby(edges["target"]).transform("sum").to_numpy()
    return raw / np.maximum(total, 1.0) * 0.8


def _with_text_columns(frame: pd.DataFrame, columns=("item", "evidence")) -> pd.DataFrame:
    return frame.assign(**{c: "" for c in columns})
