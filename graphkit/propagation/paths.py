"""Top-k exposure paths into every target in one pass.

A path is a simple chain of edges from a source node v0 into a target, worth
s(v0) x the product of the edge confidences; its weight is -log of that value, so the best
paths are the shortest. The bill-of-materials rule is explain's: a MAKES edge into a
component with known parts ("own" edge) may only be the first edge of a path, and carries
the maker's own score. Of parallel edges (same ends, same own-ness) the most confident one
counts (the first of equals), as in ``explain.top_paths``.

Partial paths ("labels", parent pointers) flow over the schedule of ``strongest.py``: the
nodes in topological order of their loops ("places"), in rounds. Each node keeps its
``cap`` cheapest labels (k at first; of equal weight, fewer hops first) and records
``dropped``, the cheapest it did not keep.
A wide round takes its nodes' labels in one vectorised merge: the kept labels of their
predecessors (earlier rounds) plus the edge's cost, and the start labels (a source on its
own; an own edge from a source), the ``cap`` cheapest per node. Such an extension is simple
unless it enters the maker of its own edge, which is dropped. The loops of a wide round,
and runs of thin rounds, are finished by a label-setting search (Dijkstra over labels) over
their edges among themselves, seeded with the merged labels: a kept label is extended along
every edge except into a node already on it (the last ``depth`` hops within the loop are
checked, or all of them, back to that node's cheapest kept label). On loops a node's
cheapest labels may all run through the next node, so the result is certified: every label
not kept at v costs at least D(v), so any path missed into t costs at least
B(t) = min over v of D(v) + dist(v, t) (one compiled Dijkstra from a super-source linked to
every v at weight D(v)). A target is exact when its
k-th simple path costs at most B(t), or when nothing was dropped upstream (B(t) = inf).
Targets that fail are searched again by one search over the whole graph with four times
the cap and the full loop check, until none fails (the last attempt keeps every simple
path: exhaustive, exact). Cost: about k x edges array elements outside loops, the search's
labels on loops and thin runs; no recursion.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import count
from typing import TYPE_CHECKING

import numpy as np

from graphkit.graph import buyer_facing_mask
from graphkit.graph.loops import row_starts, stable_order
from graphkit.propagation.strongest import path_rounds, usable_edges, walk_segments
from graphkit.propagation.upstream import upstream_of

if TYPE_CHECKING:
    from pathlib import Path

    from graphkit.graph import IndexedGraph

#: paths per target by default
K = 5
UNBOUNDED = 1 << 62
#: the first attempt's slots of the kept labels per place: column and empty value
SLOTS = {"label": -1, "weight": np.inf, "maker": -1, "hops": 0}
#: hops a kept label is checked back for the node it would enter, on the first attempt
LOOP_CHECK_DEPTH = 64
#: per-node label cap of the first attempt, as a multiple of k
FIRST_CAP = 1


@dataclass
class PathTable:
    """Top paths as columns: path i runs over ``nodes[starts[i]:starts[i + 1]]`` (source
    first, node positions) by ``edges[starts[i] - i:starts[i + 1] - i - 1]`` (edge positions
    in the indexed graph); ``rank`` counts from 0 per target, best first."""

    target: np.ndarray
    rank: np.ndarray
    value: np.ndarray
    starts: np.ndarray
    nodes: np.ndarray
    edges: np.ndarray

    def __len__(self) -> int:
        return len(self.target)

    def path_nodes(self, i: int) -> np.ndarray:
        return self.nodes[self.starts[i] : self.starts[i + 1]]

    def path_edges(self, i: int) -> np.ndarray:
        return self.edges[self.starts[i] - i : self.starts[i + 1] - i - 1]


def top_paths_all(
    graph: IndexedGraph, s: np.ndarray, targets: np.ndarray | None = None, k: int = K
) -> PathTable:
    """The k best exposure paths into each target (default: the buyer-facing nodes)."""
    targets = np.flatnonzero(buyer_facing_mask(graph)) if targets is None else targets
    plan = _Plan.of(graph, s)
    found: dict[int, list[tuple[float, list[int], list[int]]]] = {}
    todo = np.unique(np.asarray(targets, dtype=np.int64))
    cap, depth = max(1, FIRST_CAP * k), LOOP_CHECK_DEPTH
    labels = _Labels(plan, upstream_of(graph, todo, graph.confidence), cap, depth)
    labels.walk()
    while len(todo := labels.read(todo, k, found)):
        cap, depth = (UNBOUNDED if cap > 16 * k else cap * 4), UNBOUNDED
        labels = _Labels(plan, upstream_of(graph, todo, graph.confidence), cap, depth)
        labels.search_all()
    return _table(graph, s, found)


@dataclass
class _Plan:
    """The schedule in places (nodes by round, each round's loop nodes last), the usable
    edges (confidence > 0, the most confident of parallels, no self-loops) in places by
    target place, the start labels by place, and the segments (begin, end, search_from)."""

    graph: IndexedGraph
    node: np.ndarray  # node at each place
    place: np.ndarray  # place of each node
    component: list[int]  # loop at each place
    src: np.ndarray  # carrying edges: source and target places, edge ids, costs
    dst: np.ndarray
    ids: np.ndarray
    cost: np.ndarray
    into: np.ndarray  # CSR starts of the carrying edges by target place
    at: np.ndarray  # start labels: CSR starts by place, then place, weight, edge, maker
    start_place: np.ndarray
    start_weight: np.ndarray
    start_edge: np.ndarray  # own edge, or -1 for a source on its own
    start_maker: np.ndarray  # place of the own edge's maker, or -1
    segments: list[tuple[int, int, int]]

    @classmethod
    def of(cls, graph: IndexedGraph, s: np.ndarray) -> _Plan:
        rounds = path_rounds(graph)
        node, place = rounds.places()
        carry, own = usable_edges(graph, s)
        src, dst = place[graph.src[carry]], place[graph.dst[carry]]
        by_dst = np.lexsort((src, dst))
        sources = np.flatnonzero(s > 0)
        start_place = place[np.concatenate([sources, graph.dst[own]])]
        order = stable_order(start_place)
        start_weight = np.concatenate(
            [-np.log(s[sources]), -np.log(s[graph.src[own]]) - np.log(graph.confidence[own])]
        )
        return cls(
            graph=graph,
            node=node,
            place=place,
            component=rounds.label[node].tolist(),
            src=src[by_dst],
            dst=dst[by_dst],
            ids=carry[by_dst],
            cost=-np.log(graph.confidence[carry[by_dst]]),
            into=row_starts(dst[by_dst], graph.n),
            at=row_starts(start_place[order], graph.n),
            start_place=start_place[order],
            start_weight=start_weight[order],
            start_edge=np.concatenate([np.full(len(sources), -1), own])[order],
            start_maker=np.concatenate([np.full(len(sources), -1), place[graph.src[own]]])[order],
            segments=walk_segments(rounds.round_starts, rounds.looped_starts),
        )

    def local_edges(self, begin: int, end: int) -> tuple[list, list, list, list]:
        """Places begin:end's edges among themselves by source: CSR starts (local), target
        places, costs and edge ids, as lists."""
        lo, hi = self.into[begin], self.into[end]
        inside = lo + np.flatnonzero(self.src[lo:hi] >= begin)
        by_src = inside[stable_order(self.src[inside] - begin)]
        starts = row_starts(self.src[by_src] - begin, end - begin)
        return (
            starts.tolist(),
            self.dst[by_src].tolist(),
            self.cost[by_src].tolist(),
            self.ids[by_src].tolist(),
        )


class _Labels:
    """The labels of one attempt in places (node, parent label, edge into the node: own edge
    or -1 at a start, maker place of the path's own edge or -1, hops, weight), each place's
    first ``cap`` by weight (then fewer hops) kept, ``dropped`` the cheapest not kept (see
    the module docstring)."""

    def __init__(self, plan: _Plan, inside: np.ndarray, cap: int, depth: int):
        self.plan, self.cap, self.depth = plan, cap, depth
        self.inside = inside[plan.node]
        self.inside_list = self.inside.tolist()
        self.node, self.parent, self.edge, self.maker, self.hops = (array("q") for _ in range(5))
        self.weight = array("d")
        self.dropped = np.full(len(plan.node), np.inf)

    def walk(self) -> None:
        """The first attempt: the schedule's segments, merged and searched in turn."""
        n, cap = len(self.plan.node), self.cap
        slots = {name: np.full((n, cap), empty) for name, empty in SLOTS.items()}
        for begin, end, search_from in self.plan.segments:
            seeds = self._merge(begin, end, search_from, slots)
            if search_from < end:
                first = len(self.node)
                self._search(search_from, end, seeds)
                self._slot(first, slots)

    def search_all(self) -> None:
        """One search over the whole graph from every start label (a retry)."""
        plan, use = self.plan, self.inside[self.plan.start_place]
        seeds = _seeds(
            plan.start_weight[use],
            (plan.start_edge[use] >= 0).astype(np.int64),
            plan.start_place[use],
            np.full(use.sum(), -1),
            plan.start_edge[use],
            plan.start_maker[use],
        )
        self._search(0, len(plan.node), seeds)

    def _merge(self, begin: int, end: int, search_from: int, slots) -> list[tuple]:
        """Places begin:end's ``cap`` cheapest candidates: the kept labels of earlier places
        along the edges into them, and their start labels. Keeps those before search_from;
        returns the others as seeds of the search."""
        plan, cap = self.plan, self.cap
        lo, hi = plan.into[begin], plan.into[end]
        outside = lo + np.flatnonzero(plan.src[lo:hi] < begin)
        src = plan.src[outside]
        i, j = plan.at[begin], plan.at[end]
        place = np.concatenate([np.repeat(plan.dst[outside], cap), plan.start_place[i:j]])
        weight = np.concatenate(
            [(slots["weight"][src] + plan.cost[outside, None]).ravel(), plan.start_weight[i:j]]
        )
        hops = np.concatenate([(slots["hops"][src] + 1).ravel(), plan.start_edge[i:j] >= 0])
        parent = np.concatenate([slots["label"][src].ravel(), np.full(j - i, -1)])
        edge = np.concatenate([np.repeat(plan.ids[outside], cap), plan.start_edge[i:j]])
        maker = np.concatenate([slots["maker"][src].ravel(), plan.start_maker[i:j]])
        use = np.flatnonzero(np.isfinite(weight) & self.inside[place] & (maker != place))
        use = use[np.lexsort((hops[use], weight[use], place[use]))]
        columns = (place, weight, hops, parent, edge, maker)
        place, weight, hops, parent, edge, maker = (a[use] for a in columns)
        rank = np.arange(len(place)) - row_starts(place - begin, end - begin)[place - begin]
        cut = rank == cap
        self.dropped[place[cut]] = weight[cut]
        kept = np.flatnonzero((rank < cap) & (place < search_from))
        labels = self._append(
            place[kept], parent[kept], edge[kept], maker[kept], hops[kept], weight[kept]
        )
        at = place[kept], rank[kept]
        for name, values in zip(SLOTS, (labels, weight[kept], maker[kept], hops[kept])):
            slots[name][at] = values
        seed = np.flatnonzero((rank < cap) & (place >= search_from))
        columns = (weight, hops, place, parent, edge, maker)
        return _seeds(*(a[seed] for a in columns))

    def _append(self, node, parent, edge, maker, hops, weight) -> np.ndarray:
        """Append labels in bulk; their numbers."""
        first = len(self.node)
        for column, values in zip(
            (self.node, self.parent, self.edge, self.maker, self.hops),
            (node, parent, edge, maker, hops),
        ):
            column.frombytes(values.astype(np.int64).tobytes())
        self.weight.frombytes(weight.astype(float).tobytes())
        return np.arange(first, len(self.node))

    def _slot(self, first: int, slots) -> None:
        """Put the labels from number ``first`` on (a search's, by weight) in their slots."""
        node = _column(self.node, first)
        labels = first + stable_order(node)
        node = node[labels - first]
        at = node, np.arange(len(node)) - np.searchsorted(node, node)
        slots["label"][at] = labels
        for name in ("weight", "maker", "hops"):
            slots[name][at] = _column(getattr(self, name))[labels]

    def _search(self, begin: int, end: int, heap: list[tuple]) -> None:
        """Label-setting over places begin:end's edges among themselves from the seeds
        (weight, hops, order, place, parent, edge, maker): each place keeps its first
        ``cap``."""
        starts, dst, cost, ids = self.plan.local_edges(begin, end)
        inside, component, cap = self.inside_list, self.plan.component, self.cap
        kept_at, dropped = [0] * (end - begin), self.dropped[begin:end].tolist()
        floor = [np.inf] * (end - begin)  # weight of each place's cheapest kept label
        columns = (self.node, self.parent, self.edge, self.maker, self.hops, self.weight)
        add_node, add_parent, add_edge, add_maker, add_hops, add_weight = (
            c.append for c in columns
        )
        heapq.heapify(heap)
        order = count()
        while heap:
            weight, hops, _, v, parent, edge, maker = heapq.heappop(heap)
            at = v - begin
            if kept_at[at] >= cap:
                dropped[at] = min(dropped[at], weight)
                continue
            label = len(self.node)
            add_node(v), add_parent(parent), add_edge(edge), add_maker(maker), add_hops(hops)
            add_weight(weight)
            if not kept_at[at]:
                floor[at] = weight
            kept_at[at] += 1
            for e in range(starts[at], starts[at + 1]):
                w, further = dst[e], weight + cost[e]
                full = kept_at[w - begin] >= cap
                if (
                    not inside[w]
                    or (full and further >= dropped[w - begin])
                    or maker == w
                    or (component[w] == component[v] and self._on_path(label, w, floor[w - begin]))
                ):
                    continue
                if full:
                    dropped[w - begin] = further
                    continue
                heapq.heappush(heap, (further, hops + 1, next(order), w, label, ids[e], maker))
        self.dropped[begin:end] = dropped

    def _on_path(self, label: int, w: int, floor: float) -> bool:
        """Whether place w, in the loop of the label's node, is on the label's path: a place
        checked back ``depth`` hops within the loop (a path that left w's loop cannot have
        been in it) and down to ``floor``, the weight of w's cheapest kept label (a path's
        labels are kept labels, cheaper the further back)."""
        component = self.plan.component
        loop, steps = component[w], 0
        while label >= 0 and steps < self.depth:
            v = self.node[label]
            if v == w:
                return True
            if component[v] != loop or self.weight[label] < floor:
                return False
            label, steps = self.parent[label], steps + 1
        return False

    def read(self, targets: np.ndarray, k: int, found: dict) -> np.ndarray:
        """Put the targets' first k simple kept paths in ``found``; the targets not certain."""
        node = _column(self.node)
        self.by_place = stable_order(node)
        self.kept_starts = row_starts(node[self.by_place], len(self.plan.node))
        self.bound = _bounds(self.plan, self.dropped)
        failed = []
        for t in targets.tolist():
            found[t], certain = self.paths_into(t, k)
            if not certain:
                failed.append(t)
        return np.array(failed, dtype=np.int64)

    def paths_into(self, t: int, k: int) -> tuple[list, bool]:
        """The first k simple kept paths into node t, and whether they are certainly the k
        best."""
        paths, p = [], self.plan.place[t]
        for label in self.by_place[self.kept_starts[p] : self.kept_starts[p + 1]].tolist():
            nodes, used = self._unwind(label)
            if len(set(nodes)) == len(nodes):
                paths.append((self.weight[label], nodes, used))
                if len(paths) == k:
                    break
        bound = self.bound[p]
        certain = bound == np.inf or (len(paths) == k and paths[-1][0] <= bound)
        return paths, certain

    def _unwind(self, label: int) -> tuple[list[int], list[int]]:
        """The label's path as nodes (source first) and edge ids."""
        node, parent, edge_into = self.node, self.parent, self.edge
        places, used = [], []
        while label >= 0:
            places.append(node[label])
            edge = edge_into[label]
            if edge >= 0:
                used.append(edge)
            label = parent[label]
        nodes = self.plan.node[places[::-1]].tolist()
        if edge >= 0:  # the path starts with an own edge: its maker comes first
            nodes.insert(0, int(self.plan.graph.src[edge]))
        return nodes, used[::-1]


def _column(values: array, first: int = 0) -> np.ndarray:
    """A copy of a label column from number ``first`` on (no view: the column grows)."""
    return np.frombuffer(values, dtype=np.int64 if values.typecode == "q" else float)[first:].copy()


def _seeds(weight, hops, place, parent, edge, maker) -> list[tuple]:
    """Labels to search from, as heap entries (full ties in the given order)."""
    weight, hops, place, parent, edge, maker = (
        c.tolist() for c in (weight, hops, place, parent, edge, maker)
    )
    order = range(-len(weight), 0)
    return list(zip(weight, hops, order, place, parent, edge, maker))


def _bounds(plan: _Plan, dropped: np.ndarray) -> np.ndarray:
    """B(t) = min over v of dropped(v) + dist(v, t) by place: no missed path into t costs
    less."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = len(dropped)
    cut = np.flatnonzero(np.isfinite(dropped))
    if len(cut) == 0:
        return np.full(n, np.inf)
    src = np.concatenate([plan.src, np.full(len(cut), n)])
    dst = np.concatenate([plan.dst, cut])
    # csgraph ignores explicit zeros: certain edges (cost 0) get the smallest positive cost
    cost = np.maximum(np.concatenate([plan.cost, dropped[cut]]), np.finfo(float).tiny)
    matrix = csr_matrix((cost, (src, dst)), shape=(n + 1, n + 1))
    return dijkstra(matrix, indices=n, min_only=True)[:n]


def _table(graph: IndexedGraph, s: np.ndarray, found: dict[int, list]) -> PathTable:
    """Found paths as a PathTable, each valued as explain does (s x product of confidences)."""
    targets, ranks, values, lengths, nodes, edges = [], [], [], [], [], []
    for t in sorted(found):
        for rank, (_, path, used) in enumerate(found[t]):
            value = float(s[path[0]] * np.prod(graph.confidence[used]))
            if value <= 0:  # underflow, as explain drops it
                break
            targets.append(t)
            ranks.append(rank)
            values.append(value)
            lengths.append(len(path))
            nodes.extend(path)
            edges.extend(used)
    return PathTable(
        target=np.array(targets, dtype=np.int64),
        rank=np.array(ranks, dtype=np.int64),
        value=np.array(values, dtype=float),
        starts=np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64),
        nodes=np.array(nodes, dtype=np.int64),
        edges=np.array(edges, dtype=np.int64),
    )


def write_paths_parquet(table: PathTable, graph: IndexedGraph, path: str | Path) -> None:
    """paths.parquet: one row per path (target, rank, source, value, hops, nodes as ids,
    edge_rows as rows of bundle.edges), written atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from graphkit.io.atomic import atomic_file

    ids = np.asarray(graph.ids, dtype=object)
    node_offsets = pa.array(table.starts, pa.int64())
    edge_offsets = pa.array(table.starts - np.arange(len(table.starts)), pa.int64())
    first = table.nodes[table.starts[:-1]] if len(table) else np.zeros(0, dtype=np.int64)
    columns = {
        "target": pa.array(ids[table.target], pa.string()),
        "rank": pa.array(table.rank, pa.int32()),
        "source": pa.array(ids[first], pa.string()),
        "value": pa.array(table.value, pa.float64()),
        "hops": pa.array(np.diff(table.starts) - 1, pa.int32()),
        "nodes": pa.LargeListArray.from_arrays(
            node_offsets, pa.array(ids[table.nodes], pa.string())
        ),
        "edge_rows": pa.LargeListArray.from_arrays(
            edge_offsets, pa.array(graph.edge_row[table.edges], pa.int64())
        ),
    }
    with atomic_file(path) as temp:
        pq.write_table(pa.table(columns), temp)


def as_exposure_paths(table: PathTable, facts, evidence=None) -> dict[str, list]:
    """Target id -> its ExposurePath list (``facts``: explain's EdgeFacts of the graph)."""
    found: dict[str, list] = {}
    for i in range(len(table)):
        path = facts.path(table.path_nodes(i), table.path_edges(i), table.value[i], evidence)
        found.setdefault(path.target, []).append(path)
    return found


class TopPaths(Mapping):
    """Target id -> its top ExposurePaths, made on demand from the one-pass table (a report
    or a view reads a few targets; the result files and the products page read the columns).

    ``targets`` are every explained target, most exposed first (a target without a path maps
    to an empty list); ``facts`` are explain's EdgeFacts of the graph, ``evidence`` the source
    evidence by node id."""

    def __init__(self, table: PathTable, facts, evidence: dict[str, str], targets: list[str]):
        self.table, self.facts, self.evidence = table, facts, evidence
        self.targets = list(targets)
        ids = facts.ids[table.target]
        bounds = np.flatnonzero(np.diff(table.target, prepend=-1) != 0)
        ends = np.r_[bounds[1:], len(table)]
        self._rows = dict(zip(ids[bounds].tolist(), zip(bounds.tolist(), ends.tolist())))
        self._made: dict[str, list] = dict.fromkeys(self.targets, None)

    def __getitem__(self, target: str) -> list:
        made = self._made[target]  # KeyError for a target not explained
        if made is None:
            first, stop = self.rows_of(target)
            made = self._made[target] = [self._path(i) for i in range(first, stop)]
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self.targets)

    def __len__(self) -> int:
        return len(self.targets)

    def rows_of(self, target: str) -> tuple[int, int]:
        """The range of the table's rows that hold the target's paths (empty: none)."""
        return self._rows.get(target, (0, 0))

    def _path(self, i: int):
        table = self.table
        nodes, edges = table.path_nodes(i), table.path_edges(i)
        return self.facts.path(nodes, edges, table.value[i], self.evidence)

    def sources(self) -> np.ndarray:
        """Each path's source node id (path order)."""
        return self.facts.ids[self.first_nodes()]

    def first_nodes(self) -> np.ndarray:
        """Each path's source node position (path order)."""
        table = self.table
        return table.nodes[table.starts[:-1]] if len(table) else np.zeros(0, dtype=np.int64)

    def hop_rows(self) -> dict[str, np.ndarray]:
        """Every path hop by hop, as columns (one entry per hop, paths in order): the path's
        target, rank (from 1), value, source, and the hop's number (from 1) and edge
        position."""
        table = self.table
        hops = np.diff(table.starts) - 1
        path = np.repeat(np.arange(len(table)), hops)
        edge_starts = table.starts[:-1] - np.arange(len(table))
        return {
            "target": self.facts.ids[table.target[path]],
            "rank": table.rank[path] + 1,
            "value": table.value[path],
            "source": self.sources()[path],
            "hop": np.arange(len(table.edges)) - edge_starts[path] + 1,
            "edge": table.edges,
        }
