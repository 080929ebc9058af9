"""Top-k paths for every target in one pass: equal to Yen's algorithm (explain.top_paths)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from engine_graphs import cheese_sandwich, graphs, make_bundle
from hypothesis import HealthCheck, given, settings

from graphkit.explain import EdgeFacts, paths_into, top_paths
from graphkit.graph import buyer_facing_mask
from graphkit.graph.index import explicit_scores, index_graph, score_array
from graphkit.io import read_bundle
from graphkit.propagation.paths import as_exposure_paths, top_paths_all, write_paths_parquet
from graphkit.screen.sources import source_scores_for, source_table_for

SAMPLES = Path(__file__).resolve().parent.parent / "sample_graphs"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if (p / "expected.json").exists())
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def one_pass(bundle, k, targets=None):
    graph = index_graph(bundle)
    s = score_array(graph, explicit_scores(bundle))
    targets = np.arange(graph.n) if targets is None else targets
    return graph, s, top_paths_all(graph, s, targets, k)


def check_path(bundle, graph, s, table, i) -> None:
    """Path i is a simple chain of real edges (an own edge only first) with its value."""
    nodes, edges = table.path_nodes(i), table.path_edges(i)
    assert nodes[-1] == table.target[i]
    assert len(set(nodes.tolist())) == len(nodes) and len(edges) == len(nodes) - 1
    assert (graph.src[edges] == nodes[:-1]).all() and (graph.dst[edges] == nodes[1:]).all()
    assert not graph.own[edges[1:]].any()
    value = s[nodes[0]] * np.prod(graph.confidence[edges])
    assert table.value[i] == pytest.approx(value, rel=1e-12)


@SETTINGS
@given(graphs(acyclic=False, max_nodes=7))
def test_one_pass_equals_yen_on_every_node_of_random_graphs_with_loops(bundle):
    assert_equals_yen(bundle, yen_values(bundle, 4), 4)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(acyclic=False, max_nodes=7))
def test_one_pass_equals_yen_however_the_rounds_split(bundle):
    """Every round merged in one array step (THIN 0: only loops are searched), or every round
    without a loop searched in runs (THIN large): what the first attempt certifies, and the
    final answer, are Yen's."""
    import graphkit.propagation.strongest as strongest

    yen = yen_values(bundle, 3)
    for thin in (0, 10**9):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(strongest, "THIN", thin)
            for t, (paths, certain) in enumerate(first_attempt(bundle, 3)):
                if certain:
                    assert sorted(p[0] for p in paths) == pytest.approx(weights(yen[t]))
            assert_equals_yen(bundle, yen, 3)


@SETTINGS
@given(graphs(acyclic=True, max_nodes=8))
def test_without_loops_the_first_attempt_is_certain_everywhere(bundle):
    """Outside loops the merge is the exact k-best merge: no target is searched again."""
    import graphkit.propagation.paths as paths
    import graphkit.propagation.strongest as strongest

    yen = yen_values(bundle, 3)
    for thin in (0, 10**9):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(strongest, "THIN", thin)
            patch.setattr(paths._Labels, "search_all", lambda self: pytest.fail("searched again"))
            assert_equals_yen(bundle, yen, 3)


def first_attempt(bundle, k: int) -> list[tuple[list, bool]]:
    """Per node, the first attempt's paths into it and whether they are certain."""
    import graphkit.propagation.paths as paths

    graph = index_graph(bundle)
    s = score_array(graph, explicit_scores(bundle))
    labels = paths._Labels(
        paths._Plan.of(graph, s), np.ones(graph.n, dtype=bool), k, paths.LOOP_CHECK_DEPTH
    )
    labels.walk()
    found: dict[int, list] = {}
    failed = set(labels.read(np.arange(graph.n), k, found).tolist())
    return [(found[t], t not in failed) for t in range(graph.n)]


def weights(values: list[float]) -> list[float]:
    with np.errstate(divide="ignore"):
        return sorted((-np.log(values)).tolist())


def yen_values(bundle, k: int) -> list[list[float]]:
    """Per node, the values of Yen's k best paths into it."""
    ids = index_graph(bundle).ids
    return [sorted(p.value for p in top_paths(bundle, node, k=k)) for node in ids]


def assert_equals_yen(bundle, yen: list[list[float]], k: int) -> None:
    """The one-pass paths into every node have Yen's values, ranked, each a real simple
    chain."""
    graph, s, table = one_pass(bundle, k)
    for t in range(graph.n):
        mine = np.flatnonzero(table.target == t)
        assert sorted(table.value[mine]) == pytest.approx(yen[t], rel=1e-9)
        assert table.rank[mine].tolist() == list(range(len(mine)))
        for i in mine:
            check_path(bundle, graph, s, table, i)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(acyclic=False, max_nodes=8))
def test_certificate_failures_are_searched_again_until_exact(bundle):
    """With a cap of one label per node and no loop check the first search is often wrong;
    the certified re-search must still give Yen's answer."""
    import graphkit.propagation.paths as paths

    saved = paths.FIRST_CAP, paths.LOOP_CHECK_DEPTH
    paths.FIRST_CAP, paths.LOOP_CHECK_DEPTH = 0, 0
    try:
        graph, s, table = one_pass(bundle, 3)
    finally:
        paths.FIRST_CAP, paths.LOOP_CHECK_DEPTH = saved
    for t in range(graph.n):
        mine = table.value[table.target == t]
        yen = [p.value for p in top_paths(bundle, graph.ids[t], k=3)]
        assert sorted(mine) == pytest.approx(sorted(yen), rel=1e-9)


def test_the_bom_rule_keeps_the_makers_purchases_out_of_the_sandwich():
    bundle = cheese_sandwich()
    graph, s, table = one_pass(bundle, 5, np.flatnonzero(graph_ids(bundle) == "sandwich"))
    for i in range(len(table)):
        assert "prawns" not in graph.ids[table.path_nodes(i)]
    assert len(table) == 0  # only the maker's own score (0) could reach the sandwich


@pytest.mark.parametrize("thin", [0, 10**9])
def test_a_path_back_into_its_maker_is_dropped_not_searched_again(thin):
    """The maker m of an own edge into p may be downstream of p (p is USED_BY m): the start
    at p cannot lead back into m. Dropping it (in the merge: THIN 0; in the search of a
    thin run: THIN large) leaves m and the target their simple paths, certain at the first
    attempt."""
    import graphkit.propagation.paths as paths
    import graphkit.propagation.strongest as strongest

    bundle = make_bundle(
        [
            ("m", "supplier", 0.9),
            ("b", "supplier", 0.5),
            ("q", "component", None),
            ("p", "component", None),
            ("t", "supplier", None),
        ],
        [
            ("q", "p", None, 1.0),
            ("m", "p", None, 1.0),
            ("p", "m", None, 0.9),
            ("b", "m", None, 1.0),
            ("m", "t", None, 1.0),
        ],
    )
    target = np.flatnonzero(graph_ids(bundle) == "t")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(strongest, "THIN", thin)
        patch.setattr(paths._Labels, "search_all", lambda self: pytest.fail("searched again"))
        graph, s, table = one_pass(bundle, 2, target)
    assert [graph.ids[table.path_nodes(i)].tolist() for i in range(2)] == [
        ["m", "t"],
        ["b", "m", "t"],
    ]
    assert table.value.tolist() == pytest.approx([p.value for p in top_paths(bundle, "t", 2)])


def graph_ids(bundle):
    return index_graph(bundle).ids.to_numpy()


def test_a_100000_deep_chain_has_its_one_path_without_recursion():
    n = 100_000
    nodes = [(f"n{i}", "supplier", 0.5 if i == 0 else None) for i in range(n)]
    edges = [(f"n{i}", f"n{i + 1}", 1.0, 1.0) for i in range(n - 1)]
    bundle = make_bundle(nodes, edges)
    graph, s, table = one_pass(bundle, 3, np.array([n - 1]))
    assert len(table) == 1 and table.value[0] == 0.5
    assert table.path_nodes(0).tolist() == list(range(n))


def test_a_100000_node_ring_gets_exact_paths_through_its_one_loop():
    n = 100_000
    rng = np.random.default_rng(7)
    nodes = [(f"n{i}", "supplier", 0.9 if i in (0, 500) else None) for i in range(n)]
    nodes.append(("buyer", "supplier", None))
    conf = rng.uniform(0.999, 1.0, n)
    edges = [(f"n{i}", f"n{(i + 1) % n}", None, conf[i]) for i in range(n)]
    edges += [(f"n{i}", f"n{(i + 7) % n}", None, 0.99) for i in range(0, n, 1000)]
    edges.append((f"n{n // 2}", "buyer", None, 1.0))
    bundle = make_bundle(nodes, edges)
    graph, s, table = one_pass(bundle, 3, np.array([n]))
    assert len(table) == 3 and (np.diff(table.value) <= 0).all()
    for i in range(3):
        check_path(bundle, graph, s, table, i)
    assert table.path_nodes(0)[0] == 500  # the nearer source wins


def test_paths_parquet_holds_ids_and_bundle_edge_rows(tmp_path):
    bundle = cheese_sandwich()
    graph, s, table = one_pass(bundle, 3)
    write_paths_parquet(table, graph, tmp_path / "paths.parquet")
    read = pq.read_table(tmp_path / "paths.parquet").to_pylist()
    assert len(read) == len(table)
    for row, i in zip(read, range(len(table)), strict=True):
        assert row["nodes"] == list(graph.ids[table.path_nodes(i)])
        assert row["source"] == row["nodes"][0] and row["target"] == row["nodes"][-1]
        hops = bundle.edges.iloc[row["edge_rows"]]
        assert list(hops["source"]) == row["nodes"][:-1]
        assert list(hops["target"]) == row["nodes"][1:]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample_bundles_get_exactly_the_explanations_paths(name):
    bundle = read_bundle(SAMPLES / name)
    graph = index_graph(bundle)
    scores = source_scores_for(bundle)
    s = score_array(graph, scores)
    facts = EdgeFacts.of(bundle, graph)
    evidence = source_table_for(bundle)["evidence"]
    targets = np.flatnonzero(buyer_facing_mask(graph))
    found = as_exposure_paths(top_paths_all(graph, s, targets, 5), facts, evidence)
    for t in targets:
        target = graph.ids[t]
        yen = paths_into(bundle, graph, s, target, 5, evidence, facts)
        assert [p.as_dict() for p in found.get(target, [])] == [p.as_dict() for p in yen]
