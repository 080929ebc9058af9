"""Benchmark: how close leading parts are to exact parts, per mode, on sampled exposed products.

    PYTHONPATH=. python benchmarks/leading.py [--suppliers 100000] [--seeds 1 2 3] [--sample 100]
                                              [--work DIR]

Leading parts (``propagation.leading``) carry every node's 20 largest parts in one pass: lower
bounds, exact where a product is complete. On ``--sample`` random exposed products of a
generated bundle (``graphkit generate``, kept in --work) they are compared with exact parts:

- share: the exact additive parts (``attribution.source_parts``, forward per 64 sources);
- reach: reach alone (the engine's reach on a copy per source) of every source that the
  leading list or the path list (the 20 best chains) names for the product.

Per mode: products complete, products whose largest source is the same, leading parts above
their exact part (must be 0), and the gap between the 5 largest parts, rank by rank (exact
minus leading, the largest gap per product, as % of the product's score): median, 90th and
99th percentile, max. Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

RANKS = 5


def exact_parts(graph, s, sample: np.ndarray, lead: dict) -> dict:
    """Per mode, {(target, source): exact part} for the pairs to compare."""
    from graphkit.propagation.attribution import SourceParts, reach_alone, source_parts

    found = source_parts(graph, s, sample, ("share", "path"))
    share = found["share"]
    exact = {"share": dict(zip(zip(share.target.tolist(), share.source.tolist()), share.amount))}
    pairs = {(t, j) for p in (found["path"], lead["reach"]) for t, j in zip(p.target, p.source)}
    target, source = np.array(sorted(pairs)).T
    asked = SourceParts("reach", target, source, np.zeros(len(target)), sample,
                        np.zeros(len(sample), dtype=np.int64), np.zeros(len(sample)))  # fmt: skip
    reach = reach_alone(graph, s, asked)
    exact["reach"] = dict(zip(zip(reach.target.tolist(), reach.source.tolist()), reach.amount))
    return exact


def compare(mode: str, lead, exact: dict, score: np.ndarray) -> dict:
    """The row of one mode: leading parts against the exact ones, per sampled product."""
    gaps, same_top, above = [], 0, 0
    for i, t in enumerate(lead.targets.tolist()):
        mine = lead.target == t
        listed = dict(zip(lead.source[mine].tolist(), lead.amount[mine]))
        truth = {j: x for (u, j), x in exact.items() if u == t}
        above += sum(x > truth[j] + 1e-9 for j, x in listed.items() if j in truth)
        best = sorted(truth.values(), reverse=True)[:RANKS]
        ours = sorted(listed.values(), reverse=True)[:RANKS]
        ours += [0.0] * (len(best) - len(ours))
        gaps.append(max((b - o for b, o in zip(best, ours)), default=0.0) / max(score[i], 1e-300))
        same_top += bool(listed) and _largest(truth) == _largest(listed)
    gaps = 100 * np.array(gaps)
    return {
        "mode": mode,
        "products": len(gaps),
        "complete": int(lead.complete.sum()),
        "same_largest": same_top,
        "above_exact": above,
        "median": np.median(gaps),
        "p90": np.percentile(gaps, 90),
        "p99": np.percentile(gaps, 99),
        "max": gaps.max(),
    }


def _largest(parts: dict):
    return max(parts, key=parts.get) if parts else None


def measure(n_suppliers: int, seed: int, sample_size: int, work: Path) -> list[dict]:
    from graphkit.generate import write_generated
    from graphkit.graph.index import index_graph, score_array
    from graphkit.graph.rules import most_exposed
    from graphkit.io import read_bundle
    from graphkit.propagation import propagate
    from graphkit.propagation.attribution import leading_parts
    from graphkit.screen.sources import source_table_for

    folder = work / f"bundle-{n_suppliers}-{seed}"
    if not (folder / "nodes.csv").exists():
        write_generated(folder, n_suppliers, seed)
    bundle = read_bundle(folder)
    graph = index_graph(bundle)
    scores = source_table_for(bundle)["source_score"]
    s = score_array(graph, scores)
    table = propagate(bundle, scores, graph=graph, contributions_for=[]).table
    exposed = graph.ids.get_indexer(most_exposed(table))
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(exposed, min(sample_size, len(exposed)), replace=False))
    lead = {mode: leading_parts(graph, s, mode, sample) for mode in ("share", "reach")}
    exact = exact_parts(graph, s, sample, lead)
    rows = []
    for mode in ("share", "reach"):
        row = compare(mode, lead[mode], exact[mode], table[mode].to_numpy()[sample])
        rows.append({"suppliers": n_suppliers, "seed": seed} | row)
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| suppliers | seed | mode | products | complete | same largest source | parts above "
        f"exact | gap in the {RANKS} largest, % of score: median | 90th pct | 99th pct | max |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['suppliers']:,} | {r['seed']} | {r['mode']} | {r['products']} | "
            f"{r['complete']} | {r['same_largest']} | {r['above_exact']} | {r['median']:.2g} | "
            f"{r['p90']:.2g} | {r['p99']:.2g} | {r['max']:.2g} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--work", type=Path, default=Path("benchmark-work"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = [r for seed in args.seeds for r in measure(args.suppliers, seed, args.sample, args.work)]
    print(table(rows))


if __name__ == "__main__":
    main()
