"""The synthetic generator: deterministic, valid, and shaped like a real supply chain."""

from __future__ import annotations

from importlib import resources

import networkx as nx
import pandas as pd
import pytest
from bundle_rules import bom_depth, numeric, read_csv_bundle, rule_violations
from click.testing import CliRunner

from graphkit.cli import cli
from graphkit.errors import FileSystemError, InvalidInput
from graphkit.generate import generate_bundle, write_generated
from graphkit.io.atomic import MARKER

N = 3000


@pytest.fixture(scope="module")
def bundle() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_bundle(N, seed=11)


def high_risk_sectors() -> set[str]:
    table = resources.files("graphkit") / "data" / "generator" / "sectors.csv"
    sectors = pd.read_csv(table, dtype=str, keep_default_na=False)
    return set(sectors.loc[sectors["risk"] == "high", "sector"])


def test_same_seed_same_bundle_other_seed_other_bundle(bundle):
    nodes, edges = generate_bundle(N, seed=11)
    pd.testing.assert_frame_equal(nodes, bundle[0])
    pd.testing.assert_frame_equal(edges, bundle[1])
    assert not edges.equals(generate_bundle(N, seed=12)[1])


def test_follows_the_data_model(bundle):
    nodes, edges = bundle
    assert rule_violations(nodes, edges.astype({"share": str, "confidence": str})) == []


def test_node_count_and_mean_degree(bundle):
    nodes, edges = bundle
    assert len(nodes) == N + N // 2
    assert (nodes["kind"] == "supplier").sum() == N
    assert 4.5 <= len(edges) / len(nodes) <= 5.5
    assert set(edges["kind"]) == {"SUPPLIES", "MAKES", "PART_OF", "USED_BY"}


def test_fan_in_is_heavy_tailed(bundle):
    _, edges = bundle
    in_degree = edges.groupby("target").size()
    assert in_degree.max() >= 10 * in_degree.mean()


def test_suppliers_trade_in_cycles(bundle):
    _, edges = bundle
    supplies = edges[edges["kind"] == "SUPPLIES"]
    graph = nx.DiGraph(list(zip(supplies["source"], supplies["target"], strict=True)))
    assert nx.find_cycle(graph)


def test_bills_of_materials_are_deep_trees_and_buyers_only_buy(bundle):
    nodes, edges = bundle
    assert bom_depth(edges) >= 3
    buyers = nodes.loc[nodes["tier_declared"] == "0", "id"]
    assert len(buyers) > 0 and not buyers.isin(edges["source"]).any()


def test_a_few_percent_in_liaoning_or_jilin_mostly_high_risk(bundle):
    nodes, _ = bundle
    suppliers = nodes[nodes["kind"] == "supplier"]
    northeast = suppliers[suppliers["true_province"].isin(["Liaoning", "Jilin"])]
    assert 0.01 <= len(northeast) / len(suppliers) <= 0.06
    assert northeast["sector"].isin(high_risk_sectors()).mean() >= 0.6
    assert (northeast["province"] == "").any(), "some addresses must lack the province"


def test_northeast_addresses_come_in_several_spellings(bundle):
    nodes, _ = bundle
    northeast = nodes[nodes["true_province"].isin(["Liaoning", "Jilin"])]["address"]
    assert northeast.str.contains(r"[\u4e00-\u9fff]").any()
    assert northeast.str.fullmatch(r"[A-Z0-9 ,.']+").any()
    assert northeast.str.contains("Tel ").any()
    assert northeast.str.contains(r"\b1[123]\d{4}\b").any()


def test_every_node_is_connected(bundle):
    nodes, edges = bundle
    assert nodes["id"].isin(pd.concat([edges["source"], edges["target"]])).all()


def test_shares_on_most_edges_and_some_links_inferred(bundle):
    _, edges = bundle
    assert edges["share"].notna().mean() >= 0.7
    known_per_target = edges["share"].notna().groupby(edges["target"]).mean()
    assert known_per_target.isin([0.0, 1.0]).all(), "a target's shares are all known or none"
    confidence = edges["confidence"]
    assert (confidence == 1).mean() >= 0.8 and (confidence < 1).any()


def test_written_bundle_reads_back_valid(tmp_path):
    written = write_generated(tmp_path / "out", 200, seed=5)
    nodes, edges = read_csv_bundle(tmp_path / "out")
    assert written == (len(nodes), len(edges)) and len(nodes) == 300
    assert rule_violations(nodes, edges) == []
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        MARKER,
        "edges.csv",
        "nodes.csv",
    ]
    expected_nodes, _ = generate_bundle(200, seed=5)
    assert list(nodes["id"]) == list(expected_nodes["id"])
    assert numeric(edges["share"]).notna().any()


def test_a_folder_graphkit_did_not_write_is_refused_and_left_alone(tmp_path):
    (tmp_path / "edges.csv").mkdir()
    with pytest.raises(InvalidInput, match="not written by graphkit"):
        write_generated(tmp_path, 50, seed=1)
    assert [p.name for p in tmp_path.iterdir()] == ["edges.csv"]


def test_cli_generates_and_rejects_tiny_graphs(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["generate", "--suppliers", "40", "--seed", "3", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "wrote 60 nodes" in result.output
    assert (tmp_path / "nodes.csv").is_file()
    assert runner.invoke(cli, ["generate", "--suppliers", "5", str(tmp_path)]).exit_code == 2
    blocked = tmp_path / "nodes.csv" / "inside_a_file"
    result = runner.invoke(cli, ["generate", "--suppliers", "40", str(blocked)])
    assert isinstance(result.exception, FileSystemError) and result.exception.exit_code == 2
    assert (
        str(result.exception)
        == f"cannot write {blocked}: a part of the path is a file, not a folder"
    )
