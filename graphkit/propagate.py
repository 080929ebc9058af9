"""The propagation engine: exposure flows from source nodes along the flow of goods.

The graph is indexed once into integer edge arrays. Every mode has the same shape,

    value(v) = AGG( term(v),  AGG over "own" edges u->v of w_uv * s(u),
                              AGG over other edges u->v of w_uv * value(u) )

with AGG = noisy-OR and w = confidence for ``reach``, AGG = sum and w = share for ``share``
(term = own value added x source score), AGG = max and w = confidence for ``path``.
"Own" edges are MAKES edges into a component whose bill of materials is known (it has
PART_OF inputs): they carry only the maker's own source score (DESIGN.md, "Products with a
known bill of materials").

The graph is evaluated in topological order of its loops (strongly connected components,
``loop_rounds``): a node outside loops is final, exactly, once its inputs are; the nodes of
a loop are solved together (``_solve_loop_block``).
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.model import MAKES, PART_OF, SUPPLIER, GraphError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

    from graphkit.model import Bundle

MODES = ("reach", "share", "path")
#: how many contributing sources ``top_sources`` lists
TOP_SOURCES = 5
#: graphs up to this many nodes get per-source contributions for every node by default
CONTRIBUTIONS_ALL_NODES_UP_TO = 2_000
#: above CONTRIBUTIONS_ALL_NODES_UP_TO nodes, "auto" explains this many buyer-facing nodes
CONTRIBUTIONS_TOP = 50
#: per-source contributions give up beyond this many (node, source) pairs
MAX_PAIRS = 300_000
#: an unmapped remainder below this is rounding residue of shares meant to sum to 1
ROUNDING = 1e-9
#: share mode falls back to a direct sparse solve of a loop up to this many nodes
SHARE_DIRECT_UP_TO = 50_000
#: Jacobi rounds on a loop before BiCGSTAB takes over
SHARE_JACOBI_ROUNDS = 64
#: a share-mode solution whose residual exceeds this is rejected
SHARE_RESIDUAL = 1e-9


class ConvergenceError(GraphError):
    """A propagation mode did not converge (or its linear system is singular)."""

    def __init__(self, mode: str, iterations: int, residual: float, hint: str = ""):
        self.mode, self.iterations, self.residual = mode, iterations, residual
        message = (
            f"{mode} mode did not converge: residual {residual:.3g} after {iterations} iteration(s)"
        )
        super().__init__(message + (f"; {hint}" if hint else ""))


class TooManyPairs(GraphError):
    """Per-source contributions would need more than MAX_PAIRS (node, source) pairs."""


class UnknownName(GraphError):
    """The user named a node or edge that is not in the bundle (or a value out of range)."""

    exit_code = 2


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


@dataclass
class Exposure:
    """The result of ``propagate``: one row per node, per-source contributions, parameters."""

    table: pd.DataFrame
    contributions: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


# --- indexing -------------------------------------------------------------------------------


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
        share, imputed, unmapped = _impute_shares(edges["share"].to_numpy(float), dst, n)
        order = sorting.result()
    has_bom = np.bincount(dst[is_part_of], minlength=n) > 0
    return IndexedGraph(
        ids=_id_index(nodes["id"]),
        is_supplier=(nodes["kind"] == SUPPLIER).to_numpy(),
        src=src[order],
        dst=dst[order],
        edge_row=order,
        confidence=confidence[order],
        share=share[order],
        own=(is_makes & has_bom[dst])[order],
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


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for non-negative integer keys, several times faster:
    the values key * len + position are unique, so a (SIMD) value sort gives the order."""
    m = len(keys)
    if m == 0 or int(keys.max()) >= np.iinfo(np.int64).max // m - 1:
        return np.argsort(keys, kind="stable")
    return np.sort(keys.astype(np.int64) * m + np.arange(m)) % m


def _arrow_strings(column: pd.Series):
    """A text column as an Arrow (chunked) array, zero-copy when pandas already holds Arrow."""
    import pyarrow as pa

    return pa.chunked_array(pa.array(column.astype(str)))


def _impute_shares(given: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
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


def buyer_facing(bundle: Bundle) -> pd.Series:
    """Final products (components not PART_OF anything) and suppliers with no outgoing edge."""
    import pandas as pd

    graph = index_graph(bundle)
    return pd.Series(buyer_facing_mask(graph), index=graph.ids.rename(None), name="buyer_facing")


def buyer_facing_mask(graph: IndexedGraph) -> np.ndarray:
    part_of_something = np.bincount(graph.src[graph.part_of], minlength=graph.n) > 0
    has_out_edge = np.bincount(graph.src, minlength=graph.n) > 0
    return np.where(graph.is_supplier, ~has_out_edge, ~part_of_something)


def source_scores_for(bundle: Bundle) -> pd.Series:
    """Source scores from screening (an explicit ``exposure`` wins), by node id."""
    return source_table_for(bundle)["source_score"]


def source_table_for(bundle: Bundle) -> pd.DataFrame:
    """Per node id: ``source_score`` and the ``evidence`` behind it, from screening."""
    import pandas as pd

    from graphkit.screen.score import screen_nodes, source_evidence

    screened = screen_nodes(bundle.nodes).set_axis(bundle.nodes["id"].to_numpy())
    return pd.DataFrame(
        {"source_score": screened["source_score"], "evidence": source_evidence(screened)}
    )


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


# --- the three modes on all nodes -----------------------------------------------------------


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
    if agg == "sum":
        return a + b
    if agg == "noisy_or":
        return 1.0 - (1.0 - a) * (1.0 - b)
    return np.maximum(a, b)


def _weight(graph: IndexedGraph, agg: str) -> np.ndarray:
    return graph.share if agg == "sum" else graph.confidence


def _fixed_terms(graph: IndexedGraph, term: np.ndarray, own_score: np.ndarray, agg: str):
    """The constant part of every node's value: its own term and its 'own' MAKES edges."""
    weight, own = _weight(graph, agg), graph.own
    from_makers = reduce_by(graph.dst[own], weight[own] * own_score[graph.src[own]], agg, graph.n)
    return combine(term, from_makers, agg)


def certain_loops(graph: IndexedGraph) -> np.ndarray:
    """Nodes on a loop of confidence-1 edges: in reach mode any exposure entering such a loop
    circulates to certainty (p = 1 at the least fixpoint), which plain iteration approaches
    only slowly; setting them to 1 once positive makes the iteration converge fast."""
    sure = ~graph.own & (graph.confidence >= 1.0)
    return on_loops(graph.n, graph.src[sure], graph.dst[sure])


def on_loops(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Mask of the nodes on a directed loop of the edges (sorted by source)."""
    label = _components(n, src, dst)
    looped = np.bincount(label, minlength=n)[label] > 1
    looped[src[src == dst]] = True
    return looped


def _components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Each node's strongly connected component (edges sorted by source)."""
    from scipy.sparse.csgraph import connected_components

    matrix = _csr_by_source(n, src, dst, np.ones(len(src)))
    return connected_components(matrix, directed=True, connection="strong")[1]


def _in_rounds(graph, term, own_score, agg, mode, tol, max_iter) -> np.ndarray:
    """Every node's value, component by component in topological order (``graph.rounds``).

    A node outside loops is final once its inputs are: one pass over the edges, exact. The
    nodes on loops released in a round are solved together, from the inputs that arrived
    from earlier rounds: a linear solve for ``sum`` (``solve_loops``), the least fixpoint
    for noisy-OR and max (``_loop_fixpoint``). The accumulator is in log space for noisy-OR.
    Edges that carry nothing in this mode (weight 0) add nothing in any of the three.
    """
    weight, schedule = _weight(graph, agg), graph.rounds
    src, dst, w = schedule.cross_src, schedule.cross_dst, weight[schedule.cross]
    value = np.zeros(graph.n)
    acc = _to_acc(_fixed_terms(graph, term, own_score, agg), agg)
    with np.errstate(divide="ignore", invalid="ignore"):
        for nodes, looped, edges in schedule.rounds:
            value[nodes] = _from_acc(acc[nodes], agg)
            if len(looped):
                block = (graph, weight, looped, acc[looped], agg, mode, tol, max_iter)
                value[looped] = _solve_loop_block(*block)
            _push(acc, dst[edges], w[edges] * value[src[edges]], agg)
    return np.clip(value, 0.0, 1.0)


def _push(acc: np.ndarray, keys: np.ndarray, values: np.ndarray, agg: str) -> None:
    """Add final upstream values (already times the edge weight) into the accumulator."""
    if agg == "max":
        np.maximum.at(acc, keys, values)
    else:
        scatter_add(acc, keys, _to_acc(values, agg))


def _solve_loop_block(graph, weight, looped, acc, agg, mode, tol, max_iter) -> np.ndarray:
    """Values of the ``looped`` nodes given their accumulated inputs from outside the loops."""
    schedule = graph.rounds
    edges = schedule.inner[out_edges(schedule.inner_starts, looped)]
    local = schedule.place_in_round
    src, dst, weight = local[graph.src[edges]], local[graph.dst[edges]], weight[edges]
    if agg == "sum":
        from scipy.sparse import csr_matrix

        a_t = csr_matrix((weight, (dst, src)), shape=(len(looped), len(looped)))
        return solve_loops(a_t, acc, tol, max_iter)
    sure = weight >= 1.0
    saturate = on_loops(len(looped), src[sure], dst[sure]) if agg == "noisy_or" else None
    return _loop_fixpoint(acc, src, dst, weight, saturate, agg, mode, tol, max_iter)


def _loop_fixpoint(acc, src, dst, weight, saturate, agg, mode, tol, max_iter) -> np.ndarray:
    """Fixpoint iteration from the values ``acc`` gives; monotone, so the least fixpoint.

    Incremental: each round only the out-edges of nodes whose value changed are recomputed
    and their difference added to the accumulator. ``saturate``: nodes set to 1 once positive
    (noisy-OR on a loop of certain edges, see ``certain_loops``). Rounds in which exposure
    first reaches a node do not count towards ``max_iter`` (there are at most n of them).
    """
    n, acc = len(acc), acc.copy()
    starts = _row_starts(src, n)
    degree = np.diff(starts)
    value = np.zeros(n)
    touched, residual, refining = np.arange(n), np.inf, 0
    while refining < max_iter:
        new, old = _from_acc(acc[touched], agg), value[touched]
        if saturate is not None:
            new[saturate[touched] & (new > 0)] = 1.0
        diff = np.abs(new - old)
        residual = relative_change(diff, new)
        value[touched] = new
        if residual <= tol:
            return value
        moved = diff > 0
        refining += not reaches_new_nodes(old, new)
        edges = out_edges(starts, touched[moved])
        old = np.repeat(old[moved], degree[touched[moved]])
        _accumulate(acc, dst[edges], weight[edges], old, value[src[edges]], agg)
        touched = _marked(dst[edges], n)
    raise ConvergenceError(mode, max_iter, residual, "raise max_iter or tol")


def _by_source(graph: IndexedGraph, edges: np.ndarray, weight: np.ndarray):
    """The selected edges (sorted by source): src, dst, weight, CSR row starts per node."""
    src = graph.src[edges]
    return src, graph.dst[edges], weight[edges], _row_starts(src, graph.n)


def _marked(positions: np.ndarray, n: int) -> np.ndarray:
    """The distinct positions, sorted (a mask pass: cheaper than np.unique on many)."""
    mask = np.zeros(n, dtype=bool)
    mask[positions] = True
    return np.flatnonzero(mask)


def reaches_new_nodes(old: np.ndarray, new: np.ndarray) -> bool:
    """Whether a round brought exposure to a node for the first time (such rounds, at most
    one per node, do not count towards ``max_iter``)."""
    return bool(np.any((old == 0) & (new > 0)))


def relative_change(diff: np.ndarray, new: np.ndarray) -> float:
    """Largest change relative to the new value (values only grow, so 0 -> x counts as 1)."""
    moved = diff > 0
    return float(np.max(diff[moved] / np.abs(new[moved]), initial=0.0))


def out_edges(starts: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Positions of all out-edges of ``nodes`` in a source-sorted edge list (CSR rows)."""
    degree = starts[nodes + 1] - starts[nodes]
    first = starts[nodes] - np.cumsum(degree) + degree
    return np.repeat(first, degree) + np.arange(degree.sum())


def _to_acc(values: np.ndarray, agg: str) -> np.ndarray:
    """Accumulator form: log(1 - p) for noisy-OR (-inf where p = 1, certain), else p."""
    if agg != "noisy_or":
        return values.astype(float, copy=True)
    with np.errstate(divide="ignore"):
        return np.log1p(-values)


def _from_acc(acc: np.ndarray, agg: str) -> np.ndarray:
    return 0.0 - np.expm1(acc) if agg == "noisy_or" else acc.copy()  # 0.0 - x: never -0.0


def _accumulate(acc, dst, weight, old, new, agg) -> None:
    """Replace edges' contributions from their sources' old values by the new ones."""
    if agg == "max":  # max only grows: the new candidates suffice
        np.maximum.at(acc, dst, weight * new)
    else:
        scatter_add(acc, dst, _to_acc(weight * new, agg) - _to_acc(weight * old, agg))


def scatter_add(acc: np.ndarray, keys: np.ndarray, values: np.ndarray) -> None:
    """acc[keys] += values with repeated keys summed (bincount when the update is large)."""
    if len(keys) > len(acc) // 16:
        acc += np.bincount(keys, weights=values, minlength=len(acc))
    else:
        np.add.at(acc, keys, values)


def reach_scores(graph, s, own_score=None, tol=1e-12, max_iter=10_000) -> np.ndarray:
    """Noisy-OR least fixpoint p = 1 - (1 - s) * prod(1 - c * p(u))."""
    own_score = s if own_score is None else own_score
    return _in_rounds(graph, s, own_score, "noisy_or", "reach", tol, max_iter)


def path_scores(graph, s, own_score=None, tol=None, max_iter=10_000) -> np.ndarray:
    """Strongest single chain: max over paths of the product of confidences x s(source).

    Always iterated to the exact answer (no tolerance: max-product settles in finitely many
    rounds); ``tol`` is accepted for a uniform signature only."""
    own_score = s if own_score is None else own_score
    return _in_rounds(graph, s, own_score, "max", "path", 0.0, max_iter)


def share_scores(graph, s, own_score=None, tol=1e-12, max_iter=10_000, direct=False):
    """Leontief embodied share: x = D s + A^T x (+ own MAKES edges carrying s(maker)).

    Solved in topological order of the loops (``_in_rounds``): exact in one pass outside
    loops, ``solve_loops`` on them. ``direct=True`` solves the whole system by sparse LU
    instead (slow on large graphs because of fill-in).
    """
    own_score = s if own_score is None else own_score
    if direct:
        rhs = _fixed_terms(graph, graph.unmapped * s, own_score, "sum")
        return _share_direct(_share_matrix(graph, ~graph.own & (graph.share > 0)), rhs, tol)
    return _in_rounds(graph, graph.unmapped * s, own_score, "sum", "share", tol, max_iter)


def solve_loops(a_t, rhs: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """Solve x = rhs + A^T x on nodes that lie on loops (the least solution).

    Jacobi rounds x <- rhs + A^T x (geometric on loops); where that is slow (after
    SHARE_JACOBI_ROUNDS rounds) BiCGSTAB takes over from the current x, its answer accepted
    only if it passes the same per-node convergence test, else Jacobi goes on from it. If
    nothing has converged after ``max_iter`` rounds, systems up to SHARE_DIRECT_UP_TO nodes
    are solved by sparse LU. Rounds in which exposure first reaches a node do not count
    towards ``max_iter`` (there are at most n of them: a long thin loop needs that many).
    """
    x, residual, done, refining = rhs, np.inf, 0, 0
    while refining < max_iter:
        new = rhs + a_t @ x
        residual = relative_change(np.abs(new - x), new)
        done, refining = done + 1, refining + (not reaches_new_nodes(x, new))
        x = new
        if residual <= tol:
            return x
        if done == SHARE_JACOBI_ROUNDS:
            x = _share_krylov(a_t, rhs, x)
    if len(rhs) <= SHARE_DIRECT_UP_TO:  # slow loops (shares close to 1): solve exactly
        return _share_direct(a_t, rhs, tol)
    raise ConvergenceError("share", max_iter, residual, "raise max_iter or tol")


@dataclass
class LoopRounds:
    """The nodes in topological order of their strongly connected components.

    ``rounds``: (nodes, looped, edges) per round. Every edge into a round's nodes comes from
    an earlier round or from the same loop; ``looped`` are the round's nodes on a loop (a
    component of 2+ nodes, or a self-loop); ``edges`` slices ``cross`` (edges between
    components, by round of their source) to the edges out of this round's nodes, whose
    ends are ``cross_src`` and ``cross_dst``. ``inner``: edges within components, by source,
    with CSR row starts ``inner_starts``. ``place_in_round``: a looped node's position in
    its round's ``looped``.
    """

    label: np.ndarray
    rounds: list[tuple[np.ndarray, np.ndarray, slice]]
    cross: np.ndarray
    cross_src: np.ndarray
    cross_dst: np.ndarray
    inner: np.ndarray
    inner_starts: np.ndarray
    place_in_round: np.ndarray


def loop_rounds(n: int, src: np.ndarray, dst: np.ndarray, edge_ids: np.ndarray) -> LoopRounds:
    """Kahn's algorithm over the strongly connected components of the edges (sorted by
    source; reported as ``edge_ids``), one vectorised step per round: a component is
    released once every edge into it from another component comes from a released node."""
    label = _components(n, src, dst)
    size = np.bincount(label)
    looped = size[label] > 1
    looped[src[src == dst]] = True
    cross = label[src] != label[dst]
    cross_ids, cross_dst = edge_ids[cross], label[dst[cross]]
    cross_starts = _row_starts(src[cross], n)
    members = stable_order(label)
    member_starts = np.concatenate([[0], np.cumsum(size)])
    waiting = np.bincount(cross_dst, minlength=len(size))
    ready, rounds, by_round, done = np.flatnonzero(waiting == 0), [], [], 0
    place_in_round = np.zeros(n, dtype=np.int64)
    while len(ready):
        nodes = members[out_edges(member_starts, ready)]
        edges = out_edges(cross_starts, nodes)
        on_loop = nodes[looped[nodes]]
        place_in_round[on_loop] = np.arange(len(on_loop))
        rounds.append((nodes, on_loop, slice(done, done + len(edges))))
        by_round.append(edges)
        done += len(edges)
        released = cross_dst[edges]
        np.subtract.at(waiting, released, 1)
        ready = _marked(released[waiting[released] == 0], len(size))
    inner, by_round = ~cross, np.concatenate(by_round) if by_round else np.zeros(0, dtype=int)
    return LoopRounds(
        label=label,
        rounds=rounds,
        cross=cross_ids[by_round],
        cross_src=src[cross][by_round],
        cross_dst=dst[cross][by_round],
        inner=edge_ids[inner],
        inner_starts=_row_starts(src[inner], n),
        place_in_round=place_in_round,
    )


def _row_starts(src: np.ndarray, n: int) -> np.ndarray:
    """CSR row starts of edges sorted by source."""
    return np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])


def _csr_by_source(n: int, src: np.ndarray, dst: np.ndarray, data: np.ndarray):
    """Edges already sorted by source as an n x n CSR matrix (row = source), no re-sorting
    (32-bit indices where they fit, as scipy would otherwise convert them itself)."""
    from scipy.sparse import csr_matrix

    index = np.int32 if max(n, len(dst)) < np.iinfo(np.int32).max else np.int64
    starts = _row_starts(src, n).astype(index)
    return csr_matrix((data, dst.astype(index), starts), shape=(n, n))


def _share_krylov(a_t, rhs: np.ndarray, start: np.ndarray) -> np.ndarray:
    """BiCGSTAB on (I - A^T) x = b from ``start``; ``start`` again if it breaks down."""
    from scipy.sparse import identity
    from scipy.sparse.linalg import bicgstab

    system = (identity(a_t.shape[0], format="csr") - a_t).tocsr()
    solved, info = bicgstab(system, rhs, x0=start, rtol=1e-14, atol=0.0, maxiter=2_000)
    return solved if info == 0 and np.isfinite(solved).all() else start


def _share_matrix(graph: IndexedGraph, carry: np.ndarray):
    """A^T as CSR: row v holds the shares of v's inputs that carry their full exposure."""
    from scipy.sparse import csr_matrix

    entries = (graph.share[carry], (graph.dst[carry], graph.src[carry]))
    return csr_matrix(entries, shape=(graph.n, graph.n))


def _share_direct(a_t, rhs: np.ndarray, tol: float) -> np.ndarray:
    import warnings

    from scipy.sparse import identity
    from scipy.sparse.linalg import MatrixRankWarning, spsolve

    if len(rhs) == 0:
        return np.zeros(0)
    system = (identity(len(rhs), format="csc") - a_t).tocsc()
    with warnings.catch_warnings():
        warnings.simplefilter("error", MatrixRankWarning)
        try:
            x = np.atleast_1d(spsolve(system, rhs))
        except (MatrixRankWarning, RuntimeError):
            hint = "singular: a loop of shares sums to 1"
            raise ConvergenceError("share", 1, np.inf, hint) from None
    residual = float(np.max(np.abs(system @ x - rhs), initial=0.0))
    if not np.all(np.isfinite(x)) or residual > max(SHARE_RESIDUAL, tol):
        raise ConvergenceError("share", 1, residual, "the share system is (near) singular")
    return np.clip(x, 0.0, 1.0)


def tier_distance(graph: IndexedGraph, s: np.ndarray) -> np.ndarray:
    """Edges from the nearest source (inf where none reaches), honouring the BOM rule.

    One breadth-first search from a super-source linked to every source node (distance 1)
    and, through a hub (distance 2), to the targets of sources' own MAKES edges.
    """
    from scipy.sparse.csgraph import shortest_path

    n, super_source, hub = graph.n, graph.n, graph.n + 1
    usable = graph.confidence > 0
    carry = ~graph.own & usable
    own = graph.own & usable & (s[graph.src] > 0)
    sources = np.flatnonzero(s > 0)
    src = np.concatenate([graph.src[carry], np.full(len(sources), super_source), [super_source],
                          np.full(own.sum(), hub)])  # fmt: skip
    dst = np.concatenate([graph.dst[carry], sources, [hub], graph.dst[own]])
    matrix = _csr_by_source(n + 2, src, dst, np.ones(len(src)))  # src is still sorted
    dist = shortest_path(matrix, method="D", unweighted=True, indices=super_source)
    return dist[:n] - 1.0


SCORERS = {"reach": reach_scores, "share": share_scores, "path": path_scores}


# --- per-source contributions ---------------------------------------------------------------


@dataclass
class Contributions:
    """Per (target, source) amounts for one mode, as parallel arrays of node positions."""

    target: np.ndarray
    source: np.ndarray
    amount: np.ndarray


def ancestors_of(graph: IndexedGraph, targets: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Boolean mask: nodes whose value can flow into ``targets`` (BOM rule: makers only)."""
    carry = ~graph.own & (weight > 0)
    src, dst = graph.src[carry], graph.dst[carry]
    inside = np.zeros(graph.n, dtype=bool)
    inside[targets] = True
    frontier = inside.copy()
    while frontier.any():
        reached = np.zeros(graph.n, dtype=bool)
        reached[src[frontier[dst]]] = True
        frontier = reached & ~inside
        inside |= reached
    makers = graph.src[graph.own & inside[graph.dst]]
    inside[makers] = True
    return inside


AGGREGATE = {"reach": "noisy_or", "share": "sum", "path": "max"}


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
    weight = _weight(graph, agg)
    inside = ancestors_of(graph, targets, weight)
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


# --- priors for hidden tiers ----------------------------------------------------------------


def read_priors(priors: pd.DataFrame | str | Any) -> pd.DataFrame:
    """A priors table (country, sector, expected_exposure; '*' = any), from a frame or CSV."""
    import pandas as pd

    table = priors if isinstance(priors, pd.DataFrame) else pd.read_csv(priors, comment="#")
    missing = {"country", "sector", "expected_exposure"} - set(table.columns)
    if missing:
        raise GraphError(f"priors table lacks column(s): {', '.join(sorted(missing))}")
    value = pd.to_numeric(table["expected_exposure"], errors="coerce")
    if value.isna().any() or not value.between(0, 1).all():
        row = int(np.flatnonzero(~value.between(0, 1).to_numpy())[0]) + 2
        raise GraphError(f"priors table, row {row}: expected_exposure must be a number in 0..1")
    return pd.DataFrame(
        {
            "country": table["country"].fillna("*").astype(str).str.strip().str.upper(),
            "sector": table["sector"].fillna("*").astype(str).str.strip().str.lower(),
            "expected_exposure": value.astype(float),
        }
    )


def prior_for_nodes(bundle: Bundle, priors: pd.DataFrame) -> pd.Series:
    """Each node's prior: the most specific match (country+sector, country, sector, '*')."""
    import pandas as pd

    nodes = pd.DataFrame(
        {
            "country": bundle.nodes["country"].fillna("").astype(str).str.strip().str.upper(),
            "sector": bundle.nodes["sector"].fillna("").astype(str).str.strip().str.lower(),
        }
    )
    table = priors.drop_duplicates(["country", "sector"], keep="last")
    result = pd.Series(np.nan, index=nodes.index)
    for by_country, by_sector in ((True, True), (True, False), (False, True), (False, False)):
        keys = nodes.assign(
            country=nodes["country"] if by_country else "*",
            sector=nodes["sector"] if by_sector else "*",
        )
        found = keys.merge(table, on=["country", "sector"], how="left")["expected_exposure"]
        result = result.fillna(found.set_axis(nodes.index))
    return result.fillna(0.0).set_axis(bundle.nodes["id"].to_numpy())


def expected_scores(graph: IndexedGraph, s: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Source terms with hidden tiers: the unmapped remainder is exposed if own labour or
    hidden inputs are, 1 - (1 - s)(1 - prior), on nodes with an unmapped remainder."""
    return np.where(graph.unmapped > 0, 1.0 - (1.0 - s) * (1.0 - prior), s)


# --- hidden tiers: where mapping one more tier matters most ----------------------------------


def map_next(
    bundle: Bundle,
    exposure: Exposure,
    priors: pd.DataFrame | str,
    target: str | None = None,
) -> pd.DataFrame:
    """Rank nodes by how much their unmapped inputs (priced by the priors) could change the
    target's exposure (default: the most affected buyer-facing node, per node).

    impact_share: exact increase of the target's share-mode exposure from this node's hidden
    tier; impact_reach: the target's reach if this hidden tier were the only source.
    """
    import pandas as pd

    graph = index_graph(bundle)
    s = score_array(graph, exposure.table["source_score"])
    prior = prior_for_nodes(bundle, read_priors(priors)).to_numpy(float)
    targets = _targets(graph, target)
    hidden = np.where(graph.unmapped > 0, expected_scores(graph, s, prior) - s, 0.0)
    no_own = np.zeros(graph.n)
    share = per_source(graph, "share", graph.unmapped * hidden, no_own, targets)
    reach = per_source(graph, "reach", hidden, no_own, targets)
    impact = pd.concat(
        [_impacts(graph, share, "impact_share"), _impacts(graph, reach, "impact_reach")], axis=1
    )
    ranked = impact.sort_values(["impact_share", "impact_reach"], ascending=False)
    positions = graph.ids.get_indexer(ranked.index)
    return pd.DataFrame(
        {
            "supplier": ranked.index,
            "name": exposure.table["name"].to_numpy()[positions],
            "unmapped": graph.unmapped[positions],
            "prior": prior[positions],
            "impact_share": ranked["impact_share"].fillna(0.0).to_numpy(),
            "impact_reach": ranked["impact_reach"].fillna(0.0).to_numpy(),
            "target": ranked["target"].to_numpy(),
        }
    ).reset_index(drop=True)


def _targets(graph: IndexedGraph, target: str | None) -> np.ndarray:
    if target is None:
        return np.flatnonzero(buyer_facing_mask(graph))
    position = graph.ids.get_indexer([target])[0]
    if position < 0:
        raise UnknownName(f"node {target!r} is not in the bundle")
    return np.array([position])


def _impacts(graph: IndexedGraph, parts, column: str) -> pd.DataFrame:
    """Per source node: its largest amount over the targets, and that target."""
    import pandas as pd

    frame = pd.DataFrame(
        {"source": graph.ids[parts.source], "target": graph.ids[parts.target], column: parts.amount}
    )
    best = frame.sort_values(column, ascending=False).drop_duplicates("source")
    best = best.set_index("source")
    return best if column == "impact_share" else best[[column]]


# --- result files ----------------------------------------------------------------------------

EXPOSURE_COLUMNS = [
    "id", "kind", "name", "source_score", "reach", "share", "path", "tier", "n_sources",
    "top_sources", "buyer_facing", "share_imputed", "unmapped",
]  # fmt: skip
RESULT_FILES = ("exposures.csv", "paths.json", "contributions.csv", "run.json")


def write_results(
    exposure: Exposure,
    paths: dict[str, list[Any]],
    out_dir: str | Path,
    bundle: Bundle | None = None,
    run_info: dict[str, Any] | None = None,
) -> list[Path]:
    """Write exposures.csv, paths.json (node id -> its ExposurePath list), contributions.csv
    and run.json into ``out_dir``, all or nothing (staged, then moved into place)."""
    from graphkit import __version__
    from graphkit.io.atomic import staged_dir
    from graphkit.screen.sanctions import lists_used, with_provenance

    out_dir = Path(out_dir)
    run = {"graphkit_version": __version__, "parameters": exposure.params}
    if bundle is not None:
        run["bundle"] = {"origin": bundle.origin, "sha256": bundle.digest()}
        run["sanctions_lists"] = lists_used(bundle.nodes)
    run.update(run_info or {})
    as_dicts = {node: [p.as_dict() for p in found] for node, found in paths.items()}
    with staged_dir(out_dir) as stage:
        rows = exposure_rows(exposure.table)
        rows = with_provenance(rows, bundle.nodes) if bundle is not None else rows
        _safe_csv(rows, stage / "exposures.csv")
        _safe_csv(exposure.contributions, stage / "contributions.csv")
        _write_json(as_dicts, stage / "paths.json")
        _write_json(run, stage / "run.json")
    return [out_dir / name for name in RESULT_FILES]


def exposure_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The exposure table's columns in file order (expected-exposure columns when present)."""
    extra = [c for c in ("prior", "reach_expected", "share_expected") if c in table]
    return table[EXPOSURE_COLUMNS + extra]


def _safe_csv(frame: pd.DataFrame, path: Path) -> None:
    from graphkit.io.safe_csv import spreadsheet_safe

    spreadsheet_safe(frame).to_csv(path, index=False, na_rep="", float_format="%.10g")


def _write_json(data: Any, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return str(value)


# --- the public entry point -----------------------------------------------------------------


def propagate(
    bundle: Bundle,
    source_scores: pd.Series | None = None,
    modes: Iterable[str] = MODES,
    priors: pd.DataFrame | str | None = None,
    tol: float = 1e-12,
    max_iter: int = 10_000,
    contributions_for: str | Iterable[str] = "auto",
) -> Exposure:
    """Propagate exposure through the bundle in the given modes; see the module docstring.

    ``tol``: reach and share iterate until no node's value changes by more than ``tol``
    relative to itself (path mode is always exact); ``max_iter`` caps the rounds, beyond
    which ConvergenceError is raised.

    ``contributions_for``: "auto" (every node up to CONTRIBUTIONS_ALL_NODES_UP_TO nodes, else
    the CONTRIBUTIONS_TOP most exposed buyer-facing ones), "all", "buyer", or node ids. When
    that needs more than MAX_PAIRS (node, source) pairs, or does not converge, contributions
    are skipped (empty, the reason in ``params["contributions_skipped"]``); scores stand.
    """
    modes = tuple(modes)
    unknown = set(modes) - set(MODES)
    if unknown:
        raise GraphError(f"unknown mode(s): {', '.join(sorted(unknown))}; use {', '.join(MODES)}")
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    graph = index_graph(bundle)
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
    table["tier"] = _nullable_int(np.where(np.isfinite(tier), tier, -1).astype(np.int64))

    clock = time.perf_counter()
    targets = _contribution_targets(graph, table, contributions_for)
    skipped = ""
    try:
        contributions = _contributions(graph, s, modes, targets, tol, max_iter)
        _add_source_summary(table, graph, s, targets, contributions, tol, max_iter)
    except (TooManyPairs, ConvergenceError) as exc:  # scores stand; say why parts are missing
        contributions, skipped = _contributions(graph, s, (), targets, tol, max_iter), str(exc)
        table["n_sources"], table["top_sources"] = _nullable_int(np.full(graph.n, -1)), ""
    timings["contributions"] = time.perf_counter() - clock

    if priors is not None:
        _add_expected(table, bundle, graph, s, modes, read_priors(priors), tol, max_iter)
    params = {
        "modes": list(modes),
        "tol": tol,
        "max_iter": max_iter,
        "priors": priors if isinstance(priors, str) else ("table" if priors is not None else None),
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


def _nullable_int(values: np.ndarray):
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
    table["n_sources"] = _nullable_int(n_sources)
    table["top_sources"] = ""
    if contributions.empty:
        return
    mode = next(m for m in ("share", "reach", "path") if m in set(contributions["mode"]))
    table["top_sources"] = top_sources_text(contributions[contributions["mode"] == mode]).reindex(
        table.index, fill_value=""
    )


def top_sources_text(contributions: pd.DataFrame, k: int = TOP_SOURCES) -> pd.Series:
    """Per target, the k largest contributors as 'id=0.123; id2=0.05'."""
    ranked = contributions.sort_values(
        ["target", "amount", "source"], ascending=[True, False, True]
    )
    top = ranked.groupby("target", sort=False).head(k)
    text = top["source"].astype(str) + "=" + top["amount"].map("{:.3g}".format)
    return text.groupby(top["target"], sort=False).agg("; ".join)


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
