"""The indexed graph: a bundle as integer arrays (node positions, edge ends, weights)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from graphkit.errors import GraphError
from graphkit.graph.loops import LoopRounds, loop_rounds, stable_order
from graphkit.graph.rules import buyer_facing_mask, carries_own_score_only, impute_shares
from graphkit.model import MAKES, PART_OF, SUPPLIER

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.model import Bundle


@dataclass
class IndexedGraph:
    """A bundle as integer arrays: node positions, edge endpoints and weights."""

    ids: pd.Index
    is_supplier: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    edge_row: np.ndarray  # position of each (source-sorted) edge in bundle.edges
    confidence: np.ndarray
    share: np.ndarray
    own: np.ndarray  # edge carries only the maker's own score (MAKES into a known BOM)
    part_of: np.ndarray  # edge is PART_OF
    share_imputed: np.ndarray  # node: some input shares were imputed
    unmapped: np.ndarray  # node: 1 - sum of its input shares (its own value added)

    @property
    def n(self) -> int:
        return len(self.ids)

    @cached_property
    def rounds(self) -> LoopRounds:
        """Loops of the carrying edges in topological order; computed once, used by all modes."""
        carry = np.flatnonzero(~self.own & ((self.share > 0) | (self.confidence > 0)))
        return loop_rounds(self.n, self.src[carry], self.dst[carry], carry)


def index_graph(bundle: Bundle) -> IndexedGraph:
    """Index the bundle's tables into arrays (vectorised; no per-edge Python work).

    Edges are kept sorted by source; ``edge_row`` maps each back to its row in bundle.edges.
    The id lookups, the sort and the share imputation overlap in two threads.
    """
    nodes, edges = bundle.nodes, bundle.edges
    n = len(nodes)
    with ThreadPoolExecutor(2) as pool:
        lookups = _start_lookups(pool, nodes["id"], edges)
        is_makes, is_part_of = ((edges["kind"] == k).to_numpy(bool) for k in (MAKES, PART_OF))
        confidence = np.clip(edges["confidence"].fillna(1.0).to_numpy(float), 0.0, 1.0)
        src, dst = _endpoints(lookups, edges)
        sorting = pool.submit(stable_order, src)
        share, imputed, unmapped = impute_shares(edges["share"].to_numpy(float), dst, n)
        order = sorting.result()
    own = carries_own_score_only(is_makes, is_part_of, dst, n)
    return IndexedGraph(
        ids=_id_index(nodes["id"]),
        is_supplier=(nodes["kind"] == SUPPLIER).to_numpy(),
        src=src[order],
        dst=dst[order],
        edge_row=order,
        confidence=confidence[order],
        share=share[order],
        own=own[order],
        part_of=is_part_of[order],
        share_imputed=imputed,
        unmapped=unmapped,
    )


def _id_index(ids: pd.Series) -> pd.Index:
    import pandas as pd

    return pd.Index(ids.astype(str).array, name=None)


def _start_lookups(pool: ThreadPoolExecutor, ids: pd.Series, edges: pd.DataFrame) -> list:
    """Start the hash lookups (in Arrow, which releases the GIL) of every edge's source and
    target among the node ids, and a count of the distinct ids."""
    import pyarrow.compute as pc

    keys = _arrow_strings(ids).combine_chunks()

    def positions(column: str) -> np.ndarray:
        found = pc.index_in(_arrow_strings(edges[column]), value_set=keys)
        return pc.fill_null(found, -1).to_numpy().astype(np.int64)

    distinct = pool.submit(lambda: pc.count_distinct(keys).as_py() == len(keys))
    return [pool.submit(positions, "source"), pool.submit(positions, "target"), distinct]


def _endpoints(lookups: list, edges: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Node positions of every edge's source and target, from ``_start_lookups``."""
    src, dst, unique = (future.result() for future in lookups)
    if not unique:
        raise GraphError("node ids are not unique")
    unknown = (src < 0) | (dst < 0)
    if unknown.any():
        bad = edges.loc[unknown, ["source", "target"]].head(3)
        raise GraphError(f"edges refer to unknown nodes, e.g. {bad.to_dict('records')}")
    return src, dst


def _arrow_strings(column: pd.Series):
    """A text column as an Arrow (chunked) array, zero-copy when pandas already holds Arrow."""
    import pyarrow as pa

    return pa.chunked_array(pa.array(column.astype(str)))


def explicit_scores(bundle: Bundle) -> pd.Series:
    """The analyst's explicit ``exposure`` column, missing = 0."""
    return bundle.nodes["exposure"].fillna(0.0).set_axis(bundle.nodes["id"].to_numpy())


def score_array(graph: IndexedGraph, scores: pd.Series) -> np.ndarray:
    """Scores in node order (fast path when already in that order; duplicates: the max)."""
    if scores.index.equals(graph.ids):
        values = scores.to_numpy(float)
    else:
        values = scores.groupby(level=0).max().reindex(graph.ids).to_numpy(float)
    return np.clip(np.nan_to_num(values, nan=0.0), 0.0, 1.0)


def buyer_facing(bundle: Bundle) -> pd.Series:
    """Final products (components not PART_OF anything) and suppliers with no outgoing edge."""
    import pandas as pd

    graph = index_graph(bundle)
    return pd.Series(buyer_facing_mask(graph), index=graph.ids.rename(None), name="buyer_facing")
