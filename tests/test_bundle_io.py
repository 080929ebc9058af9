"""Round trips between formats are lossless; GraphML opens in networkx; info is right."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from graphkit.errors import FileSystemError
from graphkit.facts import bundle_facts
from graphkit.io import read_bundle, write_bundle

TINY = Path(__file__).parent / "data" / "tiny"
HOSTILE = '=HYPERLINK("http://evil.invalid","x")'


def hostile_bundle(tmp_path: Path) -> Path:
    """The tiny bundle plus cells a spreadsheet would run and text that looks escaped."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    nodes = pd.read_csv(TINY / "nodes.csv", dtype=str, keep_default_na=False)
    nodes.loc[0, "name"] = HOSTILE
    nodes.loc[1, "name"] = "'=already quoted"
    nodes.loc[2, "audit_status"] = "-5 days"
    nodes.loc[3, "address"] = "@home 丹東市 振興區"
    nodes.to_csv(folder / "nodes.csv", index=False)
    (folder / "edges.csv").write_bytes((TINY / "edges.csv").read_bytes())
    return folder


@pytest.mark.parametrize("target", ["copy", "copy.xlsx", "copy.json"])
def test_round_trip_is_lossless(tmp_path, target):
    original = read_bundle(hostile_bundle(tmp_path))
    written = write_bundle(original, tmp_path / target)
    again = read_bundle(written)
    pd.testing.assert_frame_equal(original.nodes, again.nodes)
    pd.testing.assert_frame_equal(original.edges, again.edges)
    assert original.digest() == again.digest()
    assert again.nodes.loc[0, "name"] == HOSTILE
    assert "audit_status" in again.nodes.columns


def test_csv_cells_are_safe_in_spreadsheets(tmp_path):
    written = write_bundle(read_bundle(hostile_bundle(tmp_path)), tmp_path / "out")
    raw = pd.read_csv(written / "nodes.csv", dtype=str, keep_default_na=False)
    assert raw.loc[0, "name"] == "'" + HOSTILE
    # a cell already starting with an apostrophe is read as escaped, as spreadsheets show it
    assert raw.loc[1, "name"] == "'=already quoted"
    assert raw.loc[2, "audit_status"] == "'-5 days"
    assert not any(str(v).startswith(("=", "+", "-", "@")) for v in raw.to_numpy().ravel())


def test_excel_cells_are_text_not_formulas(tmp_path):
    from openpyxl import load_workbook

    path = write_bundle(read_bundle(hostile_bundle(tmp_path)), tmp_path / "b.xlsx")
    sheet = load_workbook(path)["nodes"]
    assert sheet["C2"].value == "'" + HOSTILE
    assert sheet["C2"].data_type == "s"


def test_graphml_opens_in_networkx(tmp_path):
    bundle = read_bundle(TINY)
    path = write_bundle(bundle, tmp_path / "tiny.graphml")
    graph = nx.read_graphml(path)
    assert set(graph.nodes) == set(bundle.nodes["id"])
    assert graph.number_of_edges() == len(bundle.edges)
    assert graph.edges["board", "controller"]["share"] == pytest.approx(0.3)
    assert graph.nodes["pcb"]["address"].startswith("No. 8 Binjiang Rd")
    assert graph.nodes["ctrl_maker"]["audit_status"] == "audited 2025"


def test_postal_codes_keep_leading_zeros(tmp_path):
    folder = tmp_path / "zeros"
    folder.mkdir()
    (folder / "nodes.csv").write_text(
        "id,kind,country,postcode\n007,supplier,CN,010020\n8,supplier,CN,118000\n"
    )
    (folder / "edges.csv").write_text("source,target,kind\n007,8,SUPPLIES\n")
    bundle = read_bundle(folder)
    assert bundle.nodes["id"].tolist() == ["007", "8"]
    again = read_bundle(write_bundle(bundle, tmp_path / "zeros.xlsx"))
    assert again.nodes["postcode"].tolist() == ["010020", "118000"]


def test_failed_write_leaves_no_output(tmp_path, monkeypatch):
    bundle = read_bundle(TINY)
    target = tmp_path / "out"

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", explode)
    with pytest.raises(FileSystemError, match="cannot write .*out: disk full"):
        write_bundle(bundle, target)
    assert not target.exists() or not any(target.iterdir())
    assert [p.name for p in tmp_path.iterdir() if p.name != "out"] == []


def test_summary_facts():
    facts = bundle_facts(read_bundle(TINY))
    assert facts["nodes_by_kind"] == {"component": 3, "supplier": 3}
    assert facts["edges_by_kind"] == {"MAKES": 2, "PART_OF": 2, "USED_BY": 1}
    assert facts["buyer_facing"] == 2  # the CNC machine (final product) and the buyer
    assert facts["nodes_by_distance_to_buyer"] == {0: 2, 1: 1, 2: 2, 3: 1}
    assert facts["weakly_connected_parts"] == 1
    assert facts["cycles"] == 0
    assert facts["most_unmapped"] == {"machine": 0.6, "controller": 0.4}


def test_summary_finds_cycles(tmp_path):
    folder = tmp_path / "cyc"
    folder.mkdir()
    (folder / "nodes.csv").write_text(
        "id,kind,country\na,supplier,CN\nb,supplier,CN\nc,supplier,CN\nd,supplier,DE\n"
    )
    (folder / "edges.csv").write_text(
        "source,target,kind\na,b,SUPPLIES\nb,c,SUPPLIES\nc,a,SUPPLIES\nc,d,SUPPLIES\n"
    )
    facts = bundle_facts(read_bundle(folder))
    assert (facts["cycles"], facts["nodes_in_cycles"]) == (1, 3)
    assert facts["nodes_by_distance_to_buyer"] == {0: 1, 1: 1, 2: 1, 3: 1}


def test_info_cli_json():
    result = subprocess.run(
        [sys.executable, "-m", "graphkit.cli", "info", str(TINY), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["max_distance_to_buyer"] == 3


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from graphkit.cli import cli\n"
        "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit: pass\n"
        "heavy = [m for m in ('pandas', 'scipy', 'neo4j', 'pyvis', 'numpy') if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "HEAVY:"
