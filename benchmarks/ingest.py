"""Benchmark: ingest N generated bill-of-lading records (default 100,000; try 1,000,000).

    PYTHONPATH=. python benchmarks/ingest.py [--records 1000000] [--seed 1]

Generates invented records (companies named city + pinyin trade name + industry word, each
written in several variants: case, legal forms, pinyin spacing, typos, Chinese names), writes
them as CSV, then times `graphkit.ingest.ingest` end to end (read, check, resolve, build,
validate, write). Prints a markdown table with the number of name pairs entity resolution
scored after blocking, against the naive all-pairs count over the distinct names and over
the records, and the number of companies behind the names (resolution should end near it;
above it when typo variants stay apart, below it would mean wrong merges). Wall-clock and
CPU seconds are both shown: on a shared machine they differ. Then prints the resolver's
pairwise precision and recall on the labelled pair sets in tests/data.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CITIES = [
    "Dandong",
    "Dalian",
    "Yingkou",
    "Shenyang",
    "Ningbo",
    "Shaoxing",
    "Qingdao",
    "Xiamen",
    "Dongguan",
    "Shenzhen",
    "Suzhou",
    "Hangzhou",
    "Hunchun",
    "Yanji",
    "Changchun",
    "Jinzhou",
    "Wuxi",
    "Quanzhou",
    "Fuzhou",
    "Nantong",
    "Jinhua",
    "Yiwu",
    "Foshan",
    "Tianjin",
]
SYLLABLES = [
    "hua",
    "xin",
    "jin",
    "hui",
    "hong",
    "tai",
    "yuan",
    "li",
    "ming",
    "feng",
    "da",
    "sheng",
    "long",
    "an",
    "kang",
    "yang",
    "rui",
    "fu",
    "bao",
    "heng",
    "tian",
    "yu",
    "cheng",
    "xing",
]
INDUSTRY = ["Garment", "Textile", "Knitting", "Apparel", "Seafood", "Electronics", "Trading"]
FORMS = ["Co., Ltd.", "CO LTD", "Co.,Ltd", "Company Limited", "", "Corp."]


def companies(n: int, rng: np.random.Generator) -> pd.DataFrame:
    city = rng.choice(CITIES, n)
    trade = ["".join(rng.choice(SYLLABLES, 2)).title() for _ in range(n)]
    industry = rng.choice(INDUSTRY, n)
    names = [f"{c} {t} {i}" for c, t, i in zip(city, trade, industry)]
    postcode = [f"{100000 + 1000 * CITIES.index(c) + rng.integers(0, 999):06d}" for c in city]
    frame = pd.DataFrame({"name": names, "city": city, "postcode": postcode})
    return frame.drop_duplicates("name").reset_index(drop=True)


def variant(name: str, rng: np.random.Generator) -> str:
    """One way of writing ``name``: case, legal form, pinyin split, or a swapped-letter typo."""
    r = rng.random()
    words = name.split()
    if r < 0.05 and len(words[1]) > 5:
        i = int(rng.integers(1, len(words[1]) - 2))
        w = words[1]
        words[1] = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    elif r < 0.2:
        words[0] = words[0][:3] + " " + words[0][3:].title()
    text = " ".join(words) + " " + FORMS[int(rng.integers(len(FORMS)))]
    return text.upper() if rng.random() < 0.4 else text.strip()


def records(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    everyone = companies(max(50, n // 40) + max(10, n // 400), rng)
    buyers = everyone.iloc[: max(10, n // 400)].reset_index(drop=True)
    shippers = everyone.iloc[len(buyers) :].reset_index(drop=True)
    variants = 6
    shipper_names = [[variant(s, rng) for _ in range(variants)] for s in shippers["name"]]
    buyer_names = [[variant(b, rng) for _ in range(variants)] for b in buyers["name"]]
    s = rng.zipf(1.6, n) % len(shippers)
    b = rng.zipf(1.6, n) % len(buyers)
    v = rng.integers(0, variants, n)
    address = (shippers["city"] + " " + shippers["postcode"]).to_numpy()
    value = np.round(rng.lognormal(9, 1, n), 2).astype(str)
    value[rng.random(n) < 0.1] = ""
    frame = pd.DataFrame(
        {
            "record_id": [f"BL{i:09d}" for i in range(n)],
            "shipper_name": [shipper_names[i][j] for i, j in zip(s, v)],
            "shipper_address": np.where(rng.random(n) < 0.8, address[s], ""),
            "consignee_name": [buyer_names[i][j] for i, j in zip(b, v)],
            "hs_code": rng.choice(["6201.40", "620240", "0306.17", "8534.00"], n),
            "weight_kg": rng.integers(100, 20000, n).astype(str),
            "value_usd": value,
            "port_of_lading": rng.choice(["DALIAN", "NINGBO", "DANDONG", "SHANGHAI"], n),
        }
    )
    frame.attrs["companies"] = len(np.unique(s)) + len(np.unique(b))
    return frame


def main() -> None:
    from graphkit.ingest import ingest, read_records

    parser = argparse.ArgumentParser(description="Benchmark import-record ingestion.")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "records.csv"
        generated = records(args.records, args.seed)
        generated.to_csv(path, index=False)
        start, cpu = time.perf_counter(), time.process_time()
        result = ingest(path, Path(work) / "out")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        read = read_records(path)
    distinct = pd.concat([read["shipper_name"], read["consignee_name"]]).nunique()
    naive_names = distinct * (distinct - 1) // 2
    naive_records = args.records * (args.records - 1) // 2
    compared = result.stats["comparisons"]
    print(
        "| records | seconds | CPU seconds | records/s | distinct names | true companies "
        "| nodes after resolution "
        "| pairs compared | naive pairs (names) | naive pairs (records) | ratio (names) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.records:,} | {seconds:.1f} | {cpu:.1f} | {args.records / seconds:,.0f} "
        f"| {distinct:,} | {generated.attrs['companies']:,} "
        f"| {result.stats['nodes']:,} | {compared:,} | {naive_names:,} | {naive_records:,} "
        f"| {naive_names / max(compared, 1):,.0f}x fewer |"
    )


def pair_quality() -> None:
    """Pairwise precision and recall of the resolver on the labelled pair sets (tests/data)."""
    from graphkit.resolve import MERGE, compare, place_of

    data = Path(__file__).resolve().parents[1] / "tests" / "data"
    print("\n| pair set | pairs | same | precision | recall |\n|---|---:|---:|---:|---:|")
    for name in ("er_pairs.csv", "er_pairs_bol.csv"):
        pairs = pd.read_csv(data / name, dtype=str, keep_default_na=False)
        country = {
            c: pairs[c] if c in pairs else [""] * len(pairs) for c in ("country_a", "country_b")
        }
        merged = np.array([
            compare(a, b, place_of(pa, "", ca), place_of(pb, "", cb)).verdict == MERGE
            for a, pa, ca, b, pb, cb in zip(
                pairs["name_a"], pairs["address_a"], country["country_a"],
                pairs["name_b"], pairs["address_b"], country["country_b"],
            )
        ])  # fmt: skip
        same = (pairs["same"] == "1").to_numpy()
        precision = (merged & same).sum() / max(merged.sum(), 1)
        recall = (merged & same).sum() / max(same.sum(), 1)
        print(f"| {name} | {len(pairs)} | {same.sum()} | {precision:.3f} | {recall:.3f} |")


if __name__ == "__main__":
    main()
    pair_quality()
