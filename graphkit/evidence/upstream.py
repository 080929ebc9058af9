"""A product's mapped upstream: every party and part whose goods flow into it, by depth.

The bill-of-materials rule of the engine applies: a MAKES edge into a part whose inputs are
listed carries only the maker's own labour, so the maker is upstream but what the maker buys
is not (the listed parts carry it). Depth = links on the longest chain from the node to the
product (the product is at depth 0, its direct inputs at depth 1), so every link runs from a
greater depth to a smaller one except inside a trading loop. (Not the engine's ``tier``, which
counts links from the nearest source.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from graphkit.propagation.upstream import carried_upstream

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.graph.index import IndexedGraph
    from graphkit.model import Bundle


@dataclass
class Upstream:
    """The upstream subgraph of one product, as positions into the indexed graph."""

    graph: IndexedGraph
    target: int
    nodes: np.ndarray  # node positions, the product included
    edges: np.ndarray  # edge positions (into the graph's source-sorted arrays)
    depth: dict[int, int]  # node position -> links on the longest chain to the product
    exposed_edges: np.ndarray  # bool per entry of ``edges``: on a chain from a source

    @property
    def exposed_nodes(self) -> set[int]:
        """Nodes on an exposed chain (the ends of exposed links), the product included."""
        on = self.edges[self.exposed_edges]
        return {self.target, *self.graph.src[on].tolist(), *self.graph.dst[on].tolist()}

    def ids(self, positions) -> list[str]:
        return [str(self.graph.ids[p]) for p in positions]


def product_upstream(
    graph: IndexedGraph, target: int, reach: np.ndarray, s: np.ndarray
) -> Upstream:
    """The product's upstream: nodes whose goods reach it and the links between them.

    ``reach`` and ``s`` (per node, in graph order) decide which links lie on an exposed chain:
    a carrying link whose supplier is reached by exposure, or an 'own' link (MAKES into a known
    bill of materials) whose maker is itself a source.
    """
    carried = carried_upstream(graph, [target], np.ones(len(graph.src)))
    edges = np.flatnonzero(carried[graph.dst])
    nodes = np.union1d(np.flatnonzero(carried), graph.src[edges])
    carry_value = np.where(graph.own[edges], s[graph.src[edges]], reach[graph.src[edges]])
    exposed = (carry_value > 0) & (graph.confidence[edges] > 0)
    depth = _depths(graph, target, nodes, edges)
    return Upstream(graph, target, nodes, edges, depth, exposed)


def _depths(graph: IndexedGraph, target: int, nodes: np.ndarray, edges: np.ndarray):
    """Longest chain (in links) from each node to the target; a loop counts as one node."""
    import networkx as nx

    links = nx.DiGraph()
    links.add_nodes_from(nodes.tolist())
    links.add_edges_from(zip(graph.src[edges].tolist(), graph.dst[edges].tolist(), strict=True))
    links.remove_edges_from(nx.selfloop_edges(links))
    dag = nx.condensation(links)
    mapping = dag.graph["mapping"]
    level = {mapping[target]: 0}
    for component in reversed(list(nx.topological_sort(dag))):
        below = [level[c] + 1 for c in dag.successors(component) if c in level]
        if component not in level:
            level[component] = max(below, default=0)
    return {int(node): level[mapping[node]] for node in nodes.tolist()}


def upstream_bundle(bundle: Bundle, upstream: Upstream) -> Bundle:
    """The exact nodes and links of the upstream, as a bundle of their own (same columns)."""
    from graphkit.model import Bundle

    graph = upstream.graph
    ids = set(upstream.ids(upstream.nodes))
    nodes = bundle.nodes[bundle.nodes["id"].isin(ids)].reset_index(drop=True)
    rows = np.sort(graph.edge_row[upstream.edges])
    edges = bundle.edges.iloc[rows].reset_index(drop=True)
    return Bundle(nodes=nodes, edges=edges, origin=f"upstream of {graph.ids[upstream.target]}")


def unmapped_rows(upstream: Upstream, names: pd.Series) -> list[dict]:
    """Per upstream node with an unmapped remainder: the fraction of its value not mapped."""
    graph = upstream.graph
    rows = []
    for node in upstream.nodes.tolist():
        gap = float(graph.unmapped[node])
        if gap > 0:
            node_id = str(graph.ids[node])
            name = names.get(node_id, "")
            rows.append(
                {"id": node_id, "name": name, "unmapped": gap, "depth": upstream.depth[node]}
            )
    return sorted(rows, key=lambda r: (-r["depth"], r["id"]))
