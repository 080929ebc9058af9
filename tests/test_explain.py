"""Explanations (top-k paths, explain_node), hidden tiers (map_next), what-if and the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from engine_graphs import all_paths_into, cheese_sandwich, graphs, make_bundle, plain_graph
from hypothesis import HealthCheck, given, settings

from graphkit.cli import cli
from graphkit.errors import GraphError, UnknownName
from graphkit.explain import explain_node, top_paths, whatif
from graphkit.io import read_bundle, write_bundle
from graphkit.io.atomic import MARKER
from graphkit.propagation import propagate
from graphkit.propagation.priors import map_next
from graphkit.screen.sources import source_scores_for

SAMPLES = Path(__file__).resolve().parent.parent / "sample_graphs"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if (p / "expected.json").exists())


def brute_path_values(bundle, target: str) -> list[float]:
    """Values of every exposure path into target (BOM rule honoured), largest first."""
    s, _, into = plain_graph(bundle)
    values = [
        s[p[0]] * float(np.prod([e[2] for e in used])) for p, used in all_paths_into(into, target)
    ]
    return sorted((v for v in values if v > 0), reverse=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(acyclic=False))
def test_top_paths_are_the_k_best_simple_paths(bundle):
    table = propagate(bundle, modes=("path",)).table
    for target in table.index:
        found = top_paths(bundle, target, k=4)
        expected = brute_path_values(bundle, target)[:4]
        assert [p.value for p in found] == pytest.approx(expected, abs=1e-12)
        if found:
            assert found[0].value == pytest.approx(table.at[target, "path"], abs=1e-12)
        for path in found:
            assert path.nodes[0] == path.source and path.nodes[-1] == target
            assert [h.source for h in path.hops] == path.nodes[:-1]
            assert [h.target for h in path.hops] == path.nodes[1:]


def test_cheese_sandwich_paths_never_run_through_the_makers_purchases():
    bundle = cheese_sandwich()
    assert top_paths(bundle, "sandwich") == []
    paths = top_paths(bundle, "retailer", k=10)
    assert [p.nodes for p in paths] == [["prawnco", "prawns", "curry", "retailer"]]
    hop = paths[0].hops[-1]
    assert (hop.kind, hop.share, hop.confidence) == ("USED_BY", 0.5, 0.8)
    assert hop.evidence == "evidence curry->retailer"
    assert paths[0].source_evidence == "explicit exposure"
    assert paths[0].value == pytest.approx(0.72)


def test_path_evidence_comes_from_the_given_series():
    evidence = pd.Series({"prawnco": "Dalian address, seafood sector"})
    paths = top_paths(cheese_sandwich(), "curry", evidence=evidence)
    assert paths[0].source_evidence == "Dalian address, seafood sector"


def test_unknown_target_is_a_clear_error():
    with pytest.raises(GraphError, match="'nope' is not in the bundle"):
        top_paths(cheese_sandwich(), "nope")


def test_explain_node_collects_scores_sources_and_paths():
    bundle = cheese_sandwich()
    info = explain_node(bundle, propagate(bundle), "retailer")
    assert info["scores"]["share"] == pytest.approx(0.18)
    assert info["tier"] == 3 and info["n_sources"] == 1
    assert {(r["source"], r["mode"]) for r in info["top_sources"]} == {
        ("prawnco", m) for m in ("reach", "share", "path")
    }
    assert info["paths"][0]["nodes"] == ["prawnco", "prawns", "curry", "retailer"]
    json.dumps(info)  # serialisable for the CLI and notebook


def test_map_next_ranks_unmapped_tiers_by_impact():
    bundle = make_bundle(
        [("big", "supplier", None), ("small", "supplier", None), ("buyer", "supplier", None)],
        [("big", "buyer", 0.6, 1.0), ("small", "buyer", 0.1, 1.0)],
    )
    priors = pd.DataFrame({"country": ["*"], "sector": ["*"], "expected_exposure": [0.2]})
    ranked = map_next(bundle, propagate(bundle), priors, target="buyer")
    assert ranked["supplier"].tolist() == ["big", "buyer", "small"]
    assert ranked["impact_share"].tolist() == pytest.approx([0.6 * 0.2, 0.3 * 0.2, 0.1 * 0.2])
    assert ranked["impact_reach"].tolist() == pytest.approx([0.2, 0.2, 0.2])
    # the impacts add up to the change in the buyer's expected share exposure
    table = propagate(bundle, priors=priors).table
    assert ranked["impact_share"].sum() == pytest.approx(table.at["buyer", "share_expected"])


def test_whatif_reports_the_change_per_product_largest_first():
    bundle = cheese_sandwich()
    result = whatif(bundle, remove_nodes=["prawnco"], mode="reach")
    assert result.iloc[0]["delta"] == pytest.approx(-0.9)
    assert set(result["id"]) == {"curry", "sandwich", "retailer"}
    assert result.set_index("id").at["retailer", "after"] == 0.0
    cut = whatif(bundle, set_shares={("prawns", "curry"): 0.1}, mode="share")
    assert cut.set_index("id").at["curry", "after"] == pytest.approx(0.1 * 0.9)


def test_whatif_rejects_unknown_nodes_and_edges():
    with pytest.raises(GraphError, match=r"node 'ghost'.*edge a->b"):
        whatif(cheese_sandwich(), remove_nodes=["ghost"], remove_edges=[("a", "b")])


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_samples_expose_exactly_the_expected_products_via_the_key_paths(name):
    folder = SAMPLES / name
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    bundle = read_bundle(folder)
    scores = source_scores_for(bundle)
    table = propagate(bundle, scores).table
    for mode in ("reach", "share", "path"):
        assert (table.loc[expected["exposed_products"], mode] > 0).all()
        assert (table.loc[expected["clean_products"], mode] == 0).all()
    for key_path in expected.get("key_paths", []):
        found = top_paths(bundle, key_path[-1], k=10, source_scores=scores)
        assert key_path in [p.nodes for p in found]


# --- CLI ------------------------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def hostile_bundle(tmp_path: Path) -> Path:
    bundle = cheese_sandwich()
    bundle.nodes.loc[bundle.nodes["id"] == "curry", "name"] = '=HYPERLINK("http://x","curry")'
    folder = tmp_path / "bundle"
    write_bundle(bundle, folder)
    return folder


def test_cli_propagate_writes_the_result_files(tmp_path):
    out = tmp_path / "out"
    result = run("propagate", str(hostile_bundle(tmp_path)), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        MARKER, "contributions.csv", "exposures.csv", "paths.csv", "paths.json", "run.json",
    ]  # fmt: skip
    rows = {r["id"]: r for r in csv.DictReader((out / "exposures.csv").open(encoding="utf-8"))}
    assert rows["curry"]["name"].startswith("'=")  # formula injection neutralised
    assert float(rows["retailer"]["share"]) == pytest.approx(0.18)
    assert rows["sandwich"]["tier"] == ""
    paths = json.loads((out / "paths.json").read_text())
    assert paths["retailer"][0]["nodes"] == ["prawnco", "prawns", "curry", "retailer"]
    hops = [r for r in csv.DictReader((out / "paths.csv").open(encoding="utf-8"))]
    first = [(h["from"], h["to"]) for h in hops if h["target"] == "retailer" and h["rank"] == "1"]
    assert first == [("prawnco", "prawns"), ("prawns", "curry"), ("curry", "retailer")]
    run_info = json.loads((out / "run.json").read_text())
    assert run_info["graphkit_version"] and len(run_info["inputs"]["bundle"]["sha256"]) == 64
    assert set(run_info["timings_s"]) >= {"screen", "propagate", "explain", "total"}
    assert set(run_info["timings_s"]["engine"]) >= {"reach", "share", "path"}


def test_cli_propagate_single_mode_leaves_other_columns_empty(tmp_path):
    out = tmp_path / "out"
    assert run("propagate", str(hostile_bundle(tmp_path)), "--mode", "path", "--out", str(out))
    rows = list(csv.DictReader((out / "exposures.csv").open(encoding="utf-8")))
    assert all(r["reach"] == "" and r["share"] == "" and r["path"] != "" for r in rows)


def test_cli_propagate_with_priors_adds_expected_columns(tmp_path):
    out = tmp_path / "out"
    priors = SAMPLES / "priors_illustrative.csv"
    result = run("propagate", str(SAMPLES / "seafood_ready_meals"), "--priors", str(priors),
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    header = (out / "exposures.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith("prior,reach_expected,share_expected")


def test_cli_failed_run_leaves_no_output(tmp_path):
    out = tmp_path / "out"
    bad = tmp_path / "priors.csv"
    bad.write_text("country,sector\nCN,*\n")
    with pytest.raises(GraphError, match="priors table lacks"):
        run("propagate", str(hostile_bundle(tmp_path)), "--priors", str(bad), "--out", str(out))
    assert not out.exists() or not any(out.iterdir())


def test_cli_propagate_takes_tolerance_and_round_cap(tmp_path):
    """The error names the cap the user can raise; the values used are in run.json."""
    folder, out = tmp_path / "loop", tmp_path / "out"
    loop = make_bundle(
        [("a", "supplier", 0.5), ("b", "supplier", None), ("c", "supplier", None)],
        [("a", "b", 0.1, 0.99), ("b", "c", 0.9, 0.99), ("c", "b", 0.9, 0.99)],
    )
    write_bundle(loop, folder)
    with pytest.raises(GraphError, match=r"reach mode did not converge.*after 3 iter"):
        run("propagate", str(folder), "--max-iter", "3", "--out", str(out))
    assert not out.exists() or not any(out.iterdir())
    result = run("propagate", str(folder), "--tol", "1e-6", "--max-iter", "500", "--out", str(out))
    assert result.exit_code == 0, result.output
    parameters = json.loads((out / "run.json").read_text())["parameters"]
    assert (parameters["tol"], parameters["max_iter"]) == (1e-6, 500)
    rejected = CliRunner().invoke(cli, ["propagate", str(folder), "--max-iter", "0", "--out", "x"])
    assert rejected.exit_code == 2 and "--max-iter" in rejected.output


def test_cli_paths_table_and_json(tmp_path):
    folder = hostile_bundle(tmp_path)
    table = run("paths", str(folder), "--target", "retailer", "-k", "3")
    assert table.exit_code == 0 and "prawnco -MAKES-> prawns -PART_OF-> curry" in table.output
    printed = run("paths", str(folder), "--target", "retailer", "--format", "json").output
    as_json = json.loads(printed)
    assert as_json[0]["value"] == pytest.approx(0.72)


def test_cli_whatif(tmp_path):
    folder = hostile_bundle(tmp_path)
    result = run("whatif", str(folder), "--remove-edge", "prawns,curry", "--set-share",
                 "maker,curry,0.2", "--mode", "share", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.output)}
    assert rows["curry"]["after"] == pytest.approx(0.2 * 0.45)  # BOM now unknown: full maker
    bad = run("whatif", str(folder), "--set-share", "maker,curry")
    assert bad.exit_code == 2 and "SRC,DST,SHARE" not in bad.output and "3 comma" in bad.output


def test_cli_unknown_names_are_invalid_input(tmp_path):
    folder = hostile_bundle(tmp_path)
    with pytest.raises(UnknownName, match="'ghost'") as raised:
        run("whatif", str(folder), "--remove-node", "ghost")
    assert raised.value.exit_code == 2
    with pytest.raises(UnknownName):
        run("paths", str(folder), "--target", "ghost")
