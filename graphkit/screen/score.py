"""Source score: how strongly a node is itself a source of exposure, with the reason why.

An analyst's explicit `exposure` wins. Otherwise a node located in scope (see geo) scores
geo confidence x sector factor; a node out of scope scores 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphkit.screen.geo import DEFAULT_SCOPE, format_evidence, resolve_address
from graphkit.screen.sectors import classify_sector, load_factors

if TYPE_CHECKING:
    import pandas as pd

SCORE_COLUMNS = (
    "source_score",
    "score_basis",
    "geo_province",
    "geo_country",
    "in_scope",
    "geo_confidence",
    "geo_evidence",
    "sector",
    "sector_rule",
    "sector_factor",
    "score_evidence",
    "flagged",
)

#: a sector factor at or above this marks a high-risk sector (see data/sector_factors.csv)
HIGH_RISK_FACTOR = 1.0


def _text(nodes: pd.DataFrame, column: str) -> pd.Series:
    import pandas as pd

    if column not in nodes.columns:
        return pd.Series("", index=nodes.index, dtype=object)
    return nodes[column].fillna("").astype(str)


def screen_nodes(
    nodes: pd.DataFrame,
    scope: frozenset[str] = DEFAULT_SCOPE,
    factors: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Source score and its evidence for every node, indexed like the input.

    ``flagged`` marks the nodes an analyst must review: an explicit exposure above 0, or a
    location in scope in a high-risk sector. Other in-scope nodes keep a low score.
    """
    import numpy as np
    import pandas as pd

    factors = factors or load_factors()
    geo = _screen_places(nodes, scope)
    sector = _screen_sectors(nodes, factors)
    result = pd.concat([geo, sector], axis=1)
    exposure = (
        pd.to_numeric(nodes["exposure"], errors="coerce")
        if "exposure" in nodes.columns
        else pd.Series(np.nan, index=nodes.index)
    )
    explicit = exposure.notna().to_numpy()
    in_scope = result["in_scope"].to_numpy(dtype=bool)
    screened = result["geo_confidence"].to_numpy() * result["sector_factor"].to_numpy()
    score = np.where(explicit, exposure.to_numpy(), np.where(in_scope, screened, 0.0))
    result["source_score"] = np.clip(score, 0.0, 1.0)
    result["score_basis"] = np.where(explicit, "explicit", np.where(in_scope, "screened", "none"))
    high_risk = result["sector_factor"].to_numpy() >= HIGH_RISK_FACTOR
    result["flagged"] = np.where(explicit, result["source_score"] > 0, in_scope & high_risk)
    result["score_evidence"] = [
        _explain(basis, score, row)
        for basis, score, row in zip(
            result["score_basis"], result["source_score"], result.to_dict("records"), strict=True
        )
    ]
    return result[list(SCORE_COLUMNS)]


def _screen_places(nodes: pd.DataFrame, scope: frozenset[str]) -> pd.DataFrame:
    """Resolve each distinct (address, country, province) once and map back to the nodes."""
    import pandas as pd

    keys = pd.DataFrame(
        {
            "address": _text(nodes, "address"),
            "country": _text(nodes, "country"),
            "province": _text(nodes, "province"),
        }
    )
    unique = keys.drop_duplicates()
    rows = []
    for address, country, province in unique.itertuples(index=False):
        res = resolve_address(address, country, scope, province=province)
        rows.append(
            (res.province, res.country, res.in_scope, res.confidence, format_evidence(res.evidence))
        )
    columns = ["geo_province", "geo_country", "in_scope", "geo_confidence", "geo_evidence"]
    table = pd.DataFrame(rows, columns=columns)
    table[["address", "country", "province"]] = unique.to_numpy()
    merged = keys.merge(table, on=["address", "country", "province"], how="left")
    merged.index = nodes.index
    merged["in_scope"] = merged["in_scope"].astype(bool)
    return merged[columns]


def _screen_sectors(nodes: pd.DataFrame, factors: dict[str, float]) -> pd.DataFrame:
    import pandas as pd

    columns = [_text(nodes, c) for c in ("hs_code", "description", "sector", "name")]
    matches = [
        classify_sector(hs, desc, sec, factors, name=name)
        for hs, desc, sec, name in zip(*columns, strict=True)
    ]
    return pd.DataFrame(
        {
            "sector": [m.sector for m in matches],
            "sector_rule": [m.rule + (f" '{m.matched}'" if m.matched else "") for m in matches],
            "sector_factor": [m.factor for m in matches],
        },
        index=nodes.index,
    )


def _explain(basis: str, score: float, row: dict) -> str:
    if basis == "explicit":
        return f"explicit exposure {score:.3g} given by the analyst"
    if basis == "screened":
        return (
            f"in scope ({row['geo_province']}, confidence {row['geo_confidence']:.2f})"
            f" x sector {row['sector']} factor {row['sector_factor']:g} = {score:.3g}"
        )
    where = row["geo_province"] or "no location found"
    return f"not in scope ({where}): score 0"
