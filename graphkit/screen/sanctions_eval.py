"""Evaluate sanctions matching on labelled alias queries and clean names (README figures).

* ``alias_recall``: for each alias query, the alias is removed from its entity's names first,
  then matched; a hit is the expected entity among the strong or weak matches.
* ``clean_matches``: strong and weak matches of names known not to be listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from graphkit.screen.sanctions import (
    STRONG_SCORE,
    WEAK_SCORE,
    Query,
    SanctionsList,
    match_names,
)

if TYPE_CHECKING:
    import pandas as pd


def alias_recall(
    listed: SanctionsList,
    aliases: pd.DataFrame,
    threshold: float = STRONG_SCORE,
    weak: float = WEAK_SCORE,
) -> pd.DataFrame:
    """Per alias query: found (expected entity matched), strong, best score of the entity."""

    entity = listed.entries["id"].to_numpy()[listed.names["entry"].to_numpy()]
    keyed = listed.names["name"].str.casefold().to_numpy()
    position = {(e, n): i for i, (e, n) in enumerate(zip(entity, keyed))}
    skip = [
        position.get((e, n.casefold()), -1)
        for e, n in zip(aliases["expected_id"], aliases["query_name"])
    ]
    n = len(aliases)
    query = Query([str(i) for i in range(n)], list(aliases["query_name"]), [""] * n, [""] * n,
                  [""] * n)  # fmt: skip
    matches = match_names(query, listed, threshold, weak, skip)
    expected = aliases["expected_id"].to_numpy()
    hit = matches[matches["list_entity"].to_numpy() == expected[matches["node"].astype(int)]]
    result = aliases.copy()
    result["found"] = result.index.isin(hit["node"].astype(int))
    strong = hit[hit["strong"]]["node"].astype(int)
    result["strong"] = result.index.isin(strong)
    return result


def clean_matches(
    listed: SanctionsList,
    clean: pd.DataFrame,
    threshold: float = STRONG_SCORE,
    weak: float = WEAK_SCORE,
) -> pd.DataFrame:
    """Matches of the clean names (country and address used as a bundle node's would be)."""
    from graphkit.ingest import country_code

    def column(name: str) -> list[str]:
        return list(clean[name].fillna("")) if name in clean.columns else [""] * len(clean)

    countries = [country_code(c) for c in column("country")]
    query = Query(list(clean["id"]), list(clean["name"]), countries, column("address"),
                  [""] * len(clean))  # fmt: skip
    return match_names(query, listed, threshold, weak)


def read_labelled(path: Path) -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(path, dtype=str, keep_default_na=False)
