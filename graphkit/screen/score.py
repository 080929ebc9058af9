"""Source score: how strongly a node is itself a source of exposure, with the reason why.

An analyst's explicit `exposure` wins. Otherwise a node located in scope (see geo) scores
geo confidence x sector factor; a node out of scope scores 0. Where the address does not
say where the node is, the record says what it can: a Liaoning port of lading (weaker than an
address), a North Korean port of lading (strong: the goods left North Korea), an in-scope
city at the start of the company's name (weak, "DANDONG … TRADING").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from graphkit.columns import first_positions, row_codes
from graphkit.screen.geo import (
    DEFAULT_SCOPE,
    PlaceResolution,
    format_evidence,
    name_place,
    resolve_address,
)
from graphkit.screen.ports import PortSignal, port_of_lading
from graphkit.screen.sanctions import listed_evidence
from graphkit.screen.sectors import (
    SectorMatch,
    classify_by_name,
    classify_without_name,
    load_factors,
)

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
    "geo_ambiguous",
    "sector",
    "sector_rule",
    "sector_factor",
    "score_evidence",
    "flagged",
)

#: confidence of a location known only from a Liaoning port of lading
PORT_CONFIDENCE = 0.6
#: confidence of North Korea from a North Korean port of lading (the goods left from there)
NK_PORT_CONFIDENCE = 0.9
#: confidence of a location known only from an in-scope city starting the company's name
NAME_CONFIDENCE = 0.35
#: evidence kinds that say only which country a node is in, not where in it
COUNTRY_ONLY = ("country", "country column")
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
    result["score_evidence"] = _each_distinct(
        [result[c] for c in _EXPLAINED], lambda *row: (_explain(*row),), ["score_evidence"]
    )["score_evidence"].array
    result["score_evidence"] = listed_evidence(nodes, result["score_evidence"], explicit)
    return result[list(SCORE_COLUMNS)]


def _each_distinct(
    columns: list[pd.Series], compute: Callable[..., tuple], names: list[str]
) -> pd.DataFrame:
    """``compute`` once per distinct combination of the columns' values, one row per input row.

    Screening a million nodes is then as fast as screening their distinct addresses and
    sector texts: each is resolved once and the result is broadcast back.
    """
    import pandas as pd

    codes = row_codes(columns)
    first = first_positions(codes)
    distinct = zip(*(column.iloc[first].tolist() for column in columns), strict=True)
    table = pd.DataFrame([compute(*values) for values in distinct], columns=names)
    return table.iloc[codes].set_axis(columns[0].index)


def _screen_places(nodes: pd.DataFrame, scope: frozenset[str]) -> pd.DataFrame:
    """Resolve each distinct (address, country, province, port) once and map it back; where
    the address is silent and there is no port, each distinct company name is read once."""
    import numpy as np

    def place(address: str, country: str, province: str, port: str) -> tuple:
        return _place_row(resolve_address(address, country, scope, province=province), port, scope)

    keys = [_text(nodes, c) for c in ("address", "country", "province", "port_of_lading")]
    table = _each_distinct(keys, place, [*PLACE_COLUMNS, "silent"])
    names = _text(nodes, "name")
    silent = table.pop("silent").to_numpy(dtype=bool) & (names != "").to_numpy(dtype=bool)
    if silent.any():
        read = _each_distinct([names[silent]], lambda name: _name_row(name, scope), NAME_COLUMNS)
        found = np.flatnonzero(silent)[read["name_place"].notna().to_numpy(dtype=bool)]
        read = read[read["name_place"].notna()]
        evidence = table["geo_evidence"].iloc[found].to_numpy(object)
        cells = read[["geo_province", "geo_country", "in_scope", "geo_confidence"]]
        table.iloc[found, :4] = cells.to_numpy(object)
        said = zip(evidence, read["name_place"], strict=True)
        table.iloc[found, 4] = [_joined(e, f"{p} (weak: the address is silent)") for e, p in said]
        table.iloc[found, 5] = False
    table["in_scope"] = table["in_scope"].astype(bool)
    table["geo_ambiguous"] = table["geo_ambiguous"].astype(bool)
    return table


PLACE_COLUMNS = (
    "geo_province", "geo_country", "in_scope", "geo_confidence", "geo_evidence", "geo_ambiguous",
)  # fmt: skip
NAME_COLUMNS = ["geo_province", "geo_country", "in_scope", "geo_confidence", "name_place"]


def _name_row(name: str, scope: frozenset[str]) -> tuple:
    """An in-scope city at the start of a company name: weak evidence (NAME_CONFIDENCE)."""
    place = name_place(name, scope)
    if not place:
        return ("", "", False, 0.0, None)
    return (place.province, place.country, True, NAME_CONFIDENCE, str(place))


def _silent(res: PlaceResolution) -> bool:
    """The address says nothing below China: no place, or only the country China (or nothing)."""
    placed = any(s.agreed and s.kind not in COUNTRY_ONLY for s in res.evidence)
    return not placed and res.country in ("", "CN")


def _place_row(res: PlaceResolution, port_text: str, scope: frozenset[str]) -> tuple:
    """A resolution as table cells, with the record's own evidence where the address is silent,
    and whether the company name may still speak (no port, address silent).

    A Liaoning port counts only where the address says nothing below the country: goods
    loaded at Dalian may come from anywhere in the hinterland, so an address elsewhere wins
    and the port is shown as disagreeing. A North Korean port is strong evidence whatever the
    address says. A company name starting with an in-scope city is weak evidence, used only
    when neither address nor port says anything.
    """
    row = (
        res.province,
        res.country,
        res.in_scope,
        res.confidence,
        format_evidence(res.evidence),
        res.ambiguous,
    )
    port = port_of_lading(port_text) if port_text else None
    if port is not None:
        return (*_with_port(row, res, port, scope), False)
    return (*row, _silent(res))


def _with_port(row: tuple, res: PlaceResolution, port: PortSignal, scope: frozenset[str]) -> tuple:
    if port.province == "North Korea" and "north_korea" in scope:
        if res.province == "North Korea":
            return row[:4] + (_joined(row[4], f"{port.evidence} agreed"), row[5])
        verdict = "strong: the goods left North Korea" + (
            f"; the address says {res.province}" if res.province else "; address silent"
        )
        evidence = _joined(row[4], f"{port.evidence} {verdict}")
        return ("North Korea", "KP", True, NK_PORT_CONFIDENCE, evidence, False)
    if port.province == "Liaoning" and _silent(res) and "liaoning" in scope:
        evidence = f"{port.evidence} agreed (address silent below the country)"
        return (port.province, "CN", True, PORT_CONFIDENCE, _joined(row[4], evidence), False)
    verdict = "agreed" if res.province == port.province else "disagreed (address wins)"
    return row[:4] + (_joined(row[4], f"{port.evidence} {verdict}"), row[5])


def _joined(evidence: str, more: str) -> str:
    return f"{evidence}; {more}" if evidence else more


def _screen_sectors(nodes: pd.DataFrame, factors: dict[str, float]) -> pd.DataFrame:
    """Classify each distinct (HS code, description, sector) once, and names only where needed."""

    def cells(match: SectorMatch | None) -> tuple:
        if match is None:  # only the name can tell; filled in below
            return None, None, None
        rule = match.rule + (f" '{match.matched}'" if match.matched else "")
        return match.sector, rule, match.factor

    columns = ["sector", "sector_rule", "sector_factor"]
    keys = [_text(nodes, c) for c in ("hs_code", "description", "sector")]
    table = _each_distinct(keys, lambda *key: cells(classify_without_name(*key, factors)), columns)
    by_name = table["sector"].isna().to_numpy()
    if by_name.any():
        names = [_text(nodes, "name")[by_name]]
        table.loc[by_name, columns] = _each_distinct(
            names, lambda name: cells(classify_by_name(name, factors)), columns
        ).to_numpy()
    return table.astype({"sector_factor": float})


#: the columns an explanation is worded from, in _explain's order
_EXPLAINED = (
    "score_basis",
    "source_score",
    "geo_province",
    "geo_confidence",
    "sector",
    "sector_factor",
)


def _explain(
    basis: str, score: float, province: str, confidence: float, sector: str, factor: float
) -> str:
    if basis == "explicit":
        return f"explicit exposure {score:.3g} given by the analyst"
    if basis == "screened":
        return (
            f"in scope ({province}, confidence {confidence:.2f})"
            f" x sector {sector} factor {factor:g} = {score:.3g}"
        )
    where = province or "no location found"
    return f"not in scope ({where}): score 0"


def source_evidence(screened: pd.DataFrame) -> pd.Series:
    """Per node, one line of evidence: the score rule, the address signals, the sector rule."""
    screened_rows = screened["score_basis"] == "screened"
    detail = "; address: " + screened["geo_evidence"] + "; sector: " + screened["sector_rule"]
    return screened["score_evidence"] + detail.where(screened_rows, "")
