"""Benchmark: deep graphs. A 200,000-link chain and a 200,000-node ring with chords, every
mode, top paths and per-source contributions, the one-pass methods against the per-target
ones they replace, in the same run.

    PYTHONPATH=. python benchmarks/depth.py [--nodes 200000] [--timeout 120] [--k 5] [--phases ...]

Every (graph, phase, method) runs in its own process, killed after ``--timeout`` seconds
(shown as "> timeout"); seconds are wall-clock, after the graph is built and
indexed, and after a warm-up run of the same phase on a 300-node graph of the same shape.

- chain: suppliers n0 -> n1 -> ... (SUPPLIES, confidence 0.99-1, share 0.999), sources every
  n/10 nodes (score 0.9), the last node buyer-facing.
- ring: suppliers i -> i+1 mod n (share 0.5) and a chord i -> i+37 from every 50th node
  (share 0.3), confidences 0.9-1, ten sources, ten buyers hanging off the ring.

Phases: ``modes`` (the engine: reach, share, path and tiers, with the loop schedule they
share), ``modes and paths`` (the engine, then the one-pass top paths: what ``propagate`` with
paths costs), ``paths`` (top-k per
buyer-facing node: ``explain.paths_into`` per target, Yen's algorithm on networkx, against
``propagation.paths.top_paths_all``), per-source parts for every buyer-facing node:
``contributions.per_source`` without its pair budget against
``propagation.attribution.source_parts`` (share forward over the loop schedule, path by
every node's best sources in one pass; reach alone,
which includes finding the listed sources by their chains). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd

GRAPHS = ("chain", "ring")
PHASES = {
    "modes": ("engine",),
    "modes and paths": ("engine, then top paths",),
    "paths": ("per target (Yen)", "one pass"),
    "share and path parts": ("per_source", "one pass"),
    "reach parts": ("per_source", "reach alone on copies", "leading parts"),
    "share parts": ("leading parts",),
}


def make_bundle(shape: str, n: int):
    from graphkit.model import EDGE_COLUMNS, NODE_COLUMNS, Bundle

    rng = np.random.default_rng(11)
    ids = np.array([f"n{i}" for i in range(n)], dtype=object)
    exposure = np.full(n, np.nan)
    if shape == "chain":
        exposure[:: n // 10] = 0.9
        src, dst = np.arange(n - 1), np.arange(1, n)
        share, confidence = np.full(n - 1, 0.999), rng.uniform(0.99, 1.0, n - 1)
        extra_ids = np.zeros(0, dtype=object)
    else:
        exposure[rng.choice(n, 10, replace=False)] = 0.9
        chords = np.arange(0, n, 50)
        buyers = rng.choice(n, 10, replace=False)
        src = np.concatenate([np.arange(n), chords, buyers])
        dst = np.concatenate([(np.arange(n) + 1) % n, (chords + 37) % n, n + np.arange(10)])
        share = np.concatenate([np.full(n, 0.5), np.full(len(chords), 0.3), np.ones(10)])
        confidence = rng.uniform(0.9, 1.0, len(src))
        extra_ids = np.array([f"buyer{i}" for i in range(10)], dtype=object)
    all_ids = np.concatenate([ids, extra_ids])
    nodes = pd.DataFrame({column: "" for column in NODE_COLUMNS}, index=range(len(all_ids)))
    nodes["id"], nodes["kind"] = all_ids, "supplier"
    nodes["exposure"] = np.concatenate([exposure, np.full(len(extra_ids), np.nan)])
    edges = pd.DataFrame({column: "" for column in EDGE_COLUMNS}, index=range(len(src)))
    edges["source"], edges["target"], edges["kind"] = all_ids[src], all_ids[dst], "SUPPLIES"
    edges["share"], edges["confidence"] = share, confidence
    return Bundle(nodes=nodes, edges=edges, origin=f"{shape}({n})")


def run_one(shape: str, n: int, phase: str, method: str, k: int) -> dict:
    """One measurement in this process: seconds and a small summary of the result."""
    from graphkit.graph import buyer_facing_mask
    from graphkit.graph.index import explicit_scores, index_graph, score_array

    runner = PHASE_RUNNERS[(phase, method)]
    for size in (300, n):  # the first run pays the one-off imports
        bundle = make_bundle(shape, size)
        graph = index_graph(bundle)
        s = score_array(graph, explicit_scores(bundle))
        targets = np.flatnonzero(buyer_facing_mask(graph))
        clock = time.perf_counter()
        summary = runner(bundle, graph, s, targets, k)
    return {"seconds": time.perf_counter() - clock, "summary": summary}


def _modes(bundle, graph, s, targets, k):
    from graphkit.propagation import score_modes

    scores, _ = score_modes(graph, s, ("reach", "share", "path"), 1e-12, 10_000)
    return {m: float(scores[m][targets].max()) for m in ("reach", "share", "path")}


def _modes_and_paths(bundle, graph, s, targets, k):
    return _modes(bundle, graph, s, targets, k) | _paths_one_pass(bundle, graph, s, targets, k)


def _paths_yen(bundle, graph, s, targets, k):
    from graphkit.explain import paths_into

    found = [paths_into(bundle, graph, s, graph.ids[t], k) for t in targets]
    return {"paths": sum(map(len, found)), "best": max(p[0].value for p in found if p)}


def _paths_one_pass(bundle, graph, s, targets, k):
    from graphkit.propagation.paths import top_paths_all

    table = top_paths_all(graph, s, targets, k)
    return {"paths": len(table), "best": float(table.value.max())}


def _per_source(*modes):
    def run(bundle, graph, s, targets, k):
        from graphkit.propagation import per_source

        pairs = 0
        for mode in modes:
            term = graph.unmapped * s if mode == "share" else s
            pairs += len(per_source(graph, mode, term, s, targets, max_pairs=10**9).target)
        return {"pairs": pairs}

    return run


def _source_parts(*modes):
    def run(bundle, graph, s, targets, k):
        from graphkit.propagation.attribution import source_parts

        parts = source_parts(graph, s, targets, modes=modes)
        return {"pairs": sum(len(p.target) for p in parts.values())}

    return run


def _leading_parts(mode):
    def run(bundle, graph, s, targets, k):
        from graphkit.propagation.attribution import leading_parts

        return {"pairs": len(leading_parts(graph, s, mode, np.unique(targets)).target)}

    return run


PHASE_RUNNERS = {
    ("modes", "engine"): _modes,
    ("modes and paths", "engine, then top paths"): _modes_and_paths,
    ("paths", "per target (Yen)"): _paths_yen,
    ("paths", "one pass"): _paths_one_pass,
    ("share and path parts", "per_source"): _per_source("share", "path"),
    ("share and path parts", "one pass"): _source_parts("share", "path"),
    ("reach parts", "per_source"): _per_source("reach"),
    ("reach parts", "reach alone on copies"): _source_parts("path", "reach"),
    ("reach parts", "leading parts"): _leading_parts("reach"),
    ("share parts", "leading parts"): _leading_parts("share"),
}


def measure(shape: str, n: int, phase: str, method: str, k: int, timeout: float) -> str:
    command = [sys.executable, __file__, "--one", shape, phase, method, "--nodes", str(n)]
    command += ["--k", str(k)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"> {timeout:.0f} s (stopped)"
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    return f"{json.loads(done.stdout)['seconds']:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--phases", nargs="+", choices=list(PHASES), default=list(PHASES))
    parser.add_argument("--one", nargs=3, metavar=("GRAPH", "PHASE", "METHOD"))
    args = parser.parse_args()
    if args.one:
        shape, phase, method = args.one
        print(json.dumps(run_one(shape, args.nodes, phase, method, args.k)))
        return
    print(f"| graph ({args.nodes:,} nodes) | phase | method | time |")
    print("|---|---|---|---|")
    for shape in GRAPHS:
        for phase in args.phases:
            for method in PHASES[phase]:
                result = measure(shape, args.nodes, phase, method, args.k, args.timeout)
                print(f"| {shape} | {phase} | {method} | {result} |", flush=True)


if __name__ == "__main__":
    main()
