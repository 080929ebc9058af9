"""Benchmark: reading, validating, hashing and screening a bundle at size, old code vs new.

    PYTHONPATH=. python benchmarks/read.py [--sizes 100000 1000000] [--seed 1]
        [--baseline e70bcdc] [--work DIR]

For each size (suppliers) it writes a bundle with ``graphkit generate`` (kept in --work and
reused), then runs two variants, each in a fresh process so that peak memory and the
address resolver's cache are their own:

- ``baseline``: graphkit as it was at --baseline (extracted with ``git archive``): pandas'
  CSV reader, row-wise checks, screening with a classification per row, a digest that
  writes both tables to CSV text;
- ``current``: this checkout: Arrow's CSV reader, validation on integer codes, each
  distinct address and sector text screened once, the vectorised digest.

Both run the same steps: ``read_bundle`` (read + validate), ``Bundle.digest()``,
``screen_nodes``. Timings are wall and CPU seconds (the machine is shared, so wall time
varies more); peak RSS is the process's. "Same result" compares the validated tables and
the screening table of the two variants (the digests differ by design: the encoding
changed, see graphkit/digest.py). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the last commit before the reader/validator/screening rewrite
BASELINE = "e70bcdc"


def child(bundle: str) -> None:
    """Run the three steps in this process and print their costs as JSON."""
    import pandas as pd

    from graphkit.io import read_bundle
    from graphkit.screen.score import screen_nodes

    costs: dict = {}

    def timed(step: str, work):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        costs[step] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result

    loaded = timed("read_validate", lambda: read_bundle(bundle))
    timed("digest", loaded.digest)
    screened = timed("screen", lambda: screen_nodes(loaded.nodes))
    fingerprint = [
        int(pd.util.hash_pandas_object(frame, index=False).sum() % 2**61)
        for frame in (loaded.nodes, loaded.edges, screened)
    ]
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sizes = {"nodes": len(loaded.nodes), "edges": len(loaded.edges)}
    found = {"costs": costs, "peak_gb": peak_kb / 2**20, "fingerprint": fingerprint, **sizes}
    print(json.dumps(found))


def extract_baseline(commit: str, work: Path) -> Path:
    """The package as it was at ``commit``, in its own folder."""
    folder = work / f"baseline-{commit}"
    if not (folder / "graphkit").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "graphkit"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def bundle_for(suppliers: int, seed: int, work: Path) -> Path:
    folder = work / f"generated-{suppliers}-{seed}"
    if not (folder / "edges.csv").is_file():
        command = [sys.executable, "-m", "graphkit.cli", "generate", "--suppliers", str(suppliers)]
        subprocess.run([*command, "--seed", str(seed), str(folder)], check=True, cwd=ROOT)
    return folder


def run_variant(package_root: Path, bundle: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(bundle)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def row(suppliers: int, variant: str, result: dict, same: str) -> str:
    costs = result["costs"]
    cells = [
        f"{costs[s][0]:.1f} ({costs[s][1]:.1f})" for s in ("read_validate", "digest", "screen")
    ]
    total = sum(costs[s][0] for s in costs)
    return (
        f"| {suppliers:,} | {result['nodes']:,} | {result['edges']:,} | {variant} | "
        + " | ".join(cells)
        + f" | {total:.1f} | {result['peak_gb']:.2f} | {same} |"
    )


def _same(results: dict) -> str:
    """Whether both variants built the same tables and screening ("" if one did not run)."""
    if "baseline" not in results:
        return ""
    old, new = (results[v]["fingerprint"] for v in ("baseline", "current"))
    return "yes" if old == new else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "graphkit-read")
    parser.add_argument(
        "--variants", nargs="+", choices=("baseline", "current"), default=["baseline", "current"]
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    baseline = extract_baseline(args.baseline, args.work)
    print(
        "| suppliers | nodes | edges | variant | read + validate, s (CPU s) | digest, s (CPU s) "
        "| screen, s (CPU s) | total, s | peak RSS, GB | same result |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for suppliers in args.sizes:
        bundle = bundle_for(suppliers, args.seed, args.work)
        results = {}
        for variant in args.variants:
            results[variant] = run_variant(baseline if variant == "baseline" else ROOT, bundle)
        if "baseline" in results:
            print(row(suppliers, f"baseline ({args.baseline})", results["baseline"], ""))
        if "current" in results:
            print(row(suppliers, "current", results["current"], _same(results)), flush=True)


if __name__ == "__main__":
    main()
