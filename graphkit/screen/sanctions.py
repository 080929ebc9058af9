"""Sanctions screening: match node names against a user-supplied list of sanctioned entities.

Two list formats are read: the OpenSanctions ``targets.simple.csv`` export (columns id, schema,
name, aliases separated by ';', countries, addresses, dataset, ...) and a plain CSV with a
``name`` column (optional ``id``, ``aliases``, ``addresses``). Names are compared with the same
normalisation and rules as entity resolution (graphkit.resolve):

* **strong** match: the names are the same company by the resolution rules (equal after
  normalisation, or one typo) and no address on the list contradicts the node's place. A
  strong match makes the node a source: its source score is the match score / 100 (1.0 for
  an exact normalised match) -- see ``apply_sanctions``.
* **weak** match: similar names the analyst should look at (score >= CANDIDATE_SCORE).
  A name that differs by a place or trade-name word ("Dandong Huaxin" vs "Dalian Huaxin"), by
  its line of business, or whose address is in another postcode area is *not* reported: that
  is another company (the ``veto`` of graphkit.resolve.Decision).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from graphkit.errors import InvalidInput, Problem
from graphkit.resolve import (
    CANDIDATE,
    MERGE,
    blocking_keys,
    compare_normalised,
    name_aliases,
    normalise_name,
    place_of,
)

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.model import Bundle

MATCH_COLUMNS = [
    "node",
    "node_name",
    "list_id",
    "matched_name",
    "score",
    "strong",
    "dataset",
    "reason",
]


def read_sanctions_list(path: str | Path) -> pd.DataFrame:
    """The list as one row per (entity, name or alias): list_id, name, place, dataset."""
    from graphkit.io.tables import read_csv_table

    raw = read_csv_table(Path(path))
    if raw.frame is None:
        raise InvalidInput(raw.problems)
    frame = raw.frame
    if frame.empty:
        raise InvalidInput([Problem(raw.label, None, None, "file has a header but no rows")])
    if "name" not in frame.columns:
        found = ", ".join(frame.columns) or "none"
        problem = Problem(raw.label, 1, "name", f"required column is missing (found: {found})")
        raise InvalidInput([problem])
    empty = frame["name"].str.strip() == ""
    problems = [
        Problem(raw.label, raw.row_number(int(i)), "name", "name is empty")
        for i in empty.to_numpy().nonzero()[0]
    ]
    if problems:
        raise InvalidInput(problems)
    return _explode_aliases(frame, raw.first_row, Path(path).name)


def _explode_aliases(frame: pd.DataFrame, first_row: int, file_name: str) -> pd.DataFrame:
    import pandas as pd

    def get(column: str) -> pd.Series:
        return frame[column] if column in frame.columns else pd.Series("", index=frame.index)

    rows = pd.Series(range(first_row, first_row + len(frame)), index=frame.index)
    ids = get("id").where(get("id") != "", "row " + rows.astype(str))
    names = get("name") + ";" + get("aliases")
    table = pd.DataFrame(
        {
            "list_id": ids,
            "name": names.str.split(";"),
            "place": get("addresses").map(lambda a: place_of(a.split(";")[0])),
            "dataset": get("dataset").where(get("dataset") != "", file_name),
        }
    ).explode("name")
    table["name"] = table["name"].str.strip()
    table = table[table["name"] != ""]
    table["name"] = table["name"].map(name_aliases)
    table = table.explode("name")
    return table.drop_duplicates(["list_id", "name"]).reset_index(drop=True)


def screen_sanctions(nodes: pd.DataFrame, list_path: str | Path) -> pd.DataFrame:
    """Matches of node names against the list: node, list_id, matched_name, score, strong."""
    return match_nodes(nodes, read_sanctions_list(list_path))


def match_nodes(nodes: pd.DataFrame, listed: pd.DataFrame) -> pd.DataFrame:
    """Compare every list name with the node names that share a blocking key.

    The index is built over the nodes (usually the smaller side) and the list is streamed
    past it, so memory stays proportional to the bundle even for a list of millions of names.
    """
    import pandas as pd

    node_names = _node_names(nodes)
    node_norm = [normalise_name(n) for n in node_names["name"]]
    index: dict[str, list[int]] = {}
    for position, norm in enumerate(node_norm):
        for key in blocking_keys(norm):
            index.setdefault(key, []).append(position)
    rows = []
    columns = zip(listed["list_id"], listed["name"], listed["place"], listed["dataset"])
    for list_id, name, place, dataset in columns:
        norm = normalise_name(name)
        hits = {p for key in blocking_keys(norm) for p in index.get(key, [])}
        for position in hits:
            node = node_names.iloc[position]
            decision = compare_normalised(node_norm[position], norm, node["place"], place)
            if decision.verdict == MERGE or (decision.verdict == CANDIDATE and not decision.veto):
                strong = decision.verdict == MERGE
                score = round(decision.score, 1)
                rows.append(
                    (node["id"], node["full_name"], list_id, name, score, strong, dataset)
                    + (decision.reason,)
                )
    matches = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    matches = matches.sort_values(["strong", "score"], ascending=False, kind="stable")
    return matches.drop_duplicates(["node", "list_id"]).reset_index(drop=True)


def _node_names(nodes: pd.DataFrame) -> pd.DataFrame:
    """One row per node name alias: id, name (alias), full_name, place."""
    import pandas as pd

    rows = [
        (node_id, alias, name, place_of(address))
        for node_id, name, address in zip(nodes["id"], nodes["name"], nodes["address"])
        if name
        for alias in name_aliases(name)
    ]
    return pd.DataFrame(rows, columns=["id", "name", "full_name", "place"])


def apply_sanctions(bundle: Bundle, matches: pd.DataFrame) -> Bundle:
    """Make strongly matched nodes sources: exposure = max(exposure, score / 100), with evidence."""
    import numpy as np

    if not matches["strong"].any():
        return bundle
    strong = matches[matches["strong"]].sort_values("score", ascending=False)
    best = strong.drop_duplicates("node").set_index("node")
    nodes = bundle.nodes.copy()
    score = nodes["id"].map(best["score"] / 100)
    nodes["exposure"] = np.fmax(nodes["exposure"].to_numpy(dtype=float), score.to_numpy())
    evidence = best.apply(
        lambda m: (
            f"sanctions list {m['dataset']}: entity {m['list_id']}, "
            f"matched name {m['matched_name']!r}, score {m['score']:.0f}"
        ),
        axis=1,
    )
    nodes["sanctions_evidence"] = nodes["id"].map(evidence).fillna("") if len(best) else ""
    return type(bundle)(nodes, bundle.edges, bundle.origin, bundle.warnings)
