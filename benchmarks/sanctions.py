"""Benchmark: sanctions matching on the real-data dev files (quality and speed).

    PYTHONPATH=. python benchmarks/sanctions.py [--realdata ../shared/realdata] [--names 10000]

Prints markdown tables for the README:

* alias recall (the queried alias removed from its entry first; hit = the expected entity
  among strong or weak matches) for similarity >= 0.8 and below, and per alias/entity type;
* strong and weak matches of clean (not listed) names, per source;
* the whole SDN list against N names (clean names, then alias queries): CPU seconds of
  graphkit's matcher against the naive all-pairs rapidfuzz token_sort_ratio, measured on a
  1,000-name slice and scaled to N.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from rapidfuzz import fuzz, process

from graphkit.names import fold
from graphkit.screen.sanctions import Query, match_names, read_sanctions_list
from graphkit.screen.sanctions_eval import alias_recall, clean_matches, read_labelled

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def recall_tables(listed, aliases: pd.DataFrame) -> None:
    result = alias_recall(listed, aliases)
    result["band"] = (result["similarity"].astype(float) >= 0.8).map(
        {True: "similarity >= 0.8", False: "similarity < 0.8"}
    )
    print("| queries | n | recall (strong or weak) | strong |\n|---|---:|---:|---:|")
    for band, group in result.groupby("band", sort=False):
        found, strong = group["found"].mean(), group["strong"].mean()
        print(f"| {band} | {len(group)} | {found:.3f} | {strong:.3f} |")
    print("\n| alias_type / entity_type (similarity >= 0.8) | n | recall |\n|---|---:|---:|")
    spelling = result[result["band"] == "similarity >= 0.8"]
    for (alias, entity), group in spelling.groupby(["alias_type", "entity_type"]):
        print(f"| {alias} / {entity} | {len(group)} | {group['found'].mean():.3f} |")


def clean_table(listed, clean: pd.DataFrame) -> None:
    matches = clean_matches(listed, clean)
    source = clean.set_index("id")["source"]
    matches["source"] = matches["node"].map(source)
    print(
        "\n| clean names: source | names | strong | weak | weak share |\n|---|---:|---:|---:|---:|"
    )
    for name, group in clean.groupby("source"):
        found = matches[matches["source"] == name]
        strong = found[found["strong"]]["node"].nunique()
        weak = found[~found["node"].isin(found[found["strong"]]["node"])]["node"].nunique()
        print(f"| {name} | {len(group)} | {strong} | {weak} | {weak / len(group):.2%} |")


def speed_table(listed, names: list[str]) -> None:
    n = len(names)
    query = Query([str(i) for i in range(n)], names, [""] * n, [""] * n, [""] * n)
    started = time.process_time()
    matches = match_names(query, listed)
    ours = time.process_time() - started
    sample = names[:1000]
    choices = [fold(x) for x in listed.names["name"]]
    started = time.process_time()
    process.cdist([fold(x) for x in sample], choices, scorer=fuzz.token_sort_ratio, workers=1)
    naive = (time.process_time() - started) * n / len(sample)
    print(f"\n| whole SDN list ({len(listed.names):,} names) x {n:,} names | CPU s |\n|---|---:|")
    print(
        f"| graphkit (trigram retrieval + aligned scoring), {len(matches):,} matches | {ours:.1f} |"
    )
    print(f"| naive all pairs, rapidfuzz token_sort_ratio (1,000 measured, scaled) | {naive:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", type=Path, default=DEFAULT)
    parser.add_argument("--names", type=int, default=10_000)
    args = parser.parse_args()
    folder = args.realdata / "sanctions"
    listed = read_sanctions_list(folder / "sdn_targets.csv")
    aliases = read_labelled(folder / "aliases_dev.csv")
    clean = read_labelled(folder / "clean_names_dev.csv")
    recall_tables(listed, aliases)
    clean_table(listed, clean)
    names = (list(clean["name"]) + list(aliases["query_name"]))[: args.names]
    speed_table(listed, names)


if __name__ == "__main__":
    main()
