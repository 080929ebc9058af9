"""Per-source contributions without a pair budget: equal to per_source and to brute force."""

from __future__ import annotations

import numpy as np
import pytest
from engine_graphs import (
    all_paths_into,
    brute_share,
    cheese_sandwich,
    graphs,
    make_bundle,
    plain_graph,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphkit.errors import ConvergenceError
from graphkit.graph.index import explicit_scores, index_graph, score_array
from graphkit.graph.rules import ROUNDING
from graphkit.propagation import per_source, share_scores
from graphkit.propagation.attribution import copies, source_parts
from graphkit.propagation.leading import leading_sources
from graphkit.propagation.upstream import downstream_of, upstream_of

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def indexed(bundle):
    graph = index_graph(bundle)
    return graph, score_array(graph, explicit_scores(bundle))


def as_dict(target, source, amount) -> dict:
    return {(int(t), int(j)): float(a) for t, j, a in zip(target, source, amount, strict=True)}


def engine_parts(graph, s, mode, targets) -> dict:
    term = graph.unmapped * s if mode == "share" else s
    found = per_source(graph, mode, term, s, targets)
    return as_dict(found.target, found.source, found.amount)


@SETTINGS
@given(graphs(acyclic=False, max_nodes=7))
def test_every_mode_equals_per_source_on_random_graphs_with_loops(bundle):
    graph, s = indexed(bundle)
    targets = np.arange(graph.n)
    try:
        parts = source_parts(graph, s, targets, top=graph.n)
        expected = {mode: engine_parts(graph, s, mode, targets) for mode in parts}
    except ConvergenceError:  # a closed loop of shares: both refuse (checked below)
        return
    for mode, found in parts.items():
        got = as_dict(found.target, found.source, found.amount)
        assert got.keys() == expected[mode].keys(), mode
        assert list(got.values()) == pytest.approx([expected[mode][k] for k in got], abs=1e-9)
        counts = np.bincount(found.target, minlength=graph.n)
        if mode != "reach":
            assert (found.n_sources == counts[targets]).all()
    for t in targets:  # a target alone: its block's upstream is its own
        alone = source_parts(graph, s, np.array([t]), top=graph.n)
        for mode, found in alone.items():
            want = {key: v for key, v in expected[mode].items() if key[0] == t}
            got = as_dict(found.target, found.source, found.amount)
            assert got.keys() == want.keys()
            assert list(got.values()) == pytest.approx([want[k] for k in got], abs=1e-9)


def test_the_makers_purchases_stay_out_of_each_products_parts():
    graph, s = indexed(cheese_sandwich())
    for product in ("sandwich", "curry", "retailer"):
        targets = np.array([graph.ids.get_loc(product)])  # one target: the maker only makes
        parts = source_parts(graph, s, targets, top=graph.n)
        for mode, found in parts.items():
            got = as_dict(found.target, found.source, found.amount)
            expected = engine_parts(graph, s, mode, targets)
            assert got.keys() == expected.keys()
            assert list(got.values()) == pytest.approx([expected[k] for k in got], abs=1e-12)
        assert (parts["share"].n_sources == 0) == (product == "sandwich")


@SETTINGS
@given(graphs(acyclic=False, max_nodes=7))
def test_share_parts_sum_to_the_share_score(bundle):
    graph, s = indexed(bundle)
    try:
        parts = source_parts(graph, s, np.arange(graph.n), modes=("share",), top=2)["share"]
        score = share_scores(graph, s)
    except ConvergenceError:
        return
    assert parts.total == pytest.approx(score, abs=1e-9)
    listed = np.bincount(parts.target, weights=parts.amount, minlength=graph.n)
    assert (listed <= parts.total + 1e-12).all()
    assert (np.bincount(parts.target, minlength=graph.n) <= 2).all()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(acyclic=True, max_nodes=6))
def test_share_and_path_parts_equal_brute_force_over_all_paths(bundle):
    graph, s = indexed(bundle)
    parts = source_parts(graph, s, np.arange(graph.n), modes=("share", "path"), top=graph.n)
    s_of, value_added, into = plain_graph(bundle)
    for t in range(graph.n):
        share, best = {}, {}
        for path, used in all_paths_into(into, graph.ids[t]):
            own_start = bool(used) and used[0][3]
            # a remainder below ROUNDING is float residue of shares meant to sum to 1: the
            # engine gives such a node no value added (graphkit.graph.rules.impute_shares)
            added = value_added[path[0]] if value_added[path[0]] >= ROUNDING else 0.0
            start = s_of[path[0]] * (1.0 if own_start else added)
            share[path[0]] = share.get(path[0], 0.0) + start * np.prod([e[1] for e in used])
            chain = s_of[path[0]] * np.prod([e[2] for e in used])
            best[path[0]] = max(best.get(path[0], 0.0), chain)
        for mode, brute in (("share", share), ("path", best)):
            found = parts[mode]
            rows = found.target == t
            got = dict(zip(graph.ids[found.source[rows]], found.amount[rows], strict=True))
            brute = {j: v for j, v in brute.items() if v > 0}
            assert got.keys() == brute.keys()
            assert [got[j] for j in brute] == pytest.approx(list(brute.values()), abs=1e-12)
        assert parts["share"].total[t] == pytest.approx(brute_share(bundle, graph.ids[t]))


def ancestors_of(graph, targets, weight) -> np.ndarray:
    """The plain frontier search (one numpy pass per hop) upstream_of must agree with."""
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
    inside[graph.src[graph.own & inside[graph.dst]]] = True
    return inside


@SETTINGS
@given(graphs(acyclic=False, max_nodes=8))
def test_upstream_of_is_ancestors_of(bundle):
    graph, _ = indexed(bundle)
    for weight in (graph.share, graph.confidence):
        for t in range(graph.n):
            assert (upstream_of(graph, [t], weight) == ancestors_of(graph, [t], weight)).all()


@SETTINGS
@given(graphs(acyclic=False, max_nodes=8))
def test_downstream_of_is_networkx_descendants(bundle):
    import networkx as nx

    graph, _ = indexed(bundle)
    for weight in (graph.share, graph.confidence):
        hops = nx.DiGraph()
        hops.add_nodes_from(range(graph.n))
        use = weight > 0
        hops.add_edges_from(zip(graph.src[use].tolist(), graph.dst[use].tolist(), strict=True))
        for j in range(graph.n):
            expected = np.zeros(graph.n, dtype=bool)
            expected[[j, *nx.descendants(hops, j)]] = True
            assert (downstream_of(graph, [j], weight) == expected).all()


def test_copies_hold_the_edges_between_each_masks_nodes():
    bundle = make_bundle(
        [("a", "supplier", 1.0), ("b", "supplier", None), ("c", "supplier", None)],
        [("a", "b", 0.5, 0.9), ("b", "c", 0.5, 0.8), ("a", "c", 0.5, 0.7)],
    )
    graph, _ = indexed(bundle)
    union, offsets = copies(graph, [np.array([True, False, True]), np.array([True, True, False])])
    assert list(union.ids) == ["a", "c", "a", "b"]
    assert [o.tolist() for o in offsets] == [[0, -1, 1], [2, 3, -1]]
    assert union.src.tolist() == [0, 2] and union.dst.tolist() == [1, 3]
    assert union.confidence.tolist() == [0.7, 0.9]


def chain(n: int, sources: tuple[int, ...]):
    nodes = [(f"n{i}", "supplier", 0.5 if i in sources else None) for i in range(n)]
    edges = [(f"n{i}", f"n{i + 1}", 0.9999, 0.9999) for i in range(n - 1)]
    return indexed(make_bundle(nodes, edges))


def test_a_100000_deep_chain_gets_its_share_and_path_parts_without_recursion():
    n = 100_000
    graph, s = chain(n, (0, n // 2))
    parts = source_parts(graph, s, np.array([n - 1]), modes=("share", "path"), top=5)
    near = 0.5 * 0.9999 ** (n - 1 - n // 2)
    assert parts["share"].source.tolist() == [0, n // 2]  # the far source adds more value
    assert parts["share"].amount.tolist() == pytest.approx(
        [0.5 * 0.9999 ** (n - 1), 0.0001 * near], rel=1e-9
    )
    assert parts["share"].total[0] == pytest.approx(share_scores(graph, s)[n - 1], rel=1e-9)
    assert parts["path"].source.tolist() == [n // 2, 0]
    assert parts["path"].amount.tolist() == pytest.approx([near, 0.5 * 0.9999 ** (n - 1)])


def test_reach_parts_are_single_source_reach_on_a_deep_chain():
    n = 20_000
    graph, s = chain(n, (0, n // 2))
    parts = source_parts(graph, s, np.array([n - 1]), modes=("path", "reach"), top=5)
    assert parts["reach"].source.tolist() == [n // 2, 0]
    assert parts["reach"].amount == pytest.approx(parts["path"].amount, rel=1e-9)
    assert parts["reach"].n_sources.tolist() == [2]


@SETTINGS
@given(graphs(acyclic=False, max_nodes=9))
def test_strongest_sources_are_the_best_of_all_chains_however_the_rounds_split(bundle):
    """A node's ``top`` best sources and its count of sources, whether a round is merged in
    one array step (THIN 0) or searched (THIN large: every round a thin one), equal the
    engine's per-source path values cut to ``top``."""
    import graphkit.propagation.strongest as strongest

    graph, s = indexed(bundle)
    every = engine_parts(graph, s, "path", np.arange(graph.n))
    for thin in (0, strongest.THIN, 10**9):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(strongest, "THIN", thin)
            for top in (1, 2, graph.n):
                found = strongest.strongest_sources(graph, s, top)
                for t in range(graph.n):
                    want = sorted(((-v, j) for (u, j), v in every.items() if u == t))
                    got = [(-v, j) for v, j in zip(found.value[t], found.source[t]) if j >= 0]
                    assert [v for v, _ in got] == pytest.approx([v for v, _ in want[:top]])
                    for v, j in got:  # each listed source with its own best chain
                        assert every[(t, j)] == pytest.approx(-v)
                    assert found.count[t] == len(want)


def test_source_counts_past_count_work_are_exact_only_below_top(monkeypatch):
    """Where exact counting would cost more than COUNT_WORK, a node reached by fewer than
    ``top`` sources still gets its exact count and one reached by more gets -1."""
    import graphkit.propagation.strongest as strongest

    nodes = [(f"s{i}", "supplier", 0.5) for i in range(3)] + [("t", "supplier", None)]
    graph, s = indexed(make_bundle(nodes, [(f"s{i}", "t", 0.3, 0.9) for i in range(3)]))
    exact = strongest.strongest_sources(graph, s, 2).count
    monkeypatch.setattr(strongest, "COUNT_WORK", 0)
    for top, expected in ((2, -1), (3, -1), (4, 3)):
        found = strongest.strongest_sources(graph, s, top)
        assert found.count[graph.ids.get_loc("t")] == expected
        assert found.count[graph.ids.get_loc("s0")] == 1  # itself, fewer than top
    assert exact[graph.ids.get_loc("t")] == 3


def test_leading_sweeps_never_lower_a_listed_part(monkeypatch):
    """A five-node loop fed by four sources, one part kept per node: plain Jacobi sweeps
    lower some node's part when a source drops out at a neighbour (and may cycle); with each
    sweep keeping the higher part, every sweep's lists are at least the ones before, and the
    parts stay lower bounds of reach alone."""
    import graphkit.propagation.leading as leading

    nodes = [(f"v{i}", "supplier", None) for i in range(5)] + [
        ("s0", "supplier", 0.68), ("s1", "supplier", 0.92), ("s2", "supplier", 0.81),
        ("s3", "supplier", 0.59),
    ]  # fmt: skip
    loop = [
        ("v0", "v1", 0.74), ("v1", "v2", 0.74), ("v2", "v3", 0.94), ("v3", "v4", 0.57),
        ("v4", "v0", 0.71), ("v2", "v0", 0.68), ("v3", "v1", 0.53), ("v4", "v3", 0.69),
    ]  # fmt: skip
    into = [
        ("s0", "v0", 0.3), ("s1", "v2", 0.97), ("s1", "v1", 0.99), ("s2", "v0", 0.95),
        ("s2", "v3", 0.92), ("s3", "v3", 0.78), ("s3", "v0", 0.66),
    ]  # fmt: skip
    graph, s = indexed(make_bundle(nodes, [(u, v, None, c) for u, v, c in loop + into]))
    kept, steps = leading._not_below, []

    def recorded(source, value, new_source, new_value):
        found = kept(source, value, new_source, new_value)
        steps.append((value.copy(), new_value.copy(), found[0][1]))
        return found

    monkeypatch.setattr(leading, "_not_below", recorded)
    lead = leading_sources(graph, s, "reach", 1, tol=1e-13)
    assert any((new < before).any() for before, new, _ in steps)  # what plain sweeps do
    assert all((after >= before).all() for before, _, after in steps)
    expected = engine_parts(graph, s, "reach", np.arange(graph.n))
    for v in range(graph.n):
        j, x = int(lead.source[v, 0]), float(lead.value[v, 0])
        assert j < 0 or x <= expected.get((v, j), 0.0) + 1e-9


@SETTINGS
@given(graphs(acyclic=False, max_nodes=7), st.sampled_from(["share", "reach"]), st.integers(1, 3))
def test_leading_parts_are_lower_bounds_and_exact_where_complete(bundle, mode, top):
    """Keeping a few sources per node: every listed part is at most the source's part by
    per_source, and where a node is complete its list is its largest parts exactly."""
    graph, s = indexed(bundle)
    try:
        expected = engine_parts(graph, s, mode, np.arange(graph.n))
    except ConvergenceError:
        return
    for width in (top, graph.n):
        lead = leading_sources(graph, s, mode, width, tol=1e-13)
        for v in range(graph.n):
            listed = {int(j): float(x) for j, x in zip(lead.source[v], lead.value[v]) if j >= 0}
            for j, x in listed.items():
                assert x <= expected.get((v, j), 0.0) + 1e-9
            if lead.complete[v]:
                mine = sorted((x for (t, _), x in expected.items() if t == v), reverse=True)
                assert sorted(listed.values(), reverse=True) == pytest.approx(
                    mine[:width], abs=1e-7
                )


def test_share_parts_by_targets_pass_over_a_singular_loop_no_source_reaches():
    """Two sources, one target (so parts go by targets): a loop whose shares sum to 1 feeds
    the target but no source reaches it; its part of every weight is never used, so the
    parts are per_source's instead of a singular solve."""
    nodes = [("s1", "supplier", 0.8), ("s2", "supplier", 0.6)] + [
        (name, "supplier", None) for name in ("a", "b", "m", "t")
    ]
    edges = [
        ("a", "b", 1.0, 0.9), ("b", "a", 1.0, 0.9), ("b", "t", 0.2, 0.9),
        ("s1", "m", 0.5, 0.9), ("s2", "m", 0.5, 0.9), ("m", "t", 0.8, 0.9),
    ]  # fmt: skip
    graph, s = indexed(make_bundle(nodes, edges))
    target = graph.ids.get_loc("t")
    parts = source_parts(graph, s, np.array([target]), modes=("share",))["share"]
    expected = engine_parts(graph, s, "share", np.array([target]))
    found = {(int(t), int(j)): x for t, j, x in zip(parts.target, parts.source, parts.amount)}
    assert found == pytest.approx({key: x for key, x in expected.items() if x > 0})
    assert set(found) == {(target, graph.ids.get_loc("s1")), (target, graph.ids.get_loc("s2"))}
