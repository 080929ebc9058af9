"""Auditor views: built from hand-made paths, opened in a real headless Chromium."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image, ImageStat  # Pillow comes with matplotlib

from graphkit import model, render
from graphkit.errors import GraphError
from graphkit.explain import ExposurePath, Hop
from graphkit.io import write_bundle
from graphkit.model import Bundle

XSS = "<img src=x onerror=alert(1)>"
XSS_ADDRESS = "</script><script>alert(2)</script><!-- \u2028"
SAMPLES = Path(__file__).resolve().parent.parent / "sample_graphs"


def make_bundle(nodes: list[dict], edges: list[dict]) -> Bundle:
    """A Bundle as graphkit.io reads it: text columns "" when missing, numbers NaN."""
    return Bundle(
        _table(nodes, model.NODE_COLUMNS, model.NODE_NUMERIC),
        _table(edges, model.EDGE_COLUMNS, model.EDGE_NUMERIC),
    )


def _table(rows: list[dict], columns: tuple[str, ...], numeric: tuple[str, ...]) -> pd.DataFrame:
    table = pd.DataFrame(rows).reindex(columns=list(columns))
    for column in columns:
        values = table[column]
        table[column] = values.astype(float) if column in numeric else values.astype(object)
        table[column] = table[column] if column in numeric else table[column].fillna("")
    return table


def paths_from_chains(bundle: Bundle, chains: list[list[str]], values: list[float]):
    """ExposurePath objects along node chains, hops taken from the bundle's edges."""
    edges = {(e["source"], e["target"]): e for e in bundle.edges.to_dict("records")}
    paths = []
    for chain, value in zip(chains, values, strict=True):
        hops = [
            Hop(**{k: edges[(a, b)][k] for k in Hop.__dataclass_fields__})
            for a, b in zip(chain, chain[1:], strict=False)
        ]
        paths.append(ExposurePath(chain[0], chain[-1], value, list(chain), hops))
    return paths


@pytest.fixture
def hostile():
    """A small graph whose strings are hostile: two sources, a maker, a board, a product."""
    bundle = make_bundle(
        [
            {
                "id": "s1",
                "kind": "supplier",
                "name": XSS,
                "address": XSS_ADDRESS,
                "country": "CN",
                "province": "Jilin",
            },
            {"id": "s2", "kind": "supplier", "name": "Dalian Seafood", "province": "Liaoning"},
            {"id": "m", "kind": "supplier", "name": "Maker GmbH", "country": "DE"},
            {"id": "c", "kind": "component", "name": "Circuit board"},
            {"id": "p", "kind": "component", "name": "Controller <b>X</b>"},
            {"id": "other", "kind": "supplier", "name": "Not on any path"},
        ],
        [
            {"source": "s1", "target": "m", "kind": "SUPPLIES", "share": 0.6, "evidence": XSS},
            {"source": "s2", "target": "m", "kind": "SUPPLIES", "share": 0.1, "confidence": 0.6},
            {"source": "m", "target": "c", "kind": "MAKES", "item": "PCB & co"},
            {"source": "c", "target": "p", "kind": "PART_OF", "share": 1.0},
            {"source": "other", "target": "m", "kind": "SUPPLIES", "share": 0.3},
        ],
    )
    paths = paths_from_chains(bundle, [["s2", "m", "c", "p"], ["s1", "m", "c", "p"]], [0.2, 0.8])
    scores = pd.Series({"s1": 0.9, "s2": 0.4, "m": 0.85, "c": 0.8, "p": 0.75, "other": 0.0})
    header = {"title": f"Exposure of {XSS}", "target": XSS, "mode": "reach", "score": 0.75}
    spec = render.view_from_paths(
        bundle, scores, paths, evidence={"s1": f"address says Jilin; {XSS}"}, header=header
    )
    return bundle, spec


def layered_view(tiers: int, width: int, cap: int = render.DEFAULT_CAP):
    """`width` disjoint chains of `tiers` nodes, one path each, values falling with the chain."""
    nodes, edges, chains = [], [], []
    for chain in range(width):
        ids = [f"n{chain}_{t}" for t in range(tiers)]
        kinds = ["supplier"] * (tiers - 1) + ["component"]
        nodes += [
            {"id": i, "kind": k, "name": f"Node {i}"} for i, k in zip(ids, kinds, strict=True)
        ]
        edges += [
            {"source": a, "target": b, "kind": "MAKES" if b == ids[-1] else "SUPPLIES"}
            for a, b in zip(ids, ids[1:], strict=False)
        ]
        chains.append(ids)
    bundle = make_bundle(nodes, edges)
    values = [1.0 - i / (2 * width) for i in range(width)]
    paths = paths_from_chains(bundle, chains, values)
    scores = pd.Series(1.0, index=bundle.nodes["id"])
    return render.view_from_paths(bundle, scores, paths, header={"title": "layered"}, cap=cap)


# --- building the view (no browser) --------------------------------------------------------


def test_view_holds_only_the_paths_subgraph(hostile):
    _, spec = hostile
    assert set(spec.nodes["id"]) == {"s1", "s2", "m", "c", "p"}
    assert "other" not in set(spec.edges["source"])
    assert len(spec.edges) == 4
    assert spec.note == ""


def test_tiers_run_from_sources_left_to_targets_right(hostile):
    _, spec = hostile
    tier = spec.nodes.set_index("id")["tier"]
    assert tier["s1"] == tier["s2"] == 0
    assert tier["m"] == 1 and tier["c"] == 2 and tier["p"] == 3
    flags = spec.nodes.set_index("id")
    assert flags.loc["s1", "is_source"] and flags.loc["p", "is_target"]
    # the highest-value path comes first, so it is drawn on the top row
    assert list(spec.nodes["id"][:4]) == ["s1", "m", "c", "p"]


def test_tiers_stay_finite_on_a_cycle():
    bundle = make_bundle(
        [{"id": i, "kind": "supplier"} for i in "abcd"],
        [
            {"source": "a", "target": "b", "kind": "SUPPLIES"},
            {"source": "b", "target": "c", "kind": "SUPPLIES"},
            {"source": "c", "target": "b", "kind": "SUPPLIES"},
            {"source": "c", "target": "d", "kind": "SUPPLIES"},
        ],
    )
    paths = paths_from_chains(bundle, [["a", "b", "c", "d"], ["c", "b"]], [0.5, 0.4])
    spec = render.view_from_paths(bundle, pd.Series(dtype=float), paths)
    tier = spec.nodes.set_index("id")["tier"]
    assert tier["a"] == 0 and tier["b"] == tier["c"] == 1 and tier["d"] == 2
    assert spec.nodes["score"].isna().all()


def test_tooltips_are_plain_text_with_the_evidence(hostile):
    _, spec = hostile
    node = spec.nodes.set_index("id").loc["s1", "tooltip"]
    assert node.splitlines()[0] == XSS
    assert f"address: {XSS_ADDRESS}" in node
    assert "location: Jilin, CN" in node and "exposure score: 0.900" in node
    assert node.splitlines()[-1] == f"address says Jilin; {XSS}"
    edge = spec.edges.set_index(["source", "target"]).loc[("s2", "m"), "tooltip"]
    assert edge.splitlines() == [
        "SUPPLIES: Dalian Seafood → Maker GmbH",
        "share: 0.100",
        "confidence: 0.600",
    ]


def test_cap_keeps_highest_value_paths_and_says_so():
    spec = layered_view(tiers=5, width=30, cap=52)
    assert len(spec.nodes) == 50  # ten whole chains of five; the eleventh would exceed 52
    assert set(spec.nodes["id"]) == {f"n{c}_{t}" for c in range(10) for t in range(5)}
    assert "view cut at 52 nodes" in spec.note and "10 highest-value of 30 paths" in spec.note
    assert "--top" in spec.note and "graphkit paths" in spec.note


def test_colours_darken_with_exposure_and_mark_missing_scores():
    colours = render.exposure_colours([0.0, 0.5, 1.0, math.nan])
    luminance = [sum(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in colours[:3]]
    assert luminance[0] > luminance[1] > luminance[2]
    assert colours[3] == render.NO_SCORE_COLOUR


def test_script_json_cannot_close_the_script_element():
    text = render.script_json({"a": "</script><!-- & \u2028\u2029 >"})
    for forbidden in ("<", ">", "&", "\u2028", "\u2029"):
        assert forbidden not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028\u2029 >"}


def test_html_escapes_every_data_string(hostile):
    _, spec = hostile
    html = render.render_html(spec)
    assert XSS not in html and "<b>X</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # header, as text
    ours = html.replace(render._vis_assets()[0], "")  # vis-network's code mentions "<script>"
    assert ours.count("<script") == 3  # data block, vis-network, our code; nothing injected
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\'' in html


def test_html_loads_nothing_from_outside():
    html = render.render_html(layered_view(tiers=3, width=2))
    ours = html.replace(render._vis_assets()[0], "")
    assert re.findall(r"<(?:link|img|iframe|object|embed)\b|\b(?:src|href)\s*=", ours) == []
    assert re.findall(r"url\((?![\"']?data:)", html) == []  # CSS images are data: URIs only
    assert "node_modules" not in html and "cdn.jsdelivr" not in html and "cdnjs" not in html


def test_write_view_is_atomic(tmp_path, hostile):
    _, spec = hostile
    out = tmp_path / "view.html"
    render.write_view(spec, out)
    first = out.read_text(encoding="utf-8")
    assert first.startswith("<!DOCTYPE html>")
    broken = render.ViewSpec(spec.nodes, spec.edges.assign(target="missing-node"))
    with pytest.raises(AssertionError):
        render.write_view(broken, out)
    assert out.read_text(encoding="utf-8") == first
    assert os.listdir(tmp_path) == ["view.html"]


def test_write_view_creates_missing_folders(tmp_path, hostile):
    out = render.write_view(hostile[1], tmp_path / "views" / "view.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_paths_naming_unknown_nodes_are_an_error(hostile):
    bundle, _ = hostile
    with pytest.raises(GraphError, match="ghost"):
        render.view_from_paths(
            bundle, pd.Series(dtype=float), [ExposurePath("ghost", "ghost", 1.0, ["ghost"])]
        )


def test_500_node_view_is_under_3_mb():
    spec = layered_view(tiers=10, width=50)
    assert len(spec.nodes) == 500 and spec.note == ""
    assert len(render.render_html(spec).encode("utf-8")) < 3_000_000


# --- in a real headless Chromium -----------------------------------------------------------


class OpenedView:
    """A rendered view opened from a file:// URL, with what the page did recorded."""

    def __init__(self, browser, path: Path):
        self.url = path.as_uri()
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("dialog", self._dialog)
        self.page.goto(self.url)  # waits for the load event; our scripts are inline, synchronous
        assert self.page.evaluate("() => window.graphkitNetwork !== undefined")

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def drawn_counts(self) -> dict[str, int]:
        return self.page.evaluate(
            """() => ({nodes: graphkitNodes.length, edges: graphkitEdges.length,
                       bodyNodes: graphkitNetwork.body.nodeIndices.length,
                       bodyEdges: graphkitNetwork.body.edgeIndices.length})"""
        )

    def node_on_screen(self, node_id: str) -> tuple[float, float]:
        """Page coordinates of a node's centre."""
        point = self.page.evaluate(
            """(id) => {
                const net = graphkitNetwork, p = net.canvasToDOM(net.getPositions([id])[id]);
                const r = document.getElementById('graphkit-canvas').getBoundingClientRect();
                return [p.x + r.left, p.y + r.top]; }""",
            node_id,
        )
        return point[0], point[1]

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.dialogs == []
        assert self.requests == [self.url]


@pytest.fixture
def open_view(browser, tmp_path):
    opened = []

    def _open(view: render.ViewSpec | Path) -> OpenedView:
        path = view if isinstance(view, Path) else render.write_view(view, tmp_path / "view.html")
        view = OpenedView(browser, path)
        opened.append(view)
        return view

    yield _open
    for view in opened:
        view.context.close()


def test_browser_draws_the_subgraph_offline(open_view, hostile):
    _, spec = hostile
    view = open_view(spec)
    counts = view.drawn_counts()
    assert counts == {"nodes": 5, "edges": 4, "bodyNodes": 5, "bodyEdges": 4}
    positions = view.page.evaluate("() => graphkitNetwork.getPositions()")
    assert positions["s1"]["x"] < positions["m"]["x"] < positions["c"]["x"] < positions["p"]["x"]
    assert view.page.evaluate("() => graphkitNetwork.physics.options.enabled") is False
    view.assert_clean()


def test_xss_payload_stays_inert_text(open_view, hostile):
    _, spec = hostile
    view = open_view(spec)
    page = view.page
    assert page.locator("img").count() == 0
    assert page.evaluate("() => document.querySelectorAll('[onerror]').length") == 0
    assert XSS in page.locator("#graphkit-header h1").inner_text()
    assert page.title() == f"Exposure of {XSS}"
    assert page.evaluate("() => graphkitNodes.get('s1').label") == XSS
    x, y = view.node_on_screen("s1")
    page.mouse.move(x, y)
    tooltip = page.locator("div.vis-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert text.splitlines()[0] == XSS
    assert XSS_ADDRESS.strip() in text
    assert tooltip.locator("img, script, b").count() == 0
    assert page.locator("img").count() == 0
    view.assert_clean()


def test_hostile_ids_stay_inert_in_search_and_labels(open_view):
    ids = ['"><img src=x onerror=alert(3)>', "</script><script>alert(4)</script>"]
    bundle = make_bundle(
        [{"id": ids[0], "kind": "supplier"}, {"id": ids[1], "kind": "component"}],
        [{"source": ids[0], "target": ids[1], "kind": "MAKES", "item": XSS}],
    )
    spec = render.view_from_paths(
        bundle, pd.Series(dtype=float), paths_from_chains(bundle, [ids], [1])
    )
    view = open_view(spec)
    page = view.page
    page.fill("#graphkit-search", ids[1])
    page.press("#graphkit-search", "Enter")
    assert page.evaluate("() => graphkitNetwork.getSelectedNodes()") == [ids[1]]
    options = "() => [...document.querySelectorAll('#graphkit-labels option')].map(o => o.value)"
    assert page.evaluate(options) == list(spec.nodes["label"])
    assert page.locator("img").count() == 0 and page.evaluate("() => document.scripts.length") == 3
    view.assert_clean()


def test_edge_tooltip_shows_share_confidence_and_evidence(open_view, hostile):
    _, spec = hostile
    view = open_view(spec)
    (x1, y1), (x2, y2) = view.node_on_screen("s1"), view.node_on_screen("m")
    view.page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2)
    tooltip = view.page.locator("div.vis-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert "share: 0.600" in text and f"evidence: {XSS}" in text
    view.assert_clean()


def test_legend_and_colour_scale_are_shown(open_view, hostile):
    _, spec = hostile
    view = open_view(spec)
    page = view.page
    gradient = page.evaluate(
        "() => getComputedStyle(document.getElementById('graphkit-colour-scale')).backgroundImage"
    )
    assert gradient.startswith("linear-gradient")
    legend = page.locator("#graphkit-legend").inner_text()
    for words in ("Exposure score", "supplier", "component", "dashed", "source", "target"):
        assert words in legend
    colours = page.evaluate("() => graphkitNodes.get().map(n => [n.id, n.color.background])")
    expected = render.exposure_colours(spec.nodes["score"])
    assert dict(colours) == dict(zip(spec.nodes["id"], expected, strict=True))
    dashed = page.evaluate("() => graphkitEdges.get().filter(e => e.dashes).map(e => e.from)")
    assert dashed == ["s2"]  # confidence 0.6
    header = page.locator("#graphkit-header").inner_text()
    assert "reach" in header and "0.750" in header and "5 nodes, 4 edges" in header
    view.assert_clean()


def test_screenshot_is_not_blank(open_view, hostile, tmp_path):
    _, spec = hostile
    view = open_view(spec)
    shot = tmp_path / "view.png"
    view.page.locator("#graphkit-canvas").screenshot(path=str(shot))
    grey = Image.open(shot).convert("L")
    assert ImageStat.Stat(grey).var[0] > 50
    dark = sum(grey.histogram()[:128])
    assert dark > 200  # node and edge pixels, not just white
    view.assert_clean()


def test_search_selects_and_focuses_a_node(open_view):
    spec = layered_view(tiers=6, width=40)
    view = open_view(spec)
    page = view.page
    page.fill("#graphkit-search", "node n37_2")
    page.press("#graphkit-search", "Enter")
    assert page.evaluate("() => graphkitNetwork.getSelectedNodes()") == ["n37_2"]
    x, y = view.node_on_screen("n37_2")
    box = page.locator("#graphkit-canvas").bounding_box()
    assert abs(x - (box["x"] + box["width"] / 2)) < 5
    assert abs(y - (box["y"] + box["height"] / 2)) < 5
    assert "found" in page.locator("#graphkit-search-status").inner_text()
    page.fill("#graphkit-search", "no such supplier")
    page.press("#graphkit-search", "Enter")
    assert page.evaluate("() => graphkitNetwork.getSelectedNodes()") == []
    assert page.locator("#graphkit-search-status").inner_text() == "no node matches"
    view.assert_clean()


def test_empty_view_says_there_is_nothing_to_show(open_view, hostile):
    bundle, _ = hostile
    spec = render.view_from_paths(bundle, pd.Series(dtype=float), [], header={"title": "none"})
    assert spec.nodes.empty and spec.edges.empty
    view = open_view(spec)
    assert view.drawn_counts()["bodyNodes"] == 0
    assert view.page.locator("#graphkit-note").inner_text() == "no exposure paths to show"
    view.assert_clean()


def test_paths_rank_by_value_with_missing_values_last(hostile):
    bundle, _ = hostile
    paths = paths_from_chains(bundle, [["s2", "m"], ["s1", "m"]], [math.nan, 0.3])
    spec = render.view_from_paths(bundle, pd.Series(dtype=float), paths, cap=2)
    assert list(spec.nodes["id"]) == ["s1", "m"] and "1 highest-value of 2" in spec.note


def test_cut_view_shows_the_note(open_view):
    spec = layered_view(tiers=10, width=80)
    assert len(spec.nodes) == 500
    view = open_view(spec)
    assert view.drawn_counts()["bodyNodes"] == 500
    note = view.page.locator("#graphkit-note")
    assert note.is_visible() and "view cut at 500 nodes" in note.inner_text()
    view.assert_clean()


# --- every sample graph, paths from its expected.json key_paths ----------------------------


def sample_folders() -> list[Path]:
    return sorted(p.parent for p in SAMPLES.glob("*/expected.json"))


@pytest.mark.parametrize("folder", sample_folders(), ids=lambda p: p.name)
def test_sample_graph_view(open_view, folder):
    from graphkit.io import read_bundle

    bundle = read_bundle(folder)
    key_paths = json.loads((folder / "expected.json").read_text(encoding="utf-8"))["key_paths"]
    paths = paths_from_chains(bundle, key_paths, [1.0 - i / 100 for i in range(len(key_paths))])
    scores = pd.Series(0.5, index=bundle.nodes["id"])
    spec = render.view_from_paths(bundle, scores, paths, header={"title": folder.name})
    view = open_view(spec)
    node_ids = {n for chain in key_paths for n in chain}
    pairs = {(a, b) for chain in key_paths for a, b in zip(chain, chain[1:], strict=False)}
    counts = view.drawn_counts()
    assert counts["bodyNodes"] == counts["nodes"] == len(node_ids)
    assert counts["bodyEdges"] == counts["edges"] == len(pairs)
    view.assert_clean()


# --- the command line (the whole chain: read, screen, propagate, explain, render) ---


def test_cli_render_writes_a_view(open_view, hostile, tmp_path):
    from click.testing import CliRunner

    from graphkit.cli import cli

    bundle, _ = hostile
    bundle.nodes.loc[bundle.nodes["id"].isin(["s1", "s2"]), "exposure"] = [0.9, 0.5]
    folder = write_bundle(bundle, tmp_path / "bundle", "csv")
    out = tmp_path / "cli-view.html"
    args = ["render", str(folder), "--target", "p", "--k", "3", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    view = open_view(out)
    drawn = set(view.page.evaluate("() => graphkitNodes.getIds()"))
    assert {"s1", "m", "c", "p"} <= drawn <= {"s1", "s2", "m", "c", "p", "other"}
    header = view.page.locator("#graphkit-header").inner_text()
    assert "Exposure paths to Controller <b>X</b>" in header and bundle.digest() in header
    assert view.page.evaluate("() => graphkitNodes.get('s1').label") == XSS
    view.assert_clean()


def test_cli_render_needs_exactly_one_of_target_or_top(hostile, tmp_path):
    from click.testing import CliRunner

    from graphkit.cli import cli

    folder = write_bundle(hostile[0], tmp_path / "bundle", "csv")
    out = tmp_path / "view.html"
    for extra in ([], ["--target", "p", "--top", "2"]):
        result = CliRunner().invoke(cli, ["render", str(folder), *extra, "--out", str(out)])
        assert result.exit_code == 2 and "exactly one of --target" in result.output
    assert not out.exists()


def test_cli_render_unknown_target_is_a_usage_error(hostile, tmp_path):
    from click.testing import CliRunner

    from graphkit.cli import cli

    folder = write_bundle(hostile[0], tmp_path / "bundle", "csv")
    out = tmp_path / "view.html"
    args = ["render", str(folder), "--target", "<nope>", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "'<nope>' is not a node id" in result.output
    assert not out.exists()


def test_screening_evidence_explains_each_shown_node(hostile):
    bundle, _ = hostile
    nodes = bundle.nodes.assign(address=["Dandong, Liaoning", "", "Munich", "", "", ""])
    from graphkit.screen.score import screen_nodes

    shown = nodes.iloc[:3]
    evidence = render.screening_evidence(screen_nodes(shown).set_axis(shown["id"].to_numpy()))
    assert list(evidence) == ["s1", "s2", "m"]
    for text in evidence.values():
        assert text.splitlines()[0].startswith("screening: ") and "sector rule: " in text
    assert "Liaoning" in evidence["s1"] and "not in scope" in evidence["m"]


# --- Jupyter -------------------------------------------------------------------------------


def test_display_view_in_a_real_kernel(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    root = Path(__file__).resolve().parent.parent
    code = f"""
import sys; sys.path.insert(0, {str(root)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_render import layered_view
from graphkit.render import display_view
display_view(layered_view(tiers=3, width=2))
"""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute(cwd=str(tmp_path))
    outputs = notebook.cells[0].outputs
    assert [o["output_type"] for o in outputs] == ["display_data"]
    assert outputs[0]["metadata"]["text/html"] == {"isolated": True}
    assert "window.graphkitNetwork" in outputs[0]["data"]["text/html"]


def test_products_page_lists_every_exposed_product_searchable_and_inert(browser, tmp_path):
    """The products page (node table, evidence once) in Chromium: every exposed product with
    its paths as text, search by a supplier's id or name on a path, hostile names inert."""
    from graphkit.analysis import analyse
    from graphkit.io import read_bundle
    from graphkit.report import render_products_page

    analysis = analyse(read_bundle(SAMPLES / "electronics_machinery"))
    exposed = analysis.exposed("reach")
    on_paths = {t: {n for p in analysis.paths[t] for n in p.nodes} for t in exposed.index}
    supplier = min(
        (n for n in set().union(*on_paths.values()) if n.startswith("s-")),
        key=lambda n: (sum(n in nodes for nodes in on_paths.values()), n),
    )
    reached = [t for t in exposed.index if supplier in on_paths[t]]
    assert 0 < len(reached) < len(exposed)
    analysis.table.loc[supplier, "name"] = XSS + XSS_ADDRESS  # as read from a hostile bundle
    path = tmp_path / "products.html"
    path.write_text(render_products_page(analysis, "reach", {}), encoding="utf-8")
    context = browser.new_context()
    page = context.new_page()
    errors, requests = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    rows = page.locator("#graphkit-rows tr")
    assert rows.count() == len(exposed)
    first = rows.nth(0).inner_text()
    assert exposed.index[0] in first
    chains = [" → ".join(exposed_name(analysis, n) for n in p.nodes)
              for p in analysis.paths[exposed.index[0]]]  # fmt: skip
    assert chains and all(chain in first for chain in chains)
    assert XSS + XSS_ADDRESS in page.locator("#graphkit-rows").inner_text()
    assert page.locator("img").count() == 0 and page.evaluate("() => document.scripts.length") == 2
    for query in (supplier, "onerror=alert(1)"):
        page.fill("#graphkit-search", query)
        assert page.locator("#graphkit-rows tr").count() == len(reached)
    assert errors == [] and requests == [path.as_uri()]
    context.close()


def exposed_name(analysis, node: str) -> str:
    return str(analysis.table.at[node, "name"] or node)
