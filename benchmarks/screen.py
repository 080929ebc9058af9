"""Address screening: graphkit's resolver vs the naive search the guidance describes.

Runs both on tests/data/addresses_labelled.csv and reports precision/recall of `in_scope`
and throughput (addresses per second, one core). Throughput is measured on distinct
synthetic addresses (no cache hits) and on the repeated labelled set (cache hits, as in
real import records where the same supplier address recurs).

    PYTHONPATH=. python benchmarks/screen.py
"""

from __future__ import annotations

import csv
import random
import re
import time
from pathlib import Path

from graphkit.screen.geo import _resolve_cached, _segment_mentions, resolve_address

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
LABELLED = DATA / "addresses_labelled.csv"
#: written after the resolver and never used to tune it: the honest estimate
HOLDOUT = DATA / "addresses_holdout.csv"
NAIVE = re.compile("jilin|liaoning", re.IGNORECASE)


def naive_in_scope(text: str) -> bool:
    """The guidance's manual method: a case-insensitive search for "Jilin" or "Liaoning"."""
    return bool(NAIVE.search(text))


def quality(rows, predict) -> tuple[float, float]:
    tp = fp = fn = 0
    for row in rows:
        got, want = predict(row), row["in_scope"] == "true"
        tp += got and want
        fp += got and not want
        fn += want and not got
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def synthetic(rows, n: int) -> list[str]:
    """n distinct addresses: labelled addresses with a unique building number prepended."""
    rng = random.Random(7)
    return [f"Bldg {i}, {rng.choice(rows)['address']}" for i in range(n)]


def throughput(func, texts) -> float:
    """Texts per CPU second of this process: fair on a machine shared with other jobs."""
    start = time.process_time()
    for text in texts:
        func(text)
    return len(texts) / (time.process_time() - start)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def graphkit_in_scope(row: dict[str, str]) -> bool:
    return resolve_address(row["address"], row["country_hint"]).in_scope


def uncached(text: str):
    """Resolve with every cache emptied first: the cost of an address never seen in any part."""
    _resolve_cached.cache_clear()
    _segment_mentions.cache_clear()
    return resolve_address(text)


def calibration() -> float:
    """Seconds this machine takes for sum(range(10**7)); about 0.15 s on an idle modern core."""
    start = time.process_time()
    sum(range(10**7))
    return time.process_time() - start


def main() -> None:
    rows, holdout = read(LABELLED), read(HOLDOUT)
    resolve_address("warm up the gazetteer")
    g_p, g_r = quality(rows, graphkit_in_scope)
    n_p, n_r = quality(rows, lambda r: naive_in_scope(r["address"]))
    h_p, h_r = quality(holdout, graphkit_in_scope)
    hn_p, hn_r = quality(holdout, lambda r: naive_in_scope(r["address"]))
    distinct = synthetic(rows, 20_000)
    _resolve_cached.cache_clear()
    g_cold = throughput(resolve_address, distinct)
    repeated = [r["address"] for r in rows] * 50
    g_warm = throughput(resolve_address, repeated)
    n_speed = throughput(naive_in_scope, distinct)
    g_none = throughput(uncached, distinct[:3000])
    print(f"labelled set: {len(rows)} addresses; held-out set: {len(holdout)} addresses\n")
    print(
        "| method | precision (labelled) | recall (labelled) | precision (held-out)"
        " | recall (held-out) | addr/s no cache | addr/s distinct | addr/s repeated |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, p, r, hp, hr, none, cold, warm in (
        ("graphkit resolver", g_p, g_r, h_p, h_r, g_none, g_cold, g_warm),
        ("naive 'Jilin'/'Liaoning' search", n_p, n_r, hn_p, hn_r, n_speed, n_speed, n_speed),
    ):
        print(
            f"| {name} | {p:.3f} | {r:.3f} | {hp:.3f} | {hr:.3f}"
            f" | {none:,.0f} | {cold:,.0f} | {warm:,.0f} |"
        )
    print(f"\ncalibration: sum(range(10**7)) took {calibration():.2f} CPU s (fast core: ~0.15)")
    print(
        f"ratio recall graphkit/naive: {g_r / max(n_r, 1e-9):.2f}x; "
        f"speed naive/graphkit (distinct): {n_speed / g_cold:.1f}x"
    )


if __name__ == "__main__":
    main()
