"""Sanctions screening: list formats, person and organisation rules, short names, provenance,
bounded work, and the targets on the real-data dev files (skipped when absent)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from graphkit.errors import InvalidInput
from graphkit.io import read_bundle
from graphkit.names import MAX_NAME_CHARS
from graphkit.screen.sanctions import (
    Query,
    apply_sanctions,
    match_names,
    read_sanctions_list,
    screen_sanctions,
)
from graphkit.screen.score import screen_nodes

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "sample_graphs" / "sanctions_example.csv"
TINY = Path(__file__).parent / "data" / "tiny"
REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "sanctions"

OPENSANCTIONS_HEADER = (
    "id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,"
    "emails,dataset,first_seen,last_seen,last_change\n"
)


def nodes(*rows: tuple) -> pd.DataFrame:
    rows = [r + ("",) * (4 - len(r)) for r in rows]
    return pd.DataFrame(rows, columns=["id", "name", "address", "country"])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def screen(frame: pd.DataFrame, path: Path, **options) -> pd.DataFrame:
    return screen_sanctions(frame, path, **options)[0]


@pytest.fixture()
def opensanctions(tmp_path) -> Path:
    rows = [
        "os-1,Company,Dandong Huaxin Circuit Co. Ltd.,"
        '"DANDONG HUA XIN CIRCUIT;丹东华鑫电路有限公司",,cn,"Zhenxing District, Dandong 118000",'
        ",KP-EO13722,,,test_list,,,",
        "os-2,Company,Korea Example Trading Corporation,Example Trading Corp,,kp,Pyongyang,,,,,"
        "test_list,,,",
        "os-3,Organization,CIMEX,CIMEX S.A.,,cu,Havana,,CUBA,,,test_list,,,",
        'os-4,Person,"CHANG, Shi-Fu","CHAN, Changtrakul",,tw,,,SDNTK,,,test_list,,,',
        "os-5,Organization,LEBANESE HIZBALLAH,,,lb,,,SDGT,,,test_list,,,",
        "os-6,Organization,IRAN OVERSEAS INVESTMENT BANK PLC,,,gb,,IR-123456,IRAN,,,test_list,,,",
    ]
    return write(tmp_path / "targets.simple.csv", OPENSANCTIONS_HEADER + "\n".join(rows) + "\n")


def test_aliases_and_other_scripts_are_matched(opensanctions):
    listed = read_sanctions_list(opensanctions)
    os1 = listed.names[listed.names["entry"] == 0]
    assert set(os1["name"]) == {
        "Dandong Huaxin Circuit Co. Ltd.",
        "DANDONG HUA XIN CIRCUIT",
        "丹东华鑫电路有限公司",
    }
    found = screen(nodes(("n1", "丹東華鑫電路有限公司")), opensanctions)  # traditional script
    assert found.loc[0, "list_entity"] == "os-1" and bool(found.loc[0, "strong"])
    assert found.loc[0, "score"] == 100


@pytest.mark.parametrize(
    ("name", "entity"),
    [
        ("LEBANESE HEZBOLLAH", "os-5"),  # spelling variant of a rare word
        ("IRAN OVERSEAS INVESTMENT BANK LIMITED", "os-6"),  # another legal form
        ("CHANG, Chi Fu", "os-4"),  # a person's name, spelt otherwise
        ("Shi-Fu Chang", "os-4"),  # given name first
        ("CHANGTRAKUL, Chan", "os-4"),  # surname and given name swapped
    ],
)
def test_spelling_variants_named_in_the_issue_are_found(opensanctions, name, entity):
    found = screen(nodes(("q", name)), opensanctions)
    assert entity in set(found["list_entity"]), found


def test_short_names_need_more_than_similarity(opensanctions):
    found = screen(
        nodes(("cemex", "CEMEX INC", "", "US"), ("sesco", "SESCO"), ("cimex", "CIMEX")),
        opensanctions,
    ).set_index("node")
    assert "cemex" not in found.index or not found.loc["cemex", "strong"]
    assert "sesco" not in found.index
    assert bool(found.loc["cimex", "strong"])  # exact after normalisation
    assert found.loc["cimex", "reason"] == "names equal after normalisation"


def test_country_or_identifier_corroborates_and_contradicts(opensanctions):
    found = screen(
        nodes(
            ("here", "Dandnog Huaxin Circuit", "", "CN"),
            ("there", "Dandnog Huaxin Circuit", "", "US"),
        ),
        opensanctions,
    ).set_index("node")
    assert bool(found.loc["here", "strong"]) and "country agrees" in found.loc["here", "reason"]
    assert not found.loc["there", "strong"] and "country differs" in found.loc["there", "reason"]
    frame = nodes(("bank", "Iran Overseas Investment Bnk", "", "US"))
    frame["identifiers"] = "IR-123456"
    found = screen(frame, opensanctions)
    assert bool(found.loc[0, "strong"]) and "identifier agrees" in found.loc[0, "reason"]


def test_threshold_is_an_option(opensanctions):
    frame = nodes(("typo", "Dandnog Huaxin Circuit Company Limited"))
    assert bool(screen(frame, opensanctions).loc[0, "strong"])
    strict = screen(frame, opensanctions, threshold=99.0)
    assert not strict.loc[0, "strong"] and "below the strong threshold" in strict.loc[0, "reason"]


def test_numbers_must_agree(tmp_path):
    listed = write(tmp_path / "list.csv", "name\nDANDONG NO.1 GARMENT FACTORY\n")
    assert screen(nodes(("n", "DANDONG NO.2 GARMENT FACTORY")), listed).empty


def test_ftm_json_lines_with_sanction_programs(tmp_path):
    lines = [
        {
            "id": "NK-abc",
            "schema": "Company",
            "properties": {
                "name": ["Korea Ryonbong General Corporation"],
                "alias": ["Ryonbong"],
                "country": ["kp"],
            },
        },
        {
            "id": "s-1",
            "schema": "Sanction",
            "properties": {"entity": ["NK-abc"], "program": ["DPRK2"]},
        },
    ]
    path = write(tmp_path / "entities.ftm.json", "\n".join(json.dumps(x) for x in lines) + "\n")
    found = screen(nodes(("r", "KOREA RYONBONG GENERAL CORP")), path)
    assert found.loc[0, "list_entity"] == "NK-abc" and found.loc[0, "program"] == "DPRK2"
    bad = write(tmp_path / "bad.json", "{not json}\n")
    with pytest.raises(InvalidInput) as caught:
        read_sanctions_list(bad)
    assert caught.value.problems[0].row == 1


def test_plain_csv_of_names(tmp_path):
    plain = write(tmp_path / "names.csv", "name\nShenzhen Kontrol Limited\nSomeone Else Ltd\n")
    found = screen(read_bundle(TINY).nodes, plain)
    assert list(found["node"]) == ["ctrl_maker"]
    assert found.loc[0, "list_entity"] == "row 2"


def test_list_without_name_column_is_invalid(tmp_path):
    bad = write(tmp_path / "bad.csv", "company\nX\n")
    with pytest.raises(InvalidInput) as caught:
        read_sanctions_list(bad)
    assert caught.value.problems[0].column == "name"


def test_strong_match_carries_provenance_into_the_source_evidence(opensanctions):
    bundle = read_bundle(TINY)
    matches = screen(bundle.nodes, opensanctions)
    assert list(matches["node"]) == ["pcb"]
    flagged = apply_sanctions(bundle, matches)
    row = flagged.nodes.set_index("id").loc["pcb"]
    assert row["exposure"] == 1.0 and row["sanctions_entity"] == "os-1"
    assert (
        row["sanctions_program"] == "KP-EO13722" and row["sanctions_list"] == "targets.simple.csv"
    )
    assert len(row["sanctions_list_sha256"]) == 64
    evidence = screen_nodes(flagged.nodes.set_index("id", drop=False)).loc["pcb", "score_evidence"]
    assert "sanctions list targets.simple.csv" in evidence and "entity os-1" in evidence
    assert "given by the analyst" not in evidence


def test_no_match_writes_the_bundle_unchanged_and_says_so(tmp_path):
    plain = write(tmp_path / "names.csv", "name\nNobody Matches This Zzyzx\n")
    completed = run_cli("sanctions", str(TINY), "--list", str(plain), "--out", str(tmp_path / "o"))
    assert completed.returncode == 0, completed.stderr
    assert "no matches" in completed.stdout
    assert read_bundle(tmp_path / "o").nodes["exposure"].equals(read_bundle(TINY).nodes["exposure"])


def test_long_name_is_cut_with_a_warning_and_bounded(tmp_path):
    long_name = "ACME " + "X" * 100_000
    listed = write(tmp_path / "list.csv", f"name\nAcme Trading\n{long_name}\n")
    tracemalloc.start()
    found, lists = screen_sanctions(nodes(("n", long_name)), listed)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200 * 2**20
    assert any(str(MAX_NAME_CHARS // 1000) in p.message for p in lists[0].warnings)


def test_cli_warns_of_a_long_node_name_cut_for_matching(tmp_path):
    bundle = tmp_path / "b"
    bundle.mkdir()
    long_name = "DANDONG HUAXIN GARMENT " * 4_500  # about 100 KB
    write(bundle / "nodes.csv", f"id,kind,name\nn1,supplier,{long_name}\nn2,supplier,Acme\n")
    write(bundle / "edges.csv", "source,target,kind\nn1,n2,SUPPLIES\n")
    listed = write(tmp_path / "list.csv", "name\nDandong Huaxin Garment\n")
    completed = run_cli("sanctions", str(bundle), "--list", str(listed))
    assert completed.returncode == 0, completed.stderr
    cut = f"node 'n1': name of {len(long_name):,} characters: only the first {MAX_NAME_CHARS:,}"
    assert cut in completed.stderr
    assert "'n2'" not in completed.stderr


def test_example_list_is_marked_invented():
    example = pd.read_csv(EXAMPLE, dtype=str)
    assert example["id"].str.startswith("INVENTED-").all()
    assert (example["sanctions"] == "INVENTED EXAMPLE - not a real listing").all()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "graphkit.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env)


def test_cli_sanctions_json_and_run_names_the_list(tmp_path, opensanctions):
    out = tmp_path / "flagged"
    completed = run_cli(
        "sanctions", str(TINY), "--list", str(opensanctions), "--format", "json", "--out", str(out)
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["matches"][0]["list_entity"] == "os-1"
    assert len(result["lists"][0]["sha256"]) == 64
    assert read_bundle(out).nodes.set_index("id").loc["pcb", "exposure"] == 1.0
    completed = run_cli("run", str(out), "--out", str(tmp_path / "run"))
    assert completed.returncode in (0, 1), completed.stderr
    run_json = json.loads(next((tmp_path / "run").rglob("run.json")).read_text())
    assert run_json["sanctions_lists"][0]["sha256"] == result["lists"][0]["sha256"]
    exposures = pd.read_csv(next((tmp_path / "run").rglob("exposures.csv")), dtype=str)
    assert "os-1" in set(exposures["sanctions_entity"].dropna())
    report = next((tmp_path / "run").rglob("report.md")).read_text()
    assert result["lists"][0]["sha256"] in report and "entity os-1" in report


# --- targets on the real-data dev files ------------------------------------------------

needs_realdata = pytest.mark.skipif(
    not (REALDATA / "sdn_targets.csv").exists(), reason=f"real data not found at {REALDATA}"
)


@pytest.fixture(scope="module")
def sdn():
    return read_sanctions_list(REALDATA / "sdn_targets.csv")


@needs_realdata
def test_alias_recall_on_spelling_variants(sdn):
    from graphkit.screen.sanctions_eval import alias_recall, read_labelled

    aliases = read_labelled(REALDATA / "aliases_dev.csv")
    spelling = aliases[aliases["similarity"].astype(float) >= 0.8].reset_index(drop=True)
    result = alias_recall(sdn, spelling)
    assert result["found"].mean() >= 0.95


@needs_realdata
def test_clean_names_rarely_match(sdn):
    from graphkit.screen.sanctions_eval import clean_matches, read_labelled

    clean = read_labelled(REALDATA / "clean_names_dev.csv")
    matches = clean_matches(sdn, clean)
    assert matches[matches["strong"]]["node"].nunique() <= 1
    assert matches["node"].nunique() <= 0.02 * len(clean)
    ids = set(clean.loc[clean["name"].str.upper().isin({"CEMEX INC", "SESCO"}), "id"])
    assert not matches[matches["node"].isin(ids)]["strong"].any()


def test_query_api_without_bundle(opensanctions):
    listed = read_sanctions_list(opensanctions)
    found = match_names(Query(["a"], ["Korea Example Trading Corp"], [""], [""], [""]), listed)
    assert found.loc[0, "list_entity"] == "os-2"
