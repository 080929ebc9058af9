"""The Spark engine gives the embedded engine's results (1e-9) on every graph we have.

Spark runs in local mode (one JVM for the whole module). A missing pyspark fails these
tests loudly: the ``spark`` extra is part of the test dependencies.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from engine_graphs import cheese_sandwich, make_bundle
from spark_graphs import random_cyclic_bundle

from graphkit.cli import cli
from graphkit.engines import spark as spark_engine
from graphkit.engines.parquet import export_parquet
from graphkit.errors import ConvergenceError, GraphError, InvalidInput
from graphkit.generate import generate_bundle
from graphkit.graph.rules import MODES
from graphkit.io import read_bundle, write_bundle
from graphkit.model import Bundle
from graphkit.propagation import propagate
from graphkit.screen.sources import source_scores_for

spark_engine.require_pyspark()  # fail the module, with the install hint, if pyspark is missing

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(p.name for p in (ROOT / "sample_graphs").glob("*") if (p / "nodes.csv").is_file())
TINY = ROOT / "tests" / "data" / "tiny"


@pytest.fixture(scope="module")
def spark():
    session = spark_engine.session(
        "local[2]",
        conf={
            "spark.sql.shuffle.partitions": "4",
            "spark.default.parallelism": "2",
            "spark.ui.enabled": "false",
        },
    )
    yield session
    session.stop()


def embedded_table(bundle: Bundle, scores: pd.Series | None = None) -> pd.DataFrame:
    return propagate(bundle, scores, contributions_for=[]).table


def assert_same(spark_table, bundle: Bundle, scores: pd.Series | None = None, modes=MODES):
    """Every column the two engines share is equal: scores to 1e-9, the rest exactly."""
    expected = embedded_table(bundle, scores)
    got = spark_table.toPandas().set_index("id").reindex(expected.index)
    assert list(got.columns) == list(spark_engine.OUTPUT_COLUMNS[1:])
    for column in (*modes, "source_score", "unmapped"):
        np.testing.assert_allclose(got[column], expected[column].astype(float), rtol=0, atol=1e-9)
    for column in set(MODES) - set(modes):
        assert got[column].isna().all()
    tiers = got["tier"].astype("Float64").fillna(-1).to_numpy()
    assert (tiers == expected["tier"].astype("Float64").fillna(-1).to_numpy()).all()
    for column in ("kind", "name", "buyer_facing", "share_imputed"):
        assert (got[column].to_numpy() == expected[column].to_numpy()).all(), column
    return got


def test_bom_rule_and_csv_reading(spark, tmp_path):
    """DESIGN.md's cheese sandwich, read by Spark straight from the CSV folder."""
    bundle = cheese_sandwich()
    write_bundle(bundle, tmp_path / "bundle")
    result = spark_engine.propagate(*spark_engine.read_frames(spark, str(tmp_path / "bundle")))
    got = assert_same(result.table, read_bundle(tmp_path / "bundle"))
    assert got.loc["curry", "reach"] > 0 and got.loc["maker", "reach"] > 0
    assert got.loc["sandwich", ["reach", "share", "path"]].tolist() == [0.0, 0.0, 0.0]


def test_missing_shares_confidences_and_hostile_text(spark, tmp_path):
    """Imputed shares, default confidence 1, formula-like ids and multi-line names."""
    bundle = make_bundle(
        [
            ("=cmd|' /C calc'!A0", "supplier", 0.8),
            ("b", "supplier", None),
            ("c", "supplier", 0.3),
            ("d", "supplier", None),
        ],
        [
            ("=cmd|' /C calc'!A0", "b", None, None),
            ("c", "b", 0.2, 0.5),
            ("d", "b", None, 0.5),
        ],
    )
    bundle.nodes.loc[1, "name"] = 'Line one,\n"quoted" line two — 丹东'
    write_bundle(bundle, tmp_path / "bundle")
    result = spark_engine.propagate(*spark_engine.read_frames(spark, str(tmp_path / "bundle")))
    got = assert_same(result.table, read_bundle(tmp_path / "bundle"))
    assert got.loc["b", "share_imputed"] and got.loc["b", "name"].startswith("Line one,\n")


@pytest.mark.parametrize("seed", [1])
def test_random_cyclic_graphs(spark, seed):
    bundle = random_cyclic_bundle(n_suppliers=25, n_components=15, seed=seed)
    result = spark_engine.propagate(*spark_engine.frames_from_bundle(spark, bundle))
    assert_same(result.table, bundle)
    assert result.params["iterations"] > 2  # loops were iterated, not one pass


def test_generated_bundle_through_parquet_export(spark, tmp_path):
    """A generated bundle (cycles, messy addresses) with screening scores, as on a cluster."""
    nodes, edges = generate_bundle(60, seed=3)
    write_bundle(Bundle(nodes, edges), tmp_path / "csv")
    bundle = read_bundle(tmp_path / "csv")
    scores = source_scores_for(bundle)
    export_parquet(bundle, tmp_path / "parquet", source_scores=scores, rows_per_file=40)
    assert len(list((tmp_path / "parquet" / "edges").glob("part-*.parquet"))) > 1
    result = spark_engine.propagate(*spark_engine.read_frames(spark, str(tmp_path / "parquet")))
    got = assert_same(result.table, bundle, scores)
    assert (got["source_score"] > 0).any()


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_graphs(spark, tmp_path, name):
    bundle = read_bundle(ROOT / "sample_graphs" / name)
    scores = source_scores_for(bundle)
    export_parquet(bundle, tmp_path / name, source_scores=scores)
    result = spark_engine.propagate(*spark_engine.read_frames(spark, str(tmp_path / name)))
    assert_same(result.table, bundle, scores)


def test_one_mode_leaves_the_others_empty(spark):
    bundle = read_bundle(TINY)
    result = spark_engine.propagate(*spark_engine.frames_from_bundle(spark, bundle), ["path"])
    assert_same(result.table, bundle, modes=("path",))


def test_too_few_iterations_is_reported(spark):
    bundle = random_cyclic_bundle(n_suppliers=8, n_components=4, seed=1)
    frames = spark_engine.frames_from_bundle(spark, bundle)
    with pytest.raises(ConvergenceError, match="did not converge"):
        spark_engine.propagate(*frames, max_iter=1)


def test_steps_that_first_reach_nodes_do_not_count_towards_max_iter(spark):
    """A 12-supplier chain needs 12 steps to reach its end; max_iter=2 caps only the rest."""
    names = [f"s{i}" for i in range(12)]
    nodes = [(name, "supplier", 0.8 if name == "s0" else None) for name in names]
    bundle = make_bundle(nodes, [(a, b, 0.5, 0.9) for a, b in zip(names, names[1:])])
    result = spark_engine.propagate(*spark_engine.frames_from_bundle(spark, bundle), max_iter=2)
    assert result.params["iterations"] >= 12  # 11 to reach s11, 1 to see nothing change
    got = assert_same(result.table, bundle)
    assert got.at["s11", "path"] == pytest.approx(0.8 * 0.9**11)


def test_bad_csv_reports_every_problem(spark, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "nodes.csv").write_text(
        "id,kind,exposure\na,supplier,0.5\na,supplier,\nb,factory,lots\nc,component,2\n",
        encoding="utf-8",
    )
    (folder / "edges.csv").write_text(
        "source,target,kind,share\na,ghost,SUPPLIES,\nc,a,MAKES,0.5\na,b,OWNS,x\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as caught:
        spark_engine.read_frames(spark, str(folder))
    found = {(p.file, p.column, _what(p.message)) for p in caught.value.problems}
    assert found == {
        ("nodes.csv", "id", "duplicate id"),
        ("nodes.csv", "kind", "unknown node kind"),
        ("nodes.csv", "source_score", "not a number"),
        ("nodes.csv", "source_score", "outside [0, 1]"),
        ("edges.csv", "target", "unknown node (not in the nodes table)"),
        ("edges.csv", "kind", "unknown edge kind"),
        ("edges.csv", "kind", "edge kind does not fit its endpoints"),
        ("edges.csv", "share", "not a number"),
    }


def _what(message: str) -> str:
    """'unknown edge kind in 2 row(s), e.g. ...' -> 'unknown edge kind'."""
    return message.split(" row(s)")[0].rsplit(" in ", 1)[0]


def test_cli_export_then_spark_propagate(spark, tmp_path):
    runner = CliRunner()
    exported = runner.invoke(cli, ["export", "--parquet", str(TINY), str(tmp_path / "pq")])
    assert exported.exit_code == 0, exported.output
    args = ["spark", "propagate", str(tmp_path / "pq"), "--out", str(tmp_path / "out")]
    ran = runner.invoke(cli, [*args, "--master", "local[2]"])
    assert ran.exit_code == 0, ran.output
    run_info = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert run_info["nodes"] == 6 and run_info["engine"] == "spark"
    table = pd.read_parquet(tmp_path / "out" / "exposures.parquet").set_index("id")
    bundle = read_bundle(TINY)
    expected = embedded_table(bundle, source_scores_for(bundle))
    for mode in MODES:
        np.testing.assert_allclose(table.loc[expected.index, mode], expected[mode], atol=1e-9)
    again = runner.invoke(cli, [*args, "--mode", "reach"])  # replaces the earlier output
    assert again.exit_code == 0, again.output
    assert pd.read_parquet(tmp_path / "out" / "exposures.parquet")["share"].isna().all()


def test_propagate_engine_spark_equals_embedded(spark, tmp_path):
    sample = ROOT / "sample_graphs" / "electronics_machinery"
    args = ["propagate", str(sample), "--engine", "spark", "--master", "local[2]"]
    ran = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "out")])
    assert ran.exit_code == 0, ran.output
    table = pd.read_parquet(tmp_path / "out" / "exposures.parquet").set_index("id")
    bundle = read_bundle(sample)
    expected = embedded_table(bundle, source_scores_for(bundle))
    for mode in MODES:
        np.testing.assert_allclose(table.loc[expected.index, mode], expected[mode], atol=1e-9)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["exposures.parquet", "run.json"]
    refused = CliRunner().invoke(
        cli,
        [*args, "--priors", str(ROOT / "sample_graphs" / "priors_illustrative.csv"), "--out", "x"],
    )
    assert refused.exit_code == 2 and "embedded engine only" in refused.output


def test_cli_rejects_a_folder_that_is_no_bundle(tmp_path):
    result = CliRunner().invoke(cli, ["spark", "propagate", str(tmp_path), "--out", "x"])
    assert isinstance(result.exception, InvalidInput) and result.exception.exit_code == 2
    assert "nor a Parquet export" in str(result.exception)


def test_missing_pyspark_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(GraphError, match=r"pip install 'graphkit\[spark\]'"):
        spark_engine.require_pyspark()
