"""Every validation rule, each with a failing fixture and its exact message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from graphkit.errors import InvalidInput
from graphkit.io import read_bundle

GOOD_NODES = """id,kind,name,country
s1,supplier,Supplier One,CN
s2,supplier,Supplier Two,DE
c1,component,Board,
c2,component,Machine,
"""
GOOD_EDGES = """source,target,kind,share,confidence
s1,c1,MAKES,1,1
c1,c2,PART_OF,0.5,0.9
c2,s2,USED_BY,,
"""


def write_bundle_files(folder: Path, nodes: str | bytes, edges: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in (("nodes.csv", nodes), ("edges.csv", edges)):
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        read_bundle(folder)
    return [str(p) for p in caught.value.problems]


def test_good_bundle_is_valid(tmp_path):
    bundle = read_bundle(write_bundle_files(tmp_path / "b", GOOD_NODES, GOOD_EDGES))
    assert list(bundle.nodes["id"]) == ["s1", "s2", "c1", "c2"]
    assert bundle.edges["share"].tolist()[:2] == [1.0, 0.5]
    assert pd.isna(bundle.edges["confidence"].iloc[2])
    assert bundle.warnings == []


NODE_CASES = {
    "missing column": (
        "id,name\ns1,One\n",
        "error: {n}, row 1, column 'kind': required column is missing (found: id, name)",
    ),
    "empty id": (
        GOOD_NODES + ",supplier,Nameless,CN\n",
        "error: {n}, row 6, column 'id': id is empty",
    ),
    "duplicate id": (
        GOOD_NODES + "s1,supplier,Again,CN\n",
        "error: {n}, row 6, column 'id': duplicate id 's1' (first on row 2)",
    ),
    "unknown node kind": (
        GOOD_NODES + "f1,factory,Plant,CN\n",
        "error: {n}, row 6, column 'kind': unknown node kind 'factory' "
        "(expected one of: supplier, component)",
    ),
    "country not ISO": (
        GOOD_NODES + "s3,supplier,Plant,China\n",
        "error: {n}, row 6, column 'country': 'China' is not an ISO 3166-1 alpha-2 code "
        "(e.g. CN, KP, GB)",
    ),
    "exposure not a number": (
        "id,kind,country,exposure\ns1,supplier,CN,high\ns2,supplier,DE,\nc1,component,,\n"
        "c2,component,,\n",
        "error: {n}, row 2, column 'exposure': 'high' is not a number",
    ),
    "exposure out of range": (
        "id,kind,country,exposure\ns1,supplier,CN,1.5\ns2,supplier,DE,\nc1,component,,\n"
        "c2,component,,\n",
        "error: {n}, row 2, column 'exposure': 1.5 is outside [0, 1]",
    ),
    "header only": ("id,kind,name,country\n", "error: {n}: file has a header but no rows"),
    "empty file": ("", "error: {n}: file is empty"),
    "whitespace file": ("  \n\n", "error: {n}: file is empty"),
}


@pytest.mark.parametrize("case", NODE_CASES)
def test_node_rule(tmp_path, case):
    nodes, expected = NODE_CASES[case]
    folder = write_bundle_files(tmp_path / "b", nodes, GOOD_EDGES)
    assert expected.format(n=folder / "nodes.csv") in problems_of(folder)


EDGE_CASES = {
    "missing column": (
        "source,kind\ns1,MAKES\n",
        "error: {e}, row 1, column 'target': required column is missing (found: source, kind)",
    ),
    "empty source": (
        GOOD_EDGES + ",c1,MAKES,,\n",
        "error: {e}, row 5, column 'source': source is empty",
    ),
    "unknown node": (
        GOOD_EDGES + "s1,ghost,SUPPLIES,,\n",
        "error: {e}, row 5, column 'target': unknown node 'ghost' (not in the nodes table)",
    ),
    "unknown edge kind": (
        GOOD_EDGES + "s1,s2,SELLS,,\n",
        "error: {e}, row 5, column 'kind': unknown edge kind 'SELLS' "
        "(expected one of: SUPPLIES, MAKES, PART_OF, USED_BY)",
    ),
    "kind does not fit endpoints": (
        GOOD_EDGES + "s1,c2,PART_OF,,\n",
        "error: {e}, row 5, column 'kind': PART_OF goes from a component to a component, "
        "but 's1' is a supplier and 'c2' is a component",
    ),
    "share not a number": (
        GOOD_EDGES + "s1,s2,SUPPLIES,lots,\n",
        "error: {e}, row 5, column 'share': 'lots' is not a number",
    ),
    "share out of range": (
        GOOD_EDGES + "s1,s2,SUPPLIES,-0.2,\n",
        "error: {e}, row 5, column 'share': -0.2 is outside [0, 1]",
    ),
    "confidence not a number": (
        GOOD_EDGES + "s1,s2,SUPPLIES,,sure\n",
        "error: {e}, row 5, column 'confidence': 'sure' is not a number",
    ),
    "confidence out of range": (
        GOOD_EDGES + "s1,s2,SUPPLIES,,1.01\n",
        "error: {e}, row 5, column 'confidence': 1.01 is outside [0, 1]",
    ),
    "self-loop": (
        GOOD_EDGES + "s1,s1,SUPPLIES,,\n",
        "error: {e}, row 5, column 'target': self-loop: 's1' points to itself",
    ),
    "duplicate edge": (
        GOOD_EDGES + "s1,c1,MAKES,,\n",
        "error: {e}, row 5, column 'target': duplicate edge 's1 -> c1' (first on row 2)",
    ),
    "header only": ("source,target,kind\n", "error: {e}: file has a header but no rows"),
}


@pytest.mark.parametrize("case", EDGE_CASES)
def test_edge_rule(tmp_path, case):
    edges, expected = EDGE_CASES[case]
    folder = write_bundle_files(tmp_path / "b", GOOD_NODES, edges)
    assert expected.format(e=folder / "edges.csv") in problems_of(folder)


def test_incoming_shares_above_one_names_every_row(tmp_path):
    edges = GOOD_EDGES.replace("c1,c2,PART_OF,0.5,0.9", "c1,c2,PART_OF,0.8,0.9")
    nodes = GOOD_NODES + "c3,component,Motor,\n"
    edges += "c3,c2,PART_OF,0.4,\ns1,c3,MAKES,,\n"
    folder = write_bundle_files(tmp_path / "b", nodes, edges)
    expected = (
        f"error: {folder / 'edges.csv'}, row 3, column 'share': "
        "shares of the edges into 'c2' sum to 1.2 (> 1): rows 3, 5"
    )
    assert expected in problems_of(folder)


def test_all_problems_reported_at_once_in_row_order(tmp_path):
    nodes = GOOD_NODES + "s1,supplier,Dup,CN\nx,thing,,\n"
    edges = GOOD_EDGES + "s1,s1,SUPPLIES,2,\ns1,ghost,SUPPLIES,,\n"
    folder = write_bundle_files(tmp_path / "b", nodes, edges)
    found = [p for p in problems_of(folder) if p.startswith("error")]
    assert len(found) == 5
    n, e = folder / "nodes.csv", folder / "edges.csv"
    assert [p.split(", column")[0] for p in found] == [
        f"error: {n}, row 6",
        f"error: {n}, row 7",
        f"error: {e}, row 5",
        f"error: {e}, row 5",
        f"error: {e}, row 6",
    ]


def test_non_utf8_file_says_what_it_looks_like(tmp_path):
    nodes = (GOOD_NODES + "s9,supplier,丹东华信电子有限公司,CN\n").encode("gb18030")
    folder = write_bundle_files(tmp_path / "b", nodes, GOOD_EDGES)
    (message,) = problems_of(folder)
    assert message.startswith(f"error: {folder / 'nodes.csv'}, row 6: file is not UTF-8")
    assert "GB18030/GBK (Simplified Chinese)" in message


def test_utf16_file_is_recognised(tmp_path):
    folder = write_bundle_files(tmp_path / "b", GOOD_NODES.encode("utf-16"), GOOD_EDGES)
    (message,) = problems_of(folder)
    assert "file is not UTF-8" in message and "UTF-16" in message


def test_utf8_with_bom_is_accepted(tmp_path):
    folder = write_bundle_files(tmp_path / "b", "\ufeff" + GOOD_NODES, GOOD_EDGES)
    assert list(read_bundle(folder).nodes.columns)[:2] == ["id", "kind"]


def test_missing_file_is_an_error(tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "nodes.csv").write_text(GOOD_NODES)
    assert problems_of(folder) == [f"error: {folder / 'edges.csv'}: file is missing"]


def test_ragged_csv_names_the_line(tmp_path):
    folder = write_bundle_files(tmp_path / "b", GOOD_NODES + "s9,supplier,A,CN,extra,more\n", "")
    found = problems_of(folder)
    assert any("row 6" in p and "cannot parse CSV" in p for p in found)


def test_warnings_for_suspicious_but_legal_data(tmp_path):
    nodes = GOOD_NODES + "s3,supplier,Lonely Ltd,\n"
    edges = GOOD_EDGES + "s1,s2,SUPPLIES,,\n"
    edges_with_mixed = edges + "s3,c2,MAKES,,\n"
    folder = write_bundle_files(tmp_path / "b", nodes, edges_with_mixed)
    bundle = read_bundle(folder)
    found = [str(p) for p in bundle.warnings]
    n, e = folder / "nodes.csv", folder / "edges.csv"
    assert f"warning: {n}, row 6, column 'country': supplier 's3' has no country" in found
    assert (
        f"warning: {e}, row 6, column 'share': some edges into 'c2' have a share and others do "
        "not; the missing ones get an equal split of the remainder"
    ) in found
    isolated = write_bundle_files(tmp_path / "c", GOOD_NODES + "s4,supplier,Alone,FR\n", GOOD_EDGES)
    found = [str(p) for p in read_bundle(isolated).warnings]
    assert found == [
        f"warning: {isolated / 'nodes.csv'}, row 6, column 'id': node 's4' has no edges (isolated)"
    ]


def test_excel_missing_sheet(tmp_path):
    path = tmp_path / "bundle.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"id": ["a"], "kind": ["supplier"]}).to_excel(
            book, sheet_name="nodes", index=False
        )
    with pytest.raises(InvalidInput) as caught:
        read_bundle(path)
    assert [str(p) for p in caught.value.problems] == [
        f"error: {path} [sheet edges]: sheet is missing (found: nodes)"
    ]


def test_excel_rows_are_spreadsheet_rows(tmp_path):
    path = tmp_path / "bundle.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.read_csv(pd.io.common.StringIO(GOOD_NODES)).to_excel(
            book, sheet_name="nodes", index=False
        )
        edges = pd.read_csv(pd.io.common.StringIO(GOOD_EDGES + "s1,c2,PART_OF,,\n"))
        edges.to_excel(book, sheet_name="edges", index=False)
    with pytest.raises(InvalidInput) as caught:
        read_bundle(path)
    (problem,) = [p for p in caught.value.problems if p.severity == "error"]
    assert (problem.file, problem.row, problem.column) == (f"{path} [sheet edges]", 5, "kind")


def test_invalid_json(tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text('{"nodes": [\n{"id": "a",}\n]}')
    with pytest.raises(InvalidInput) as caught:
        read_bundle(path)
    (problem,) = caught.value.problems
    assert problem.row == 2 and "invalid JSON" in problem.message


def test_json_items_are_numbered(tmp_path):
    path = tmp_path / "bundle.json"
    nodes = [{"id": "a", "kind": "supplier", "country": "CN"}, {"id": "b", "kind": "robot"}]
    edges = [{"source": "a", "target": "b", "kind": "SUPPLIES", "share": 0.5}]
    path.write_text(json.dumps({"nodes": nodes, "edges": edges}))
    with pytest.raises(InvalidInput) as caught:
        read_bundle(path)
    messages = [str(p) for p in caught.value.problems]
    assert messages[0].startswith(f"error: {path} [nodes], row 2, column 'kind'")


def test_cli_exits_2_without_traceback(tmp_path):
    folder = write_bundle_files(tmp_path / "b", GOOD_NODES + "s1,supplier,Dup,CN\n", GOOD_EDGES)
    result = subprocess.run(
        [sys.executable, "-m", "graphkit.cli", "validate", str(folder)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "duplicate id 's1' (first on row 2)" in result.stderr
    assert result.stderr.strip().endswith("invalid input: 1 error(s)")


def test_cli_json_lists_problems(tmp_path):
    folder = write_bundle_files(tmp_path / "b", GOOD_NODES + "s1,supplier,Dup,CN\n", GOOD_EDGES)
    result = subprocess.run(
        [sys.executable, "-m", "graphkit.cli", "validate", str(folder), "--format", "json"],
        capture_output=True,
        text=True,
    )
    report = json.loads(result.stdout)
    assert result.returncode == 2 and report["valid"] is False
    assert report["problems"][0]["row"] == 6 and report["problems"][0]["column"] == "id"
