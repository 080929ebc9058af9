"""Top-k exposure paths into every target in one pass.

A path is a simple chain of edges from a source node v0 into a target, worth
s(v0) x the product of the edge confidences; its weight is -log of that value, so the best
paths are the shortest. The bill-of-materials rule is explain's: a MAKES edge into a
component with known parts ("own" edge) may only be the first edge of a path, and carries
the maker's own score. Of parallel edges (same ends, same own-ness) the most confident one
counts (the first of equals), as in ``explain.top_paths``.

The method is one label-setting search (Dijkstra over partial paths, "labels") from every
source at once. Each node keeps the first ``cap`` labels that reach it (the cheapest, in
order; k at first). A kept label is extended along every usable edge, except
into a node already on it (only possible within its loop; the last ``depth`` hops are
checked, or all of them). Outside loops this is the exact k-best merge in topological
order. On loops a node's cheapest labels may all run through the next node, so the result
is certified: every label not kept at v costs at least D(v), so any path the search missed
into t costs at least B(t) = min over v of D(v) + dist(v, t) (one compiled Dijkstra from a
super-source linked to every v at weight D(v)). A target is exact when its k-th simple path
costs at most B(t), or when nothing was dropped upstream (B(t) = inf). Targets that fail
are searched again with four times the cap and the full loop check, until none fails (the
last attempt keeps every simple path: exhaustive, exact). Cost: O(k E log) outside loops,
near-linear in depth; no recursion (labels are parent pointers).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import count
from typing import TYPE_CHECKING

import numpy as np

from graphkit.graph import buyer_facing_mask
from graphkit.graph.loops import components
from graphkit.propagation.upstream import upstream_of

if TYPE_CHECKING:
    from pathlib import Path

    from graphkit.graph import IndexedGraph

#: paths per target by default
K = 5
#: hops a kept label is checked back for the node it would enter, on the first attempts
LOOP_CHECK_DEPTH = 6
#: per-node label cap of the first attempt, as a multiple of k
FIRST_CAP = 1
UNBOUNDED = 1 << 62


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


@dataclass
class _Edges:
    """Usable edges (confidence > 0, best of parallels): carrying ones by source, own ones."""

    src: np.ndarray
    dst: np.ndarray
    ids: np.ndarray
    cost: np.ndarray
    starts: np.ndarray
    own: np.ndarray  # own edge ids


def top_paths_all(
    graph: IndexedGraph, s: np.ndarray, targets: np.ndarray | None = None, k: int = K
) -> PathTable:
    """The k best exposure paths into each target (default: the buyer-facing nodes)."""
    targets = np.flatnonzero(buyer_facing_mask(graph)) if targets is None else targets
    edges = _usable_edges(graph, s)
    found: dict[int, list[tuple[float, list[int], list[int]]]] = {}
    todo = np.unique(np.asarray(targets, dtype=np.int64))
    cap, depth = max(1, FIRST_CAP * k), LOOP_CHECK_DEPTH
    while len(todo):
        search = _Search(graph, s, edges, todo, cap, depth)
        failed = []
        for t in todo.tolist():
            found[t], certain = search.paths_into(t, k)
            if not certain:
                failed.append(t)
        todo = np.array(failed, dtype=np.int64)
        cap, depth = (UNBOUNDED if cap > 16 * k else cap * 4), UNBOUNDED
    return _table(graph, s, found)


def _usable_edges(graph: IndexedGraph, s: np.ndarray) -> _Edges:
    """Edges with confidence > 0, the most confident of parallels; own edges apart."""
    usable = np.flatnonzero(graph.confidence > 0)
    own = graph.own[usable]
    order = np.lexsort(
        (usable, -graph.confidence[usable], graph.dst[usable], graph.src[usable], own)
    )
    ranked = usable[order]
    key = np.stack([graph.own[ranked], graph.src[ranked], graph.dst[ranked]])
    first = np.ones(len(ranked), dtype=bool)
    first[1:] = (key[:, 1:] != key[:, :-1]).any(axis=0)
    kept = np.sort(ranked[first])  # source-sorted again
    carry = kept[~graph.own[kept]]
    own_edges = kept[
        graph.own[kept] & (s[graph.src[kept]] > 0) & (graph.src[kept] != graph.dst[kept])
    ]
    src = graph.src[carry]
    return _Edges(
        src=src,
        dst=graph.dst[carry],
        ids=carry,
        cost=-np.log(graph.confidence[carry]),
        starts=np.concatenate([[0], np.cumsum(np.bincount(src, minlength=graph.n))]),
        own=own_edges,
    )


class _Search:
    """One capped label-setting search towards ``targets`` (see the module docstring)."""

    def __init__(self, graph, s, edges: _Edges, targets, cap: int, depth: int):
        self.graph, self.s, self.cap, self.depth = graph, s, cap, depth
        inside = upstream_of(graph, targets, graph.confidence)
        self.component = components(graph.n, edges.src, edges.dst).tolist()
        self.node: list[int] = []
        self.parent: list[int] = []
        self.edge: list[int] = []  # edge into the label's node; own edge or -1 at a start
        self.weight: list[float] = []
        self.maker: list[int] = []  # maker whose own edge starts the label's path, or -1
        self.kept: dict[int, list[int]] = {}
        self.dropped = np.full(graph.n, np.inf)
        self._run(edges, inside)
        self.bound = _bounds(graph.n, edges, self.dropped)

    def _run(self, edges: _Edges, inside: np.ndarray) -> None:
        heap = _starts(self.graph, self.s, edges, inside)
        heapq.heapify(heap)
        starts, dst, cost = edges.starts.tolist(), edges.dst.tolist(), edges.cost.tolist()
        ids, inside, kept_at = edges.ids.tolist(), inside.tolist(), [0] * self.graph.n
        order = count()
        while heap:
            weight, _, v, parent, edge = heapq.heappop(heap)
            if kept_at[v] >= self.cap:
                self.dropped[v] = min(self.dropped[v], weight)
                continue
            label = len(self.node)
            self._keep(label, v, parent, edge, weight)
            kept_at[v] += 1
            for e in range(starts[v], starts[v + 1]):
                w = dst[e]
                if not inside[w] or self._on_path(label, w):
                    continue
                if kept_at[w] >= self.cap:
                    self.dropped[w] = min(self.dropped[w], weight + cost[e])
                    continue
                heapq.heappush(heap, (weight + cost[e], next(order), w, label, ids[e]))

    def _keep(self, label: int, v: int, parent: int, edge: int, weight: float) -> None:
        self.node.append(v)
        self.parent.append(parent)
        self.edge.append(edge)
        self.weight.append(weight)
        self.maker.append(self.maker[parent] if parent >= 0 else self._maker_of(edge))
        self.kept.setdefault(v, []).append(label)

    def _maker_of(self, edge: int) -> int:
        return int(self.graph.src[edge]) if edge >= 0 else -1

    def _on_path(self, label: int, w: int) -> bool:
        """Whether node w is on the label's path: its maker, or a node checked back ``depth``
        hops within w's loop (a path that left w's loop cannot have been in it)."""
        if self.maker[label] == w:
            return True
        loop, steps = self.component[w], 0
        while label >= 0 and steps < self.depth:
            v = self.node[label]
            if v == w:
                return True
            if self.component[v] != loop:
                return False
            label, steps = self.parent[label], steps + 1
        return False

    def paths_into(self, t: int, k: int) -> tuple[list, bool]:
        """The first k simple kept paths into t, and whether they are certainly the k best."""
        paths = []
        for label in self.kept.get(t, []):
            nodes, used = self._unwind(label)
            if len(set(nodes)) == len(nodes):
                paths.append((self.weight[label], nodes, used))
                if len(paths) == k:
                    break
        bound = self.bound[t]
        certain = bound == np.inf or (len(paths) == k and paths[-1][0] <= bound)
        return paths, certain

    def _unwind(self, label: int) -> tuple[list[int], list[int]]:
        nodes, used = [], []
        while label >= 0:
            nodes.append(self.node[label])
            if self.edge[label] >= 0:
                used.append(self.edge[label])
            if self.parent[label] < 0 and self.edge[label] >= 0:
                nodes.append(int(self.graph.src[self.edge[label]]))
            label = self.parent[label]
        return nodes[::-1], used[::-1]


def _starts(graph, s: np.ndarray, edges: _Edges, inside: np.ndarray) -> list[tuple]:
    """Initial labels: every source node on its own, every own edge from a source."""
    sources = np.flatnonzero((s > 0) & inside)
    own = edges.own[inside[graph.dst[edges.own]]]
    with np.errstate(divide="ignore"):
        weight = np.concatenate(
            [-np.log(s[sources]), -np.log(s[graph.src[own]]) - np.log(graph.confidence[own])]
        )
    node = np.concatenate([sources, graph.dst[own]]).tolist()
    edge = np.concatenate([np.full(len(sources), -1), own]).tolist()
    return [(w, -1 - i, v, -1, e) for i, (w, v, e) in enumerate(zip(weight, node, edge))]


def _bounds(n: int, edges: _Edges, dropped: np.ndarray) -> np.ndarray:
    """B(t) = min over v of dropped(v) + dist(v, t): no missed path into t costs less."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    cut = np.flatnonzero(np.isfinite(dropped))
    if len(cut) == 0:
        return np.full(n, np.inf)
    src = np.concatenate([edges.src, np.full(len(cut), n)])
    dst = np.concatenate([edges.dst, cut])
    # csgraph ignores explicit zeros: certain edges (cost 0) get the smallest positive cost
    cost = np.maximum(np.concatenate([edges.cost, dropped[cut]]), np.finfo(float).tiny)
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
