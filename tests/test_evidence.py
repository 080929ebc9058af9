"""Evidence packs: the tracing file, flow chart, summary and clearance plan of one product."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from itertools import combinations
from pathlib import Path
from xml.etree import ElementTree

import pytest
from engine_graphs import graphs, make_bundle
from hypothesis import HealthCheck, assume, given, settings

import graphkit
from graphkit.errors import UnknownName
from graphkit.evidence import clearance, prepare
from graphkit.evidence.upstream import product_upstream
from graphkit.explain import whatif
from graphkit.io import read_bundle, write_bundle
from graphkit.propagation import propagate
from graphkit.screen.sources import source_scores_for

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_graphs"
ELECTRONICS = SAMPLES / "electronics_machinery"
SEAFOOD = SAMPLES / "seafood_ready_meals"
XSS = "<img src=x onerror=alert(1)>"
XSS_ADDRESS = "</text><script>alert(2)</script>]]><!-- & \x01"


def graphkit_cli(*args: str) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it (PYTHONPATH picks this worktree)."""
    command = [os.path.join(os.path.dirname(sys.executable), "graphkit"), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)


def unzip(pack: Path, folder: Path) -> Path:
    with zipfile.ZipFile(pack) as archive:
        archive.extractall(folder)
    return folder


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def km500(tmp_path_factory) -> Path:
    """The KM-500 pack written by the CLI, unzipped."""
    folder = tmp_path_factory.mktemp("km500")
    result = graphkit_cli("evidence", str(ELECTRONICS), "--product", "c-km500",
                          "--out", str(folder / "km500.zip"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "clears" in result.stdout
    return unzip(folder / "km500.zip", folder / "pack")


def seafood_pack(tmp_path: Path, product: str) -> Path:
    graphkit.evidence_pack(SEAFOOD, product, tmp_path / f"{product}.zip")
    return unzip(tmp_path / f"{product}.zip", tmp_path / product)


# --- steps.csv -------------------------------------------------------------------------------


def test_steps_trace_the_dandong_board_plant_with_address_and_evidence(km500):
    steps = rows(km500 / "steps.csv")
    plant = next(r for r in steps if r["supplier_id"] == "s-dandong-xinlian")
    assert plant["supplier_address"] == "Xingfu Street 3, Zhenxing Qu, Dan Dong Shi 118000"
    assert plant["supplier_province"] == "Liaoning"
    assert "postal '118000'→Liaoning agreed" in plant["supplier_screening"]
    assert plant["supplier_risk_sector"] == "electronics"
    assert plant["documents"].startswith("supplier disclosure by Shenzhen Huitian")
    assert float(plant["supplier_source_score"]) > 0.9
    assert plant["exposed_chain"] == "yes"


def test_steps_run_up_the_bill_of_materials_to_the_machine_in_order(km500):
    steps = {(r["supplier_id"], r["receiver_id"]): r for r in rows(km500 / "steps.csv")}
    chain = ["s-dandong-xinlian", "c-bare-pcb", "c-pcba", "c-controller", "c-cabinet", "c-km500"]
    links = [steps[pair] for pair in zip(chain, chain[1:], strict=False)]
    assert [r["link_kind"] for r in links] == ["MAKES"] + ["PART_OF"] * 4
    numbers = [int(r["step"]) for r in links]
    assert numbers == sorted(numbers)
    depths = [int(r["depth"]) for r in links]
    assert depths == sorted(depths, reverse=True) and depths[-1] == 1
    assert all(r["exposed_chain"] == "yes" for r in links)


def test_steps_hold_the_clean_parts_and_the_unmapped_remainders(km500):
    steps = rows(km500 / "steps.csv")
    pairs = {(r["supplier_id"], r["receiver_id"]): r for r in steps}
    for clean in [("s-hsinchu-micro", "c-mcu"), ("c-spindle", "c-km500"),
                  ("c-bed-casting", "c-km500"), ("s-kessler", "c-km500")]:  # fmt: skip
        assert pairs[clean]["exposed_chain"] == "no"
    bundle = read_bundle(ELECTRONICS)
    gaps = {r["receiver_id"]: r["item"] for r in steps if r["link_kind"] == "UNMAPPED"}
    assert gaps["s-kessler"] == "inputs not mapped: 70 % of value"
    assert gaps["s-dandong-xinlian"] == "no inputs mapped (100 % of value)"
    lathe = set(bundle.edges.loc[bundle.edges["target"] == "c-kl320", "source"])
    lathe_only = lathe - {"s-kessler"}  # the machine maker makes both
    assert not lathe_only & {r["supplier_id"] for r in steps}  # another product's parts


def test_upstream_bundle_is_a_valid_bundle_of_exactly_the_steps(km500):
    upstream = read_bundle(km500 / "bundle")
    links = {(r["supplier_id"], r["receiver_id"]) for r in rows(km500 / "steps.csv")
             if r["link_kind"] != "UNMAPPED"}  # fmt: skip
    assert set(zip(upstream.edges["source"], upstream.edges["target"], strict=True)) == links
    ends = {node for link in links for node in link}
    assert set(upstream.nodes["id"]) == ends
    assert "c-km500" in ends and "c-kl320" not in ends


# --- manifest, inputs, run.json ----------------------------------------------------------


def test_sha256sum_checks_every_file_of_the_pack(km500):
    result = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=km500,
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    listed = {
        line.split("  ", 1)[1] for line in (km500 / "MANIFEST.sha256").read_text().splitlines()
    }
    present = {p.relative_to(km500).as_posix() for p in km500.rglob("*") if p.is_file()}
    assert listed == present - {"MANIFEST.sha256"}
    assert {"input/nodes.csv", "input/edges.csv", "bundle/nodes.csv", "run.json"} <= listed
    for name in ("nodes.csv", "edges.csv"):
        assert (km500 / "input" / name).read_bytes() == (ELECTRONICS / name).read_bytes()


def test_tampering_is_caught_by_sha256sum(km500, tmp_path):
    copy = unzip(km500.parent / "km500.zip", tmp_path / "copy")
    with (copy / "steps.csv").open("a", encoding="utf-8") as handle:
        handle.write("tampered\n")
    result = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=copy,
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode != 0 and "steps.csv: FAILED" in result.stdout


def test_run_json_records_parameters_inputs_and_version(km500):
    run = json.loads((km500 / "run.json").read_text(encoding="utf-8"))
    assert run["graphkit_version"] == graphkit.__version__
    assert run["parameters"]["mode"] == "reach" and run["parameters"]["threshold"] == 0
    assert run["bundle"]["sha256"] == read_bundle(ELECTRONICS).digest()
    assert set(run["inputs"]) == {"input/nodes.csv", "input/edges.csv"}


# --- clearance plan ----------------------------------------------------------------------


def test_clearance_cuts_every_exposed_chain_and_what_if_shows_reach_zero(km500):
    plan = rows(km500 / "clearance.csv")
    assert {r["plan_status"] for r in plan} == {"clears"}
    assert float(plan[0]["reach_before"]) > 0.99
    assert all(float(plan[0][f"{m}_after"]) == 0 for m in ("reach", "share", "path"))
    cut = {(r["supplier_id"], r["receiver_id"]) for r in plan}
    expected = json.loads((ELECTRONICS / "expected.json").read_text())
    for chain in (c for c in expected["key_paths"] if c[-1] == "c-km500"):
        assert cut & set(zip(chain, chain[1:], strict=False)), chain
    bundle = read_bundle(ELECTRONICS)  # checked again, independently of the pack
    after = whatif(bundle, remove_edges=sorted(cut), source_scores=source_scores_for(bundle))
    assert after.set_index("id").at["c-km500", "after"] == 0.0


def test_clearance_with_a_threshold_cuts_only_what_it_must(tmp_path):
    bundle = read_bundle(ELECTRONICS)
    data = prepare(bundle, "c-km500", threshold=0.5)
    plan = clearance.clearance_plan(data, _upstream(data))
    assert plan.status == clearance.CLEAR and plan.after["reach"] <= 0.5
    full = clearance.clearance_plan(prepare(bundle, "c-km500"), _upstream(data))
    assert 0 < len(plan.links) <= len(full.links)
    assert sum(r["cost"] for r in plan.links) <= sum(r["cost"] for r in full.links)


def _upstream(data):
    target = int(data.graph.ids.get_indexer([data.product])[0])
    return product_upstream(data.graph, target, data.table["reach"].to_numpy(), data.source_array)


def test_a_maker_that_is_itself_a_source_leaves_no_cut(tmp_path):
    bundle = make_bundle(
        [("maker", "supplier", 0.9), ("part", "component", None), ("product", "component", None)],
        [("maker", "product", 0.5, 1.0), ("part", "product", 0.5, 1.0)],
    )
    graphkit.evidence_pack(bundle, "product", tmp_path / "pack.zip")
    pack = unzip(tmp_path / "pack.zip", tmp_path / "pack")
    plan = rows(pack / "clearance.csv")
    assert plan[0]["plan_status"] == "no cut"
    assert "maker is itself a source" in plan[0]["note"] and "name of maker" in plan[0]["note"]
    assert "No cut exists below the product's own tier" in (pack / "summary.md").read_text()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(graphs(acyclic=False, max_nodes=6))
def test_clearance_is_the_cheapest_clearing_set_of_links(bundle):
    """Against brute force over every subset of exposed links, on small graphs with loops."""
    product = _exposed_product_with_a_cut(bundle)
    assume(product is not None)
    data = prepare(bundle, product)
    upstream = _upstream(data)
    graph = data.graph
    makes = graph.is_supplier[graph.src] & ~graph.is_supplier[graph.dst]
    makes_product = (graph.dst == upstream.target) & makes
    cuttable = [e for e in upstream.edges[upstream.exposed_edges].tolist() if not makes_product[e]]
    assume(len(cuttable) <= 6)  # 64 what-if runs at most
    plan = clearance.clearance_plan(data, upstream)
    costs = clearance.LinkCosts(data, upstream)
    best = min(
        sum(costs.of(e) for e in subset)
        for size in range(len(cuttable) + 1)
        for subset in combinations(cuttable, size)
        if _reach_without(data, subset) <= clearance.ZERO
    )
    assert plan.status == clearance.CLEAR and plan.after["reach"] <= clearance.ZERO
    assert sum(r["cost"] for r in plan.links) == pytest.approx(best, abs=1e-3)


def _exposed_product_with_a_cut(bundle) -> str | None:
    """The most exposed node once it and its makers are made clean (in place)."""
    edges, nodes = bundle.edges, bundle.nodes
    table = propagate(bundle, modes=("reach",), contributions_for=()).table
    for product in table.sort_values("reach", ascending=False).index[:3]:
        makers = set(edges.loc[(edges["target"] == product) & (edges["kind"] == "MAKES"), "source"])
        clean = nodes.assign(
            exposure=nodes["exposure"].where(~nodes["id"].isin(makers | {product}))
        )
        cleaned = type(bundle)(clean, edges)
        if propagate(cleaned, modes=("reach",), contributions_for=()).table.at[product, "reach"]:
            bundle.nodes = clean
            return str(product)
    return None


def _reach_without(data, edges) -> float:
    """The engine's reach of the product with these links' suppliers replaced by clean ones."""
    graph = data.graph
    pairs = {(str(graph.ids[graph.src[e]]), str(graph.ids[graph.dst[e]])) for e in edges}
    changed = clearance.replaced_links(data.bundle, pairs)
    scores = data.table["source_score"]
    table = propagate(changed, scores, modes=("reach",), contributions_for=()).table
    return float(table.at[data.product, "reach"])


# --- seafood: the prawn curry and the cheese sandwich ----------------------------------------


def test_prawn_curry_pack_names_the_liaoning_peeling_plant(tmp_path):
    pack = seafood_pack(tmp_path, "c-prawn-curry")
    plant = [r for r in rows(pack / "steps.csv") if r["supplier_id"] == "s-dalian-haixing"]
    assert plant and plant[0]["supplier_province"] == "Liaoning"
    assert "peeled" in plant[0]["supplier_sector"]
    summary = (pack / "summary.md").read_text(encoding="utf-8")
    assert "Dalian Haixing Aquatic Products" in summary and "Exposed: reach" in summary
    assert rows(pack / "clearance.csv")[0]["plan_status"] == "clears"


def test_cheese_sandwich_pack_says_it_has_no_exposed_chain(tmp_path):
    pack = seafood_pack(tmp_path, "c-cheese-sandwich")
    for name in ("summary.md", "summary.html"):
        text = (pack / name).read_text(encoding="utf-8")
        assert "No exposed chain: no mapped chain from any source reaches this product." in text
    steps = rows(pack / "steps.csv")
    assert steps and all(r["exposed_chain"] in ("no", "") for r in steps)
    assert {"c-cheddar", "c-bread"} <= {r["supplier_id"] for r in steps}
    assert rows(pack / "clearance.csv")[0]["plan_status"] == "nothing to clear"


def test_a_product_with_no_mapped_inputs_gets_a_pack_that_says_so(tmp_path):
    bundle = make_bundle(
        [("a", "supplier", 1.0), ("b", "supplier", None), ("lonely", "component", None)],
        [("a", "b", 0.5, 1.0)],
    )
    graphkit.evidence_pack(bundle, "lonely", tmp_path / "pack.zip")
    pack = unzip(tmp_path / "pack.zip", tmp_path / "pack")
    assert "This product has no mapped inputs" in (pack / "summary.md").read_text()
    steps = rows(pack / "steps.csv")
    assert [(r["link_kind"], r["item"]) for r in steps] == [
        ("UNMAPPED", "no inputs mapped (100 % of value)")
    ]
    assert subprocess.run(["sha256sum", "-c", "--quiet", MANIFEST], cwd=pack).returncode == 0


MANIFEST = "MANIFEST.sha256"


# --- errors and atomicity ------------------------------------------------------------------


def test_unknown_product_exits_2_with_the_closest_ids(tmp_path):
    out = tmp_path / "pack.zip"
    result = graphkit_cli("evidence", str(ELECTRONICS), "--product", "KM-500", "--out", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'KM-500' is not a node id" in result.stderr
    assert "closest ids: c-km500" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_library_rejects_unknown_product():
    with pytest.raises(UnknownName, match="closest ids: c-km500"):
        graphkit.evidence_pack(ELECTRONICS, "c-km5000", "never.zip")
    assert not (ROOT / "never.zip").exists()


def test_a_failed_pack_leaves_no_file(tmp_path, monkeypatch):
    from graphkit.evidence import flow

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(flow, "write_png", broken)  # a fault half-way through the pack
    out = tmp_path / "pack.zip"
    out.write_bytes(b"the previous pack")
    with pytest.raises(OSError, match="disk full"):
        graphkit.evidence_pack(ELECTRONICS, "c-km500", out)
    assert out.read_bytes() == b"the previous pack"
    assert [p.name for p in tmp_path.iterdir()] == ["pack.zip"]


def test_run_writes_packs_for_the_most_exposed_products(tmp_path):
    out = tmp_path / "run"
    result = graphkit_cli("run", str(ELECTRONICS), "--out", str(out), "--evidence", "1")
    assert result.returncode == 0, result.stderr
    packs = list((out / "evidence").glob("*.zip"))
    assert len(packs) == 1
    exposures = {r["id"]: float(r["reach"]) for r in rows(out / "exposures.csv")}
    run = json.loads(zipfile.ZipFile(packs[0]).read("run.json"))
    facing = [r["id"] for r in rows(out / "exposures.csv") if r["buyer_facing"] == "True"]
    assert exposures[run["product"]] == max(exposures[f] for f in facing)


def test_sanctions_lists_are_named_with_hash_and_date(tmp_path):
    bundle = read_bundle(ELECTRONICS)
    nodes = bundle.nodes
    nodes.loc[nodes["id"] == "s-kyoto-display", "name"] = "Kyoto Display Devices K.K."
    listed = tmp_path / "list.csv"
    listed.write_text("id,name\nX-1,Kyoto Display Devices KK\n", encoding="utf-8")
    graphkit.evidence_pack(bundle, "c-km500", tmp_path / "pack.zip", sanctions=[listed])
    pack = unzip(tmp_path / "pack.zip", tmp_path / "pack")
    summary = (pack / "summary.md").read_text(encoding="utf-8")
    digest = subprocess.run(["sha256sum", str(listed)], capture_output=True, text=True).stdout
    assert f"list.csv: sha256 {digest.split()[0]}, file dated" in summary
    assert "strong: Kyoto Display Devices K.K." in summary
    kyoto = next(r for r in rows(pack / "steps.csv") if r["supplier_id"] == "s-kyoto-display")
    assert (
        float(kyoto["supplier_source_score"]) > 0
        and "sanctions list" in kyoto["supplier_screening"]
    )


# --- hostile data, flow chart in a real browser ---------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    bundle = read_bundle(ELECTRONICS)
    nodes = bundle.nodes
    row = nodes.index[nodes["id"] == "s-dandong-xinlian"][0]
    nodes.loc[row, "name"] = f"{XSS} $x^2$ `code` [link](javascript:alert(1))"
    nodes.loc[row, "address"] = nodes.loc[row, "address"] + f" {XSS_ADDRESS}"
    source = write_bundle(bundle, folder / "bundle")
    graphkit.evidence_pack(source, "c-km500", folder / "pack.zip")
    return unzip(folder / "pack.zip", folder / "pack")


def test_hostile_names_stay_inert_in_summary_and_flow_chart(hostile):
    html = (hostile / "summary.html").read_text(encoding="utf-8")
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    svg = (hostile / "flow.svg").read_text(encoding="utf-8")
    assert XSS[:8] not in svg and "<script" not in svg
    root = ElementTree.fromstring(svg.encode("utf-8"))  # well-formed despite \x01, ]]> and &
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title"))
    assert XSS in texts and "</text><script>alert(2)</script>" in texts
    md = (hostile / "summary.md").read_text(encoding="utf-8")
    assert XSS not in md and "\\[link\\](javascript:alert(1))" in md


def open_page(browser, path: Path) -> dict:
    """Open a file in Chromium; what it requested, logged and drew."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    seen = {"requests": [], "errors": [], "dialogs": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("console", lambda m: m.type in ("error", "warning") and seen["errors"].append(m.text))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    seen["text"] = page.evaluate("() => document.documentElement.textContent")
    seen["boxes"] = page.evaluate("() => document.querySelectorAll('rect').length")
    seen["scripts"] = page.evaluate("() => document.querySelectorAll('script').length")
    seen["screenshot"] = page.screenshot()
    context.close()
    seen["requests"] = [u for u in seen["requests"] if not u.startswith("data:")]
    return seen


def test_flow_chart_renders_in_chromium_with_no_request_and_no_error(browser, km500):
    seen = open_page(browser, km500 / "flow.svg")
    assert seen["requests"] == [(km500 / "flow.svg").as_uri()]
    assert seen["errors"] == [] and seen["dialogs"] == []
    assert "KM-500 five-axis machining centre" in seen["text"]
    assert "Dandong Xinlian Circuit Technolog" in seen["text"]
    assert seen["boxes"] > 2 * 38  # two rectangles per party or part
    _assert_not_blank(seen["screenshot"])


def test_hostile_flow_chart_and_summary_stay_inert_in_chromium(browser, hostile):
    for name in ("flow.svg", "summary.html"):
        seen = open_page(browser, hostile / name)
        assert seen["dialogs"] == [] and seen["errors"] == [] and seen["scripts"] == 0
        assert seen["requests"] == [(hostile / name).as_uri()]
    assert XSS in open_page(browser, hostile / "summary.html")["text"]


def test_flow_png_is_drawn(km500):
    _assert_not_blank((km500 / "flow.png").read_bytes())


def _assert_not_blank(png: bytes) -> None:
    import io

    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.width > 1000 and ImageStat.Stat(image).stddev[0] > 10


def test_big_upstream_draws_the_exposed_chains_and_collapses_the_rest():
    from graphkit.evidence.flow import LEGIBLE, flow_layout, svg_text

    clean = [(f"clean{i}", "supplier", None) for i in range(LEGIBLE + 50)]
    bundle = make_bundle(
        [("buyer", "supplier", None), ("plant", "supplier", 1.0), ("trader", "supplier", None)]
        + clean,
        [("plant", "trader", 0.1, 1.0), ("trader", "buyer", 0.1, 1.0)]
        + [(c[0], "buyer", None, 1.0) for c in clean],
    )
    data = prepare(bundle, "buyer")
    layout = flow_layout(data, _upstream(data))
    shown = {box.label for box in layout.boxes}
    assert {"name of plant", "name of trader", "name of buyer"} <= shown
    assert f"{LEGIBLE + 50} more at depth 1" in shown and len(layout.boxes) == 4
    assert f"the other {LEGIBLE + 50} are collapsed into one box per depth" in layout.note
    assert layout.note in svg_text(layout)
