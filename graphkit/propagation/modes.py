"""The propagation engine: exposure flows from source nodes along the flow of goods.

The graph is indexed once into integer edge arrays. Every mode has the same shape,

    value(v) = AGG( term(v),  AGG over "own" edges u->v of w_uv * s(u),
                              AGG over other edges u->v of w_uv * value(u) )

with AGG = noisy-OR and w = confidence for ``reach``, AGG = sum and w = share for ``share``
(term = own value added x source score), AGG = max and w = confidence for ``path``.
"Own" edges are MAKES edges into a component whose bill of materials is known (it has
PART_OF inputs): they carry only the maker's own source score (the README's "Propagation:
how exposure travels").

The graph is evaluated in topological order of its loops (strongly connected components,
``loop_rounds``): a node outside loops is final, exactly, once its inputs are; the nodes of
a loop are solved together (``_solve_loop_block``).
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING

import numpy as np

from graphkit.errors import ConvergenceError
from graphkit.graph.loops import marked, on_loops, out_edges, row_starts
from graphkit.graph.rules import combine, mode_weight, reduce_by

if TYPE_CHECKING:
    from graphkit.graph.index import IndexedGraph

    pass


#: share mode falls back to a direct sparse solve of a loop up to this many nodes
SHARE_DIRECT_UP_TO = 50_000


#: Jacobi rounds on a loop before BiCGSTAB takes over
SHARE_JACOBI_ROUNDS = 64


#: a share-mode solution whose residual exceeds this is rejected
SHARE_RESIDUAL = 1e-9


def fixed_terms(graph: IndexedGraph, term: np.ndarray, own_score: np.ndarray, agg: str):
    """The constant part of every node's value: its own term and its 'own' MAKES edges."""
    weight, own = mode_weight(graph, agg), graph.own
    from_makers = reduce_by(graph.dst[own], weight[own] * own_score[graph.src[own]], agg, graph.n)
    return combine(term, from_makers, agg)


def _in_rounds(graph, term, own_score, agg, mode, tol, max_iter) -> np.ndarray:
    """Every node's value, component by component in topological order (``graph.rounds``).

    A node outside loops is final once its inputs are: one pass over the edges, exact. The
    nodes on loops released in a round are solved together, from the inputs that arrived
    from earlier rounds: a linear solve for ``sum`` (``solve_loops``), the least fixpoint
    for noisy-OR and max (``_loop_fixpoint``). The accumulator is in log space for noisy-OR.
    Edges that carry nothing in this mode (weight 0) add nothing in any of the three. Runs
    of thin rounds (a deep graph's) go node by node in plain Python (``_thin_rounds``), the
    same sums in the same order without an array step per round.
    """
    weight, schedule = mode_weight(graph, agg), graph.rounds
    src, dst, w = schedule.cross_src, schedule.cross_dst, weight[schedule.cross]
    value = np.zeros(graph.n)
    acc = _to_acc(fixed_terms(graph, term, own_score, agg), agg)
    nodes_at, looped_at = schedule.round_starts, schedule.looped_starts
    edges_at = schedule.edge_starts
    with np.errstate(divide="ignore", invalid="ignore"):
        for first, last, thin in _segments(schedule):
            if thin:
                edges = slice(edges_at[first], edges_at[last])
                nodes = schedule.order[nodes_at[first] : nodes_at[last]]
                _thin_rounds(acc, value, nodes, src[edges], dst[edges], w[edges], agg)
                continue
            for r in range(first, last):
                nodes = schedule.order[nodes_at[r] : nodes_at[r + 1]]
                looped = schedule.looped_order[looped_at[r] : looped_at[r + 1]]
                edges = slice(edges_at[r], edges_at[r + 1])
                value[nodes] = _from_acc(acc[nodes], agg)
                if len(looped):
                    block = (graph, weight, looped, acc[looped], agg, mode, tol, max_iter)
                    value[looped] = _solve_loop_block(*block)
                _push(acc, dst[edges], w[edges] * value[src[edges]], agg)
    return np.clip(value, 0.0, 1.0)


#: a round of at most this many nodes, none on a loop, with at most THIN_EDGES out-edges, is
#: thin: evaluated in plain Python, where an array step would cost more than the work
THIN_NODES = 8
THIN_EDGES = 64


def _segments(schedule) -> list[tuple[int, int, bool]]:
    """The rounds as maximal runs (first, last + 1, thin) of thin or of other rounds."""
    thin = (np.diff(schedule.round_starts) <= THIN_NODES) & (np.diff(schedule.looped_starts) == 0)
    thin &= np.diff(schedule.edge_starts) <= THIN_EDGES
    bounds = [0, *(np.flatnonzero(thin[1:] != thin[:-1]) + 1).tolist(), len(thin)]
    return [(a, b, bool(thin[a])) for a, b in zip(bounds, bounds[1:]) if b > a]


def _noisy_or_push(current: float, carried: float) -> float:
    # numpy's log1p and expm1, not math's: they differ in the last bit on some platforms
    return current + (float(np.log1p(-carried)) if carried < 1.0 else -math.inf)


#: per aggregation: a node's value from its accumulator, and the accumulator after an input
SCALAR = {
    "noisy_or": (lambda acc: 0.0 - float(np.expm1(acc)), _noisy_or_push),
    "sum": (float, operator.add),
    "max": (float, max),
}


def _thin_rounds(acc, value, nodes, src, dst, weight, agg) -> None:
    """Consecutive rounds without loops, node by node in topological order: each node's value
    from its accumulator, then its out-edges (``src`` .. ``weight``, by source in that order)
    pushed, exactly as the array steps would (same operations, same order)."""
    read, push = SCALAR[agg]
    src, dst, weight = src.tolist(), dst.tolist(), weight.tolist()
    local: dict[int, float] = {}
    found, edge, n_edges = [], 0, len(src)
    for node in nodes.tolist():
        own = read(local[node] if node in local else acc[node])
        found.append(own)
        while edge < n_edges and src[edge] == node:
            target = dst[edge]
            current = local[target] if target in local else float(acc[target])
            local[target] = push(current, weight[edge] * own)
            edge += 1
    value[nodes] = found
    if local:
        acc[np.fromiter(local, dtype=np.int64, count=len(local))] = list(local.values())


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
    starts = row_starts(src, n)
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
        touched = marked(dst[edges], n)
    raise ConvergenceError(mode, max_iter, residual, "raise max_iter or tol")


def reaches_new_nodes(old: np.ndarray, new: np.ndarray) -> bool:
    """Whether a round brought exposure to a node for the first time (such rounds, at most
    one per node, do not count towards ``max_iter``)."""
    return bool(np.any((old == 0) & (new > 0)))


def relative_change(diff: np.ndarray, new: np.ndarray) -> float:
    """Largest change relative to the new value (values only grow, so 0 -> x counts as 1)."""
    moved = diff > 0
    return float(np.max(diff[moved] / np.abs(new[moved]), initial=0.0))


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
        rhs = fixed_terms(graph, graph.unmapped * s, own_score, "sum")
        return _share_direct(_share_matrix(graph, ~graph.own & (graph.share > 0)), rhs, tol)
    return _in_rounds(graph, graph.unmapped * s, own_score, "sum", "share", tol, max_iter)


def solve_loops(a_t, rhs: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """Solve x = rhs + A^T x on nodes that lie on loops (the least solution); ``rhs`` may
    hold several right-hand sides as columns.

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


def _share_krylov(a_t, rhs: np.ndarray, start: np.ndarray) -> np.ndarray:
    """BiCGSTAB on (I - A^T) x = b from ``start`` (several right-hand sides: column by
    column); ``start`` again where it breaks down."""
    from scipy.sparse import identity

    system = (identity(a_t.shape[0], format="csr") - a_t).tocsr()
    if rhs.ndim == 1:
        return _bicgstab(system, rhs, start)
    columns = range(rhs.shape[1])
    return np.column_stack([_bicgstab(system, rhs[:, c], start[:, c]) for c in columns])


def _bicgstab(system, rhs: np.ndarray, start: np.ndarray) -> np.ndarray:
    from scipy.sparse.linalg import bicgstab

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


SCORERS = {"reach": reach_scores, "share": share_scores, "path": path_scores}
