"""The graph rules every engine applies: share imputation, the bill-of-materials rule,
buyer-facing nodes, the unmapped remainder and the table of modes (the README's
"Propagation semantics")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.graph.index import IndexedGraph


#: the three propagation modes, in output order
MODES = ("reach", "share", "path")
#: per mode: how a node's inputs are aggregated, and which edge column weighs them
AGGREGATE = {"reach": "noisy_or", "share": "sum", "path": "max"}
WEIGHT = {"reach": "confidence", "share": "share", "path": "confidence"}
#: columns of the exposures table, in file order (every engine writes these)
EXPOSURE_COLUMNS = (
    "id", "kind", "name", "source_score", "reach", "share", "path", "tier", "n_sources",
    "top_sources", "buyer_facing", "share_imputed", "unmapped",
)  # fmt: skip


#: an unmapped remainder below this is rounding residue of shares meant to sum to 1
ROUNDING = 1e-9
#: a buyer-facing node whose score in a mode exceeds this is "exposed" in that mode
EXPOSED_ABOVE = 1e-12


def impute_shares(given: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """Fill missing shares with an equal split of the target's remainder (1 - given shares)."""
    missing = np.isnan(given)
    given = np.clip(np.where(missing, 0.0, given), 0.0, 1.0)
    total = np.bincount(dst, weights=given, minlength=n)
    n_missing = np.bincount(dst, weights=missing, minlength=n)
    remainder = np.clip(1.0 - total, 0.0, 1.0)
    per_missing = np.divide(remainder, n_missing, out=np.zeros(n), where=n_missing > 0)
    share = np.where(missing, per_missing[dst], given)
    scale = np.maximum(np.bincount(dst, weights=share, minlength=n), 1.0)  # guard: sum <= 1
    share = share / scale[dst]
    unmapped = np.clip(1.0 - np.bincount(dst, weights=share, minlength=n), 0.0, 1.0)
    unmapped[unmapped < ROUNDING] = 0.0  # shares written to sum to 1 leave float residue
    return share, n_missing > 0, unmapped


def carries_own_score_only(is_makes: np.ndarray, is_part_of: np.ndarray, dst: np.ndarray, n: int):
    """The bill-of-materials rule: a MAKES edge into a component that has PART_OF inputs (its
    BOM is known) carries only the maker's own source score, not its propagated exposure."""
    has_bom = np.bincount(dst[is_part_of], minlength=n) > 0
    return is_makes & has_bom[dst]


def buyer_facing_mask(graph: IndexedGraph) -> np.ndarray:
    """Final products (components not PART_OF anything) and suppliers with no outgoing edge."""
    part_of_something = np.bincount(graph.src[graph.part_of], minlength=graph.n) > 0
    has_out_edge = np.bincount(graph.src, minlength=graph.n) > 0
    return np.where(graph.is_supplier, ~has_out_edge, ~part_of_something)


def most_exposed(table: pd.DataFrame, modes: tuple[str, ...] = MODES) -> pd.Index:
    """Ids of the exposed buyer-facing nodes of an exposures table (a score above
    EXPOSED_ABOVE in any of ``modes``), most exposed first (by their highest such score)."""
    scored = [m for m in modes if m in table]
    score = table[scored].max(axis=1).fillna(0)
    exposed = score[table["buyer_facing"].astype(bool) & (score > EXPOSED_ABOVE)]
    return exposed.sort_values(ascending=False, kind="stable").index


def reduce_by(keys: np.ndarray, values: np.ndarray, agg: str, size: int) -> np.ndarray:
    """Aggregate ``values`` per key into an array of ``size`` (identity where no value)."""
    if agg == "sum":
        return np.bincount(keys, weights=values, minlength=size)
    if agg == "noisy_or":
        with np.errstate(divide="ignore"):
            log_miss = np.bincount(keys, weights=np.log1p(-values), minlength=size)
        return -np.expm1(log_miss)
    out = np.zeros(size)
    np.maximum.at(out, keys, values)
    return out


def combine(a: np.ndarray, b: np.ndarray, agg: str) -> np.ndarray:
    """Two values aggregated as one node's inputs are."""
    if agg == "sum":
        return a + b
    if agg == "noisy_or":
        return 1.0 - (1.0 - a) * (1.0 - b)
    return np.maximum(a, b)


def mode_weight(graph: IndexedGraph, agg: str) -> np.ndarray:
    """The edge weights an aggregation uses: shares for ``sum``, confidences otherwise."""
    return graph.share if agg == "sum" else graph.confidence
