"""Sector screening: HS codes and product/service descriptions to a risk sector and factor.

Precedence: an explicit `sector` value wins, then the HS code (longest matching prefix in
data/sector_hs.csv), then keywords in the description (data/sector_keywords.csv). Sector
risk factors come from data/sector_factors.csv and can be overridden by a user CSV file.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from graphkit.errors import InvalidInput, Problem
from graphkit.package_data import read_csv

SECTORS = ("apparel_ppe", "electronics", "seafood", "it_services", "machinery", "other", "unknown")
SECTOR_ALIASES = {
    "apparel": "apparel_ppe",
    "ppe": "apparel_ppe",
    "clothing": "apparel_ppe",
    "garments": "apparel_ppe",
    "textiles": "apparel_ppe",
    "electronic": "electronics",
    "fish": "seafood",
    "fishery": "seafood",
    "it": "it_services",
    "software": "it_services",
    "it_service": "it_services",
    "machines": "machinery",
}


@dataclass(frozen=True)
class SectorMatch:
    """The sector of a node, its risk factor, the rule that decided it and the text it matched."""

    sector: str
    factor: float
    rule: str
    matched: str


@lru_cache(maxsize=1)
def hs_rules() -> dict[str, str]:
    return {row["hs_prefix"]: row["sector"] for row in read_csv("sector_hs.csv")}


@lru_cache(maxsize=1)
def keyword_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex over every keyword (longest first), and keyword -> sector."""
    sectors = {row["keyword"].lower(): row["sector"] for row in read_csv("sector_keywords.csv")}
    alternatives = []
    for word in sorted(sectors, key=len, reverse=True):
        escaped = re.escape(word)
        alternatives.append(escaped if re.search(r"[\u3400-\u9fff]", word) else rf"\b{escaped}\b")
    return re.compile("|".join(alternatives)), sectors


@lru_cache(maxsize=1)
def default_factors() -> dict[str, float]:
    return {row["sector"]: float(row["factor"]) for row in read_csv("sector_factors.csv")}


def load_factors(path: str | Path | None = None) -> dict[str, float]:
    """Sector factors: the packaged defaults, overridden by a user CSV (columns sector,factor)."""
    factors = dict(default_factors())
    if path is None:
        return factors
    problems = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"sector", "factor"} - set(reader.fieldnames or ())
        if missing:
            raise InvalidInput(
                [Problem(str(path), 1, c, "required column missing") for c in sorted(missing)]
            )
        for row_number, row in enumerate(reader, start=2):
            sector = normalise_sector(row["sector"])
            value = _factor(row["factor"])
            if sector not in SECTORS:
                problems.append(
                    Problem(str(path), row_number, "sector", f"unknown sector {row['sector']!r}")
                )
            elif value is None:
                problems.append(
                    Problem(str(path), row_number, "factor", "must be a number in 0..1")
                )
            else:
                factors[sector] = value
    if problems:
        raise InvalidInput(problems)
    return factors


def _factor(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if 0.0 <= value <= 1.0 else None


def normalise_sector(value: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", (value or "").strip().lower()).strip("_")
    return SECTOR_ALIASES.get(key, key)


def normalise_hs(code: str) -> str:
    """Digits of an HS code, restoring a leading zero a spreadsheet lost: "30617" -> "030617"."""
    digits = re.sub(r"\D", "", str(code or ""))
    if digits.endswith("0") and re.fullmatch(r"\d+\.0", str(code).strip()):
        digits = digits[:-1]  # read from a float column: "30617.0"
    return "0" + digits if len(digits) % 2 else digits


def sector_of_hs(code: str) -> tuple[str, str] | None:
    """(sector, matched prefix) for an HS code by longest matching prefix, None if no rule."""
    digits = normalise_hs(code)
    rules = hs_rules()
    for length in range(min(len(digits), 6), 1, -1):
        sector = rules.get(digits[:length])
        if sector:
            return sector, digits[:length]
    return None


def sector_of_text(text: str) -> tuple[str, str] | None:
    pattern, sectors = keyword_pattern()
    match = pattern.search((text or "").lower())
    return (sectors[match.group()], match.group()) if match else None


def classify_sector(
    hs_code: str = "",
    description: str = "",
    sector: str = "",
    factors: dict[str, float] | None = None,
    name: str = "",
) -> SectorMatch:
    """The sector from the explicit sector, HS code, description or node name (in that order).

    A name without a risk keyword says nothing, so it never turns "unknown" into "other".
    """
    factors = factors or default_factors()
    found = classify_without_name(hs_code, description, sector, factors)
    return found or classify_by_name(name, factors)


def classify_without_name(
    hs_code: str, description: str, sector: str, factors: dict[str, float]
) -> SectorMatch | None:
    """The sector from the explicit sector, HS code or description; None if only a name can tell.

    Split from ``classify_sector`` so that a large table classifies each distinct
    (HS code, description, sector) once and looks at names only where they decide.
    """
    explicit = normalise_sector(sector)
    if explicit in SECTORS:
        return SectorMatch(explicit, factors[explicit], "explicit sector", sector.strip())
    found = sector_of_text(sector) if explicit else None
    if found:
        return SectorMatch(found[0], factors[found[0]], "sector keyword", found[1])
    if normalise_hs(hs_code):
        by_hs = sector_of_hs(hs_code)
        name, matched = by_hs or ("other", normalise_hs(hs_code))
        rule = f"HS {matched}" if by_hs else "HS code outside the risk chapters"
        return SectorMatch(name, factors[name], rule, str(hs_code).strip())
    by_text = sector_of_text(description)
    if by_text:
        return SectorMatch(by_text[0], factors[by_text[0]], "description keyword", by_text[1])
    if explicit or (description or "").strip():
        return SectorMatch("other", factors["other"], "no risk-sector keyword", "")
    return None


def classify_by_name(name: str, factors: dict[str, float]) -> SectorMatch:
    """The sector a node's name gives when nothing else is known ("unknown" without a keyword)."""
    by_name = sector_of_text(name)
    if by_name:
        return SectorMatch(by_name[0], factors[by_name[0]], "name keyword", by_name[1])
    return SectorMatch("unknown", factors["unknown"], "no sector information", "")
