"""Hostile cells and headers through every writer and reader, and random input through
every reader: round trips are lossless, no row splits, no cell is a formula, no Markdown
link or heading comes from data, and no input ends in a traceback."""

from __future__ import annotations

import csv
import io
import shutil
import string
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import networkx as nx
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from graphkit.cli import invoke
from graphkit.errors import InvalidInput
from graphkit.io import read_bundle, write_bundle
from graphkit.io.safe_csv import FORMULA_START, csv_rows, write_csv, xlsx_ready
from graphkit.model import Bundle

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny"
HOSTILE = "=+-@'\"\t\r\n\x00,;|[]()<>`*_\\#!&:~\uff1d\uff0b\uff0d\uff20\u2028 aZ9丹"
#: text a spreadsheet or CSV reader could act on: formula starts, quotes, separators, CR/LF
cells = st.text(alphabet=HOSTILE, max_size=12)
headers = st.text(alphabet=HOSTILE.replace("\x00", ""), min_size=1, max_size=8).filter(
    lambda h: h.strip() == h and h.strip() != ""
)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def hostile_bundle(names: list[str], header: str, notes: list[str]) -> Bundle:
    """The tiny bundle with hostile names and an extra column of hostile cells."""
    base = read_bundle(TINY)
    nodes = base.nodes.copy()
    nodes["name"] = (names * len(nodes))[: len(nodes)]
    nodes["x " + header] = (notes * len(nodes))[: len(nodes)]
    return Bundle(nodes, base.edges, base.origin)


def no_formula(cell: object) -> bool:
    return not (isinstance(cell, str) and cell[:1] in FORMULA_START)


@SETTINGS
@given(st.lists(cells, min_size=1, max_size=3), headers, st.lists(cells, min_size=1, max_size=3))
def test_every_bundle_format_reads_back_what_was_written(tmp_path_factory, names, header, notes):
    bundle = hostile_bundle(names, header, notes)
    folder = tmp_path_factory.mktemp("round")
    extra = "x " + header
    has_nul = any("\x00" in v for v in names + notes)
    for suffix in ("", ".json", ".xlsx", ".graphml"):
        path = folder / f"b{suffix}"
        if has_nul and suffix in (".xlsx", ".graphml"):
            with pytest.raises(InvalidInput):
                write_bundle(bundle, path)
            assert not path.exists()
            continue
        write_bundle(bundle, path)
        if suffix == ".graphml":
            graph = nx.read_graphml(path)
            back = [graph.nodes[n].get(extra, "") for n in bundle.nodes["id"]]
            assert back == list(bundle.nodes[extra])
            assert [graph.nodes[n].get("name", "") for n in bundle.nodes["id"]] == list(
                bundle.nodes["name"]
            )
            continue
        again = read_bundle(path)
        assert list(again.nodes["name"]) == list(bundle.nodes["name"]), suffix
        assert list(again.nodes[extra]) == list(bundle.nodes[extra]), suffix


@SETTINGS
@given(st.lists(headers, min_size=1, max_size=4, unique=True), st.lists(cells, max_size=8))
def test_every_table_output_keeps_rows_intact_and_no_formula(tmp_path_factory, names, values):
    columns = {
        name: [values[(i + j) % len(values)] if values else "" for i in range(5)]
        for j, name in enumerate(names)
    }
    frame = pd.DataFrame(columns)
    folder = tmp_path_factory.mktemp("tables")
    write_csv(frame, folder / "t.csv")
    with csv_rows(folder / "s.csv", list(frame.columns)) as write:
        for row in frame.itertuples(index=False):
            write(list(row))
    for path in (folder / "t.csv", folder / "s.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) == len(frame) + 1 and all(len(r) == len(frame.columns) for r in rows)
        assert all(no_formula(cell) for row in rows for cell in row)
        assert [c.lstrip("'") for c in rows[0]] == [c.lstrip("'") for c in frame.columns]
    if any("\x00" in v for column in columns.values() for v in column):
        with pytest.raises(InvalidInput):
            xlsx_ready(frame, "t.xlsx")
        return
    xlsx_ready(frame, "t.xlsx").to_excel(folder / "t.xlsx", index=False)
    sheet = openpyxl.load_workbook(folder / "t.xlsx").active
    assert sheet.max_row == len(frame) + 1
    assert all(c.data_type != "f" and no_formula(c.value) for row in sheet.iter_rows() for c in row)


# --- report.md -------------------------------------------------------------------------------

INJECTIONS = [
    "\\[x\\](http://evil.example/phish)",
    "[y](javascript:alert(1))",
    "![i](http://evil.example/i.png)",
    "Acme\r## Clean products",
    "B\n# forged heading",
    "<a href='http://evil.example'>z</a>",
    "<http://evil.example>",
    "1. list",
    "- item",
    "> quote",
    "| a | b |",
    "**bold** _em_ `code`",
    "&lt;script&gt;",
]


def markdown_shape(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Block tokens and, for inline ones, their child token types other than text."""
    shape = []
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        children = tuple(c.type for c in token.children or () if c.type not in ("text",))
        shape.append((token.type, children))
    return shape


def links(text: str) -> list[str]:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    return [
        c.attrs.get("href") or c.attrs.get("src")
        for t in tokens
        for c in t.children or ()
        if c.type in ("link_open", "image")
    ]


def test_report_md_has_no_link_or_heading_from_data(tmp_path):
    plain, hostile = tmp_path / "plain", tmp_path / "hostile"
    for folder, names in ((plain, [f"name{i}" for i in range(6)]), (hostile, INJECTIONS[:6])):
        shutil.copytree(TINY, folder)
        nodes = pd.read_csv(folder / "nodes.csv", dtype=str, keep_default_na=False)
        nodes["name"] = names
        nodes.to_csv(folder / "nodes.csv", index=False, lineterminator="\r\n")
        edges = pd.read_csv(folder / "edges.csv", dtype=str, keep_default_na=False)
        edges["evidence"] = (INJECTIONS[6:] if folder == hostile else ["ev"] * 7)[: len(edges)]
        edges.to_csv(folder / "edges.csv", index=False, lineterminator="\r\n")
        assert gk("run", folder, "--out", folder / "out")[0] == 0
    plain_md = (plain / "out" / "report.md").read_text(encoding="utf-8")
    hostile_md = (hostile / "out" / "report.md").read_text(encoding="utf-8")
    assert markdown_shape(hostile_md) == markdown_shape(plain_md)
    assert all(href.startswith("views/") for href in links(hostile_md))
    assert links(hostile_md) != [] and len(links(hostile_md)) == len(links(plain_md))
    assert "Acme ## Clean products" in MarkdownIt("commonmark").render(hostile_md)


# --- terminal tables -----------------------------------------------------------------------


def test_terminal_tables_strip_escape_sequences_from_names(tmp_path):
    """Every command's table goes through one cell formatter (the neo4j query tables are
    tested in test_neo4j): a name cannot recolour, retitle or hyperlink the terminal."""
    bundle = tmp_path / "b"
    shutil.copytree(TINY, bundle)
    nodes = pd.read_csv(bundle / "nodes.csv", dtype=str, keep_default_na=False)
    nodes["name"] = "\x1b]0;pwned\x07\x1b[2J\x9b31mName\r" + nodes["id"] + "\x1b[0m"
    nodes.to_csv(bundle / "nodes.csv", index=False, lineterminator="\r\n")
    code, out, err = gk("whatif", bundle)
    assert code == 0, err
    assert "Name" in out and "pwned" not in out
    assert not any(c in out for c in "\x1b\x07\x9b\r")


# --- random input to every reader ----------------------------------------------------------


def gk(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = invoke([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def accepted(result: tuple[int, str, str]) -> bool:
    """A clean exit 0, or a named error with exit 2 (never a traceback)."""
    code, _, err = result
    if code == 0:
        return True
    return code == 2 and err.lstrip().startswith(("error:", "Error:", "Usage:"))


csv_shapes = st.lists(
    st.lists(st.text(alphabet=HOSTILE + string.ascii_lowercase, max_size=10), max_size=6),
    max_size=6,
).map(lambda rows: "\r\n".join(",".join(r) for r in rows))
random_input = st.one_of(
    st.binary(max_size=300),
    csv_shapes.map(lambda text: text.encode("utf-8")),
    csv_shapes.map(lambda text: ("shipper_name,consignee_name,value_usd\n" + text).encode()),
    csv_shapes.map(lambda text: ("id,kind,name\n" + text).encode()),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(random_input)
def test_random_input_is_read_or_named_never_a_traceback(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    bundle = folder / "bundle"
    shutil.copytree(TINY, bundle)
    (bundle / "nodes.csv").write_bytes(data)
    table = folder / "in.csv"
    table.write_bytes(data)
    first = data.split(b"\n")[0].decode("utf-8", "replace").split(",")[0].strip() or "x"
    for args in (
        ["validate", bundle],
        ["screen", table, "--column", first, "--out", folder / "s.csv"],
        ["ingest", table, "--out", folder / "ingested"],
        ["sanctions", TINY, "--list", table],
    ):
        result = gk(*args)
        assert accepted(result), (args, result)
