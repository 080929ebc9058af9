"""steps.csv: every link of a product's mapped upstream, numbered from raw inputs to product.

One row per link (supplying party or part -> receiving party or part) with the supplier's
address, place, screening evidence, sector and scores, the link's item, share, confidence and
documents (the edge's ``evidence``). Each unmapped remainder is a row of its own, so the file
shows what is *not* known as plainly as what is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphkit.evidence.upstream import unmapped_rows

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.evidence.pack import PackInput
    from graphkit.evidence.upstream import Upstream

UNMAPPED = "UNMAPPED"
STEP_COLUMNS = [
    "step", "depth", "supplier_id", "supplier_kind", "supplier_name", "supplier_address",
    "supplier_country", "supplier_province", "supplier_screening", "supplier_sector",
    "supplier_risk_sector", "supplier_source_score", "receiver_id", "receiver_kind",
    "receiver_name", "link_kind", "item", "share", "share_given", "confidence", "documents",
    "exposed_chain", "supplier_reach", "supplier_share", "supplier_path",
]  # fmt: skip


def steps_table(data: PackInput, upstream: Upstream) -> pd.DataFrame:
    """The numbered steps (links and unmapped remainders), raw inputs first."""
    import pandas as pd

    table = pd.concat([_links(data, upstream), _unmapped(data, upstream)], ignore_index=True)
    table["_gap"] = table["link_kind"] == UNMAPPED
    table = table.sort_values(
        ["depth", "receiver_id", "_gap", "supplier_id"],
        ascending=[False, True, True, True],
        kind="stable",
    )
    table = table.drop(columns="_gap").reindex(columns=STEP_COLUMNS[1:]).reset_index(drop=True)
    table.insert(0, "step", range(1, len(table) + 1))
    return table


def _links(data: PackInput, upstream: Upstream) -> pd.DataFrame:
    """One row per upstream link, with the supplier's and the receiver's columns."""
    import pandas as pd

    graph, edges = upstream.graph, upstream.edges
    link = data.bundle.edges.iloc[graph.edge_row[edges]].reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "depth": [upstream.depth[int(u)] for u in graph.src[edges]],
            "link_kind": link["kind"],
            "item": link["item"],
            "share": graph.share[edges],
            "share_given": link["share"].notna().map({True: "yes", False: ""}),
            "confidence": graph.confidence[edges],
            "documents": link["evidence"],
            "exposed_chain": pd.Series(upstream.exposed_edges).map({True: "yes", False: "no"}),
        }
    )
    suppliers = supplier_columns(data).reindex(link["source"].astype(str)).reset_index(drop=True)
    receivers = _receiver_columns(data).reindex(link["target"].astype(str)).reset_index(drop=True)
    return pd.concat([frame, suppliers, receivers], axis=1)


def supplier_columns(data: PackInput) -> pd.DataFrame:
    """Per node id, the supplier columns of a step: who and where, why screening scored it
    (rule, address signals, sector, sanctions), and its scores."""
    import pandas as pd

    nodes = data.bundle.nodes.set_index("id")
    screened, table = data.screening.reindex(nodes.index), data.table.reindex(nodes.index)
    province = screened["geo_province"].where(screened["geo_province"] != "", nodes["province"])
    return pd.DataFrame(
        {
            "supplier_id": nodes.index,
            "supplier_kind": nodes["kind"],
            "supplier_name": nodes["name"],
            "supplier_address": nodes["address"],
            "supplier_country": nodes["country"],
            "supplier_province": province,
            "supplier_screening": pd.Series(data.evidence).reindex(nodes.index).fillna(""),
            "supplier_sector": nodes["sector"],
            "supplier_risk_sector": screened["sector"],
            "supplier_source_score": table["source_score"],
            "supplier_reach": table["reach"],
            "supplier_share": table["share"],
            "supplier_path": table["path"],
        },
        index=nodes.index,
    )


def _receiver_columns(data: PackInput):
    nodes = data.bundle.nodes.set_index("id", drop=False)[["id", "kind", "name"]]
    return nodes.set_axis(["receiver_id", "receiver_kind", "receiver_name"], axis=1)


def _unmapped(data: PackInput, upstream: Upstream) -> pd.DataFrame:
    import pandas as pd

    gaps = pd.DataFrame(
        unmapped_rows(upstream, data.table["name"]), columns=["id", "unmapped", "depth"]
    )
    receivers = _receiver_columns(data).reindex(gaps["id"]).reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "depth": gaps["depth"] + 1,
            "supplier_id": "",
            "link_kind": UNMAPPED,
            "item": gaps["unmapped"].map(unmapped_text),
            "share": gaps["unmapped"],
        }
    )
    return pd.concat([frame, receivers], axis=1)


def unmapped_text(fraction: float) -> str:
    """'inputs not mapped: 35 % of value' (or 'no inputs mapped' for a node with none)."""
    if fraction >= 1.0:
        return "no inputs mapped (100 % of value)"
    return f"inputs not mapped: {fraction * 100:.0f} % of value"
