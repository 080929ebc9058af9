"""`graphkit run`: the main job end to end, its report's content, batches and exit codes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphkit.cli import cli
from graphkit.io import read_bundle, write_bundle

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_graphs"
ELECTRONICS = SAMPLES / "electronics_machinery"
XSS = "<img src=x onerror=alert(1)>"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graphkit.cli", *args], capture_output=True, text=True, cwd=ROOT
    )


@pytest.fixture(scope="module")
def electronics_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "electronics"
    result = run_cli("run", str(ELECTRONICS), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return out


def test_run_writes_every_output(electronics_run):
    names = {p.relative_to(electronics_run).as_posix() for p in electronics_run.rglob("*")}
    for expected in ("exposures.csv", "paths.json", "contributions.csv", "run.json"):
        assert expected in names
    assert {"report.html", "report.md", "views/overview.html"} <= names
    expected = json.loads((ELECTRONICS / "expected.json").read_text())
    views = [n for n in names if n.startswith("views/c-")]
    for product in expected["exposed_products"]:
        assert any(v.startswith(f"views/{product}-") for v in views), product


def test_report_names_the_dandong_board_path_into_the_cnc_machine(electronics_run):
    html = (electronics_run / "report.html").read_text(encoding="utf-8")
    md = (electronics_run / "report.md").read_text(encoding="utf-8")
    bundle = read_bundle(ELECTRONICS)
    names = bundle.nodes.set_index("id")["name"]
    chain = ["s-dandong-xinlian", "c-bare-pcb", "c-pcba", "c-controller", "c-cabinet", "c-km500"]
    readable = " → ".join(names[n] for n in chain)
    assert readable in md
    assert readable.replace("&", "&amp;") in html
    km500 = md.split(f"### {names['c-km500']}")[1].split("\n### ")[0]
    assert "postal '118000'→Liaoning agreed" in km500  # the source's address evidence
    assert "supplier disclosure by Shenzhen Huitian" in km500  # the edge's evidence
    assert "[view](views/c-km500-" in km500


def test_report_lists_clean_products_and_the_caution(electronics_run):
    md = (electronics_run / "report.md").read_text(encoding="utf-8")
    expected = json.loads((ELECTRONICS / "expected.json").read_text())
    clean = md.split("## Clean products")[1].split("## Map next")[0]
    for product in expected["clean_products"]:
        assert f"`{product}`" in clean
    for product in expected["exposed_products"]:
        assert f"`{product}`" not in clean
    assert "Korean names or language are never evidence" in md
    assert "Suspected cases need expert guidance" in md
    html = (electronics_run / "report.html").read_text(encoding="utf-8")
    assert html.count('<img alt="') == 2 and "data:image/png;base64," in html


def test_run_is_reproducible_from_run_json(electronics_run):
    run = json.loads((electronics_run / "run.json").read_text())
    assert run["inputs"]["bundle"]["sha256"] == read_bundle(ELECTRONICS).digest()
    phases = {"index", "screen", "propagate", "explain", "views", "report", "result_files"}
    assert phases <= set(run["timings_s"])


def test_run_json_names_every_input_with_its_hash(tmp_path):
    import hashlib

    priors = tmp_path / "priors.csv"
    priors.write_text("country,sector,expected_exposure\nCN,*,0.05\n*,*,0.01\n")
    out = tmp_path / "out"
    assert (
        run_cli("run", str(ELECTRONICS), "--priors", str(priors), "--out", str(out)).returncode == 0
    )
    inputs = json.loads((out / "run.json").read_text())["inputs"]
    assert inputs["priors"] == {
        "path": str(priors),
        "sha256": hashlib.sha256(priors.read_bytes()).hexdigest(),
    }
    assert inputs["bundle"]["sha256"] == read_bundle(ELECTRONICS).digest()


def hostile_copy(tmp_path: Path) -> Path:
    bundle = read_bundle(ELECTRONICS)
    nodes = bundle.nodes
    row = nodes.index[nodes["id"] == "s-dandong-xinlian"][0]
    nodes.loc[row, "name"] = f'=HYPERLINK("x") {XSS} | [link](javascript:alert(1)) `code`'
    nodes.loc[row, "address"] = nodes.loc[row, "address"] + f" {XSS}"
    return write_bundle(bundle, tmp_path / "hostile")


def test_report_escapes_hostile_names(tmp_path):
    out = tmp_path / "out"
    assert run_cli("run", str(hostile_copy(tmp_path)), "--out", str(out)).returncode == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    md = (out / "report.md").read_text(encoding="utf-8")
    assert XSS not in md and "\\[link\\](javascript:alert(1))" in md
    rows = list(csv.reader((out / "exposures.csv").open(encoding="utf-8")))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert any(cell.startswith("'=HYPERLINK") for row in rows for cell in row)


def test_batch_reports_each_bundle_and_keeps_going(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "nodes.csv").write_text("id,kind\na,supplier\na,supplier\n")
    (bad / "edges.csv").write_text("source,target,kind\na,a,SUPPLIES\n")
    out = tmp_path / "batch"
    patterns = [str(SAMPLES / "seafood_ready_meals"), str(bad), str(SAMPLES / "it_*")]
    result = run_cli("run", *patterns, "--out", str(out), "--format", "json")
    assert result.returncode == 2
    summary = json.loads(result.stdout)
    statuses = {Path(b["bundle"]).name: b["status"] for b in summary["bundles"]}
    assert statuses == {
        "seafood_ready_meals": "exposed",
        "bad": "invalid",
        "it_services": "exposed",
    }
    assert summary["exposure_found"] is True
    assert (out / "seafood_ready_meals" / "report.html").exists()
    assert (out / "it_services" / "report.html").exists()
    assert not (out / "bad").exists()  # a failed bundle leaves no half-written folder
    index = list(csv.DictReader((out / "index.csv").open(encoding="utf-8")))
    assert [r["status"] for r in index] == ["exposed", "invalid", "exposed"]
    assert "duplicate id 'a'" in next(r for r in index if r["status"] == "invalid")["message"]
    html = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="seafood_ready_meals/report.html"' in html


def test_clean_bundle_exits_zero_and_says_so(tmp_path):
    folder = tmp_path / "clean"
    folder.mkdir()
    (folder / "nodes.csv").write_text(
        "id,kind,name,address,country,sector\n"
        "a,supplier,Hamburg Textil,Hamburg,DE,apparel\nb,supplier,Buyer AB,Stockholm,SE,\n"
    )
    (folder / "edges.csv").write_text("source,target,kind\na,b,SUPPLIES\n")
    result = CliRunner().invoke(
        cli, ["run", str(folder), "--out", str(tmp_path / "o"), "--format", "json"]
    )
    assert result.exit_code == 0
    summary = json.loads(result.output)
    assert summary["exposure_found"] is False and summary["bundles"][0]["status"] == "clean"
    md = (tmp_path / "o" / "report.md").read_text(encoding="utf-8")
    assert "0 of 1 buyer-facing" in md


def test_unreachable_neo4j_exits_3_and_writes_nothing(tmp_path):
    env_password = "Unreachable-Distinctive-pw-42"
    out = tmp_path / "o"
    env = {
        "GRAPHKIT_NEO4J_URI": "bolt://127.0.0.1:9",
        "GRAPHKIT_NEO4J_USER": "neo4j",
        "GRAPHKIT_NEO4J_PASSWORD": env_password,
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "graphkit.cli",
            "run",
            str(ELECTRONICS),
            "--out",
            str(out),
            "--neo4j",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ) | env,
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr and env_password not in result.stderr + result.stdout
    assert "unreachable" in result.stdout
    assert not out.exists()


def test_run_with_neo4j_stores_results(tmp_path, neo4j_env, monkeypatch):
    from graphkit.store.neo4j import Neo4jStore, Settings

    for key, value in neo4j_env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(
        cli, ["run", str(ELECTRONICS), "--out", str(tmp_path / "o"), "--neo4j"]
    )
    assert result.exit_code == 0, result.output
    with Neo4jStore(Settings.from_env(neo4j_env)) as store:
        top = store.query("top_exposed_products")
    assert "c-km500" in [row["id"] for row in top]


def test_priors_give_a_map_next_table(tmp_path):
    out = tmp_path / "o"
    priors = SAMPLES / "priors_illustrative.csv"
    result = run_cli(
        "run", str(SAMPLES / "apparel_ppe"), "--out", str(out), "--priors", str(priors)
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    md = (out / "report.md").read_text(encoding="utf-8")
    map_next = md.split("## Map next")[1].split("## Data quality")[0]
    assert "| supplier | name | unmapped | prior |" in map_next
    assert len([line for line in map_next.splitlines() if line.startswith("| s-")]) >= 3


#: the flagged and low-risk sources of electronics_machinery, read off their addresses and
#: sectors by hand (sample_graphs/electronics_machinery/nodes.csv; ANTUNG is Dandong's old name)
ELECTRONICS_SOURCES = {
    "s-dandong-xinlian": ("electronics", "Liaoning"),
    "s-antung-hengtong": ("electronics", "Liaoning"),
    "s-dalian-tongda": ("electronics", "Liaoning"),
    "s-changchun-guanghua": ("electronics", "Jilin"),
    "s-anshan-huarui": ("other", "Liaoning"),
}


def _report_counts(text: str, label: str) -> dict[str, int]:
    """``label: a: 1, b: 2`` in report.md as a dict."""
    line = next(line for line in text.splitlines() if label in line)
    pairs = line.split(label, 1)[1].strip().rstrip(".").split(". ")[0]
    return {k.strip(): int(v) for k, v in (pair.rsplit(":", 1) for pair in pairs.split(", "))}


def test_report_counts_sources_by_sector_and_province_and_products_by_tier(electronics_run):
    """The summary's tables against counts made here from the sample's expectations and a
    plain networkx search of its edges (the nearest source's distance in edges)."""
    from collections import Counter

    import networkx as nx

    expected = json.loads((ELECTRONICS / "expected.json").read_text())
    assert set(ELECTRONICS_SOURCES) == {
        *expected["flagged_sources"],
        *expected["low_risk_in_scope"],
    }
    with (ELECTRONICS / "edges.csv").open(encoding="utf-8") as handle:
        graph = nx.DiGraph((row["source"], row["target"]) for row in csv.DictReader(handle))
    exposed = [*expected["exposed_products"], *expected["exposed_buyers"]]
    reached = {s: {p for p in exposed if nx.has_path(graph, s, p)} for s in ELECTRONICS_SOURCES}
    reaching = [s for s, products in reached.items() if products]
    tier = {p: min(nx.shortest_path_length(graph, s, p) for s in reaching if p in reached[s])
            for p in exposed}  # fmt: skip

    md = (electronics_run / "report.md").read_text(encoding="utf-8")
    facing = len(exposed) + len(expected["clean_products"]) + len(expected["clean_buyers"])
    assert f"{len(exposed)} of {facing} buyer-facing products and buyers are exposed" in md
    by_sector = Counter(ELECTRONICS_SOURCES[s][0] for s in reaching)
    by_province = Counter(ELECTRONICS_SOURCES[s][1] for s in reaching)
    assert _report_counts(md, "Sources reaching products by sector:") == by_sector
    assert _report_counts(md, "… by province:") == by_province
    by_tier = {str(t): n for t, n in Counter(tier.values()).items()}
    assert _report_counts(md, "Exposed products by tier:") == by_tier
    assert by_sector == {"electronics": 4, "other": 1} and by_tier == {"2": 1, "3": 2, "4": 1}

    names = read_bundle(ELECTRONICS).nodes.set_index("id")["name"]
    for source in reaching:  # the top-sources table: place, sector and products reached
        sector, province = ELECTRONICS_SOURCES[source]
        row = next(line for line in md.splitlines() if line.startswith(f"| {names[source]} |"))
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        assert (cells[1], cells[2], int(cells[4])) == (province, sector, len(reached[source]))
    html = (electronics_run / "report.html").read_text(encoding="utf-8")
    sectors = ", ".join(f"{k} ({v})" for k, v in by_sector.most_common())
    assert f"<li>Sources reaching products, by sector: {sectors}</li>" in html


def test_a_rerun_into_the_same_folder_leaves_only_the_new_results(electronics_run, tmp_path):
    """Another bundle run into a used folder: exactly the files of a run into a new one."""
    import shutil

    used, fresh = tmp_path / "used", tmp_path / "fresh"
    shutil.copytree(electronics_run, used)
    seafood = str(SAMPLES / "seafood_ready_meals")
    assert run_cli("run", seafood, "--out", str(used)).returncode == 0
    assert run_cli("run", seafood, "--out", str(fresh)).returncode == 0

    def files(folder: Path) -> set[str]:
        return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}

    assert any(name.startswith("views/c-km500-") for name in files(electronics_run))
    assert files(used) == files(fresh)


@pytest.mark.parametrize(("suppliers", "seed"), [(1_000, 1), (1_500, 2), (1_500, 3)])
def test_run_explains_every_exposed_product_of_generated_bundles(tmp_path, suppliers, seed):
    """Generated bundles below and above 2,000 nodes, several seeds: the run finishes, every
    exposed product has its top paths and its share, path and reach parts, and run.json says
    so."""
    import pandas as pd

    from graphkit.graph.rules import most_exposed

    bundle, out = tmp_path / "bundle", tmp_path / "out"
    assert (
        run_cli(
            "generate", "--suppliers", str(suppliers), "--seed", str(seed), str(bundle)
        ).returncode
        == 0
    )
    result = run_cli("run", str(bundle), "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "exposures.csv", keep_default_na=False, index_col="id")
    table["buyer_facing"] = table["buyer_facing"].astype(str) == "True"
    exposed = list(most_exposed(table))
    assert exposed
    assert set(json.loads((out / "paths.json").read_text())) == set(exposed)
    parts = pd.read_csv(out / "contributions.csv", keep_default_na=False)
    counts = json.loads((out / "run.json").read_text())["parameters"]["contributions_for"]
    for mode in ("share", "path"):
        assert set(parts.loc[parts["mode"] == mode, "target"]) <= set(table.index)
    if len(table) > 2_000:
        assert counts == dict.fromkeys(("reach", "share", "path"), len(exposed))
        for mode in ("share", "path", "reach"):
            assert set(parts.loc[parts["mode"] == mode, "target"]) == set(exposed)
    else:
        assert set(counts.values()) == {len(table)}
