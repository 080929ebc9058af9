"""The propagation engine: exposure flows from source nodes along the flow of goods.

The graph is indexed once into integer edge arrays. Every mode has the same shape,

    value(v) = AGG( term(v),  AGG over "own" edges u->v of w_uv * s(u),
                              AGG over other edges u->v of w_uv * value(u) )

with AGG = noisy-OR and w = confidence for ``reach``, AGG = sum and w = share for ``share``
(term = own value added x source score), AGG = max and w = confidence for ``path``.
"Own" edges are MAKES edges into a component whose bill of materials is known (it has
PART_OF inputs): they carry only the maker's own source score (DESIGN.md, "Products with a
known bill of materials").
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
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
CONTRIBUTIONS_ALL_NODES_UP_TO = 10_000
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


@dataclass
class IndexedGraph:
    """A bundle as integer arrays: node positions, edge endpoints and weights."""

    ids: pd.Index
    is_supplier: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    confidence: np.ndarray
    share: np.ndarray
    own: np.ndarray  # edge carries only the maker's own score (MAKES into a known BOM)
    part_of: np.ndarray  # edge is PART_OF
    share_imputed: np.ndarray  # node: some input shares were imputed
    unmapped: np.ndarray  # node: 1 - sum of its input shares (its own value added)

    @property
    def n(self) -> int:
        return len(self.ids)


@dataclass
class Exposure:
    """The result of ``propagate``: one row per node, per-source contributions, parameters."""

    table: pd.DataFrame
    contributions: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


# --- indexing -------------------------------------------------------------------------------


def index_graph(bundle: Bundle) -> IndexedGraph:
    """Index the bundle's tables into arrays (vectorised; no per-edge Python work)."""
    import pandas as pd

    nodes, edges = bundle.nodes, bundle.edges
    ids = pd.Index(nodes["id"].astype(str))
    src = ids.get_indexer(edges["source"].astype(str))
    dst = ids.get_indexer(edges["target"].astype(str))
    if (src < 0).any() or (dst < 0).any():
        bad = edges.loc[(src < 0) | (dst < 0), ["source", "target"]].head(3)
        raise GraphError(f"edges refer to unknown nodes, e.g. {bad.to_dict('records')}")
    n = len(ids)
    kind = edges["kind"].to_numpy()
    confidence = np.clip(edges["confidence"].fillna(1.0).to_numpy(float), 0.0, 1.0)
    share, imputed, unmapped = _impute_shares(edges["share"].to_numpy(float), dst, n)
    has_bom = np.bincount(dst[kind == PART_OF], minlength=n) > 0
    return IndexedGraph(
        ids=ids,
        is_supplier=(nodes["kind"] == SUPPLIER).to_numpy(),
        src=src.astype(np.int64),
        dst=dst.astype(np.int64),
        confidence=confidence,
        share=share,
        own=(kind == MAKES) & has_bom[dst],
        part_of=kind == PART_OF,
        share_imputed=imputed,
        unmapped=unmapped,
    )


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
    """Source scores: screening when available, else the explicit ``exposure`` column."""
    return source_table_for(bundle)["source_score"]


def source_table_for(bundle: Bundle) -> pd.DataFrame:
    """Per node id: ``source_score`` and the ``evidence`` behind it (screening if installed)."""
    import pandas as pd

    ids = bundle.nodes["id"].to_numpy()
    try:
        from graphkit.screen.score import screen_nodes
    except ImportError:
        scores = explicit_scores(bundle)
        evidence = pd.Series("", index=ids).where(scores <= 0, "explicit exposure")
        return pd.DataFrame({"source_score": scores, "evidence": evidence})
    screened = screen_nodes(bundle.nodes).set_axis(ids)
    evidence = screened["score_evidence"]
    return pd.DataFrame({"source_score": screened["source_score"], "evidence": evidence})


def explicit_scores(bundle: Bundle) -> pd.Series:
    """The analyst's explicit ``exposure`` column, missing = 0."""
    return bundle.nodes["exposure"].fillna(0.0).set_axis(bundle.nodes["id"].to_numpy())


def _score_array(graph: IndexedGraph, scores: pd.Series) -> np.ndarray:
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
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    sure = ~graph.own & (graph.confidence >= 1.0)
    src, dst = graph.src[sure], graph.dst[sure]
    matrix = csr_matrix((np.ones(len(src)), (src, dst)), shape=(graph.n, graph.n))
    _, label = connected_components(matrix, directed=True, connection="strong")
    looped = np.bincount(label, minlength=graph.n)[label] > 1
    looped[src[src == dst]] = True
    return looped


def _iterate(graph, term, own_score, agg, mode, tol, max_iter) -> np.ndarray:
    """Fixpoint iteration from value = fixed terms; monotone, so it finds the least fixpoint."""
    fixed = _fixed_terms(graph, term, own_score, agg)
    weight = _weight(graph, agg)
    carry = ~graph.own & (weight > 0)
    src, dst, weight = graph.src[carry], graph.dst[carry], weight[carry]
    saturate = certain_loops(graph) if agg == "noisy_or" else np.zeros(graph.n, dtype=bool)
    value, residual = fixed, np.inf
    for _ in range(max_iter):
        new = combine(fixed, reduce_by(dst, weight * value[src], agg, graph.n), agg)
        new[saturate & (new > 0)] = 1.0
        residual = float(np.max(np.abs(new - value), initial=0.0))
        value = new
        if residual <= tol:
            return np.clip(value, 0.0, 1.0)
    hint = "a loop of shares sums to 1?" if agg == "sum" else "raise max_iter or tol"
    raise ConvergenceError(mode, max_iter, residual, hint)


def reach_scores(graph, s, own_score=None, tol=1e-12, max_iter=10_000) -> np.ndarray:
    """Noisy-OR least fixpoint p = 1 - (1 - s) * prod(1 - c * p(u))."""
    own_score = s if own_score is None else own_score
    return _iterate(graph, s, own_score, "noisy_or", "reach", tol, max_iter)


def path_scores(graph, s, own_score=None, tol=0.0, max_iter=10_000) -> np.ndarray:
    """Strongest single chain: max over paths of the product of confidences x s(source)."""
    own_score = s if own_score is None else own_score
    return _iterate(graph, s, own_score, "max", "path", tol, max_iter)


def share_scores(graph, s, own_score=None, tol=1e-12, max_iter=10_000, direct=False):
    """Leontief embodied share: x = D s + A^T x (+ own MAKES edges carrying s(maker)).

    Solved by the Jacobi/Neumann iteration x <- b + A^T x (exact after 'depth' steps on an
    acyclic graph, geometric on loops); ``direct=True`` uses a sparse LU solve instead
    (slower on large graphs: fill-in), kept as an independent check.
    """
    own_score = s if own_score is None else own_score
    if not direct:
        return _iterate(graph, graph.unmapped * s, own_score, "sum", "share", tol, max_iter)
    return _share_direct(graph, _fixed_terms(graph, graph.unmapped * s, own_score, "sum"), tol)


def _share_direct(graph: IndexedGraph, rhs: np.ndarray, tol: float) -> np.ndarray:
    import warnings

    from scipy.sparse import csc_matrix, identity
    from scipy.sparse.linalg import MatrixRankWarning, spsolve

    if graph.n == 0:
        return np.zeros(0)
    carry = ~graph.own & (graph.share > 0)
    a_t = csc_matrix(
        (graph.share[carry], (graph.dst[carry], graph.src[carry])), shape=(graph.n, graph.n)
    )
    system = (identity(graph.n, format="csc") - a_t).tocsc()
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
    """Edges from the nearest source (inf where none reaches), honouring the BOM rule."""
    is_source = s > 0
    dist = np.where(is_source, 0.0, np.inf)
    own = graph.own & (graph.confidence > 0) & is_source[graph.src]
    np.minimum.at(dist, graph.dst[own], 1.0)
    carry = ~graph.own & (graph.confidence > 0)
    src, dst = graph.src[carry], graph.dst[carry]
    for _ in range(graph.n + 1):
        new = dist.copy()
        np.minimum.at(new, dst, dist[src] + 1.0)
        if np.array_equal(new, dist):
            break
        dist = new
    return dist


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
) -> Contributions:
    """Each source's part of each target's value: the same propagation, one column per source.

    share: the exact additive part (sums to the score); reach: the reach the target would
    have if this were the only source; path: the best chain value from this source.
    Only (node, source) pairs that can reach ``targets`` are propagated.
    """
    agg = AGGREGATE[mode]
    weight = _weight(graph, agg)
    inside = ancestors_of(graph, targets, weight)
    fixed_keys, fixed_values = _initial_pairs(graph, term, own_score, weight, inside, agg)
    carry = ~graph.own & (weight > 0) & inside[graph.dst]
    order = np.argsort(graph.src[carry], kind="stable")
    e_dst, e_weight = graph.dst[carry][order], weight[carry][order]
    starts = np.searchsorted(graph.src[carry][order], np.arange(graph.n + 1))
    n = np.int64(graph.n)
    saturate = certain_loops(graph) if agg == "noisy_or" else np.zeros(graph.n, dtype=bool)
    keys, values, residual = fixed_keys, fixed_values, np.inf
    for _ in range(max_iter):
        node = keys // n
        degree = starts[node + 1] - starts[node]
        first = starts[node] - np.cumsum(degree) + degree
        edge = np.repeat(first, degree) + np.arange(degree.sum())
        new_keys, new_values = _aggregate_pairs(
            np.concatenate([fixed_keys, e_dst[edge] * n + np.repeat(keys % n, degree)]),
            np.concatenate([fixed_values, e_weight[edge] * np.repeat(values, degree)]),
            agg,
        )
        new_values[saturate[new_keys // n] & (new_values > 0)] = 1.0
        same = np.array_equal(new_keys, keys)
        residual = float(np.max(np.abs(new_values - values), initial=0.0)) if same else np.inf
        keys, values = new_keys, new_values
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
    s = _score_array(graph, exposure.table["source_score"])
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
        raise GraphError(f"node {target!r} is not in the bundle")
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

    out_dir = Path(out_dir)
    run = {"graphkit_version": __version__, "parameters": exposure.params}
    if bundle is not None:
        run["bundle"] = {"origin": bundle.origin, "sha256": bundle.digest()}
    run.update(run_info or {})
    as_dicts = {node: [p.as_dict() for p in found] for node, found in paths.items()}
    with staged_dir(out_dir) as stage:
        _safe_csv(exposure_rows(exposure.table), stage / "exposures.csv")
        _safe_csv(exposure.contributions, stage / "contributions.csv")
        _write_json(as_dicts, stage / "paths.json")
        _write_json(run, stage / "run.json")
    return [out_dir / name for name in RESULT_FILES]


def exposure_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The exposure table's columns in file order (expected-exposure columns when present)."""
    extra = [c for c in ("prior", "reach_expected", "share_expected") if c in table]
    return table[EXPOSURE_COLUMNS + extra]


def _safe_csv(frame: pd.DataFrame, path: Path) -> None:
    from graphkit.io.safe_csv import neutralise_formula

    text = frame.select_dtypes(include=["object", "string"]).columns
    safe = frame.assign(**{c: frame[c].map(neutralise_formula) for c in text})
    safe.to_csv(path, index=False, na_rep="", float_format="%.10g")


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

    ``contributions_for``: "auto" (every node up to CONTRIBUTIONS_ALL_NODES_UP_TO nodes, else
    the buyer-facing ones), "all", "buyer", or an iterable of node ids.
    """
    modes = tuple(modes)
    unknown = set(modes) - set(MODES)
    if unknown:
        raise GraphError(f"unknown mode(s): {', '.join(sorted(unknown))}; use {', '.join(MODES)}")
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    graph = index_graph(bundle)
    scores = explicit_scores(bundle) if source_scores is None else source_scores
    s = _score_array(graph, scores)
    timings["index"] = time.perf_counter() - clock

    table = _node_frame(bundle, graph, s)
    for mode in modes:
        clock = time.perf_counter()
        table[mode] = _checked(mode, SCORERS[mode](graph, s, tol=tol, max_iter=max_iter))
        timings[mode] = time.perf_counter() - clock
    table["tier"] = _tiers(graph, s)

    clock = time.perf_counter()
    targets = _contribution_targets(bundle, graph, contributions_for)
    contributions = _contributions(graph, s, modes, targets, tol, max_iter)
    _add_source_summary(table, graph, s, targets, contributions, tol, max_iter)
    timings["contributions"] = time.perf_counter() - clock

    if priors is not None:
        _add_expected(table, bundle, graph, s, modes, read_priors(priors), tol, max_iter)
    params = {
        "modes": list(modes),
        "tol": tol,
        "max_iter": max_iter,
        "priors": priors if isinstance(priors, str) else ("table" if priors is not None else None),
        "contributions_for": len(targets),
        "timings_s": timings,
    }
    return Exposure(table=table, contributions=contributions, params=params)


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
            "kind": nodes["kind"].to_numpy(),
            "name": nodes["name"].to_numpy() if "name" in nodes else "",
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


def _tiers(graph: IndexedGraph, s: np.ndarray):
    dist = tier_distance(graph, s)
    return _nullable_int(np.where(np.isfinite(dist), dist, -1).astype(np.int64))


def _nullable_int(values: np.ndarray):
    """Integers with -1 meaning missing, as a pandas nullable Int64 array."""
    import pandas as pd

    return pd.arrays.IntegerArray(values, values < 0)


def _contribution_targets(bundle, graph, contributions_for) -> np.ndarray:
    if contributions_for == "auto":
        contributions_for = "all" if graph.n <= CONTRIBUTIONS_ALL_NODES_UP_TO else "buyer"
    if contributions_for == "all":
        return np.arange(graph.n)
    if contributions_for == "buyer":
        return np.flatnonzero(buyer_facing_mask(graph))
    positions = graph.ids.get_indexer(list(contributions_for))
    if (positions < 0).any():
        raise GraphError("contributions_for names node id(s) not in the bundle")
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
    reached = per_source(graph, "path", s, s, targets, tol=0.0, max_iter=max_iter)
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
