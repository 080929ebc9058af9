"""Source score: how strongly a node is itself a source of exposure, with the reason why.

An analyst's explicit `exposure` wins. Otherwise a node located in scope (see geo) scores
geo confidence x sector factor; a node out of scope scores 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphkit.screen.geo import DEFAULT_SCOPE, Resolution, format_evidence, resolve_address
from graphkit.screen.ports import liaoning_port
from graphkit.screen.sanctions import listed_evidence
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

#: confidence of a location known only from a Liaoning port of lading
PORT_CONFIDENCE = 0.6
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
    result["score_evidence"] = listed_evidence(nodes, result["score_evidence"], explicit)
    return result[list(SCORE_COLUMNS)]


def _screen_places(nodes: pd.DataFrame, scope: frozenset[str]) -> pd.DataFrame:
    """Resolve each distinct (address, country, province, port) once; map back to the nodes."""
    import pandas as pd

    key_columns = ["address", "country", "province", "port_of_lading"]
    keys = pd.DataFrame({c: _text(nodes, c) for c in key_columns})
    unique = keys.drop_duplicates()
    rows = [
        _place_row(resolve_address(address, country, scope, province=province), port, scope)
        for address, country, province, port in unique.itertuples(index=False)
    ]
    columns = ["geo_province", "geo_country", "in_scope", "geo_confidence", "geo_evidence"]
    table = pd.DataFrame(rows, columns=columns)
    table[key_columns] = unique.to_numpy()
    merged = keys.merge(table, on=key_columns, how="left")
    merged.index = nodes.index
    merged["in_scope"] = merged["in_scope"].astype(bool)
    return merged[columns]


def _place_row(res: Resolution, port_text: str, scope: frozenset[str]) -> tuple:
    """A resolution as table cells, with a Liaoning port of lading as weaker evidence.

    The port counts only where the address says nothing: goods loaded at Dalian may come
    from anywhere in the hinterland, so an address elsewhere wins and the port is shown as
    disagreeing.
    """
    row = (res.province, res.country, res.in_scope, res.confidence, format_evidence(res.evidence))
    port = liaoning_port(port_text) if port_text else None
    if port is None:
        return row
    if not res.province and "liaoning" in scope:
        evidence = f"{port.evidence} agreed (address silent)"
        return (port.province, "CN", True, PORT_CONFIDENCE, _joined(row[4], evidence))
    verdict = "agreed" if res.province == port.province else "disagreed (address wins)"
    return row[:4] + (_joined(row[4], f"{port.evidence} {verdict}"),)


def _joined(evidence: str, more: str) -> str:
    return f"{evidence}; {more}" if evidence else more


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


def source_evidence(screened: pd.DataFrame) -> pd.Series:
    """Per node, one line of evidence: the score rule, the address signals, the sector rule."""
    screened_rows = screened["score_basis"] == "screened"
    detail = "; address: " + screened["geo_evidence"] + "; sector: " + screened["sector_rule"]
    return screened["score_evidence"] + detail.where(screened_rows, "")
