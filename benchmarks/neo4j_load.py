"""graphkit's Neo4j backend at size, next to the plain approach, on one server in one run.

Generates a bundle (`graphkit generate --suppliers N --seed 1`), starts the ArcadeDB Bolt
test server (or uses GRAPHKIT_NEO4J_URI when set) with two databases, and measures:

- load: graphkit (rows built batch by batch as they are sent) vs plain (every row built
  into Python lists first, then sent in the same batches: graphkit's previous loader);
- every analyst query with its timeout (60 s) after `propagate` wrote the results, next
  to the plain statements they replace (path counting in sources_reaching_buyer,
  enumeration without pruning in exposure_paths, an aggregation over every node's input
  relationships from an unlabelled scan in unmapped_inputs);
- relationship counts: typed count-store counts vs an untyped scan filtered by type();
- export: graphkit (typed scans streamed to disk in batches) vs plain (untyped scan
  collected into lists, then written); and the neo4j-admin CSVs written from the bundle.

Each load and export runs in its own child process so its peak memory (peak RSS minus
the RSS with the bundle already in memory) is its own. Prints markdown tables. At 100k
suppliers the ArcadeDB test server loads about 300 relationships/s, so
--plain-load-memory-only builds the plain loader's rows (its memory) without sending the
same batches a second time, and --skip-export leaves the two exports out.

    nice python benchmarks/neo4j_load.py --suppliers 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from neo4j_server import ArcadeBoltServer, configured_env  # noqa: E402

from graphkit import model  # noqa: E402
from graphkit.store import cypher, export, rows  # noqa: E402
from graphkit.store.neo4j import Neo4jStore, Settings  # noqa: E402

PLAIN_DATABASE = "plain"
ARGS = argparse.Namespace(plain_load_memory_only=False)
TIMEOUT = 60.0
KINDS = list(model.EDGE_KINDS)
# The statements graphkit ran before (kept here only to measure against).
PLAIN_QUERIES = {
    "unmapped_inputs": """
MATCH (n)
WHERE n:Supplier OR n:Component
OPTIONAL MATCH (i)-[r:SUPPLIES|MAKES|PART_OF|USED_BY]->(n)
WITH n, count(r) AS inputs, sum(coalesce(r.share, 0.0)) AS mapped
WHERE mapped < $threshold
RETURN n.id AS id, inputs, mapped AS mapped_share, n.exposure_reach AS reach
ORDER BY coalesce(reach, 0.0) DESC, 1.0 - mapped DESC, id ASC LIMIT $limit""",
    "sources_reaching_buyer": """
MATCH p = (src)-[:SUPPLIES|MAKES|PART_OF|USED_BY*1..6]->(buyer:Supplier {id: $buyer})
WHERE src.exposure_tier = 0 OR src.exposure > 0
WITH src, min(length(p)) AS hops, count(p) AS chains
RETURN src.id AS source, hops, chains ORDER BY hops ASC, source ASC LIMIT $limit""",
    "exposure_paths": """
MATCH p = (src)-[:SUPPLIES|MAKES|PART_OF|USED_BY*1..6]->(product:Component {id: $product})
WHERE src.exposure_tier = 0 OR src.exposure > 0
WITH p, src, reduce(w = 1.0, r IN relationships(p) | w * coalesce(r.confidence, 1.0)) AS strength
RETURN src.id AS source, length(p) AS hops, strength, [x IN nodes(p) | x.id] AS path
ORDER BY strength DESC, hops ASC LIMIT $limit""",
}
PLAIN_EXPORT_EDGES = """
MATCH (s)-[r]->(t) WHERE type(r) IN $kinds
RETURN type(r) AS kind, s.id AS source, t.id AS target, properties(r) AS props"""
PLAIN_COUNTS = "MATCH ()-[r]->() WHERE type(r) IN $kinds RETURN type(r) AS type, count(r) AS n"


def make_bundle(n_suppliers: int, seed: int) -> model.Bundle:
    from graphkit.generate import generate_bundle

    nodes, edges = generate_bundle(n_suppliers, seed)
    return model.Bundle(nodes=nodes, edges=edges, origin=f"generate {n_suppliers} {seed}")


def status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> float:
    """Reset the peak RSS to the current RSS (Linux clear_refs 5); the current RSS in MB."""
    Path("/proc/self/clear_refs").write_text("5")
    return status_mb("VmRSS")


# --- child stages (one process each) ---------------------------------------------------


def stage_load(store: Neo4jStore, bundle: model.Bundle, plain: bool, batch: int) -> None:
    if not plain:
        store.load(bundle, batch_size=batch)
        return
    # graphkit's previous loader built every row first and then sent the same batches as
    # the streamed load does; with --plain-load-memory-only the rows are built, not sent
    every = [rows.node_rows(bundle.nodes[bundle.nodes["kind"] == k]) for k in rows.LABELS]
    every += [rows.edge_rows(bundle.edges[bundle.edges["kind"] == k]) for k in model.EDGE_KINDS]
    if not ARGS.plain_load_memory_only:
        names = [f"load_{label.lower()}s" for label in rows.LABELS.values()]
        names += [f"load_{kind.lower()}" for kind in model.EDGE_KINDS]
        store._write("schema")
        for name, table in zip(names, every, strict=True):
            for start in range(0, len(table), batch):
                store._write(name, rows=table[start : start + batch])


def stage_export(store: Neo4jStore, out: Path, plain: bool) -> None:
    if not plain:
        export.write_bundle_folder(store.stream(), out)
        return
    from graphkit.io import write_bundle

    def everything(tx, query, **params):
        return [record.data() for record in tx.run(query, params)]

    with store.driver.session(database=store.settings.database) as session:
        nodes = session.execute_read(everything, cypher.statement("export_nodes"))
        edges = session.execute_read(everything, PLAIN_EXPORT_EDGES, kinds=KINDS)
    node_keys = {key for record in nodes for key in record["props"]}
    edge_keys = {key for record in edges for key in record["props"]}
    bundle = model.Bundle(
        nodes=rows.nodes_frame(nodes, rows.columns_for(node_keys, model.NODE_COLUMNS)),
        edges=rows.edges_frame(edges, rows.columns_for(edge_keys, model.EDGE_COLUMNS)),
    )
    write_bundle(bundle, out)


def run_stage(args: argparse.Namespace) -> None:
    """In a child: build the bundle, run one stage, print its seconds and memory as JSON."""
    needs_bundle = args.stage.startswith("load") or args.stage == "admin-import"
    bundle = make_bundle(args.suppliers, args.seed) if needs_bundle else None
    baseline = reset_peak()
    start = time.perf_counter()
    if args.stage == "admin-import":
        with tempfile.TemporaryDirectory() as folder:
            export.write_admin_import(rows.TableStream.of_bundle(bundle), Path(folder) / "a")
    else:
        with Neo4jStore(Settings.from_env()) as store:
            if args.stage.startswith("load"):
                stage_load(store, bundle, args.stage == "load-plain", args.batch_size)
            else:
                with tempfile.TemporaryDirectory() as folder:
                    stage_export(store, Path(folder) / "out", args.stage == "export-plain")
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "memory_mb": status_mb("VmHWM") - baseline}))


def child(stage: str, env: dict[str, str], args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--stage", stage, "--suppliers", str(args.suppliers)]
    command += ["--seed", str(args.seed), "--batch-size", str(args.batch_size)]
    command += ["--plain-load-memory-only"] if args.plain_load_memory_only else []
    done = subprocess.run(
        command, env=os.environ | env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {stage}: {result['seconds']:.1f} s, {result['memory_mb']:.0f} MB", flush=True)
    return result


# --- queries in the parent ---------------------------------------------------------------


def timed_plain(settings: Settings, query: str, params: dict) -> float | None:
    """Seconds for a plain statement with the same timeout; None when it ran out."""
    import neo4j

    driver = neo4j.GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password))
    outcome: dict = {}

    def work() -> None:
        try:
            with driver.session(database=settings.database) as session:
                outcome["rows"] = session.run(neo4j.Query(query, timeout=TIMEOUT), params).data()
        except Exception as exc:  # reported below
            outcome["error"] = exc

    start = time.perf_counter()
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(TIMEOUT + 2)
    seconds = time.perf_counter() - start
    if worker.is_alive() or "error" in outcome:
        driver.close()
        return None
    driver.close()
    return seconds


def timed_query(settings: Settings, name: str, params: dict) -> float | None:
    from graphkit.errors import BackendError

    with Neo4jStore(settings) as store:
        start = time.perf_counter()
        try:
            store.query(name, params, timeout=TIMEOUT)
        except BackendError:
            return None
        return time.perf_counter() - start


def unmapped_agrees(settings: Settings, table) -> bool:
    """Whether unmapped_inputs lists the engine's first rows: unmapped remainder above 0,
    highest reach first, then largest remainder, then id (the query's default limit)."""
    import numpy as np

    from graphkit.errors import BackendError

    ranked = table.assign(reach=table["reach"].fillna(0.0), node=table.index)
    ranked = ranked[ranked["unmapped"] > 0].sort_values(
        ["reach", "unmapped", "node"], ascending=[False, False, True]
    )
    with Neo4jStore(settings) as store:
        try:
            found = store.query("unmapped_inputs", {}, timeout=TIMEOUT)
        except BackendError:
            return False
    expected = ranked.head(len(found))
    same_ids = [row["id"] for row in found] == expected.index.tolist()
    shares = [row["unmapped_share"] for row in found]
    return bool(found) and same_ids and np.allclose(shares, expected["unmapped"].to_numpy())


def query_params(bundle: model.Bundle, table) -> dict[str, dict[str, str]]:
    """The most exposed final product and the most exposed buyer (most walks into them)."""
    facing = table[table["buyer_facing"]]
    kinds = bundle.nodes.set_index("id")["kind"].reindex(facing.index)
    product = facing[kinds == model.COMPONENT]["reach"].idxmax()
    buyer = facing[kinds == model.SUPPLIER]["reach"].idxmax()
    return {
        "exposure_paths": {"product": product},
        "sources_reaching_buyer": {"buyer": buyer},
        "top_exposed_products": {},
        "top_exposed_suppliers": {},
        "suppliers_in_scope": {},
        "unmapped_inputs": {},
    }


def seconds_cell(value: float | None) -> str:
    return f"> {TIMEOUT:.0f} (timed out)" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument(
        "--plain-load-memory-only",
        action="store_true",
        help="build the plain loader's rows (its memory) but do not send them again",
    )
    parser.add_argument(
        "--skip-export",
        action="store_true",
        help="measure load, counts and queries only (no export to a bundle folder)",
    )
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    ARGS.plain_load_memory_only = args.plain_load_memory_only
    if args.stage:
        run_stage(args)
        return

    bundle = make_bundle(args.suppliers, args.seed)
    n_nodes, n_edges = len(bundle.nodes), len(bundle.edges)
    print(f"bundle: {n_nodes:,} nodes, {n_edges:,} relationships", flush=True)
    configured = configured_env()
    server = None
    if configured is None:
        server = ArcadeBoltServer(heap="3g", extra_databases=(PLAIN_DATABASE,)).start()
    env = configured or server.env
    plain_env = env | {"GRAPHKIT_NEO4J_DATABASE": PLAIN_DATABASE} if server else env
    try:
        results = measure(args, bundle, env, plain_env)
    finally:
        if server:
            server.stop()
    print_tables(args, bundle, results)


def measure(args, bundle, env, plain_env) -> dict:
    from graphkit.propagation import propagate
    from graphkit.screen.sources import source_scores_for

    results: dict = {}
    settings = Settings.from_env(env)
    results["load"] = child("load", env, args)
    if plain_env is env:  # one configured database: empty it between the two loads
        with Neo4jStore(settings) as store:
            store.load(model.Bundle(bundle.nodes.iloc[:0], bundle.edges.iloc[:0]))
    results["load-plain"] = child("load-plain", plain_env, args)
    table = propagate(bundle, source_scores=source_scores_for(bundle)).table
    with Neo4jStore(settings) as store:
        if plain_env is env:
            store.load(bundle, batch_size=args.batch_size)
        start = time.perf_counter()
        store.write_results(bundle, table)
        results["write_results"] = time.perf_counter() - start
        start = time.perf_counter()
        store.status()
        results["status"] = time.perf_counter() - start
    start = time.perf_counter()
    timed_plain(settings, PLAIN_COUNTS, {"kinds": KINDS})
    results["status-plain"] = time.perf_counter() - start
    params = query_params(bundle, table)
    results["queries"] = {}
    for name, given in params.items():
        results["queries"][name] = timed_query(settings, name, given)
        print(f"  query {name}: {seconds_cell(results['queries'][name])}", flush=True)
    results["unmapped_agrees"] = unmapped_agrees(settings, table)
    print(f"  unmapped_inputs equals the engine's: {results['unmapped_agrees']}", flush=True)
    if not args.skip_export:
        results["export"] = child("export", env, args)
        results["export-plain"] = child("export-plain", env, args)
    results["admin-import"] = child("admin-import", env, args)
    results["queries-plain"] = {}
    for name, query in PLAIN_QUERIES.items():  # last: the server may keep running them
        values = cypher.bind_query(name, params[name])[1]
        results["queries-plain"][name] = timed_plain(settings, query, values)
        print(f"  plain {name}: {seconds_cell(results['queries-plain'][name])}", flush=True)
    results["params"] = params
    return results


def print_tables(args, bundle, results: dict) -> None:
    n_nodes, n_edges = len(bundle.nodes), len(bundle.edges)
    print(
        f"\n`graphkit generate --suppliers {args.suppliers} --seed {args.seed}`: {n_nodes:,} "
        f"nodes, {n_edges:,} relationships; batch size {args.batch_size:,}\n"
    )
    print("| step | graphkit s | graphkit extra memory MB | plain s | plain extra memory MB |")
    print("|---|---:|---:|---:|---:|")
    steps = [("load", "load-plain"), ("export to a bundle folder", "export-plain")]
    for step, plain_key in steps if "export" in results else steps[:1]:
        ours, plain = results[step.split()[0]], results[plain_key]
        print(
            f"| {step} | {ours['seconds']:.1f} | {ours['memory_mb']:.0f} | "
            f"{plain['seconds']:.1f} | {plain['memory_mb']:.0f} |"
        )
    if args.plain_load_memory_only:
        print("| (plain load: rows built, not sent; the batches sent are the same) | | | | |")
    admin = results["admin-import"]
    print(
        f"| neo4j-admin CSVs from the bundle | {admin['seconds']:.1f} | "
        f"{admin['memory_mb']:.0f} | | |"
    )
    print(
        f"| relationship counts (status) | {results['status']:.2f} | | "
        f"{results['status-plain']:.2f} | |"
    )
    print(f"| write results back | {results['write_results']:.1f} | | | |")
    print(f"\n| analyst query (timeout {TIMEOUT:.0f} s) | parameters | graphkit s | plain s |")
    print("|---|---|---:|---:|")
    for name, seconds in results["queries"].items():
        given = ", ".join(f"{k}={v}" for k, v in results["params"][name].items())
        plain = results["queries-plain"].get(name, "same statement")
        plain = plain if isinstance(plain, str) else seconds_cell(plain)
        print(f"| {name} | {given} | {seconds_cell(seconds)} | {plain} |")


if __name__ == "__main__":
    main()
