"""The clearance plan: the cheapest set of links whose replacement clears a product.

A minimum cut on the product's exposure subgraph. Each maker is split into an 'own' node (its
own labour only, what a MAKES edge into a known bill of materials carries) and an 'all' node
(everything it receives), as the engine's bill-of-materials rule demands; a super-source feeds
every source. Each link costs 1 + its share of the receiver's inputs + the fraction of
buyer-facing products downstream of it, so the plan prefers few links, and among few, links
that carry little and feed few products. The product's own production step (a MAKES edge into
the product) cannot be cut: a maker that is itself a source leaves no cut below the product's
own tier. Every plan is checked by re-running the engine with each cut link's supplier
replaced by a clean stand-in (what-if): the part stays in the bill of materials, so the rule
that a maker of a listed part passes on only its own labour keeps holding.

With a threshold above 0 only the strongest sources need cutting off: the fewest strongest
sources (by their reach into the product) whose cut brings the product's reach to the
threshold or below, checked by what-if at every step of a binary search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.graph.rules import MODES
from graphkit.propagation.contributions import per_source

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from graphkit.evidence.pack import PackInput
    from graphkit.evidence.upstream import Upstream
    from graphkit.model import Bundle

SUPER = ("*", -1)
#: scores at or below this count as zero (float residue of the engine)
ZERO = 1e-12
CLEAR, NOTHING, NO_CUT, SHORT = "clears", "nothing to clear", "no cut", "does not clear"


@dataclass
class Plan:
    """The links to replace, what-if scores before and after, and what the plan achieves."""

    status: str
    message: str
    links: list[dict[str, Any]] = field(default_factory=list)
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)
    threshold: float = 0.0


def clearance_plan(data: PackInput, upstream: Upstream) -> Plan:
    """Cut the product's exposed chains at the lowest cost and check the cut by what-if."""
    before = scores_of(data.table, data.product)
    graph, target = upstream.graph, upstream.target
    s = data.source_array
    if before["reach"] <= max(data.threshold, ZERO):
        status = NOTHING
        message = (
            "No exposed chain: no mapped chain from any source reaches this product."
            if before["reach"] <= ZERO
            else f"The product's reach {before['reach']:.3f} is already at or below the "
            f"threshold {data.threshold:g}."
        )
        return Plan(status, message, before=before, after=before, threshold=data.threshold)
    blocked = _uncuttable_sources(graph, target, s)
    if blocked:
        return Plan(NO_CUT, _no_cut_message(data, blocked), before=before, threshold=data.threshold)
    sources = _sources_by_strength(graph, target, s)
    links, after = _smallest_clearing_cut(data, upstream, sources)
    status = CLEAR if after["reach"] <= max(data.threshold, ZERO) else SHORT
    message = _plan_message(status, links, before, after, data.threshold)
    return Plan(status, message, links, before, after, data.threshold)


def scores_of(table: pd.DataFrame, node: str) -> dict[str, float]:
    """The node's score in every mode (and with hidden tiers, when priors were given)."""
    columns = [*MODES] + [c for c in ("reach_expected", "share_expected") if c in table]
    row = table.loc[node]
    return {c: float(row[c]) for c in columns if row[c] == row[c]}


def _uncuttable_sources(graph, target: int, s: np.ndarray) -> list[int]:
    """The product itself, or its makers, when they are sources: no link below them to cut."""
    makers = graph.src[(graph.dst == target) & _is_makes(graph)]
    found = [target] if s[target] > 0 else []
    return found + [int(m) for m in makers if s[m] > 0]


def _is_makes(graph) -> np.ndarray:
    """MAKES edges: a supplier making a component."""
    return graph.is_supplier[graph.src] & ~graph.is_supplier[graph.dst]


def _no_cut_message(data: PackInput, blocked: list[int]) -> str:
    graph = data.graph
    names = ", ".join(
        f"{data.name_of(str(graph.ids[b]))} ({graph.ids[b]}, source score "
        f"{data.source_array[b]:.3f})"
        for b in blocked
    )
    return (
        "No cut exists below the product's own tier: the product or its maker is itself a "
        f"source ({names}). Replacing links upstream cannot clear it; the exposure is in the "
        "product's own production step."
    )


def _sources_by_strength(graph, target: int, s: np.ndarray) -> list[int]:
    """Sources that reach the product, strongest reach contribution first."""
    parts = per_source(graph, "reach", s, s, np.array([target]))
    order = np.lexsort((parts.source, -parts.amount))
    return [int(parts.source[i]) for i in order if parts.amount[i] > 0]


def _smallest_clearing_cut(data: PackInput, upstream: Upstream, sources: list[int]):
    """The cut for all sources (threshold 0), else for the fewest strongest sources that clear."""
    costs = LinkCosts(data, upstream)
    if data.threshold <= 0:
        links = min_cut_links(data, upstream, sources, costs)
        return links, whatif_scores(data, links)
    low, high = 1, len(sources)
    best = None
    while low <= high:
        middle = (low + high) // 2
        links = min_cut_links(data, upstream, sources[:middle], costs)
        after = whatif_scores(data, links)
        if after["reach"] <= data.threshold:
            best, high = (links, after), middle - 1
        else:
            low = middle + 1
    if best is None:
        links = min_cut_links(data, upstream, sources, costs)
        best = (links, whatif_scores(data, links))
    return best


class LinkCosts:
    """What replacing a link costs: 1 + its share + the fraction of buyer-facing products
    downstream of it (counted once per receiving node, over the whole graph)."""

    def __init__(self, data: PackInput, upstream: Upstream):
        from scipy.sparse import csr_matrix

        graph = upstream.graph
        carry = ~graph.own
        ones = np.ones(int(carry.sum()))
        shape = (graph.n, graph.n)
        self.forward = csr_matrix((ones, (graph.src[carry], graph.dst[carry])), shape=shape)
        self.facing = data.table["buyer_facing"].to_numpy(bool)
        self.graph = graph
        self._dependants: dict[int, int] = {}

    def dependants(self, node: int) -> int:
        """Buyer-facing nodes that the node's goods reach (itself included)."""
        from scipy.sparse.csgraph import breadth_first_order

        if node not in self._dependants:
            reached = breadth_first_order(self.forward, node, return_predecessors=False)
            self._dependants[node] = int(self.facing[reached].sum())
        return self._dependants[node]

    def of(self, edge: int) -> float:
        share = float(self.graph.share[edge])
        return 1.0 + share + self.dependants(int(self.graph.dst[edge])) / max(1, self.facing.sum())


def min_cut_links(data: PackInput, upstream: Upstream, sources: list[int], costs) -> list[dict]:
    """The minimum-cost set of links separating ``sources`` from the product (networkx)."""
    import networkx as nx

    split = split_graph(upstream, set(sources), costs)
    sink = ("all", upstream.target)
    if not split.has_node(sink) or not nx.has_path(split, SUPER, sink):
        return []
    _, (reachable, _) = nx.minimum_cut(split, SUPER, sink, capacity="capacity")
    cut = [
        (u, v)
        for u in reachable
        for v in split.successors(u)
        if v not in reachable and "edges" in split[u][v]
    ]
    return _link_records(data, split, cut, costs)


def split_graph(upstream: Upstream, sources: set[int], costs: LinkCosts) -> nx.DiGraph:
    """The exposure subgraph with makers split into 'own' and 'all' nodes, and capacities."""
    import networkx as nx

    graph = upstream.graph
    split = nx.DiGraph()
    split.add_node(SUPER)
    makes_target = (graph.dst == upstream.target) & _is_makes(graph)
    for edge in upstream.edges[upstream.exposed_edges].tolist():
        u, v = int(graph.src[edge]), int(graph.dst[edge])
        start = ("own", u) if graph.own[edge] else ("all", u)
        if split.has_edge(start, ("all", v)):
            split[start][("all", v)]["edges"].append(edge)
        else:
            split.add_edge(start, ("all", v), edges=[edge])
        attributes = split[start][("all", v)]
        if makes_target[edge]:
            attributes.pop("capacity", None)  # the product's own production step: uncuttable
            attributes["uncuttable"] = True
        elif not attributes.get("uncuttable"):
            attributes["capacity"] = sum(costs.of(e) for e in attributes["edges"])
    for node in sources:
        for side in ("all", "own"):
            if split.has_node((side, node)):
                split.add_edge(SUPER, (side, node))  # no capacity: a source cannot be cut
    return split


def _link_records(data: PackInput, split, cut, costs: LinkCosts) -> list[dict]:
    """One record per cut link: the link, its documents, cost, and the sources it cuts off."""
    import networkx as nx

    graph = data.graph
    rows = []
    for u, v in sorted(
        cut, key=lambda pair: (str(graph.ids[pair[0][1]]), str(graph.ids[pair[1][1]]))
    ):
        behind = nx.ancestors(split, u) | {u}
        cut_off = sorted(
            {str(graph.ids[n[1]]) for n in behind if n != SUPER and split.has_edge(SUPER, n)}
        )
        for edge in split[u][v]["edges"]:
            record = link_record(data, edge) | {"sources_cut_off": "; ".join(cut_off)}
            rows.append(record | {"dependants": costs.dependants(int(graph.dst[edge]))})
            rows[-1]["cost"] = round(costs.of(edge), 4)
    return rows


def link_record(data: PackInput, edge: int) -> dict[str, Any]:
    """A link as the plan lists it: both ends, kind, item, share, confidence, documents."""
    graph = data.graph
    row = data.bundle.edges.iloc[int(graph.edge_row[edge])]
    return {
        "supplier_id": row["source"],
        "supplier_name": data.name_of(row["source"]),
        "receiver_id": row["target"],
        "receiver_name": data.name_of(row["target"]),
        "link_kind": row["kind"],
        "item": row["item"],
        "share": float(graph.share[edge]),
        "confidence": float(graph.confidence[edge]),
        "documents": row["evidence"],
    }


def whatif_scores(data: PackInput, links: list[dict]) -> dict[str, float]:
    """The product's scores in every mode after replacing ``links`` (the engine re-run)."""
    from graphkit.propagation import propagate

    pairs = {(link["supplier_id"], link["receiver_id"]) for link in links}
    changed = replaced_links(data.bundle, pairs)
    scores = data.table["source_score"]
    after = propagate(changed, scores, MODES, priors=data.priors, contributions_for=())
    return scores_of(after.table, data.product)


def replaced_links(bundle: Bundle, pairs: set[tuple[str, str]]) -> Bundle:
    """The bundle with each link's supplier replaced by a clean stand-in (same kind, share
    and item, source score 0): the receiver keeps its input, so a bill of materials stays
    known and the maker of the part still passes on only its own labour."""
    import pandas as pd

    from graphkit.model import Bundle

    edges = bundle.edges.copy()
    cut = [(a, b) in pairs for a, b in zip(edges["source"], edges["target"], strict=True)]
    kinds = bundle.nodes.set_index("id")["kind"]
    taken = set(bundle.nodes["id"])
    blank = {c: float("nan") if t.kind == "f" else "" for c, t in bundle.nodes.dtypes.items()}
    stand_ins = []
    for row in edges.index[cut]:
        original = edges.at[row, "source"]
        node = _unused(f"{original} (clean replacement)", taken)
        stand_ins.append(blank | {"id": node, "kind": kinds[original], "name": node})
        stand_ins[-1]["exposure"] = 0.0
        edges.at[row, "source"] = node
    extra = pd.DataFrame(stand_ins, columns=bundle.nodes.columns)
    nodes = pd.concat([bundle.nodes, extra], ignore_index=True) if stand_ins else bundle.nodes
    return Bundle(nodes=nodes, edges=edges, origin=bundle.origin)


def _unused(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} {n}", n + 1
    taken.add(candidate)
    return candidate


def _plan_message(status: str, links, before, after, threshold: float) -> str:
    goal = "no mapped chain from any source" if threshold <= 0 else f"reach <= {threshold:g}"
    if status == CLEAR:
        return (
            f"Replacing (or documenting the exclusion of) these {len(links)} link(s) clears the "
            f"product ({goal}): reach {before['reach']:.3f} → {after['reach']:.3f}, checked by "
            "re-running the engine with clean replacements for them."
        )
    return (
        f"Cutting these {len(links)} link(s) lowers reach {before['reach']:.3f} → "
        f"{after['reach']:.3f} but does not reach the goal ({goal})."
    )


def plan_table(plan: Plan) -> pd.DataFrame:
    """clearance.csv: one row per link to replace with the what-if scores in every mode."""
    import pandas as pd

    scores = {f"{m}_before": v for m, v in plan.before.items()}
    scores |= {f"{m}_after": plan.after.get(m, float("nan")) for m in plan.before}
    common = {"plan_status": plan.status, "threshold": plan.threshold} | scores
    if not plan.links:
        return pd.DataFrame([common | {"cut": 0, "note": plan.message}])
    rows = [common | {"cut": i, "note": ""} | link for i, link in enumerate(plan.links, 1)]
    rows[0]["note"] = plan.message
    return pd.DataFrame(rows)
