"""The propagation engine against brute force, hand-computed cases and its invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from engine_graphs import (
    brute_path,
    brute_reach,
    brute_share,
    cheese_sandwich,
    graphs,
    make_bundle,
    plain_graph,
    reach_equation,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphkit.errors import ConvergenceError, GraphError, TooManyPairs
from graphkit.graph.index import buyer_facing, index_graph
from graphkit.propagation import propagate
from graphkit.propagation.contributions import per_source
from graphkit.propagation.modes import share_scores

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scores(bundle, **kwargs) -> pd.DataFrame:
    return propagate(bundle, **kwargs).table


@SETTINGS
@given(graphs(acyclic=True))
def test_share_and_path_equal_brute_force_over_all_paths(bundle):
    table = scores(bundle)
    for node in table.index:
        assert table.at[node, "share"] == pytest.approx(brute_share(bundle, node), abs=1e-9)
        assert table.at[node, "path"] == pytest.approx(brute_path(bundle, node), abs=1e-12)


@SETTINGS
@given(graphs(acyclic=False))
def test_reach_is_a_fixpoint_on_cyclic_graphs(bundle):
    table = scores(bundle)
    s, _, into = plain_graph(bundle)
    p = table["reach"].to_dict()
    rhs = reach_equation(s, into, p)
    for node in p:
        assert p[node] == pytest.approx(rhs[node], abs=1e-9)


def _with_confidence_cap(bundle, cap: float):
    bundle.edges["confidence"] = bundle.edges["confidence"].fillna(1.0).clip(upper=cap)
    return bundle


def share_system_is_singular(bundle) -> bool:
    """Whether x = D s + A^T x has no unique solution: a loop of carrying shares whose
    spectral radius is 1 (all of some loop's input value comes from inside the loop)."""
    graph = index_graph(bundle)
    carry = ~graph.own & (graph.share > 0)
    matrix = np.zeros((graph.n, graph.n))
    np.add.at(matrix, (graph.src[carry], graph.dst[carry]), graph.share[carry])
    return bool(graph.n) and np.max(np.abs(np.linalg.eigvals(matrix))) >= 1 - 1e-9


@SETTINGS
@given(graphs(acyclic=False, max_nodes=5))
def test_reach_is_the_least_fixpoint(bundle):
    """Kleene iteration from p = 0 converges to the least fixpoint; the engine must match it."""
    bundle = _with_confidence_cap(bundle, 0.9)  # keeps the slow brute-force iteration short
    table = scores(bundle, modes=("reach",))
    least = brute_reach(bundle, iterations=3_000)
    for node, value in least.items():
        assert table.at[node, "reach"] == pytest.approx(value, abs=1e-9)


@SETTINGS
@given(graphs(acyclic=False))
def test_share_iteration_matches_a_direct_sparse_solve_on_cycles(bundle):
    graph = index_graph(bundle)
    s = np.nan_to_num(bundle.nodes["exposure"].to_numpy(float))
    try:
        direct = share_scores(graph, s, direct=True)
    except ConvergenceError:  # singular: the iteration must fail too or find a solution
        assert share_system_is_singular(bundle)
        try:
            x = share_scores(graph, s, max_iter=5_000)
        except ConvergenceError:
            return
        _, value_added, into = plain_graph(bundle)
        for v, node in enumerate(graph.ids):
            rhs = value_added[node] * s[v] + sum(
                e[1] * (s if e[3] else x)[graph.ids.get_loc(e[0])] for e in into[node]
            )
            assert x[v] == pytest.approx(rhs, abs=1e-9)
        return
    assert share_scores(graph, s) == pytest.approx(direct, abs=1e-9)


@SETTINGS
@given(graphs(acyclic=False))
def test_scores_are_in_unit_interval_and_zero_where_no_source_reaches(bundle):
    try:
        exposure = propagate(bundle)
    except ConvergenceError:  # a loop of shares summing to 1: singular, reported
        assert share_system_is_singular(bundle)
        exposure = propagate(bundle, modes=("reach", "path"))
    table = exposure.table
    certain = type(bundle)(bundle.nodes, bundle.edges.assign(confidence=1.0))
    linked = scores(certain, modes=("path",))["tier"].notna()  # share mode ignores confidence
    for mode in exposure.params["modes"]:
        assert table[mode].notna().all()
        assert table[mode].between(0, 1).all()
        assert not np.signbit(table[mode]).any()  # no -0.0: it prints as "-0" in CSV files
        unreached = linked if mode == "share" else table["tier"].notna()
        assert (table.loc[~unreached, mode] == 0).all()
    assert ((table["path"] > 0) == table["tier"].notna()).all()
    assert (table["path"] <= table["reach"] + 1e-12).all()


@SETTINGS
@given(graphs(acyclic=False), st.data())
def test_monotone_in_source_scores_and_confidences(bundle, data):
    before = scores(bundle, modes=("reach", "path"))
    raised = bundle.nodes.copy()
    node = data.draw(st.integers(0, len(raised) - 1))
    raised.loc[node, "exposure"] = 1.0
    edges = bundle.edges.copy()
    if len(edges):
        edge = data.draw(st.integers(0, len(edges) - 1))
        edges.loc[edge, "confidence"] = 1.0
    after = scores(type(bundle)(raised, edges), modes=("reach", "path"))
    for mode in ("reach", "path"):
        assert (after[mode] >= before[mode] - 1e-12).all()


@SETTINGS
@given(graphs(acyclic=True), st.data())
def test_share_is_monotone_in_source_scores(bundle, data):
    before = scores(bundle, modes=("share",))
    raised = bundle.nodes.copy()
    raised.loc[data.draw(st.integers(0, len(raised) - 1)), "exposure"] = 1.0
    after = scores(type(bundle)(raised, bundle.edges), modes=("share",))
    assert (after["share"] >= before["share"] - 1e-12).all()


@SETTINGS
@given(graphs(acyclic=False))
def test_share_contributions_sum_to_the_score(bundle):
    try:
        exposure = propagate(bundle, modes=("share",), contributions_for="all")
    except ConvergenceError:
        assert share_system_is_singular(bundle)
        return
    parts = exposure.contributions.groupby("target")["amount"].sum()
    summed = parts.reindex(exposure.table.index, fill_value=0.0)
    assert summed.to_numpy() == pytest.approx(exposure.table["share"].to_numpy(), abs=1e-9)


@SETTINGS
@given(graphs(acyclic=False))
def test_reach_and_path_contributions_are_single_source_runs(bundle):
    """A reach/path contribution = the target's score if that source were the only one."""
    exposure = propagate(bundle, modes=("reach", "path"), contributions_for="all")
    source_ids = exposure.table.index[exposure.table["source_score"] > 0]
    for source in source_ids[:2]:
        only = exposure.table["source_score"].where(exposure.table.index == source, 0.0)
        alone = scores(bundle, source_scores=only, modes=("reach", "path"))
        for mode in ("reach", "path"):
            got = exposure.contributions.query("source == @source and mode == @mode")
            got = got.set_index("target")["amount"].reindex(alone.index, fill_value=0.0)
            assert got.to_numpy() == pytest.approx(alone[mode].to_numpy(), abs=1e-9)
        n_sources_ok = exposure.table["n_sources"] >= (alone["path"] > 0).astype(int)
        assert n_sources_ok.all()


# --- hand-computed cases ---------------------------------------------------------------------


def test_cheese_sandwich_is_not_tainted_by_the_makers_prawns():
    table = scores(cheese_sandwich())
    # the maker buys prawns: exposed as a company (reach 0.9, share 0.5 x 0.9)
    assert table.at["maker", "reach"] == pytest.approx(0.9)
    assert table.at["maker", "share"] == pytest.approx(0.45)
    # its curry holds the prawns: exposed through the PART_OF edge only
    assert table.at["curry", "reach"] == pytest.approx(0.9)
    assert table.at["curry", "share"] == pytest.approx(0.4 * 0.9)
    # its sandwich does not: the MAKES edge into a known BOM carries s(maker) = 0
    for mode in ("reach", "share", "path"):
        assert table.at["sandwich", mode] == 0.0
    assert pd.isna(table.at["sandwich", "tier"])
    # the retailer: curry edge confidence 0.8, share 0.5
    assert table.at["retailer", "reach"] == pytest.approx(0.8 * 0.9)
    assert table.at["retailer", "share"] == pytest.approx(0.5 * 0.4 * 0.9)
    assert table.at["retailer", "path"] == pytest.approx(0.72)
    assert table.at["retailer", "tier"] == 3
    assert table.at["retailer", "top_sources"] == "prawnco=0.18"


def test_makes_into_unknown_bom_carries_the_makers_full_exposure():
    bundle = make_bundle(
        [("fab", "supplier", 0.5), ("maker", "supplier", None), ("gadget", "component", None)],
        [("fab", "maker", 0.4, 1.0), ("maker", "gadget", 1.0, 0.5)],
    )
    table = scores(bundle)
    assert table.at["gadget", "reach"] == pytest.approx(0.25)
    assert table.at["gadget", "share"] == pytest.approx(0.2)
    assert table.at["gadget", "path"] == pytest.approx(0.25)


def test_a_maker_own_score_reaches_its_bom_product():
    bundle = make_bundle(
        [("maker", "supplier", 0.6), ("part", "component", None), ("product", "component", None)],
        [("part", "product", 0.7, None), ("maker", "product", 0.3, 0.5)],
    )
    table = scores(bundle)
    assert table.at["product", "reach"] == pytest.approx(0.3)
    assert table.at["product", "share"] == pytest.approx(0.3 * 0.6)
    assert table.at["product", "tier"] == 1


def test_noisy_or_of_two_independent_sources():
    bundle = make_bundle(
        [("a", "supplier", 0.5), ("b", "supplier", 0.4), ("c", "supplier", 0.0)],
        [("a", "c", 0.2, 1.0), ("b", "c", 0.3, 0.5)],
    )
    table = scores(bundle)
    assert table.at["c", "reach"] == pytest.approx(1 - 0.5 * 0.8)
    assert table.at["c", "share"] == pytest.approx(0.2 * 0.5 + 0.3 * 0.4)
    assert table.at["c", "path"] == pytest.approx(0.5)
    assert table.at["c", "n_sources"] == 2
    assert table.at["c", "top_sources"] == "b=0.12; a=0.1"


def test_missing_shares_split_the_remainder_and_are_marked():
    bundle = make_bundle(
        [
            ("a", "supplier", 1.0),
            ("b", "supplier", 0.0),
            ("c", "supplier", 0.0),
            ("d", "supplier", 0.0),
        ],
        [("a", "d", 0.4, None), ("b", "d", None, None), ("c", "d", None, None)],
    )
    graph = index_graph(bundle)
    assert graph.share.tolist() == pytest.approx([0.4, 0.3, 0.3])
    table = scores(bundle)
    assert table.at["d", "share_imputed"] and not table.at["a", "share_imputed"]
    assert table.at["d", "unmapped"] == 0.0 and table.at["a", "unmapped"] == 1.0


def test_a_certain_loop_saturates_but_an_unfed_loop_stays_at_zero():
    """Least fixpoint: exposure entering a confidence-1 loop circulates to 1; a loop nothing
    exposed enters stays at 0 (p = 1 there would also satisfy the equations)."""
    bundle = make_bundle(
        [
            ("src", "supplier", 1e-6),
            ("a", "supplier", None),
            ("b", "supplier", None),
            ("x", "supplier", None),
            ("y", "supplier", None),
        ],
        [
            ("src", "a", 0.1, 1.0),
            ("a", "b", 0.5, 1.0),
            ("b", "a", 0.5, 1.0),
            ("x", "y", 0.5, 1.0),
            ("y", "x", 0.5, 1.0),
        ],
    )
    table = scores(bundle)
    assert table.at["a", "reach"] == 1.0 and table.at["b", "reach"] == 1.0
    assert table.at["x", "reach"] == 0.0 and table.at["y", "reach"] == 0.0
    assert table.at["a", "path"] == pytest.approx(1e-6)


def test_non_convergence_raises_a_clear_error():
    bundle = make_bundle(
        [("a", "supplier", 0.5), ("b", "supplier", None), ("c", "supplier", None)],
        [("a", "b", 0.1, 0.99), ("b", "c", 0.9, 0.99), ("c", "b", 0.9, 0.99)],
    )
    with pytest.raises(ConvergenceError, match=r"reach mode did not converge.*after 3 iter"):
        propagate(bundle, modes=("reach",), max_iter=3)
    assert issubclass(ConvergenceError, GraphError)


def long_thin_loop(length: int):
    """A chain n0 -> n1 -> ... fed by one source, every 10th node selling back 50 places up
    the chain: one loop of ``length`` nodes whose values take ``length`` rounds to arrive."""
    nodes = [("src", "supplier", 0.9)] + [(f"n{i}", "supplier", None) for i in range(length)]
    edges = [("src", "n0", 0.5, 0.999)]
    edges += [(f"n{i}", f"n{i + 1}", 0.5, 0.999) for i in range(length - 1)]
    edges += [(f"n{i}", f"n{i - 50}", 0.5, 0.999) for i in range(60, length, 10)]
    return make_bundle(nodes, edges)


def test_rounds_that_first_reach_nodes_do_not_count_towards_max_iter():
    """A 2,000-node loop needs ~2,000 rounds for exposure to arrive everywhere; only the
    rounds that refine values (a few hundred, here) count towards max_iter."""
    length = 2_000
    bundle = long_thin_loop(length)
    table = scores(bundle, max_iter=500, contributions_for="all")
    chain = np.array([table.at[f"n{i}", "path"] for i in range(length)])
    np.testing.assert_allclose(chain, 0.9 * 0.999 ** np.arange(1, length + 1), rtol=1e-12)
    s, _, into = plain_graph(bundle)
    p = table["reach"].to_dict()
    rhs = reach_equation(s, into, p)
    assert max(abs(p[node] - rhs[node]) for node in p) < 1e-9
    graph = index_graph(bundle)
    direct = share_scores(graph, table["source_score"].reindex(graph.ids).to_numpy(), direct=True)
    np.testing.assert_allclose(table["share"].reindex(graph.ids), direct, rtol=0, atol=1e-12)
    assert table.at[f"n{length - 1}", "reach"] > 0.1
    assert (table["n_sources"].drop("src") == 1).all()  # per-source contributions converged


def test_a_closed_loop_of_shares_gets_the_least_solution_and_direct_solve_reports_it():
    """b and c each buy 100% from the other: nothing exposed can enter, so x = 0 there; the
    direct solve cannot tell (singular matrix) and says so."""
    bundle = make_bundle(
        [("a", "supplier", 0.5), ("b", "supplier", 0.3), ("c", "supplier", None)],
        [("b", "c", 1.0, 1.0), ("c", "b", 1.0, 1.0), ("a", "c", 0.0, 1.0)],
    )
    graph = index_graph(bundle)
    s = np.array([0.5, 0.3, 0.0])
    assert share_scores(graph, s).tolist() == [0.5, 0.0, 0.0]
    with pytest.raises(ConvergenceError, match="singular"):
        share_scores(graph, s, direct=True)
    slow_loop = make_bundle(
        [("a", "supplier", 0.5), ("b", "supplier", None), ("c", "supplier", None)],
        [("a", "b", 0.5, 1.0), ("b", "c", 0.5, 1.0), ("c", "b", 0.5, 1.0)],
    )
    exact = scores(slow_loop, modes=("share",))["share"]  # few rounds: falls back to LU
    assert scores(slow_loop, modes=("share",), max_iter=4)["share"].tolist() == pytest.approx(
        exact.tolist(), abs=1e-12
    )


def test_modes_not_computed_are_nan_and_unknown_modes_rejected():
    table = scores(cheese_sandwich(), modes=("path",))
    assert table["reach"].isna().all() and table["share"].isna().all()
    assert table["path"].notna().all()
    with pytest.raises(GraphError, match="unknown mode"):
        propagate(cheese_sandwich(), modes=("fastest",))


def test_source_scores_parameter_overrides_the_exposure_column():
    bundle = cheese_sandwich()
    override = pd.Series({"dairy": 1.0})
    table = scores(bundle, source_scores=override)
    assert table.at["prawnco", "source_score"] == 0.0
    assert table.at["sandwich", "reach"] == pytest.approx(1.0)
    assert table.at["curry", "reach"] == 0.0


def test_buyer_facing_nodes():
    facing = buyer_facing(cheese_sandwich())
    assert sorted(facing.index[facing]) == ["curry", "retailer", "sandwich"]
    # curry/sandwich are USED_BY the retailer but not PART_OF anything: still final products


def test_priors_add_expected_exposure_on_unmapped_inputs(tmp_path):
    bundle = make_bundle(
        [("a", "supplier", None), ("b", "supplier", None), ("c", "supplier", None)],
        [("a", "c", 0.5, 1.0), ("b", "c", 0.2, 1.0)],
    )
    bundle.nodes["country"] = ["CN", "VN", "DE"]
    bundle.nodes["sector"] = ["apparel", "apparel", "retail"]
    priors = tmp_path / "priors.csv"
    priors.write_text(
        "# ILLUSTRATIVE\ncountry,sector,expected_exposure\nCN,apparel,0.2\n*,apparel,0.05\n"
        "*,*,0.01\n"
    )
    table = scores(bundle, priors=str(priors))
    assert table["reach"].eq(0).all() and table["share"].eq(0).all()
    assert table["prior"].tolist() == [0.2, 0.05, 0.01]
    expected_c = 1 - (1 - 0.2) * (1 - 0.05) * (1 - 0.01)  # c has 0.3 unmapped
    assert table.at["c", "reach_expected"] == pytest.approx(expected_c)
    assert table.at["c", "share_expected"] == pytest.approx(0.5 * 0.2 + 0.2 * 0.05 + 0.3 * 0.01)


def test_bad_priors_are_rejected(tmp_path):
    priors = tmp_path / "priors.csv"
    priors.write_text("country,sector,expected_exposure\nCN,*,2\n")
    with pytest.raises(GraphError, match="row 2"):
        propagate(cheese_sandwich(), priors=str(priors))


def test_never_nan_even_with_missing_everything():
    bundle = make_bundle(
        [("a", "supplier", math.nan), ("b", "component", None)], [("a", "b", None, None)]
    )
    table = scores(bundle)
    assert table[["reach", "share", "path"]].notna().all().all()


def test_per_source_contributions_stop_at_the_pair_budget():
    graph = index_graph(cheese_sandwich())
    s = np.array([0.9] + [0.0] * (graph.n - 1))
    targets = np.arange(graph.n)
    with pytest.raises(TooManyPairs, match="more than 2"):
        per_source(graph, "reach", s, s, targets, max_pairs=2)
    assert len(per_source(graph, "reach", s, s, targets).target) > 2


def test_slow_share_loops_are_solved_by_bicgstab_exactly(monkeypatch):
    """A loop whose shares multiply to 0.97 needs ~900 Jacobi rounds: BiCGSTAB takes over
    after SHARE_JACOBI_ROUNDS and must agree with sparse LU (LU fallback switched off)."""
    from graphkit.propagation import modes as engine
    from graphkit.propagation.modes import SHARE_JACOBI_ROUNDS

    monkeypatch.setattr(engine, "SHARE_DIRECT_UP_TO", 0)
    bundle = make_bundle(
        [("a", "supplier", 0.9), ("b", "supplier", None), ("c", "supplier", 0.3)],
        [("a", "b", 0.02, 1.0), ("b", "c", 0.99, 1.0), ("c", "b", 0.98, 1.0)],
    )
    graph = index_graph(bundle)
    s = scores(bundle)["source_score"].reindex(graph.ids).to_numpy()
    too_few = SHARE_JACOBI_ROUNDS - 1
    with pytest.raises(ConvergenceError):
        share_scores(graph, s, max_iter=too_few)  # Jacobi alone does not get there
    iterative = share_scores(graph, s, max_iter=SHARE_JACOBI_ROUNDS + 5)
    exact = share_scores(graph, s, direct=True)
    np.testing.assert_allclose(iterative, exact, rtol=0, atol=1e-12)
    assert iterative[graph.ids.get_loc("b")] > 0.3


def test_indexing_rejects_duplicate_ids_and_dangling_edges():
    """The engine's own guards for bundles built in code (files are validated before)."""
    from graphkit.model import Bundle

    bundle = make_bundle([("a", "supplier", 0.5), ("b", "supplier", None)], [("a", "b", 1, 1)])
    twice = Bundle(nodes=pd.concat([bundle.nodes, bundle.nodes.head(1)]), edges=bundle.edges)
    with pytest.raises(GraphError, match="not unique"):
        index_graph(twice)
    dangling = bundle.edges.assign(target=["nowhere"])
    with pytest.raises(GraphError, match="unknown nodes.*nowhere"):
        index_graph(Bundle(nodes=bundle.nodes, edges=dangling))


@SETTINGS
@given(graphs(acyclic=False, max_nodes=9))
def test_loop_rounds_release_every_node_once_after_its_inputs(bundle):
    """The schedule every mode walks: each node in exactly one round; every carrying edge
    either comes from an earlier round or stays inside one loop of the same round."""
    from graphkit.graph.loops import on_loops

    graph = index_graph(bundle)
    schedule = graph.rounds
    round_of = np.full(graph.n, -1)
    for number, (nodes, looped, _) in enumerate(schedule.rounds):
        assert (round_of[nodes] == -1).all()
        round_of[nodes] = number
        assert set(looped) <= set(nodes)
    assert (round_of >= 0).all()
    edges = np.sort(np.concatenate([schedule.cross, schedule.inner]))
    carrying = ~graph.own & ((graph.share > 0) | (graph.confidence > 0))
    assert edges.tolist() == np.flatnonzero(carrying).tolist()
    src, dst = graph.src[schedule.cross], graph.dst[schedule.cross]
    assert (round_of[src] < round_of[dst]).all()
    src, dst = graph.src[schedule.inner], graph.dst[schedule.inner]
    assert (schedule.label[src] == schedule.label[dst]).all()
    looped = np.zeros(graph.n, dtype=bool)
    for _, on_loop, _ in schedule.rounds:
        looped[on_loop] = True
    assert (looped == on_loops(graph.n, graph.src[edges], graph.dst[edges])).all()


def test_results_are_identical_run_to_run():
    """Modes run in threads: the numbers must not depend on their timing."""
    from graphkit.generate import generate_bundle
    from graphkit.model import Bundle

    nodes, edges = generate_bundle(2_000, seed=3)
    bundle = Bundle(nodes=nodes, edges=edges)
    scores = pd.Series(nodes["true_province"].isin(["Liaoning", "Jilin"]) * 0.9)
    scores.index = nodes["id"].to_numpy()
    first, second = (propagate(bundle, scores, contributions_for=()).table for _ in range(2))
    assert (first["reach"] > 0).sum() > 100
    for column in ("reach", "share", "path", "tier"):
        assert first[column].equals(second[column])


def test_auto_contributions_above_2000_nodes_cover_every_exposed_product(monkeypatch, tmp_path):
    """Above 2,000 nodes, every mode's parts for every exposed buyer-facing node (what
    ``most_exposed`` ranks): path exact, reach as leading parts, share exact until it would
    cost more than SHARE_WORK, then leading too; run params say which and how many are exact."""
    import graphkit.propagation.engine as engine
    from graphkit.generate import write_generated
    from graphkit.graph.rules import most_exposed
    from graphkit.io import read_bundle
    from graphkit.screen.score import screen_nodes

    write_generated(tmp_path, 1_500, seed=3)
    bundle = read_bundle(tmp_path)
    s = screen_nodes(bundle.nodes).set_axis(bundle.nodes["id"].to_numpy())["source_score"]
    exposure = propagate(bundle, s)
    table = exposure.table
    exposed = most_exposed(table)
    assert len(table) > 2_000 and len(exposed) > 50
    params = exposure.params
    assert params["contributions_for"] == dict.fromkeys(("reach", "share", "path"), len(exposed))
    assert params["contributions_leading"] == ["reach"]
    assert 0 < params["contributions_complete"]["reach"] <= len(exposed)
    parts = exposure.contributions
    for mode in ("share", "path", "reach"):
        assert set(parts.loc[parts["mode"] == mode, "target"]) == set(exposed)
    assert (table.loc[exposed, "n_sources"] > 0).all()
    assert parts.loc[parts["mode"] != "reach", "exact"].all()
    lower_bounded = parts.loc[~parts["exact"], "target"].unique()
    assert len(lower_bounded) == len(exposed) - params["contributions_complete"]["reach"]
    monkeypatch.setattr(engine, "SHARE_WORK", 0)
    limited = propagate(bundle, s)
    assert limited.params["contributions_leading"] == ["reach", "share"]
    marked = limited.table.loc[exposed, "top_sources"].str.contains(">=")  # share listed first
    assert marked.sum() == len(exposed) - limited.params["contributions_complete"]["share"] > 0
    exact = parts[parts["mode"] == "share"].groupby("target")["amount"].sum()
    lower = limited.contributions
    lower = lower[lower["mode"] == "share"].groupby("target")["amount"].sum()
    assert set(lower.index) == set(exposed)
    assert (lower <= exact.reindex(lower.index) + 1e-9).all()
    assert (lower <= table.loc[lower.index, "share"] + 1e-9).all()
