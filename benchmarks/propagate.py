"""Benchmark: the propagation engine against what an analyst would otherwise do (networkx).

    PYTHONPATH=. python benchmarks/propagate.py [--sizes 10000 100000 1000000] [--seed 7]

Each size runs in its own process (so peak memory is per size): it generates a bundle with
graphkit.generate, times ``propagate`` (all three modes for every node, plus tiers; the
median of RUNS runs, after a warm-up run on a 2,000-node graph that pays the one-off imports
and thread-pool start), then the
networkx baseline: for a sample of source nodes, a Dijkstra traversal on -log(confidence)
from that source (the strongest chain to every node it reaches, BOM rule applied through
the same own/all split the explanations use). The baseline time is measured on the sample
and EXTRAPOLATED to all sources (labelled as such). Agreement: for each sampled source the
engine is rerun with only that source and its path scores must equal networkx's to 1e-9.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

BASELINE_SAMPLE = 10
#: the engine is timed this many times (after a warm-up on a small graph); the median counts
RUNS = 3
IN_SCOPE = ("Liaoning", "Jilin")


def make_bundle(n_nodes: int, seed: int):
    """A generated bundle with about ``n_nodes`` nodes (graphkit.generate)."""
    from graphkit.generate import COMPONENTS_PER_SUPPLIER, generate_bundle
    from graphkit.model import Bundle

    nodes, edges = generate_bundle(round(n_nodes / (1 + COMPONENTS_PER_SUPPLIER)), seed)
    return Bundle(nodes=nodes, edges=edges, origin=f"generate_bundle(~{n_nodes}, {seed})")


def stand_in_scores(bundle) -> pd.Series:
    """Source scores without running screening (benchmarked separately): 0.9 for nodes whose
    ground-truth province is in scope."""
    in_scope = bundle.nodes["true_province"].isin(IN_SCOPE).to_numpy()
    return pd.Series(np.where(in_scope, 0.9, 0.0), index=bundle.nodes["id"].to_numpy())


def measure(n_nodes: int, seed: int) -> dict:
    """Everything for one size, in this process."""
    from graphkit.graph.index import index_graph
    from graphkit.propagation import propagate
    from graphkit.propagation.modes import path_scores

    small = make_bundle(2_000, seed)
    propagate(small, stand_in_scores(small))  # warm-up: imports, thread pools
    bundle = make_bundle(n_nodes, seed)
    scores = stand_in_scores(bundle)
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        exposure = propagate(bundle, scores, contributions_for=())
        runs.append((time.perf_counter() - started, exposure.params["timings_s"]))
    engine_s, timings = sorted(runs, key=lambda run: run[0])[RUNS // 2]  # the median run
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # before the baseline
    graph = index_graph(bundle)
    s = scores.reindex(graph.ids).to_numpy()
    sources = np.flatnonzero(s > 0)
    sample = np.random.default_rng(seed).choice(sources, min(BASELINE_SAMPLE, len(sources)), False)
    baseline_s, agree = networkx_baseline(graph, s, sample, path_scores)
    return {
        "nodes": graph.n,
        "edges": len(graph.src),
        "sources": len(sources),
        "engine_s": engine_s,
        "timings": timings,
        "peak_gb": peak_gb,
        "baseline_per_source_s": baseline_s / len(sample),
        "baseline_all_sources_s": baseline_s / len(sample) * len(sources),
        "agree": agree,
        "sample": len(sample),
    }


def networkx_baseline(graph, s, sample, path_scores) -> tuple[float, bool]:
    """Per-source networkx Dijkstra; returns its time on the sample and whether it agrees."""
    import networkx as nx

    split = split_digraph(graph)
    elapsed, agree = 0.0, True
    split.add_nodes_from(("all", int(j)) for j in sample)
    for j in sample:
        started = time.perf_counter()
        start = ("own", j) if split.has_node(("own", j)) else ("all", j)
        lengths = nx.multi_source_dijkstra_path_length(split, {("all", j), start}, weight="weight")
        elapsed += time.perf_counter() - started
        value = np.zeros(graph.n)
        for (_, node), length in lengths.items():
            value[node] = max(value[node], s[j] * math.exp(-length))
        only = np.where(np.arange(graph.n) == j, s, 0.0)
        agree &= bool(np.allclose(path_scores(graph, only), value, atol=1e-9, rtol=0))
    return elapsed, agree


def split_digraph(graph):
    """The bundle as a networkx DiGraph with each maker split into 'own' and 'all' nodes."""
    import networkx as nx

    split = nx.DiGraph()
    weight = -np.log(np.maximum(graph.confidence, 1e-300))
    usable = graph.confidence > 0
    tail = np.where(graph.own, "own", "all")
    split.add_weighted_edges_from(
        ((tail[e], int(graph.src[e])), ("all", int(graph.dst[e])), float(weight[e]))
        for e in np.flatnonzero(usable)
    )
    return split


def markdown(rows: list[dict]) -> str:
    head = (
        "| nodes | edges | sources | engine: all 3 modes + tiers, all nodes (s) | index / loop"
        " schedule / reach / share / path / tier (s; modes overlap in 2 threads) | peak RSS (GB)"
        " | networkx per source (s) | networkx all sources (s, extrapolated from a sample)"
        " | speed-up | answers agree (sample) |\n|" + "---|" * 10
    )
    lines = [head]
    for r in rows:
        t = r["timings"]
        phases = ("index", "rounds", "reach", "share", "path", "tier")
        modes = " / ".join(f"{t[phase]:.2f}" for phase in phases)
        ratio = r["baseline_all_sources_s"] / r["engine_s"]
        lines.append(
            f"| {r['nodes']:,} | {r['edges']:,} | {r['sources']:,} | {r['engine_s']:.2f} | {modes}"
            f" | {r['peak_gb']:.2f} | {r['baseline_per_source_s']:.3f}"
            f" | {r['baseline_all_sources_s']:.1f} | {ratio:.0f}x"
            f" | {'yes' if r['agree'] else 'NO'} ({r['sample']} sources) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.seed)))
        return
    rows = []
    for n in args.sizes:
        command = [sys.executable, __file__, "--one", str(n), "--seed", str(args.seed)]
        child = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(f"done: {n:,} nodes", file=sys.stderr)
    print(markdown(rows))


if __name__ == "__main__":
    main()
