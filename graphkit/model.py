"""The data model: node and edge kinds, the bundle schema and the Bundle object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphkit.errors import Problem

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

SUPPLIER = "supplier"
COMPONENT = "component"
NODE_KINDS = (SUPPLIER, COMPONENT)

SUPPLIES = "SUPPLIES"
MAKES = "MAKES"
PART_OF = "PART_OF"
USED_BY = "USED_BY"
#: edge kind -> (source node kind, target node kind)
EDGE_ENDPOINTS: dict[str, tuple[str, str]] = {
    SUPPLIES: (SUPPLIER, SUPPLIER),
    MAKES: (SUPPLIER, COMPONENT),
    PART_OF: (COMPONENT, COMPONENT),
    USED_BY: (COMPONENT, SUPPLIER),
}
EDGE_KINDS = tuple(EDGE_ENDPOINTS)

NODE_REQUIRED = ("id", "kind")
NODE_COLUMNS = (
    "id",
    "kind",
    "name",
    "address",
    "country",
    "province",
    "sector",
    "hs_code",
    "exposure",
)
EDGE_REQUIRED = ("source", "target", "kind")
EDGE_COLUMNS = ("source", "target", "kind", "share", "confidence", "item", "evidence")
#: columns holding numbers in 0..1; every other column is kept as text
NODE_NUMERIC = ("exposure",)
EDGE_NUMERIC = ("share", "confidence")

NODES_FILE = "nodes.csv"
EDGES_FILE = "edges.csv"


@dataclass
class Bundle:
    """A validated supply-chain graph held as two tables.

    ``nodes`` has one row per node (columns NODE_COLUMNS first, then extra columns);
    ``edges`` has one row per edge, pointing in the direction goods flow. Text columns hold
    ``str`` with ``""`` for missing; NODE_NUMERIC/EDGE_NUMERIC columns hold floats, NaN for
    missing.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    origin: str = ""
    warnings: list[Problem] = field(default_factory=list)
    _digest: str | None = field(default=None, init=False, repr=False, compare=False)
    _node_ids: pd.Index | None = field(default=None, init=False, repr=False, compare=False)

    def node_rows(self, ids: list[str]) -> tuple[pd.DataFrame, list[str]]:
        """The node rows of ``ids`` in that order, and the ids that are not nodes (the id
        index is built on the first call and kept, as the digest is)."""
        import pandas as pd

        if self._node_ids is None:
            self._node_ids = pd.Index(self.nodes["id"])
        positions = self._node_ids.get_indexer(ids)
        missing = [node for node, at in zip(ids, positions, strict=True) if at < 0]
        return self.nodes.iloc[positions[positions >= 0]], missing

    def to_networkx(self) -> nx.DiGraph:
        """The bundle as a networkx DiGraph; missing values are left out of the attributes."""
        import networkx as nx

        graph = nx.DiGraph(origin=self.origin)
        for record in self.nodes.to_dict("records"):
            node_id = record.pop("id")
            graph.add_node(node_id, **_present(record))
        for record in self.edges.to_dict("records"):
            source, target = record.pop("source"), record.pop("target")
            graph.add_edge(source, target, **_present(record))
        return graph

    def digest(self) -> str:
        """A SHA-256 over the bundle's content, stable across formats and row order.

        Computed on the first call and kept: a Bundle's tables are not changed once it is
        built (make a new Bundle instead). The encoding is described in graphkit.digest.
        """
        if self._digest is None:
            from graphkit.digest import bundle_digest

            self._digest = bundle_digest(self.nodes, self.edges)
        return self._digest


def _present(record: dict[str, Any]) -> dict[str, Any]:
    """Drop missing values ('' and NaN) from a record."""
    return {k: v for k, v in record.items() if not (v == "" or (isinstance(v, float) and v != v))}
