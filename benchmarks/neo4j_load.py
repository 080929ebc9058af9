"""Load throughput of graphkit's Neo4j load versus the plainest single-statement UNWIND.

Starts the same ArcadeDB Bolt server the tests use (or uses GRAPHKIT_NEO4J_URI when set),
generates a bundle, and loads it twice into an emptied graph:

- graphkit: `Neo4jStore.load` (constraints, UNWIND batches of --batch-size rows in retried
  write transactions, nodes then relationships, then the changed-bundle clean-up);
- plain: the same MERGE statements from cypher/, each run ONCE over all its rows in a
  single write transaction (what a one-off script usually does).

Both runs use the same server, database and uniqueness constraints. Prints a markdown
table of nodes/s and relationships/s and the ratios.

    python benchmarks/neo4j_load.py --nodes 100000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from neo4j_server import ArcadeBoltServer, configured_env, random_bundle  # noqa: E402

from graphkit import model  # noqa: E402
from graphkit.store import cypher  # noqa: E402
from graphkit.store.neo4j import LABELS, Neo4jStore, Settings, edge_rows, node_rows  # noqa: E402


def make_bundle(n_nodes: int, seed: int) -> model.Bundle:
    """About n_nodes nodes from graphkit.generate when present, else the tests' generator."""
    try:
        from graphkit.generate import generate_bundle
    except ImportError:
        return random_bundle(n_nodes // 2, seed)
    nodes, edges = generate_bundle(round(n_nodes / 1.5), seed)  # n/2 components per supplier
    return model.Bundle(nodes=nodes, edges=edges, origin="generate_bundle")


def empty(store: Neo4jStore) -> None:
    """Delete every graphkit node (loading an empty bundle does that), untimed."""
    import pandas as pd

    nodes = pd.DataFrame(columns=list(model.NODE_COLUMNS))
    edges = pd.DataFrame(columns=list(model.EDGE_COLUMNS))
    store.load(model.Bundle(nodes=nodes, edges=edges), batch_size=20_000)


def time_graphkit(store: Neo4jStore, bundle: model.Bundle, batch_size: int) -> tuple[float, float]:
    """Seconds spent on nodes and on relationships by Neo4jStore.load."""
    n_nodes = len(bundle.nodes)
    done, nodes_done_at = 0, None

    def progress(n: int) -> None:
        nonlocal done, nodes_done_at
        done += n
        if done == n_nodes:
            nodes_done_at = time.perf_counter()

    start = time.perf_counter()
    store.load(bundle, batch_size=batch_size, progress=progress)
    end = time.perf_counter()
    return nodes_done_at - start, end - nodes_done_at


def time_plain(store: Neo4jStore, bundle: model.Bundle) -> tuple[float, float]:
    """Seconds for one UNWIND statement over all rows per label / relationship type."""
    database = store.settings.database

    def run_all(name: str, rows: list) -> None:
        query = cypher.statement(name)
        with store.driver.session(database=database) as session:
            session.execute_write(lambda tx: tx.run(query, rows=rows).consume())

    start = time.perf_counter()
    for kind, label in LABELS.items():
        run_all(f"load_{label.lower()}s", node_rows(bundle.nodes[bundle.nodes["kind"] == kind]))
    middle = time.perf_counter()
    for kind in model.EDGE_KINDS:
        run_all(f"load_{kind.lower()}", edge_rows(bundle.edges[bundle.edges["kind"] == kind]))
    return middle - start, time.perf_counter() - middle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000, help="bundle size (nodes)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()

    bundle = make_bundle(args.nodes, args.seed)
    n_nodes, n_edges = len(bundle.nodes), len(bundle.edges)
    env = configured_env()
    server = None if env else ArcadeBoltServer(heap="3g").start()
    try:
        with Neo4jStore(Settings.from_env(env or server.env)) as store:
            empty(store)  # also creates the constraints both runs use
            plain = time_plain(store, bundle)
            empty(store)
            graphkit = time_graphkit(store, bundle, args.batch_size)
            product = "a configured server" if env else "the ArcadeDB Bolt test server"
            product += f" ({store.status()['product']})"
    finally:
        if server:
            server.stop()

    print(
        f"Load of {n_nodes:,} nodes and {n_edges:,} relationships into {product} "
        f"(batch size {args.batch_size:,})\n"
    )
    print("| method | nodes/s | relationships/s | total s |")
    print("|---|---:|---:|---:|")
    for name, (t_nodes, t_edges) in (("plain single UNWIND", plain), ("graphkit load", graphkit)):
        print(
            f"| {name} | {n_nodes / t_nodes:,.0f} | {n_edges / t_edges:,.0f} | "
            f"{t_nodes + t_edges:.1f} |"
        )
    print(
        f"\ngraphkit / plain: nodes {plain[0] / graphkit[0]:.2f}x, "
        f"relationships {plain[1] / graphkit[1]:.2f}x, "
        f"total {sum(plain) / sum(graphkit):.2f}x faster"
    )


if __name__ == "__main__":
    main()
