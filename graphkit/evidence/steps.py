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
    "step", "tier", "supplier_id", "supplier_kind", "supplier_name", "supplier_address",
    "supplier_country", "supplier_province", "supplier_screening", "supplier_sector",
    "supplier_risk_sector", "supplier_source_score", "receiver_id", "receiver_kind",
    "receiver_name", "link_kind", "item", "share", "share_given", "confidence", "documents",
    "exposed_chain", "supplier_reach", "supplier_share", "supplier_path",
]  # fmt: skip


def steps_table(data: PackInput, upstream: Upstream) -> pd.DataFrame:
    """The numbered steps (links and unmapped remainders), raw inputs first."""
    import pandas as pd

    rows = _link_rows(data, upstream) + _unmapped_step_rows(data, upstream)
    rows.sort(
        key=lambda r: (-r["tier"], r["receiver_id"], r["link_kind"] == UNMAPPED, r["supplier_id"])
    )
    table = pd.DataFrame(rows, columns=STEP_COLUMNS[1:])
    table.insert(0, "step", range(1, len(table) + 1))
    return table


def _link_rows(data: PackInput, upstream: Upstream) -> list[dict]:
    graph = upstream.graph
    nodes = data.bundle.nodes.set_index("id")
    edges = data.bundle.edges
    rows = []
    for edge, exposed in zip(upstream.edges.tolist(), upstream.exposed_edges.tolist(), strict=True):
        link = edges.iloc[int(graph.edge_row[edge])]
        supplier, receiver = str(link["source"]), str(link["target"])
        rows.append(
            {"tier": upstream.tier[int(graph.src[edge])]}
            | supplier_cells(data, nodes, supplier)
            | _receiver_cells(nodes, receiver)
            | {
                "link_kind": link["kind"],
                "item": link["item"],
                "share": float(graph.share[edge]),
                "share_given": "" if link["share"] != link["share"] else "yes",
                "confidence": float(graph.confidence[edge]),
                "documents": link["evidence"],
                "exposed_chain": "yes" if exposed else "no",
            }
        )
    return rows


def supplier_cells(data: PackInput, nodes: pd.DataFrame, node: str) -> dict:
    """The supplier columns of a step: who and where, why screening scored it, its scores."""
    record, screened, scores = nodes.loc[node], data.screening.loc[node], data.table.loc[node]
    return {
        "supplier_id": node,
        "supplier_kind": record["kind"],
        "supplier_name": record["name"],
        "supplier_address": record["address"],
        "supplier_country": record["country"],
        "supplier_province": screened["geo_province"] or record["province"],
        "supplier_screening": data.evidence.get(node, ""),
        "supplier_sector": record["sector"],
        "supplier_risk_sector": screened["sector"],
        "supplier_source_score": float(scores["source_score"]),
        "supplier_reach": float(scores["reach"]),
        "supplier_share": float(scores["share"]),
        "supplier_path": float(scores["path"]),
    }


def _receiver_cells(nodes: pd.DataFrame, node: str) -> dict:
    record = nodes.loc[node]
    return {"receiver_id": node, "receiver_kind": record["kind"], "receiver_name": record["name"]}


def _unmapped_step_rows(data: PackInput, upstream: Upstream) -> list[dict]:
    nodes = data.bundle.nodes.set_index("id")
    rows = []
    for gap in unmapped_rows(upstream, data.table["name"]):
        rows.append(
            {"tier": gap["tier"] + 1, "supplier_id": "", "link_kind": UNMAPPED}
            | _receiver_cells(nodes, gap["id"])
            | {"item": unmapped_text(gap["unmapped"]), "share": gap["unmapped"]}
        )
    return rows


def unmapped_text(fraction: float) -> str:
    """'inputs not mapped: 35 % of value' (or 'no inputs mapped' for a node with none)."""
    if fraction >= 1.0:
        return "no inputs mapped (100 % of value)"
    return f"inputs not mapped: {fraction * 100:.0f} % of value"
