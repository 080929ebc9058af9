"""Sanctions screening against OpenSanctions-format and plain lists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from graphkit.errors import InvalidInput
from graphkit.io import read_bundle
from graphkit.screen.sanctions import apply_sanctions, read_sanctions_list, screen_sanctions

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "sample_graphs" / "sanctions_example.csv"
TINY = Path(__file__).parent / "data" / "tiny"

OPENSANCTIONS_HEADER = (
    "id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,"
    "emails,dataset,first_seen,last_seen,last_change\n"
)


def nodes(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "name", "address"])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def opensanctions(tmp_path) -> Path:
    rows = [
        "os-1,Company,Dandong Huaxin Circuit Co. Ltd.,"
        '"DANDONG HUA XIN CIRCUIT;丹东华鑫电路有限公司",,cn,"Zhenxing District, Dandong 118000",'
        ",,,,test_list,,,",
        "os-2,Company,Korea Example Trading Corporation,Example Trading Corp,,kp,Pyongyang,,,,,"
        "test_list,,,",
    ]
    return write(tmp_path / "targets.simple.csv", OPENSANCTIONS_HEADER + "\n".join(rows) + "\n")


def test_opensanctions_aliases_are_matched(opensanctions):
    listed = read_sanctions_list(opensanctions)
    assert set(listed[listed["list_id"] == "os-1"]["name"]) == {
        "Dandong Huaxin Circuit Co. Ltd.",
        "DANDONG HUA XIN CIRCUIT",
        "丹东华鑫电路有限公司",
    }
    found = screen_sanctions(nodes(("n1", "丹东华鑫电路有限公司", "")), opensanctions)
    assert found.loc[0, "list_id"] == "os-1" and bool(found.loc[0, "strong"])
    assert found.loc[0, "score"] == 100


def test_strong_and_weak_scores(opensanctions):
    found = screen_sanctions(
        nodes(
            ("strong", "DANDONG HUAXIN CIRCUIT CO LTD", ""),
            ("typo", "Dandnog Huaxin Circuit Company Limited", ""),
            ("weak", "Korea Example Trading and Shipping Corp", ""),
        ),
        opensanctions,
    ).set_index("node")
    assert bool(found.loc["strong", "strong"]) and found.loc["strong", "score"] == 100
    assert bool(found.loc["typo", "strong"]) and 90 <= found.loc["typo", "score"] < 100
    assert not found.loc["weak", "strong"] and found.loc["weak", "score"] >= 80
    assert found.loc["weak", "dataset"] == "test_list"


def test_no_match_for_similar_name_in_another_city(opensanctions):
    found = screen_sanctions(
        nodes(
            ("dalian", "Dalian Huaxin Circuit Co Ltd", "Dalian 116001"),
            ("same-name-elsewhere", "Dandong Huaxin Circuit Co Ltd", "Hefei, Anhui 230000"),
        ),
        opensanctions,
    )
    assert found.empty, found


def test_plain_csv_of_names(tmp_path):
    plain = write(tmp_path / "names.csv", "name\nShenzhen Kontrol Limited\nSomeone Else Ltd\n")
    found = screen_sanctions(read_bundle(TINY).nodes, plain)
    assert list(found["node"]) == ["ctrl_maker"]
    assert found.loc[0, "list_id"] == "row 2"


def test_list_without_name_column_is_invalid(tmp_path):
    bad = write(tmp_path / "bad.csv", "company\nX\n")
    with pytest.raises(InvalidInput) as caught:
        read_sanctions_list(bad)
    assert caught.value.problems[0].column == "name"


def test_strong_match_makes_a_source_with_evidence(opensanctions):
    bundle = read_bundle(TINY)
    matches = screen_sanctions(bundle.nodes, opensanctions)
    assert list(matches["node"]) == ["pcb"]  # "Dandong Huaxin Circuit Co." at a Dandong address
    flagged = apply_sanctions(bundle, matches).nodes.set_index("id")
    assert flagged.loc["pcb", "exposure"] == 1.0
    assert "entity os-1" in flagged.loc["pcb", "sanctions_evidence"]
    assert pd.isna(flagged.loc["ctrl_maker", "exposure"])


def test_example_list_is_marked_invented():
    example = pd.read_csv(EXAMPLE, dtype=str)
    assert example["id"].str.startswith("INVENTED-").all()
    assert (example["sanctions"] == "INVENTED EXAMPLE - not a real listing").all()


def test_cli_sanctions_json(tmp_path, opensanctions):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "flagged"
    command = [sys.executable, "-m", "graphkit.cli", "sanctions", str(TINY), "--list"]
    command += [str(opensanctions), "--format", "json", "--out", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    assert completed.returncode == 0, completed.stderr
    assert '"list_id": "os-1"' in completed.stdout
    assert read_bundle(out).nodes.set_index("id").loc["pcb", "exposure"] == 1.0
