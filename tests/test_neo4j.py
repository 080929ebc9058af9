"""The Neo4j backend against a real Bolt server (ArcadeDB on loopback, or GRAPHKIT_NEO4J_URI).

When GRAPHKIT_NEO4J_URI is set these tests use that server and database instead, and
clear every Supplier and Component node in it: give them a database of their own.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from neo4j_server import random_bundle

from graphkit import errors, model
from graphkit.errors import BackendError
from graphkit.model import Bundle
from graphkit.store import cypher
from graphkit.store.neo4j import Neo4jStore, Settings

REPO = Path(__file__).resolve().parents[1]
HOSTILE = [
    'O\'Brien "Ltd"',
    "`Supplier`) DETACH DELETE n //",
    "{props: $rows} MATCH (n) DETACH DELETE n",
    "'; MATCH (n) DETACH DELETE n; //",
    "辽宁省丹东市 \\ back\\slash \n newline",
]
DISTINCTIVE_PASSWORD = "Zq9-graphkit-DISTINCTIVE-pw-7Xr"


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def store(neo4j_env):
    """A store on an empty graph (loading an empty bundle deletes every graphkit node)."""
    with Neo4jStore(Settings.from_env(neo4j_env)) as opened:
        opened.load(empty_bundle())
        yield opened


def empty_bundle() -> Bundle:
    return Bundle(
        nodes=pd.DataFrame(columns=list(model.NODE_COLUMNS)),
        edges=pd.DataFrame(columns=list(model.EDGE_COLUMNS)),
    )


def hostile_bundle() -> Bundle:
    """Ids, names, property values and an extra column's name built to break string Cypher."""
    bundle = random_bundle(12, seed=3)
    nodes, edges = bundle.nodes, bundle.edges
    renames = {f"S{i}": value for i, value in enumerate(HOSTILE)}
    nodes["id"] = nodes["id"].replace(renames)
    edges["source"] = edges["source"].replace(renames)
    edges["target"] = edges["target"].replace(renames)
    nodes.loc[: len(HOSTILE) - 1, "name"] = HOSTILE
    nodes["note` // MATCH (n) DETACH DELETE n"] = ["x}{`'\""] + [""] * (len(nodes) - 1)
    edges.loc[: len(HOSTILE) - 1, "evidence"] = HOSTILE
    return bundle


def canonical(table: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """A table in a comparable form: sorted rows and columns, plain str/float columns."""
    table = table.sort_values(key, ignore_index=True)
    table = table[sorted(table.columns)]
    return table.apply(lambda col: col.astype(float if col.dtype.kind == "f" else str))


def assert_same_bundle(actual: Bundle, expected: Bundle) -> None:
    pd.testing.assert_frame_equal(
        canonical(actual.nodes, ["id"]), canonical(expected.nodes, ["id"])
    )
    pd.testing.assert_frame_equal(
        canonical(actual.edges, ["source", "target"]),
        canonical(expected.edges, ["source", "target"]),
    )
    assert actual.digest() == expected.digest()


def counts(store: Neo4jStore) -> dict[str, int]:
    status = store.status()
    return {**status["nodes"], **status["relationships"]}


def bundle_counts(bundle: Bundle) -> dict[str, int]:
    found = {
        "Supplier": int((bundle.nodes["kind"] == model.SUPPLIER).sum()),
        "Component": int((bundle.nodes["kind"] == model.COMPONENT).sum()),
    }
    return found | {k: int((bundle.edges["kind"] == k).sum()) for k in model.EDGE_KINDS}


# --- round trip and idempotency ---------------------------------------------------------


def test_load_then_export_gives_back_the_bundle(store):
    bundle = random_bundle(40, seed=1)
    summary = store.load(bundle, batch_size=7)
    assert (summary.nodes, summary.relationships) == (len(bundle.nodes), len(bundle.edges))
    assert_same_bundle(store.export(), bundle)
    assert counts(store) == bundle_counts(bundle)


def test_loading_twice_changes_nothing(store):
    bundle = random_bundle(30, seed=2)
    store.load(bundle)
    first = counts(store)
    summary = store.load(bundle, batch_size=4)
    assert counts(store) == first == bundle_counts(bundle)
    assert (summary.deleted_nodes, summary.deleted_relationships) == (0, 0)
    assert_same_bundle(store.export(), bundle)


def changed(bundle: Bundle) -> Bundle:
    """The bundle with a property changed, a node gone, one added, a kind changed, and an
    extra column dropped."""
    nodes, edges = bundle.nodes.copy(), bundle.edges.copy()
    nodes.loc[nodes["id"] == "S1", "name"] = "renamed supplier"
    nodes.loc[nodes["id"] == "S2", "province"] = ""
    nodes = nodes.drop(columns=["duns"])
    gone = {"S3", "C4"}
    nodes = nodes[~nodes["id"].isin(gone)]
    nodes.loc[nodes["id"] == "C5", "kind"] = model.SUPPLIER  # kind changed
    edges = edges[~edges["source"].isin(gone | {"C5"}) & ~edges["target"].isin(gone | {"C5"})]
    edges.loc[edges.index[0], "share"] = 0.123
    new_node = nodes.iloc[[0]].assign(id="S-new", name="new supplier")
    new_edge = edges.iloc[[0]].assign(source="S-new", target="S1", kind=model.SUPPLIES)
    nodes = pd.concat([nodes, new_node], ignore_index=True)
    edges = pd.concat([edges, new_edge], ignore_index=True)
    return Bundle(nodes=nodes, edges=edges)


def test_loading_a_changed_bundle_updates_adds_and_removes(store):
    bundle = random_bundle(30, seed=4)
    store.load(bundle)
    after = changed(bundle)
    summary = store.load(after, batch_size=9)
    assert summary.deleted_nodes == 3  # S3, C4, and C5 as a Component
    assert summary.deleted_relationships > 0
    assert counts(store) == bundle_counts(after)
    assert_same_bundle(store.export(), after)


LOAD_SCRIPT = """
import pickle, sys
from graphkit.store.neo4j import Neo4jStore
bundle = pickle.load(open(sys.argv[1], "rb"))
with Neo4jStore() as store:
    store.load(bundle, batch_size=5, progress=lambda n: print(n, flush=True))
"""


def test_a_killed_load_rerun_ends_complete_without_duplicates(store, neo4j_env, tmp_path):
    bundle = random_bundle(150, seed=5)
    path = tmp_path / "bundle.pickle"
    path.write_bytes(pickle.dumps(bundle))
    process = subprocess.Popen(
        [sys.executable, "-c", LOAD_SCRIPT, str(path)],
        env=os.environ | neo4j_env | {"PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    committed = [process.stdout.readline() for _ in range(3)]  # three batches committed
    process.kill()
    process.wait()
    process.stdout.close()
    assert all(line.strip() == "5" for line in committed)
    partial = counts(store)
    assert 15 <= sum(partial.values()) < len(bundle.nodes) + len(bundle.edges)
    store.load(bundle, batch_size=5)
    assert counts(store) == bundle_counts(bundle)
    assert_same_bundle(store.export(), bundle)


# --- hostile data -----------------------------------------------------------------------


def test_hostile_ids_names_and_values_are_stored_verbatim(store):
    bundle = hostile_bundle()
    store.load(bundle, batch_size=3)
    store.load(bundle)
    assert counts(store) == bundle_counts(bundle)
    assert_same_bundle(store.export(), bundle)


def test_hostile_query_parameters_harm_nothing(store):
    bundle = hostile_bundle()
    store.load(bundle)
    for value in HOSTILE:
        assert store.query("exposure_paths", {"product": value}) == []
        store.query("suppliers_in_scope", {"sector": value, "provinces": value})
    assert counts(store) == bundle_counts(bundle)


# --- results written back and analyst queries --------------------------------------------


def chain_bundle() -> Bundle:
    """A Liaoning board maker -> board -> controller (product) -> buyer, plus a clean part."""
    nodes = pd.DataFrame(
        {
            "id": ["maker", "board", "controller", "buyer", "clean"],
            "kind": ["supplier", "component", "component", "supplier", "component"],
            "name": ["Dandong PCB", "circuit board", "controller", "Buyer AG", "cheese"],
            "address": "",
            "country": ["CN", "", "", "DE", ""],
            "province": ["Liaoning", "", "", "", ""],
            "sector": ["electronics", "", "", "", ""],
            "hs_code": "",
            "exposure": [0.9, np.nan, np.nan, np.nan, np.nan],
        }
    )
    edges = pd.DataFrame(
        {
            "source": ["maker", "board", "controller", "clean"],
            "target": ["board", "controller", "buyer", "buyer"],
            "kind": ["MAKES", "PART_OF", "USED_BY", "USED_BY"],
            "share": [np.nan, 0.4, np.nan, np.nan],
            "confidence": [1.0, 0.5, 1.0, 1.0],
            "item": "",
            "evidence": "",
        }
    )
    return Bundle(nodes=nodes, edges=edges)


def given_results() -> pd.DataFrame:
    """A propagation table as the engine returns it (index = node id)."""
    return pd.DataFrame(
        {
            "reach": [0.9, 0.9, 0.45, 0.45, 0.0],
            "share": [0.9, 0.9, 0.36, np.nan, 0.0],
            "path": [0.9, 0.9, 0.45, 0.45, 0.0],
            "tier": pd.array([0, 1, 2, 3, pd.NA], dtype="Int64"),
            "n_sources": pd.array([1, 1, 1, 1, 0], dtype="Int64"),
            "top_sources": ["maker", "maker", "maker", "maker", ""],
            "unmapped": [1.0, 0.0, 0.6, 0.0, 1.0],
        },
        index=["maker", "board", "controller", "buyer", "clean"],
    )


def stored_results(store: Neo4jStore) -> pd.DataFrame:
    """The exposure_* properties now on the nodes, indexed by id."""
    rows = {r["props"]["id"]: r["props"] for r in store._read("export_nodes")}
    return pd.DataFrame.from_dict(rows, orient="index")


def test_results_are_written_back_and_left_out_of_export(store):
    bundle = chain_bundle()
    store.load(bundle)
    store.write_results(bundle, given_results(), batch_size=2)
    stored = stored_results(store)
    assert stored.loc["controller", "exposure_reach"] == pytest.approx(0.45)
    assert stored.loc["controller", "exposure_tier"] == 2
    assert stored.loc["buyer", "exposure_sources"] == "maker"
    assert pd.isna(stored.loc["buyer", "exposure_share"])  # missing stays missing
    assert pd.isna(stored.loc["clean", "exposure_tier"])
    assert_same_bundle(store.export(), bundle)
    store.load(bundle)  # reloading the same bundle keeps the results
    assert stored_results(store).loc["controller", "exposure_reach"] == pytest.approx(0.45)


def test_analyst_queries_answer_on_written_results(store):
    bundle = chain_bundle()
    store.load(bundle)
    store.write_results(bundle, given_results())
    products = store.query("top_exposed_products")
    assert [row["id"] for row in products] == ["controller"]
    suppliers = store.query("top_exposed_suppliers", {"limit": "1"})
    assert [row["id"] for row in suppliers] == ["maker"]
    paths = store.query("exposure_paths", {"product": "controller"})
    assert paths[0]["path"] == ["maker", "board", "controller"]
    assert paths[0]["strength"] == pytest.approx(0.5)
    sources = store.query("sources_reaching_buyer", {"buyer": "buyer"})
    assert [(row["source"], row["hops"]) for row in sources] == [("maker", 3)]
    in_scope = store.query("suppliers_in_scope", {"sector": "electronics"})
    assert [row["id"] for row in in_scope] == ["maker"]
    assert store.query("suppliers_in_scope", {"sector": "seafood"}) == []
    unmapped = store.query("unmapped_inputs")
    found = [(row["id"], row["kind"], row["inputs"]) for row in unmapped]
    assert found == [
        ("maker", "supplier", 0),
        ("controller", "component", 1),
        ("clean", "component", 0),
    ]
    assert [row["unmapped_share"] for row in unmapped] == pytest.approx([1.0, 0.6, 1.0])
    assert [row["mapped_share"] for row in unmapped] == pytest.approx([0.0, 0.4, 0.0])


def test_neo4j_propagate_equals_the_embedded_engine(store):
    # the engine; fails with ImportError until merged
    from graphkit.propagation import propagate
    from graphkit.screen.sources import source_scores_for

    bundle = random_bundle(60, seed=8)
    bundle.edges["share"] = np.nan  # keep input shares valid whatever the random draw
    bundle.nodes.loc[bundle.nodes.index[::7], "exposure"] = 0.8
    store.load(bundle)
    table = store.propagate()
    embedded = propagate(bundle, source_scores=source_scores_for(bundle)).table
    assert (embedded["reach"] > 0).sum() > len(embedded) // 4  # a test with exposure in it
    pd.testing.assert_frame_equal(table.loc[embedded.index], embedded, check_exact=False)
    stored = stored_results(store).reindex(embedded.index)
    assert stored["exposure_reach"].notna().all()  # the bounded queries prune on it
    for column in ("reach", "share", "path"):
        np.testing.assert_allclose(
            stored[f"exposure_{column}"].astype(float),
            embedded[column].astype(float),
            equal_nan=True,
        )
    tiers = stored["exposure_tier"].astype("Int64")
    assert tiers.equals(embedded["tier"].astype("Int64").rename("exposure_tier"))
    sources = stored["exposure_sources"].fillna("")
    assert sources.tolist() == embedded["top_sources"].tolist()


def unmapped_cases_bundle() -> Bundle:
    """A random bundle plus targets whose shares are mixed (some missing), sum to 1 with
    float residue, sum past 1, and sum to 0.3: the cases the engine's imputation handles."""
    bundle = random_bundle(80, seed=5)
    edges = bundle.edges
    known = edges.groupby("target")["share"].transform(lambda s: s.notna().all() and len(s) > 2)
    targets = edges.loc[known.astype(bool), "target"].unique()
    cases = ((np.nan, [0.3]), (0.0, [0.1, 0.2, 0.7]), (0.0, [0.8, 0.8, 0.8]), (0.0, [0.2, 0.1]))
    for target, (rest, shares) in zip(targets[: len(cases)], cases, strict=True):
        rows = edges.index[edges["target"] == target]
        edges.loc[rows, "share"] = rest
        edges.loc[rows[: len(shares)], "share"] = shares
    return bundle


def test_unmapped_inputs_lists_the_engine_s_unmapped_remainders(store):
    from graphkit.facts import unmapped_inputs
    from graphkit.graph.index import index_graph

    bundle = unmapped_cases_bundle()
    store.load(bundle)
    table = store.propagate()
    expected = table["unmapped"][table["unmapped"] > 0]  # the engine's, exposures.csv's
    inputs = bundle.edges["target"].value_counts().reindex(table.index, fill_value=0)
    assert 0 < (inputs[expected.index] == 0).sum() < len(expected)  # with and without inputs
    rows = store.query("unmapped_inputs", {"limit": "1000"})
    found = pd.Series({row["id"]: row["unmapped_share"] for row in rows})
    assert sorted(found.index) == sorted(expected.index)
    np.testing.assert_allclose(found[expected.index], expected)
    assert all(row["inputs"] == inputs[row["id"]] for row in rows)
    listed_by_info = unmapped_inputs(index_graph(bundle))  # the nodes with inputs among them
    assert 10 < len(listed_by_info) < (inputs > 0).sum()  # some with inputs are fully mapped
    with_inputs = found[[row["id"] for row in rows if row["inputs"] > 0]]
    pd.testing.assert_series_equal(with_inputs.sort_index(), listed_by_info.sort_index())
    order = [(-(row["reach"] or 0.0), -row["unmapped_share"], row["id"]) for row in rows]
    assert order == sorted(order)
    half = store.query("unmapped_inputs", {"threshold": "0.5", "limit": "1000"})
    assert {row["id"] for row in half} == set(expected.index[1.0 - expected < 0.5])
    assert 0 < len(half) < len(rows)


def test_cli_propagate_writes_results_the_queries_read(store, neo4j_env):
    bundle = chain_bundle()
    store.load(bundle)
    result = run_cli("neo4j", "propagate", env=neo4j_env)
    assert result.returncode == 0, result.stderr
    assert "exposure_reach" in result.stdout and "5 nodes" in result.stdout
    products = store.query("top_exposed_products")
    assert [row["id"] for row in products] == ["controller"]


def brute_force_chains(
    bundle: Bundle, reach: pd.Series, sources: set[str], product: str
) -> dict[str, tuple]:
    """Per source: (strength, hops) of its strongest simple chain of <= 6 links into
    product through exposed nodes, the shorter one on a tie."""
    import networkx as nx

    graph = bundle.to_networkx()
    best: dict[str, tuple] = {}
    for source in (sources & set(graph)) - {product}:
        for path in nx.all_simple_paths(graph, source, product, cutoff=6):
            if not all(reach[node] > 0 for node in path[:-1]):
                continue
            strength = float(
                np.prod([graph.edges[e].get("confidence", 1.0) for e in zip(path, path[1:])])
            )
            candidate = (round(strength, 9), -(len(path) - 1))
            best[source] = max(best.get(source, candidate), candidate)
    return {source: (s, -h) for source, (s, h) in best.items()}


def test_bounded_queries_agree_with_brute_force(store):
    import networkx as nx

    bundle = random_bundle(25, seed=11, edges_per_node=3.0)
    bundle.edges["share"] = np.nan
    bundle.nodes["exposure"] = np.where(np.arange(len(bundle.nodes)) % 6 == 0, 0.7, np.nan)
    bundle.edges.loc[bundle.edges.index[::4], "confidence"] = 0.5
    store.load(bundle)
    table = store.propagate()
    stored = stored_results(store)
    assert stored["exposure_reach"].notna().all()
    graph = bundle.to_networkx()
    explicit = bundle.nodes.set_index("id")["exposure"] > 0
    sources = set(stored.index[stored["exposure_tier"] == 0]) | set(explicit.index[explicit])
    products = bundle.nodes.loc[bundle.nodes["kind"] == model.COMPONENT, "id"]
    checked = 0
    for product in products:
        expected = brute_force_chains(bundle, table["reach"], sources, product)
        rows = store.query("exposure_paths", {"product": product, "limit": "1000"})
        got = {r["source"]: (round(r["strength"], 9), r["hops"]) for r in rows}
        assert got == expected, product
        for row in rows:
            assert row["path"][0] == row["source"] and row["path"][-1] == product
            assert len(row["path"]) == row["hops"] + 1
        checked += len(expected)
    buyers = bundle.nodes.loc[bundle.nodes["kind"] == model.SUPPLIER, "id"]
    for buyer in buyers[:10]:
        reaching = nx.single_target_shortest_path_length(graph, buyer, cutoff=6)
        expected = {
            node: hops for node, hops in dict(reaching).items() if hops > 0 and node in sources
        }
        rows = store.query("sources_reaching_buyer", {"buyer": buyer, "limit": "1000"})
        assert {r["source"]: r["hops"] for r in rows} == expected, buyer
        checked += len(expected)
    assert checked > 20  # the graph has chains in it


def test_exposure_paths_only_walk_through_exposed_nodes(store):
    bundle = chain_bundle()
    store.load(bundle)
    results = given_results()
    store.write_results(bundle, results)
    assert len(store.query("exposure_paths", {"product": "controller"})) == 1
    results.loc["board", "reach"] = 0.0  # the board no longer carries exposure
    store.write_results(bundle, results)
    assert store.query("exposure_paths", {"product": "controller"}) == []


def test_a_query_past_its_timeout_ends_with_one_line_and_exit_3(store, neo4j_env):
    store.load(random_bundle(1_000, seed=12))  # a walk that a fast machine cannot finish in 2 ms
    walk = ("sources_reaching_buyer", "--param", "buyer=S0")
    result = run_cli("neo4j", "query", *walk, "--timeout", "0.001", env=neo4j_env)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "did not finish within 0.001 s" in lines[0], result.stderr
    assert "--timeout" in lines[0]


def test_query_parameters_out_of_range_are_exit_2(neo4j_env):
    result = run_cli(
        "neo4j",
        "query",
        "top_exposed_products",
        "--param",
        "limit=99999999999999999999",
        env=neo4j_env,
    )
    assert result.returncode == 2, result.stderr
    assert "limit must be from 0 to 9223372036854775807" in result.stderr
    assert "Traceback" not in result.stderr


def test_query_tables_strip_terminal_escapes(store, neo4j_env):
    bundle = chain_bundle()
    bundle.nodes.loc[0, "name"] = (
        "\x1b[31mDandong\x1b]8;;http://evil.example\x07PCB\x1b]8;;\x07\x07"
    )
    store.load(bundle)
    store.write_results(bundle, given_results())
    table = run_cli("neo4j", "query", "top_exposed_suppliers", env=neo4j_env)
    assert table.returncode == 0, table.stderr
    assert "DandongPCB" in table.stdout
    assert not any(c in table.stdout for c in "\x1b\x07\x9b")
    as_json = run_cli("neo4j", "query", "top_exposed_suppliers", "--format", "json", env=neo4j_env)
    assert "\\u001b[31mDandong" in as_json.stdout  # JSON keeps the value, escaped


def test_load_refuses_column_names_the_server_cannot_take(store, neo4j_env, tmp_path):
    from graphkit.io import write_bundle

    bundle = chain_bundle()
    bundle.nodes["@rid"] = "x"
    bundle.edges["exposure_reach"] = "y"
    with pytest.raises(errors.InvalidInput) as caught:
        store.load(bundle)
    found = {(p.file, p.column) for p in caught.value.problems}
    assert found == {("nodes.csv", "@rid"), ("edges.csv", "exposure_reach")}
    assert sum(counts(store).values()) == 0  # nothing loaded
    write_bundle(bundle, tmp_path / "b")
    result = run_cli("neo4j", "load", str(tmp_path / "b"), env=neo4j_env)
    assert result.returncode == 2, result.stderr
    assert "column '@rid'" in result.stderr and "Traceback" not in result.stderr


def test_a_merged_load_deletes_nothing(store):
    first, second = chain_bundle(), prefixed(chain_bundle(), "b-")
    store.load(first)
    summary = store.load(second, prune=False)
    assert (summary.deleted_nodes, summary.deleted_relationships) == (0, 0)
    assert counts(store) == {k: 2 * v for k, v in bundle_counts(first).items()}


def prefixed(bundle: Bundle, prefix: str) -> Bundle:
    nodes, edges = bundle.nodes.copy(), bundle.edges.copy()
    nodes["id"] = prefix + nodes["id"]
    edges["source"], edges["target"] = prefix + edges["source"], prefix + edges["target"]
    return Bundle(nodes=nodes, edges=edges)


def test_run_with_several_bundles_stores_every_bundle(store, neo4j_env, tmp_path):
    from graphkit.io import write_bundle

    write_bundle(chain_bundle(), tmp_path / "one")
    write_bundle(prefixed(chain_bundle(), "b-"), tmp_path / "two")
    result = run_cli(
        "run",
        str(tmp_path / "one"),
        str(tmp_path / "two"),
        "--out",
        str(tmp_path / "out"),
        "--neo4j",
        env=neo4j_env,
    )
    assert result.returncode == 0, result.stderr
    ids = set(stored_results(store).index)
    assert {"maker", "b-maker", "controller", "b-controller"} <= ids
    assert counts(store) == {k: 2 * v for k, v in bundle_counts(chain_bundle()).items()}


def test_export_streams_the_graph_in_batches(store):
    bundle = random_bundle(20, seed=13)
    store.load(bundle)
    stream = store.stream(batch_size=7)
    node_batches, edge_batches = list(stream.nodes), list(stream.edges)
    assert len(node_batches) == -(-len(bundle.nodes) // 7)
    assert all(list(b.columns) == stream.node_columns for b in node_batches)
    exported = Bundle(
        nodes=pd.concat(node_batches, ignore_index=True),
        edges=pd.concat(edge_batches, ignore_index=True),
    )
    assert_same_bundle(exported, bundle)


# --- neo4j-admin import files -----------------------------------------------------------


def read_admin_import(folder: Path) -> Bundle:
    """The bundle in neo4j-admin import CSVs, read as neo4j-admin reads them: header fields
    name:type, an empty unquoted field is no property, quotes doubled."""
    import csv

    roles = {
        "id:ID": "id",
        ":LABEL": "kind",
        ":START_ID": "source",
        ":END_ID": "target",
        ":TYPE": "kind",
    }
    kinds = {"Supplier": model.SUPPLIER, "Component": model.COMPONENT}

    def table(name: str) -> pd.DataFrame:
        with open(folder / name, encoding="utf-8", newline="") as handle:
            header, *records = list(csv.reader(handle))
        columns = {}
        for i, field in enumerate(header):
            values = [record[i] for record in records]
            if field in roles:
                columns[roles[field]] = [
                    kinds.get(v, v) if field == ":LABEL" else v for v in values
                ]
                continue
            key, kind = field.rsplit(":", 1)
            assert kind in ("string", "float"), field
            columns[key] = (
                [float(v) if v else np.nan for v in values] if kind == "float" else values
            )
        return pd.DataFrame(columns)

    return Bundle(nodes=table("nodes.csv"), edges=table("relationships.csv"))


def admin_bundle() -> Bundle:
    """Hostile text, extra columns, formula starts and full float precision."""
    bundle = hostile_bundle()
    bundle.nodes.loc[1, "name"] = "=cmd|' /C calc'!A0"
    bundle.nodes.loc[2, "name"] = 'tab\tquote" \r\n crlf'
    bundle.edges.loc[0, "share"] = 0.1234567890123456
    bundle.edges["batch_ref"] = ["@SUM(1)"] + [""] * (len(bundle.edges) - 1)
    return bundle


def test_admin_import_csvs_read_back_into_the_same_bundle(tmp_path):
    from graphkit.store.export import write_admin_import
    from graphkit.store.rows import TableStream

    bundle = admin_bundle()
    counts_written = write_admin_import(TableStream.of_bundle(bundle, 5), tmp_path / "a")
    assert counts_written == (len(bundle.nodes), len(bundle.edges))
    header = (tmp_path / "a" / "nodes.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("id:ID,:LABEL,name:string,") and "exposure:float" in header
    rel_header = (tmp_path / "a" / "relationships.csv").read_text().splitlines()[0]
    assert rel_header.startswith(":START_ID,:END_ID,:TYPE,")
    assert {"share:float", "confidence:float", "batch_ref:string"} <= set(rel_header.split(","))
    assert_same_bundle(read_admin_import(tmp_path / "a"), bundle)


def test_admin_import_script_has_the_exact_command(tmp_path):
    from graphkit.store.export import write_admin_import
    from graphkit.store.rows import TableStream

    write_admin_import(TableStream.of_bundle(chain_bundle()), tmp_path / "a", "graph db")
    script = (tmp_path / "a" / "import.sh").read_text()
    assert "neo4j-admin database import full 'graph db' \\\n" in script
    for option in (
        '--nodes="$HERE/nodes.csv"',
        '--relationships="$HERE/relationships.csv"',
        "--multiline-fields=true",
        "--ignore-empty-strings=true",
    ):
        assert f"  {option}" in script
    assert (tmp_path / "a" / "schema.cypher").read_text() == cypher.text("schema")
    subprocess.run(["sh", "-n", str(tmp_path / "a" / "import.sh")], check=True)


def test_admin_import_refuses_a_colon_in_a_column_name(tmp_path):
    from graphkit.store.export import write_admin_import
    from graphkit.store.rows import TableStream

    bundle = chain_bundle()
    bundle.nodes["site:code"] = ""
    with pytest.raises(errors.InvalidInput) as caught:
        write_admin_import(TableStream.of_bundle(bundle), tmp_path / "a")
    assert [(p.file, p.column) for p in caught.value.problems] == [("nodes.csv", "site:code")]
    assert not (tmp_path / "a").exists()


def test_cli_admin_import_from_the_server_and_from_a_bundle(store, neo4j_env, tmp_path):
    from graphkit.io import read_bundle, write_bundle

    bundle = admin_bundle()
    store.load(bundle)
    result = run_cli("neo4j", "export", "--admin-import", str(tmp_path / "s"), env=neo4j_env)
    assert result.returncode == 0, result.stderr
    assert_same_bundle(read_admin_import(tmp_path / "s"), bundle)
    write_bundle(bundle, tmp_path / "b")
    result = run_cli(
        "neo4j",
        "export",
        "--admin-import",
        str(tmp_path / "f"),
        "--bundle",
        str(tmp_path / "b"),
        env={"GRAPHKIT_NEO4J_URI": ""},
    )
    assert result.returncode == 0, result.stderr
    assert_same_bundle(read_admin_import(tmp_path / "f"), read_bundle(tmp_path / "b"))


# --- every Cypher file is run -----------------------------------------------------------


@pytest.fixture
def cypher_files_run(monkeypatch) -> set[str]:
    """Record the name of every Cypher file the store reads to run."""
    names: set[str] = set()
    read = cypher.statements

    def recording(name: str) -> list[str]:
        names.add(name)
        return read(name)

    monkeypatch.setattr(cypher, "statements", recording)
    return names


def all_cypher_files() -> set[str]:
    root = REPO / "cypher"
    return {str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.cypher")}


def test_every_cypher_file_is_run(store, cypher_files_run):
    bundle = chain_bundle()
    store.load(random_bundle(8, seed=6))
    store.load(bundle)  # deletes what the random bundle had
    store.write_results(bundle, given_results())
    store.export()
    store.status()
    for name in cypher.query_names():
        params = {"product": "controller", "buyer": "buyer"}
        wanted = {p.name for p in cypher.query_params(name)}
        store.query(name, {k: v for k, v in params.items() if k in wanted})
    assert cypher_files_run == all_cypher_files()


def test_the_installed_loader_finds_every_file():
    names = {n for n in all_cypher_files() if not n.startswith(cypher.QUERIES)}
    assert {n for n in names if cypher.statements(n)} == names
    assert set(cypher.query_names()) == {
        n.split("/")[1] for n in all_cypher_files() if n.startswith(cypher.QUERIES)
    }


def test_no_cypher_is_inlined_in_the_package():
    import re

    keywords = re.compile(
        r"\b(MATCH|MERGE|CREATE) \(|\bUNWIND \$|\bCREATE (CONSTRAINT|INDEX)\b|\bDETACH DELETE\b"
    )
    for path in (REPO / "graphkit").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        strings = re.findall(r"(?s)(\"\"\".*?\"\"\"|\"[^\"\n]*\"|'[^'\n]*')", source)
        inlined = [s for s in strings if keywords.search(s)]
        assert not inlined, f"{path.name} inlines Cypher: {inlined[:2]}"


def test_query_parameters_are_converted_and_checked():
    statement, values = cypher.bind_query("suppliers_in_scope", {"provinces": "Jilin, CN-JL"})
    assert "$provinces" in statement
    assert values == {
        "provinces": ["Jilin", "CN-JL"],
        "countries": ["KP"],
        "sector": "",
        "limit": 1000,
    }
    _, values = cypher.bind_query("unmapped_inputs", {"threshold": "0.5", "limit": "3"})
    assert values == {"threshold": 0.5, "limit": 3}
    with pytest.raises(errors.UnknownName, match="limit must be int"):
        cypher.bind_query("top_exposed_products", {"limit": "ten"})
    with pytest.raises(errors.UnknownName, match="has no parameter colour"):
        cypher.bind_query("top_exposed_products", {"colour": "red"})
    with pytest.raises(errors.UnknownName, match="unknown query"):
        cypher.bind_query("drop_everything", {})
    with pytest.raises(errors.UnknownName, match="limit must be from 0 to 9223372036854775807"):
        cypher.bind_query("top_exposed_products", {"limit": "99999999999999999999"})
    with pytest.raises(errors.UnknownName, match="limit must be from 0"):
        cypher.bind_query("top_exposed_products", {"limit": "-1"})
    with pytest.raises(errors.UnknownName, match="threshold must be a finite number"):
        cypher.bind_query("unmapped_inputs", {"threshold": "nan"})


# --- bad servers ------------------------------------------------------------------------


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graphkit.cli", *args],
        env=os.environ | env | {"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def closed_port() -> int:
    from neo4j_server import free_port

    return free_port()


BAD_SERVERS = {
    "unreachable": lambda env: env | {"GRAPHKIT_NEO4J_URI": f"bolt://127.0.0.1:{closed_port()}"},
    "unreachable cluster": lambda env: (
        env | {"GRAPHKIT_NEO4J_URI": f"neo4j://127.0.0.1:{closed_port()}"}
    ),
    "wrong password": lambda env: env | {"GRAPHKIT_NEO4J_PASSWORD": DISTINCTIVE_PASSWORD},
    "unknown database": lambda env: env | {"GRAPHKIT_NEO4J_DATABASE": "no_such_graphkit_db"},
}
EXPECTED_MESSAGE = {
    "unreachable": "cannot reach",
    "unreachable cluster": "cannot reach",
    "wrong password": "refused user",
    "unknown database": "does not exist",
}


@pytest.mark.parametrize("case", list(BAD_SERVERS))
@pytest.mark.parametrize("command", [["status"], ["query", "top_exposed_products"]])
def test_bad_server_gives_one_clear_line_and_exit_3(neo4j_env, case, command):
    env = BAD_SERVERS[case](neo4j_env)
    if case != "wrong password":
        env["GRAPHKIT_NEO4J_PASSWORD"] = env["GRAPHKIT_NEO4J_PASSWORD"] or ""
    result = run_cli("neo4j", *command, env=env)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert EXPECTED_MESSAGE[case] in lines[0]
    assert "Traceback" not in result.stderr
    assert env["GRAPHKIT_NEO4J_PASSWORD"] not in result.stdout + result.stderr


def test_password_never_in_settings_repr_or_errors(neo4j_env):
    settings = Settings.from_env(neo4j_env | {"GRAPHKIT_NEO4J_PASSWORD": DISTINCTIVE_PASSWORD})
    assert DISTINCTIVE_PASSWORD not in repr(settings)
    with pytest.raises(BackendError) as caught:
        Neo4jStore(settings)
    assert DISTINCTIVE_PASSWORD not in str(caught.value)


def test_credentials_in_the_uri_are_not_echoed(neo4j_env):
    uri = neo4j_env["GRAPHKIT_NEO4J_URI"].replace("//", f"//root:{DISTINCTIVE_PASSWORD}@")
    uri = uri.rsplit(":", 1)[0] + f":{closed_port()}"
    result = run_cli("neo4j", "status", env=neo4j_env | {"GRAPHKIT_NEO4J_URI": uri})
    assert result.returncode == 3
    assert "not in GRAPHKIT_NEO4J_URI" in result.stderr
    assert DISTINCTIVE_PASSWORD not in result.stdout + result.stderr


def test_missing_uri_is_a_clear_error():
    with pytest.raises(BackendError, match="GRAPHKIT_NEO4J_URI is not set"):
        Settings.from_env({})


# --- command line -----------------------------------------------------------------------


def test_cli_status_and_query_print_tables_and_json(store, neo4j_env):
    bundle = chain_bundle()
    store.load(bundle)
    store.write_results(bundle, given_results())
    status = run_cli("neo4j", "status", "--format", "json", env=neo4j_env)
    assert status.returncode == 0, status.stderr
    assert '"Supplier": 2' in status.stdout
    assert neo4j_env["GRAPHKIT_NEO4J_PASSWORD"] not in status.stdout + status.stderr
    table = run_cli(
        "neo4j", "query", "exposure_paths", "--param", "product=controller", env=neo4j_env
    )
    assert table.returncode == 0, table.stderr
    assert "maker > board > controller" in table.stdout
    as_json = run_cli("neo4j", "query", "top_exposed_products", "--format", "json", env=neo4j_env)
    assert '"id": "controller"' in as_json.stdout


def test_cli_unknown_query_lists_the_available_ones(neo4j_env):
    result = run_cli("neo4j", "query", "no_such_query", env=neo4j_env)
    assert result.returncode == 2
    for name in cypher.query_names():
        assert name in result.stderr


def test_cli_query_needs_its_parameters(neo4j_env):
    result = run_cli("neo4j", "query", "exposure_paths", env=neo4j_env)
    assert result.returncode == 2
    assert "--param product=" in result.stderr


def test_cli_load_and_export_round_trip(store, neo4j_env, tmp_path):
    # the lead's readers and writers; ImportError until merged
    from graphkit.io import read_bundle, write_bundle

    bundle = random_bundle(20, seed=7)
    write_bundle(bundle, tmp_path / "in")
    loaded = run_cli("neo4j", "load", str(tmp_path / "in"), "--batch-size", "6", env=neo4j_env)
    assert loaded.returncode == 0, loaded.stderr
    exported = run_cli("neo4j", "export", str(tmp_path / "out"), env=neo4j_env)
    assert exported.returncode == 0, exported.stderr
    assert read_bundle(tmp_path / "out").digest() == read_bundle(tmp_path / "in").digest()


def test_the_wheel_ships_every_cypher_file(tmp_path):
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q"]
        + ["-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("graphkit-*.whl")
    shipped = {
        name.removeprefix("graphkit/cypher/").removesuffix(".cypher")
        for name in zipfile.ZipFile(wheel).namelist()
        if name.startswith("graphkit/cypher/")
    }
    assert shipped == all_cypher_files()
