"""Benchmark: the embedded engine (numpy/scipy) against the Spark engine in local mode.

    PYTHONPATH=. python benchmarks/spark.py [--nodes 100000 1000000] [--master local[2]]

For each size it generates a bundle (graphkit.generate), gives the Liaoning/Jilin suppliers
a source score of 0.9 (the generator's ground truth, so no screening time is counted),
then times the same work on both engines: the three modes plus tiers for every node.
Spark reads the bundle from a Parquet export and writes exposures as Parquet, as it would on
a cluster. It checks both agree (max difference), prints a markdown table, and how each
engine's time grows from the smallest to the largest size.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from graphkit.engines import spark as spark_engine
from graphkit.engines.parquet import export_parquet
from graphkit.generate import generate_bundle
from graphkit.graph.index import index_graph
from graphkit.graph.rules import MODES
from graphkit.model import Bundle
from graphkit.propagation.modes import SCORERS
from graphkit.propagation.tiers import tier_distance

SOURCE_PROVINCES = ("Liaoning", "Jilin")


def make_bundle(n_nodes: int, seed: int) -> tuple[Bundle, pd.Series]:
    """A generated bundle of about ``n_nodes`` nodes and its source scores."""
    nodes, edges = generate_bundle(int(n_nodes / 1.5), seed)
    scores = np.where(nodes["true_province"].isin(SOURCE_PROVINCES), 0.9, 0.0)
    return Bundle(nodes, edges), pd.Series(scores, index=nodes["id"].to_numpy())


def run_embedded(bundle: Bundle, scores: pd.Series) -> tuple[float, pd.DataFrame]:
    """The embedded engine's three modes and tiers (no per-source contributions)."""
    clock = time.perf_counter()
    graph = index_graph(bundle)
    s = np.clip(scores.reindex(graph.ids).fillna(0.0).to_numpy(float), 0.0, 1.0)
    table = pd.DataFrame({m: SCORERS[m](graph, s) for m in MODES}, index=graph.ids)
    table["tier"] = tier_distance(graph, s)
    return time.perf_counter() - clock, table


def run_spark(bundle: Bundle, scores: pd.Series, work: Path, master: str) -> tuple[float, dict]:
    """Export to Parquet (not timed), then read, propagate and write exposures on Spark."""
    export_parquet(bundle, work / "input", source_scores=scores)
    clock = time.perf_counter()
    summary = spark_engine.run(str(work / "input"), str(work / "out"), master=master)
    return time.perf_counter() - clock, summary


def max_difference(embedded: pd.DataFrame, exposures: Path) -> float:
    spark_table = pd.read_parquet(exposures).set_index("id").reindex(embedded.index)
    return max(float(np.max(np.abs(spark_table[m] - embedded[m]))) for m in MODES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    spark_engine.session(
        args.master, conf={"spark.driver.memory": "8g", "spark.ui.enabled": "false"}
    )
    rows = []
    for n_nodes in args.nodes:
        bundle, scores = make_bundle(n_nodes, args.seed)
        embedded_s, embedded = run_embedded(bundle, scores)
        with tempfile.TemporaryDirectory() as work:
            spark_s, summary = run_spark(bundle, scores, Path(work), args.master)
            difference = max_difference(embedded, Path(summary["output"]))
        rows.append(
            {
                "nodes": len(bundle.nodes),
                "edges": len(bundle.edges),
                "iterations": summary["iterations"],
                "embedded_s": embedded_s,
                "spark_s": spark_s,
                "spark/embedded": spark_s / embedded_s,
                "max_diff": difference,
            }
        )
        print(_markdown(rows[-1:]), flush=True)
    print("\n" + _markdown(rows))
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth = last["nodes"] / first["nodes"]
        for engine in ("embedded", "spark"):
            ratio = last[f"{engine}_s"] / first[f"{engine}_s"]
            print(f"{engine}: {growth:.0f}x nodes -> {ratio:.1f}x time")


def _markdown(rows: list[dict]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{v:.3g}" if isinstance(v, float) else f"{v:,}" for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
