"""Benchmark: the whole main job, `graphkit run`, per phase, on generated bundles.

    PYTHONPATH=. python benchmarks/run.py [--suppliers 100000 1000000] [--seeds 1 2] [--work DIR]

For each size and seed it generates a bundle once (``graphkit generate``, kept in --work), then runs
the commands users run, each as its own process under ``/usr/bin/time -v`` (wall time and
peak memory of the whole process):

- ``graphkit validate BUNDLE``;
- ``graphkit run BUNDLE --out OUT`` (phases from OUT/run.json: read + validate, index,
  screen, propagate, explain, result files, views, products page, report; the engine's own
  seconds inside propagate);
- ``graphkit propagate BUNDLE --out OUT``.

The naive approach, in the same run: explanations by one k-shortest-simple-paths search per
exposed product (networkx, Yen; the approach before the one-pass k-best), timed on a sample
of SAMPLE exposed products of the same bundle and EXTRAPOLATED linearly to all of them
(labelled as such). Prints markdown tables for the README.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

SAMPLE = 20
PHASES = ("read", "index", "screen", "propagate", "explain", "result_files", "views",
          "products_page", "report")  # fmt: skip


def timed(command: list[str]) -> tuple[float, float, str]:
    """Run ``command`` under /usr/bin/time -v: (wall seconds, peak RSS in GB, stdout)."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)[1])
    return seconds, peak_kb / 1024**2, done.stdout


def graphkit(*args: str) -> list[str]:
    return [sys.executable, "-m", "graphkit.cli", *args]


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1024**2


def naive_explain_seconds(bundle_path: Path, exposed: list[str]) -> float:
    """Seconds per product of the per-target Yen search, on a sample of exposed products."""
    from graphkit.explain import paths_into
    from graphkit.graph.index import index_graph, score_array
    from graphkit.io import read_bundle
    from graphkit.screen.sources import source_table_for

    bundle = read_bundle(bundle_path)
    graph = index_graph(bundle)
    sources = source_table_for(bundle)
    s = score_array(graph, sources["source_score"])
    sample = exposed[:: max(1, len(exposed) // SAMPLE)][:SAMPLE]
    clock = time.perf_counter()
    for target in sample:
        paths_into(bundle, graph, s, target, 5, sources["evidence"])
    return (time.perf_counter() - clock) / max(len(sample), 1)


def measure(n_suppliers: int, seed: int, work: Path) -> dict:
    bundle = work / f"bundle-{n_suppliers}-{seed}"
    if not (bundle / "nodes.csv").exists():
        subprocess.run(graphkit("generate", "--suppliers", str(n_suppliers), "--seed",
                                str(seed), str(bundle)), check=True)  # fmt: skip
    out, propagated = work / f"run-{n_suppliers}-{seed}", work / f"propagate-{n_suppliers}-{seed}"
    for folder in (out, propagated):
        shutil.rmtree(folder, ignore_errors=True)
    validate_s, validate_gb, _ = timed(graphkit("validate", str(bundle)))
    run_s, run_gb, _ = timed(graphkit("run", str(bundle), "--out", str(out), "--format", "json"))
    propagate_s, propagate_gb, _ = timed(graphkit("propagate", str(bundle), "--out",
                                                  str(propagated)))  # fmt: skip
    record = json.loads((out / "run.json").read_text())
    exposed = list(json.loads((out / "paths.json").read_text()))
    per_product = naive_explain_seconds(bundle, exposed)
    return {
        "suppliers": n_suppliers,
        "seed": seed,
        "validate_s": validate_s,
        "validate_gb": validate_gb,
        "run_s": run_s,
        "run_gb": run_gb,
        "propagate_s": propagate_s,
        "propagate_gb": propagate_gb,
        "phases": record["timings_s"],
        "parts_for": record["parameters"]["contributions_for"],
        "exposed": len(exposed),
        "views": record.get("views", 0),
        "out_mb": folder_mb(out),
        "products_page_mb": (out / "products.html").stat().st_size / 1024**2,
        "naive_explain_s": per_product * len(exposed),
    }


def parts_for(counts: dict) -> str:
    """How many products got per-source parts, per mode (run.json's contributions_for)."""
    return " / ".join(f"{counts.get(mode, 0):,}" for mode in ("share", "path", "reach"))


def tables(rows: list[dict]) -> str:
    lines = [
        "| suppliers | seed | `graphkit run` | peak | `validate` | `propagate --out` | exposed "
        "products (all explained) | parts for (share / path / reach) | views | output "
        "| products.html |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['suppliers']:,} | {r['seed']} | {r['run_s']:.1f} s | {r['run_gb']:.1f} GB | "
            f"{r['validate_s']:.1f} s | {r['propagate_s']:.1f} s | {r['exposed']:,} | "
            f"{parts_for(r['parts_for'])} | {r['views']} | {r['out_mb']:.0f} MB | "
            f"{r['products_page_mb']:.1f} MB |"
        )
    lines += ["", "| suppliers | seed | " + " | ".join(PHASES) + " | engine | naive explain* |",
              "|---:|---:|" + "---:|" * (len(PHASES) + 2)]  # fmt: skip
    for r in rows:
        phases = r["phases"]
        engine = sum(v for k, v in phases["engine"].items() if k in ("modes", "contributions"))
        cells = [f"{phases.get(p, 0):.1f}" for p in PHASES]
        lines.append(f"| {r['suppliers']:,} | {r['seed']} | " + " | ".join(cells)
                     + f" | {engine:.1f} | {r['naive_explain_s']:,.0f} |")  # fmt: skip
    lines.append(
        f"\n*naive explain: one networkx Yen search per exposed product, timed on {SAMPLE} "
        "of them and extrapolated to all (seconds)."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--work", type=Path, default=Path("benchmark-work"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = [measure(n, seed, args.work) for n in args.suppliers for seed in args.seeds]
    print(tables(rows))


if __name__ == "__main__":
    main()
