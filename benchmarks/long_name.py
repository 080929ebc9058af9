"""Benchmark: peak memory of `ingest` and `sanctions` on one hostile 1 MB name (issue 21).

    PYTHONPATH=. python benchmarks/long_name.py [--size 1000000]

Runs each command in a fresh process on a record / node whose name is SIZE characters long,
and once on the same input with a normal name (the baseline), and prints the peak resident
memory (ru_maxrss, measured by a fresh parent per command) of each, as a markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDS = "record_id,shipper_name,consignee_name,value_usd\nR1,{name},Acme Buyer Ltd,100\n"
NODES = "id,kind,name,country\nn1,supplier,{name},CN\nn2,supplier,Acme Buyer Ltd,US\n"
EDGES = "source,target,kind\nn1,n2,SUPPLIES\n"
LIST = "name\nDandong Huaxin Garment\n{name}\n"


MEASURE = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if code == 0 else -1)"
)


def peak_mb(args: list[str]) -> float:
    """Peak RSS (MB) of one graphkit command, measured by a fresh parent of its own."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", MEASURE, sys.executable, "-m", "graphkit.cli", *args]
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    kilobytes = int(completed.stdout.strip().splitlines()[-1])
    if kilobytes < 0:
        raise SystemExit(completed.stderr)
    return kilobytes / 1024


def run(work: Path, name: str, tag: str) -> tuple[float, float]:
    records = work / f"{tag}.csv"
    records.write_text(RECORDS.format(name=name), encoding="utf-8")
    bundle = work / f"{tag}_bundle"
    bundle.mkdir()
    (bundle / "nodes.csv").write_text(NODES.format(name=name), encoding="utf-8")
    (bundle / "edges.csv").write_text(EDGES, encoding="utf-8")
    listed = work / f"{tag}_list.csv"
    listed.write_text(LIST.format(name=name), encoding="utf-8")
    ingest = peak_mb(["ingest", str(records), "--out", str(work / f"{tag}_out")])
    sanctions = peak_mb(["sanctions", str(bundle), "--list", str(listed)])
    return ingest, sanctions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    long_name = ("DANDONG HUAXIN GARMENT " * (args.size // 23 + 1))[: args.size]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        base = run(work, "Dandong Huaxin Garment Co Ltd", "base")
        long = run(work, long_name, "long")
    print(f"| command | normal name: peak MB | 1 name of {args.size:,} chars: peak MB |")
    print("|---|---:|---:|")
    for label, b, big in zip(("ingest", "sanctions"), base, long):
        print(f"| {label} | {b:.0f} | {big:.0f} |")


if __name__ == "__main__":
    main()
