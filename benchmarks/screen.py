"""Address screening on real addresses: graphkit vs a naive keyword search vs cpca, one run.

Reads ../shared/realdata/addresses_dev.csv (real OFAC/UN/registry addresses, labelled by the
sources' own fields; never copied into the project) and reports, per variant, precision and
recall of "in scope" (Liaoning, Jilin, North Korea), province accuracy and rows per CPU
second for three methods: graphkit's resolver, the naive keyword search analysts use
("Jilin", "Liaoning", "North Korea", "DPRK", 吉林, 辽宁, 朝鲜) and cpca, the common Chinese
address parser (benchmark-only: `pip install cpca`). Then graphkit's errors by family, and
the project's own labelled/held-out sets with the distinct-address throughput.

    PYTHONPATH=. python benchmarks/screen.py
"""

from __future__ import annotations

import csv
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from graphkit.screen.geo import (
    PlaceResolution,
    _resolve_cached,
    _resolve_segments,
    _segment_mentions,
    format_evidence,
    resolve_address,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
REAL = ROOT.parent / "shared" / "realdata" / "addresses_dev.csv"
IN_SCOPE = {"Liaoning", "Jilin", "North Korea"}
VARIANTS = ("A", "B", "ZH_RAW", "ZH_NOPROV")
NAIVE = {
    "Liaoning": re.compile("liaoning|辽宁|遼寧", re.IGNORECASE),
    "Jilin": re.compile("jilin|吉林", re.IGNORECASE),
    "North Korea": re.compile(r"north korea|korea, north|dprk|朝鲜|朝鮮", re.IGNORECASE),
}
HONORIFIC = re.compile(r"\b(?:dr|mr|mrs|ms|prof|sheikh)\b\.?\s", re.IGNORECASE)
STREETISH = re.compile(r"\b(?:road|rd|street|st|avenue|highway|lane|alley)\b|[路街道巷]", re.I)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def naive(text: str) -> str:
    """The province whose keyword occurs in the text, else ''."""
    return next((province for province, word in NAIVE.items() if word.search(text)), "")


def graphkit_provinces(texts: list[str]) -> tuple[list[str], float]:
    """Provinces for texts never seen before (all caches emptied), and the CPU seconds taken."""
    for cache in (_resolve_cached, _resolve_segments, _segment_mentions):
        cache.cache_clear()
    start = time.process_time()
    results = [resolve_address(t) for t in texts]
    seconds = time.process_time() - start
    return [r.province if r.in_scope else f"~{r.province}" for r in results], seconds


def naive_provinces(texts: list[str]) -> tuple[list[str], float]:
    start = time.process_time()
    found = [naive(t) for t in texts]
    return found, time.process_time() - start


def cpca_provinces(texts: list[str]) -> tuple[list[str], float] | None:
    try:
        import cpca
    except ImportError:
        return None
    cpca.transform(["吉林省长春市"])  # load its tables outside the timing
    start = time.process_time()
    frame = cpca.transform(texts)
    seconds = time.process_time() - start
    names = province_names()
    found = [names.get(p, "") for p in frame["省"].fillna("")]
    return [p if p in IN_SCOPE else f"~{p}" for p in found], seconds


def province_names() -> dict[str, str]:
    """Chinese province names (辽宁省) -> graphkit's English names (Liaoning)."""
    data = ROOT / "graphkit" / "data"
    english = {r["code"]: r["name_en"] for r in read(data / "provinces.csv")}
    return {
        r["name_zh"]: english[r["code"]]
        for r in read(data / "divisions.csv")
        if r["level"] == "province" and r["code"] in english
    }


def measure(rows: list[dict[str, str]], found: list[str]) -> tuple[float, float, float]:
    """Precision, recall of in scope (a province without '~'), province accuracy."""
    tp = fp = fn = right = labelled = 0
    for row, got in zip(rows, found, strict=True):
        flagged, want = not got.startswith("~") and got != "", row["province"] in IN_SCOPE
        tp += flagged and want
        fp += flagged and not want
        fn += want and not flagged
        if row["province"]:
            labelled += 1
            right += got.lstrip("~") == row["province"]
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), right / max(labelled, 1)


def family(row: dict[str, str], res: PlaceResolution) -> str:
    """The error family (as in issue #14) a wrong in-scope call belongs to."""
    text, shown = row["address"], format_evidence(res.evidence)
    false_positive = res.in_scope
    if res.ambiguous:
        return "8 ambiguity"
    if not res.evidence or all(not s.agreed for s in res.evidence):
        return "no place name the screener knows"
    if false_positive and "postal" in shown and "→" + res.province + " agreed" in shown:
        return "1 foreign postcode / P.O. box"
    if "(typo)" in shown:
        return "2 typo match"
    if false_positive and HONORIFIC.search(text):
        return "5 person's name"
    if row["province"] == "North Korea":
        return "6 North Korean place below the province"
    if row["variant"].startswith("ZH") and re.search("[镇乡村屯]|街道", text):
        return "7 Chinese township / village"
    if STREETISH.search(text):
        return "4 street or building named after a place"
    return "3 shared district name / other"


def error_families(rows: list[dict[str, str]]) -> dict[str, Counter]:
    families: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        res = resolve_address(row["address"])
        if res.in_scope != (row["province"] in IN_SCOPE):
            kind = "false positive" if res.in_scope else "false negative"
            families[family(row, res)][f"{row['variant']} {kind}"] += 1
    return families


def real_data_table(rows: list[dict[str, str]]) -> None:
    methods: dict[str, Callable] = {
        "graphkit": graphkit_provinces,
        "naive keywords": naive_provinces,
        "cpca": cpca_provinces,
    }
    print(f"real dev set: {len(rows)} addresses ({REAL})\n")
    print(
        "| variant | rows (in scope) | method | precision | recall | province accuracy | rows/s |"
    )
    print("|---|---|---|---|---|---|---|")
    for variant in VARIANTS:
        part = [r for r in rows if r["variant"] == variant]
        texts = [r["address"] for r in part]
        scope = sum(r["province"] in IN_SCOPE for r in part)
        for name, method in methods.items():
            result = method(texts)
            if result is None:
                print(f"| {variant} | {len(part)} ({scope}) | {name} | not installed | | | |")
                continue
            found, seconds = result
            p, r, acc = measure(part, found)
            speed = len(texts) / max(seconds, 1e-9)
            print(
                f"| {variant} | {len(part)} ({scope}) | {name} | {p:.3f} | {r:.3f} | {acc:.3f}"
                f" | {speed:,.0f} |"
            )


def families_table(rows: list[dict[str, str]]) -> None:
    families = error_families(rows)
    print("\ngraphkit's remaining errors on the dev set, by family (issue #14's numbering):\n")
    print("| family | errors | where |")
    print("|---|---|---|")
    for name in sorted(families):
        where = ", ".join(f"{k}: {n}" for k, n in sorted(families[name].items()))
        print(f"| {name} | {sum(families[name].values())} | {where} |")
    print("| 9 record evidence | n/a | bill-of-lading fields, not addresses: tests/test_score.py |")


def own_sets_and_speed() -> None:
    """The project's labelled and held-out sets, and the distinct-address throughput."""
    rows, holdout = read(DATA / "addresses_labelled.csv"), read(DATA / "addresses_holdout.csv")
    print("\nproject sets (address + country column):\n")
    print("| set | rows | precision | recall |")
    print("|---|---|---|---|")
    for name, part in (("labelled", rows), ("held-out", holdout)):
        tp = fp = fn = 0
        for row in part:
            got = resolve_address(row["address"], row["country_hint"]).in_scope
            want = row["in_scope"] == "true"
            tp, fp, fn = tp + (got and want), fp + (got and not want), fn + (want and not got)
        print(f"| {name} | {len(part)} | {tp / max(tp + fp, 1):.3f} | {tp / max(tp + fn, 1):.3f} |")
    rng = random.Random(7)
    distinct = [f"Bldg {i}, {rng.choice(rows)['address']}" for i in range(20_000)]
    _resolve_cached.cache_clear()  # segment-level caches stay warm, as in a long import file
    start = time.process_time()
    for text in distinct:
        resolve_address(text)
    speed = len(distinct) / (time.process_time() - start)
    print(f"\ndistinct addresses/s (20,000, a unique building number each): {speed:,.0f}")
    start = time.process_time()
    sum(range(10**7))
    print(f"calibration: sum(range(10**7)) took {time.process_time() - start:.2f} CPU s")


def main() -> None:
    resolve_address("warm up the gazetteer")
    if REAL.is_file():
        rows = read(REAL)
        real_data_table(rows)
        families_table(rows)
    else:
        print(f"real dev set not found at {REAL}: real-data tables skipped")
    own_sets_and_speed()


if __name__ == "__main__":
    main()
