"""Deep graphs: the engine's schedule and its modes on a 100,000-deep chain (no recursion, no
array step per round), and the plain-Python steps equal to the array steps they replace."""

from __future__ import annotations

import numpy as np
import pytest
from engine_graphs import graphs, make_bundle
from hypothesis import HealthCheck, given, settings

from graphkit.graph import loops
from graphkit.graph.index import explicit_scores, index_graph, score_array
from graphkit.propagation import modes, propagate, score_modes

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

N = 100_000
CONFIDENCE = 0.9999


def deep_chain():
    """n0 -> n1 -> ... -> n99999, sources n0 and n50000 (0.5), share and confidence 0.9999."""
    half = N // 2
    nodes = [(f"n{i}", "supplier", 0.5 if i in (0, half) else None) for i in range(N)]
    edges = [(f"n{i}", f"n{i + 1}", CONFIDENCE, CONFIDENCE) for i in range(N - 1)]
    return make_bundle(nodes, edges)


def reference_reach(s: np.ndarray) -> np.ndarray:
    """Noisy-OR down a chain, one node at a time (the definition, written plainly)."""
    p, last = np.zeros(len(s)), 0.0
    for i, own in enumerate(s.tolist()):
        last = 1.0 - (1.0 - own) * (1.0 - CONFIDENCE * last)
        p[i] = last
    return p


def test_a_100000_deep_chain_gets_every_mode_and_its_tiers():
    bundle = deep_chain()
    graph = index_graph(bundle)
    s = score_array(graph, explicit_scores(bundle))
    schedule = graph.rounds
    assert schedule.n_rounds == N
    assert schedule.order.tolist() == list(range(N))
    scores, _ = score_modes(graph, s, ("reach", "share", "path"), 1e-12, 10_000)
    i, half = np.arange(N), N // 2
    after = np.maximum(i - half, 0)
    np.testing.assert_allclose(scores["path"], 0.5 * CONFIDENCE ** np.where(i < half, i, after))
    share = 0.5 * CONFIDENCE**i + np.where(i >= half, 0.5 * (1 - CONFIDENCE) * CONFIDENCE**after, 0)
    np.testing.assert_allclose(scores["share"], share, rtol=1e-9)
    np.testing.assert_allclose(scores["reach"], reference_reach(s), rtol=1e-9)
    assert scores["tier"].tolist() == np.where(i < half, i, after).tolist()


def test_propagate_finishes_a_100000_deep_chain_with_its_contributions():
    exposure = propagate(deep_chain())
    last = exposure.table.iloc[-1]
    assert last["tier"] == N - 1 - N // 2 and last["n_sources"] == 2
    assert last["top_sources"].startswith("n0")  # the far source adds the larger share


def test_parallel_edges_do_not_stall_the_loop_schedule():
    """scipy 1.17's strong components never return on a row holding a column twice."""
    nodes = [("a", "supplier", 0.5), ("b", "supplier", None), ("c", "supplier", None)]
    edges = [("a", "b", 0.5, 1.0), ("a", "b", 0.3, 0.9), ("b", "a", 0.1, 0.5)]
    table = propagate(make_bundle(nodes, edges)).table
    assert table.loc["b", "path"] == 0.5  # the stronger of the two parallel edges
    # x_a = 0.9 * 0.5 + 0.1 x_b, x_b = (0.5 + 0.3) x_a
    assert table.loc["b", "share"] == pytest.approx(0.8 * 0.45 / (1 - 0.08), rel=1e-12)


@SETTINGS
@given(graphs(acyclic=False, max_nodes=12))
def test_plain_python_rounds_equal_the_array_rounds(bundle):
    """Thin rounds evaluated node by node give the very numbers the array steps give (same
    operations in the same order), and Kahn's Python steps the same schedule."""
    graph = index_graph(bundle)
    s = score_array(graph, explicit_scores(bundle))
    thin = {m: modes.SCORERS[m](graph, s) for m in modes.SCORERS}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modes, "THIN_NODES", -1)
        patch.setattr(loops, "THIN_ROUND", 0)
        wide_graph = index_graph(bundle)
        for name, scorer in modes.SCORERS.items():
            assert scorer(wide_graph, s).tolist() == thin[name].tolist()
        assert wide_graph.rounds.order.tolist() == graph.rounds.order.tolist()
        assert wide_graph.rounds.round_starts.tolist() == graph.rounds.round_starts.tolist()
