"""Import records -> bundle: mapping, shares, confidence, evidence, merging, bad input, sample."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from graphkit.errors import InvalidInput
from graphkit.ingest import CANDIDATES_FILE, ingest, load_mapping, read_records
from graphkit.io import read_bundle

ROOT = Path(__file__).resolve().parent.parent
APPAREL = ROOT / "sample_graphs" / "apparel_ppe"

RECORDS = (Path(__file__).parent / "data" / "records_small.csv").read_text(encoding="utf-8")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "graphkit.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)


@pytest.fixture()
def result(tmp_path):
    return ingest(write(tmp_path / "records.csv", RECORDS), tmp_path / "out")


def edge(bundle, source_name: str, target_name: str) -> pd.Series:
    ids = bundle.nodes.set_index("name")["id"]
    edges = bundle.edges.set_index(["source", "target"])
    return edges.loc[(ids[source_name], ids[target_name])]


def test_default_mapping_is_package_data_and_finds_common_names():
    mapping = load_mapping()
    assert "consignee" in mapping.columns["consignee_name"]
    assert mapping.countries["china"] == "CN"


def test_mapping_file_renames_columns(tmp_path):
    text = RECORDS.replace("shipper_name", "Consignor").replace("value_usd", "FOB (USD)")
    records = write(tmp_path / "records.csv", text.replace("weight_kg", "Net Kg"))
    with pytest.raises(InvalidInput) as caught:  # FOB (USD) and Net Kg are not default names
        read_records(records)
    assert "no column for value_usd" in caught.value.problems[0].message
    mapping = write(
        tmp_path / "map.toml", '[columns]\nvalue_usd = "FOB (USD)"\nweight_kg = "Net Kg"\n'
    )
    read = read_records(records, load_mapping(mapping))
    assert read["shipper_name"].iloc[1] == "DANDONG XINHE GARMENT CO LTD"  # Consignor: a default
    assert read["value_usd"].iloc[0] == 30000 and read["weight_kg"].iloc[0] == 1000


def test_mapping_with_an_unknown_field_is_rejected(tmp_path):
    mapping = write(tmp_path / "map.toml", '[columns]\nshiper_name = "Shipper"\n')
    with pytest.raises(InvalidInput) as caught:
        load_mapping(mapping)
    assert "shiper_name" in str(caught.value)


def test_records_resolve_into_one_node_per_company(result):
    nodes = result.bundle.nodes
    assert len(nodes) == 5  # Xinhe, Hongtai, Yongli, Nordlys, Hanil
    xinhe = nodes[nodes["name"].str.contains("Xinhe")].iloc[0]
    assert "DANDONG XINHE GARMENT CO LTD" in xinhe["merged_from"]
    assert xinhe["match_reason"] == "same name after normalisation"
    assert xinhe["port_of_lading"] == "DANDONG" or xinhe["port_of_lading"] == "Dandong Port"
    assert "Dandong (Liaoning)" in xinhe["port_evidence"]
    assert xinhe["hs_code"] == "6201.40" and xinhe["description"] == "jacket shells"
    assert xinhe["found_in"] == "import records"


def test_shares_from_value(result):
    bundle = result.bundle
    xinhe = edge(bundle, "Dandong Xinhe Garment Co. Ltd.", "Ningbo Hongtai Garment Co Ltd")
    yongli = edge(bundle, "Shaoxing Yongli Textile Co", "Ningbo Hongtai Garment Co Ltd")
    assert xinhe["share"] == pytest.approx(40000 / 100000)
    assert yongli["share"] == pytest.approx(60000 / 100000)


def test_shares_from_weight_when_value_is_missing(result):
    bundle = result.bundle
    xinhe = edge(bundle, "Dandong Xinhe Garment Co. Ltd.", "Nordlys Outdoor AB")
    hanil = edge(bundle, "Hanil Fiber Co Ltd", "Nordlys Outdoor AB")
    assert xinhe["share"] == pytest.approx(100 / 400)
    assert hanil["share"] == pytest.approx(300 / 400)


def test_value_per_kg_fills_a_missing_value(tmp_path):
    text = RECORDS.replace("jacket shells,500,10000", "jacket shells,500,")
    bundle = ingest(write(tmp_path / "r.csv", text), tmp_path / "out").bundle
    # Hongtai's records with both: 90000 USD / 3000 kg = 30 USD/kg, so R2 counts 15000 USD
    xinhe = edge(bundle, "Dandong Xinhe Garment Co. Ltd.", "Ningbo Hongtai Garment Co Ltd")
    assert xinhe["share"] == pytest.approx(45000 / 105000)


def test_confidence_below_one_and_evidence_holds_record_ids(result):
    edges = result.bundle.edges
    assert (edges["confidence"] < 1).all() and (edges["confidence"] > 0).all()
    xinhe = edge(result.bundle, "Dandong Xinhe Garment Co. Ltd.", "Ningbo Hongtai Garment Co Ltd")
    assert xinhe["evidence"] == "import records (2): R1; R2"
    assert xinhe["confidence"] == pytest.approx(0.9)  # R1 names both companies exactly
    yongli = edge(result.bundle, "Shaoxing Yongli Textile Co", "Ningbo Hongtai Garment Co Ltd")
    assert yongli["confidence"] == pytest.approx(0.9)


def test_confidence_is_lower_for_a_spelling_variant(tmp_path):
    text = RECORDS + "R6,Dandnog Xinhe Garment Co Ltd,,Hanil Fiber Co Ltd,6201.40,x,10,10,DALIAN,\n"
    bundle = ingest(write(tmp_path / "r.csv", text), tmp_path / "out").bundle
    assert edge(bundle, "Dandong Xinhe Garment Co. Ltd.", "Hanil Fiber Co Ltd")[
        "confidence"
    ] == pytest.approx(0.6)


def test_output_folder_is_a_valid_bundle_with_candidates(result, tmp_path):
    written = read_bundle(tmp_path / "out")
    assert len(written.nodes) == len(result.bundle.nodes)
    candidates = pd.read_csv(tmp_path / "out" / CANDIDATES_FILE)
    assert list(candidates.columns[:5]) == ["node_a", "name_a", "node_b", "name_b", "score"]


def test_hard_negative_becomes_a_candidate_not_a_merge(tmp_path):
    text = (
        RECORDS
        + "R7,Dalian Xinhe Garment Co Ltd,Dalian 116001,Hanil Fiber Co Ltd,6201.40,x,10,10,,\n"
    )
    result = ingest(write(tmp_path / "r.csv", text), tmp_path / "out")
    names = set(result.bundle.nodes["name"])
    assert {"Dalian Xinhe Garment Co Ltd", "Dandong Xinhe Garment Co. Ltd."} <= names
    pair = result.candidates[result.candidates["name_b"].str.contains("Dalian")]
    assert not pair.empty and (pair["surely_different"] != "").all()


INTO_NODES = """id,kind,name,address,country
hongtai,supplier,"Ningbo Hongtai Garment Co., Ltd.","Ningbo 315100",CN
hunchun,supplier,Hunchun Xinyuan Clothing Co Ltd,Hunchun 133300,CN
nordlys,supplier,Nordlys Outdoor AB,Stockholm,SE
jacket,component,Ski jacket,,
"""
INTO_EDGES = """source,target,kind,share,confidence,evidence
hunchun,hongtai,SUPPLIES,0.6,1,disclosure
hongtai,jacket,MAKES,,1,PO
jacket,nordlys,USED_BY,0.5,1,PO
"""


def test_into_merges_by_name_and_rescales_record_shares(tmp_path):
    bundle_dir = tmp_path / "bundle"
    bundle_dir.mkdir()
    write(bundle_dir / "nodes.csv", INTO_NODES)
    write(bundle_dir / "edges.csv", INTO_EDGES)
    out = tmp_path / "merged"
    result = ingest(write(tmp_path / "r.csv", RECORDS), out, into=bundle_dir)
    merged = read_bundle(out)
    assert {"hongtai", "nordlys", "hunchun", "jacket"} <= set(merged.nodes["id"])
    assert not merged.nodes["name"].str.contains("NINGBO HONGTAI").any()
    into_hongtai = merged.edges[merged.edges["target"] == "hongtai"]
    declared = into_hongtai[into_hongtai["source"] == "hunchun"]["share"].iloc[0]
    assert declared == 0.6  # declared shares are kept
    assert into_hongtai["share"].sum() == pytest.approx(1.0)  # records fill the remaining 0.4
    into_nordlys = merged.edges[merged.edges["target"] == "nordlys"]
    assert into_nordlys["share"].sum() <= 1 + 1e-9
    assert result.stats["new_nodes"] == 3


BAD_RECORDS = """record_id,shipper_name,consignee_name,weight_kg,value_usd,hs_code,date
B1,,Nordlys Outdoor AB,10,100,6201.40,2025-01-01
B2,Hanil Fiber,,10,100,6201.40,2025-01-01
B3,Hanil Fiber,Nordlys Outdoor AB,ten,-5,62X,someday
"""


def test_bad_records_are_all_reported_with_row_and_column(tmp_path):
    with pytest.raises(InvalidInput) as caught:
        read_records(write(tmp_path / "bad.csv", BAD_RECORDS))
    found = {(p.row, p.column) for p in caught.value.problems if p.severity == "error"}
    assert found == {
        (2, "shipper_name"),
        (3, "consignee_name"),
        (4, "weight_kg"),
        (4, "value_usd"),
        (4, "hs_code"),
        (4, "date"),
    }


def test_cli_bad_records_exit_2_without_traceback_or_output(tmp_path):
    out = tmp_path / "out"
    completed = run_cli("ingest", str(write(tmp_path / "bad.csv", BAD_RECORDS)), "--out", str(out))
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "row 4, column 'value_usd'" in completed.stderr and "row 2" in completed.stderr
    assert not out.exists()


def test_cli_missing_columns_name_what_was_looked_for(tmp_path):
    records = write(tmp_path / "r.csv", "a,b\n1,2\n")
    completed = run_cli("ingest", str(records), "--out", str(tmp_path / "out"))
    assert completed.returncode == 2
    assert "no column for shipper_name" in completed.stderr


def test_cli_ingest_writes_bundle(tmp_path):
    records = write(tmp_path / "r.csv", RECORDS)
    completed = run_cli("ingest", str(records), "--out", str(tmp_path / "out"))
    assert completed.returncode == 0, completed.stderr
    assert "5 records" in completed.stdout
    assert read_bundle(tmp_path / "out").edges["kind"].eq("SUPPLIES").all()


@pytest.mark.skipif(
    not (APPAREL / "nodes.csv").exists(), reason="apparel_ppe bundle not merged yet"
)
def test_sample_shipments_reveal_hidden_dandong_subcontractor(tmp_path):
    disclosed = read_bundle(APPAREL)
    result = ingest(
        APPAREL / "shipments.csv",
        tmp_path / "out",
        mapping_path=APPAREL / "shipments_mapping.toml",
        into=APPAREL,
    )
    nodes, edges = result.bundle.nodes, result.bundle.edges
    new = nodes[~nodes["id"].isin(disclosed.nodes["id"])]
    in_dandong = new[new["address"].str.contains("dandong|丹东|dan dong", case=False)]
    tiers = set(disclosed.nodes.loc[disclosed.nodes["tier_declared"].isin(["1", "2"]), "id"])
    hidden = edges[
        edges["source"].isin(in_dandong["id"])
        & edges["target"].isin(tiers)
        & (edges["kind"] == "SUPPLIES")
    ]
    assert len(hidden) >= 1
    subcontractor = nodes.set_index("id").loc[hidden["source"].iloc[0]]
    assert "Xinhe" in subcontractor["name"].title()
    assert "Dandong (Liaoning)" in subcontractor["port_evidence"]
    assert hidden["confidence"].iloc[0] < 1
    # similarly named companies elsewhere stay apart from the bundle's suppliers
    assert "rec-dalian-huaxin-garment" in set(nodes["id"])
    assert "rec-dandong-jinhua-knitting" in set(nodes["id"])
    assert "rec-ningbo-hongda-garment" in set(nodes["id"])
    totals = edges.groupby("target")["share"].sum()
    assert (totals <= 1 + 1e-9).all()


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        ("DALIAN, CHINA", "Dalian"),
        ("CNDLC", "Dalian"),
        ("Bayuquan", "Yingkou"),
        ("丹东港", "Dandong"),
        ("Jinzhou Port", "Jinzhou"),
        ("NINGBO", None),
        ("XINGANG", None),
        ("Dalianxx", None),
    ],
)
def test_port_of_lading_in_liaoning_is_evidence(port, expected):
    from graphkit.screen.ports import liaoning_port

    signal = liaoning_port(port)
    assert (signal.port if signal else None) == expected
    if signal:
        assert signal.evidence.startswith(f"port of lading {port!r} = {expected} (Liaoning)")


def test_hostile_names_are_neutralised_in_written_csv(tmp_path):
    hostile = 'R9,"=HYPERLINK(""http://x"")",,Hanil Fiber Co Ltd,6201.40,x,10,10,,\n'
    ingest(write(tmp_path / "r.csv", RECORDS + hostile), tmp_path / "out")
    raw = (tmp_path / "out" / "nodes.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in raw and ",=HYPERLINK" not in raw and ',"=HYPERLINK' not in raw
    assert any(n.startswith("=HYPERLINK") for n in read_bundle(tmp_path / "out").nodes["name"])


# --- real export layouts (issue 15) ------------------------------------------------------

PANJIVA = Path(__file__).parent / "data" / "panjiva_layout.csv"  # invented, Panjiva's layout


def test_panjiva_preset_reads_blocks_hs_values_and_dates(tmp_path):
    from graphkit.ingest import load_mapping

    records = read_records(PANJIVA, load_mapping(preset="panjiva"), skip_invalid=True)
    first = records.iloc[0]
    assert first["shipper_name"] == "DANDONG HUAXIN GARMENT CO., LTD."  # the block, not "Stonegate"
    assert first["shipper_address"].endswith("DANDONG LIAONING 118000 CHINA")
    assert first["hs_code"] == "6201.40" and first["value_usd"] == 49790.0
    assert first["weight_kg"] == 12000.0 and first["consignee_country"] == "US"
    assert records.iloc[1]["consignee_name"] == "NORTHGATE CEMENT DISTRIBUTORS LLC"  # TO ORDER OF
    assert records.attrs["read"] == 9 and len(records) == 6


def test_panjiva_export_strict_by_default_and_rejects_with_skip_invalid(tmp_path):
    strict = run_cli("ingest", str(PANJIVA), "--preset", "panjiva", "--out", str(tmp_path / "s"))
    assert strict.returncode == 2 and not (tmp_path / "s").exists()
    assert "row 8, column 'Shipper (Original Format)'" in strict.stderr
    out = tmp_path / "out"
    args = ("ingest", str(PANJIVA), "--preset", "panjiva", "--skip-invalid", "--out", str(out))
    completed = run_cli(*args, "--format", "json")
    assert completed.returncode == 0, completed.stderr
    stats = __import__("json").loads(completed.stdout)
    assert stats["records_read"] == 9 and stats["rejected"] == 3
    assert stats["records_used"] == 6 and stats["skipped_self_loops"] == 0
    assert stats["names_merged"] == 1  # "CO., LTD." / "CO LTD" (TO ORDER OF is cut on reading)
    rejected = pd.read_csv(out / "rejected_records.csv")
    assert list(rejected.columns) == ["row", "column", "reason"]
    assert set(rejected["row"]) == {8, 9, 10}
    assert "is not a number" in rejected.set_index("row").loc[10, "reason"]
    table = run_cli(*args[:-1], str(tmp_path / "t"))
    assert "records read" in table.stdout and "skipped self loops" in table.stdout


def test_panjiva_sites_and_countries_stay_apart(tmp_path):
    from graphkit.ingest import ingest as run_ingest

    result = run_ingest(PANJIVA, tmp_path / "o", preset="panjiva", skip_invalid=True)
    nodes = result.bundle.nodes
    assert (nodes["name"] == "HUAXIN GARMENT").sum() == 2  # Dandong shipper, Los Angeles buyer
    assert {"DANDONG NO.1 GARMENT FACTORY", "DANDONG NO.2 GARMENT FACTORY"} <= set(nodes["name"])
    assert "Stonegate" not in set(nodes["name"])  # the harmonised group name is never a party
    dandong = nodes[(nodes["name"] == "HUAXIN GARMENT") & (nodes["country"] == "CN")]["id"]
    assert dandong.isin(result.bundle.edges["source"]).all()  # not dropped as a self-loop


US_CUSTOMS = (
    "BILL OF LADING,ACTUAL ARRIVAL DATE,SHIPPER,SHIPPER ADDRESS,CONSIGNEE,CONSIGNEE ADDRESS,"
    "COUNTRY OF ORIGIN,FOREIGN PORT,US PORT,PRODUCT DESCRIPTION,HS CODE,WEIGHT (KG),VALUE (USD)\n"
    'BL1,1/5/2025,YINGKOU TAIHE STEEL CO LTD,"NO.3 GANGKOU ST, YINGKOU 115007",BLUE HERON '
    'AGGREGATES INC,"45 RIVERSIDE DR, SAVANNAH GA 31401",CHINA,Yingkou,Savannah,STEEL WIRE,'
    '7217.10,"1,000","$2,500.00"\n'
    "BL2,2/5/2025,,,BLUE HERON AGGREGATES INC,,CHINA,Yingkou,Savannah,STEEL WIRE,7217.10,10,1\n"
)


def test_us_customs_preset(tmp_path):
    path = write(tmp_path / "us.csv", US_CUSTOMS)
    completed = run_cli(
        "ingest",
        str(path),
        "--preset",
        "us_customs",
        "--skip-invalid",
        "--out",
        str(tmp_path / "o"),
    )
    assert completed.returncode == 0, completed.stderr
    nodes = read_bundle(tmp_path / "o").nodes.set_index("name")
    assert nodes.loc["YINGKOU TAIHE STEEL CO LTD", "country"] == "CN"
    assert nodes.loc["BLUE HERON AGGREGATES INC", "country"] == "US"
    rejected = pd.read_csv(tmp_path / "o" / "rejected_records.csv")
    assert list(rejected["row"]) == [3]


def test_non_finite_numbers_are_rejected(tmp_path):
    text = RECORDS.replace(",1000,30000,", ",1000,inf,", 1)
    with pytest.raises(InvalidInput) as caught:
        read_records(write(tmp_path / "r.csv", text))
    assert "not a finite number" in str(caught.value)


def test_hundred_kilobyte_name_is_cut_with_a_warning_and_bounded(tmp_path):
    import tracemalloc

    long_name = "DANDONG " + "HUAXIN GARMENT " * 7_000  # about 100 KB
    text = RECORDS.replace("Dandong Xinhe Garment Co. Ltd.", long_name, 1)
    path = write(tmp_path / "r.csv", text)
    tracemalloc.start()
    result = ingest(path, tmp_path / "out")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200 * 2**20
    assert any("characters: only its start is matched" in p.message for p in result.bundle.warnings)


def test_buyer_without_mapped_inputs_is_not_reported_clean(tmp_path):
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(Path(__file__).parent / "data" / "tiny", bundle)
    with (bundle / "nodes.csv").open("a", encoding="utf-8") as nodes:
        nodes.write("lonely,supplier,Lonely Buyer Inc,,US,,,,,\n")
    completed = run_cli("run", str(bundle), "--out", str(tmp_path / "run"))
    assert completed.returncode in (0, 1), completed.stderr
    report = next((tmp_path / "run").rglob("report.md")).read_text(encoding="utf-8")
    clean = report.split("## Clean products")[1].split("## No mapped inputs")[0]
    unmapped = report.split("## No mapped inputs")[1].split("##")[0]
    assert "Lonely Buyer Inc" in unmapped and "Lonely Buyer Inc" not in clean
    html = next((tmp_path / "run").rglob("report.html")).read_text(encoding="utf-8")
    assert 'id="unmapped"' in html and "Lonely Buyer Inc" in html.split('id="unmapped"')[1]
