"""The fast paths (Arrow CSV reader, code-based checks, per-distinct screening, digest) give
exactly what the plain paths give: same cells, same messages, same scores."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphkit.errors import InvalidInput
from graphkit.io import read_bundle
from graphkit.io.tables import _read_csv_arrow, read_csv_table, read_csv_table_pandas
from graphkit.model import Bundle
from graphkit.screen.geo import DEFAULT_SCOPE, resolve_address
from graphkit.screen.score import _explain, _place_row, screen_nodes
from graphkit.screen.sectors import classify_sector, load_factors

TINY = Path(__file__).parent / "data" / "tiny"

#: well-formed files the Arrow reader takes; each must read exactly as pandas reads it
ARROW_CASES = {
    "quoted newlines": b'id,kind,address\ns1,supplier,"No. 8 Binjiang Rd\nDandong"\n'
    b's2,supplier,"line one\r\nline two, ""quoted"""\n',
    "byte order mark": b"\xef\xbb\xbfid,kind\ns1,supplier\n",
    "leading zeros": b"id,kind,postcode,hs_code\n007,supplier,010020,030617\n8,supplier,,0306\n",
    "empty cells and empty strings": b'id,kind,name,sector\ns1,supplier,,""\ns2,supplier,"",\n',
    "crlf and blank lines": b"id,kind\r\ns1,supplier\r\n\r\ns2,supplier\r\n",
    "cr only": b"id,kind\rs1,supplier\rs2,supplier\r",
    "no final newline": b"id,kind\ns1,supplier",
    "chinese text": "id,kind,address\ns1,supplier,丹东市振兴区 118000\n".encode(),
    "header spaces and unnamed": b" id ,kind,\ns1,supplier,x\n",
    "formula-escaped cells": b"id,kind,name\ns1,supplier,'=1+2\ns2,supplier,''=x\n",
    "text that looks like missing": b"id,kind,name,exposure\nNA,supplier,null,NaN\n",
}


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "nodes.csv"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", ARROW_CASES)
def test_arrow_reader_reads_what_pandas_reads(tmp_path, case):
    path = write(tmp_path, ARROW_CASES[case])
    assert _read_csv_arrow(path) is not None, "this file should take the Arrow path"
    fast, plain = read_csv_table(path), read_csv_table_pandas(path)
    assert fast.problems == plain.problems == []
    pd.testing.assert_frame_equal(fast.frame, plain.frame)
    assert all(fast.frame[c].map(type).eq(str).all() for c in fast.frame.columns)


def test_cells_stay_text(tmp_path):
    frame = read_csv_table(write(tmp_path, ARROW_CASES["leading zeros"])).frame
    assert frame["id"].tolist() == ["007", "8"]
    assert frame["postcode"].tolist() == ["010020", ""]
    quoted = read_csv_table(write(tmp_path, ARROW_CASES["quoted newlines"])).frame
    assert quoted["address"].tolist()[1] == 'line one\r\nline two, "quoted"'
    escaped = read_csv_table(write(tmp_path, ARROW_CASES["formula-escaped cells"])).frame
    assert escaped["name"].tolist() == ["=1+2", "'=x"]


#: files the Arrow reader leaves to pandas, which reads them as before
PANDAS_CASES = {
    "short row (padded)": b"id,kind,name\ns1,supplier\ns2,supplier,Two\n",
    "repeated header names": b"id,kind,name,name\ns1,supplier,A,B\n",
    "ragged row": b"id,kind\ns1,supplier\ns2,supplier,extra\n",
    "not utf-8": "id,kind\ns1,丹东\n".encode("gb18030"),
    "header only": b"id,kind\n",
    "whitespace only": b"  \n\n",
}


@pytest.mark.parametrize("case", PANDAS_CASES)
def test_irregular_files_take_the_pandas_reader(tmp_path, case):
    path = write(tmp_path, PANDAS_CASES[case])
    assert _read_csv_arrow(path) is None
    fast, plain = read_csv_table(path), read_csv_table_pandas(path)
    assert [str(p) for p in fast.problems] == [str(p) for p in plain.problems]
    if plain.frame is not None:
        pd.testing.assert_frame_equal(fast.frame, plain.frame)


def test_repeated_header_names_are_a_named_problem(tmp_path):
    table = read_csv_table(write(tmp_path, PANDAS_CASES["repeated header names"]))
    assert table.frame is None
    assert [p.row for p in table.problems] == [1] and "duplicate column header 'name'" in str(
        table.problems[0]
    )


def bundle_folder(tmp_path: Path, nodes: str, edges: str) -> Path:
    folder = tmp_path / "b"
    folder.mkdir(exist_ok=True)
    (folder / "nodes.csv").write_text(nodes, encoding="utf-8")
    (folder / "edges.csv").write_text(edges, encoding="utf-8")
    return folder


def problems(folder: Path) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        read_bundle(folder)
    return [str(p) for p in caught.value.problems if p.severity == "error"]


NODES = "id,kind,country\na,supplier,CN\nb,supplier,CN\nc,component,\n"


def test_every_repeat_names_the_first_row(tmp_path):
    nodes = NODES + "a,supplier,CN\nb,supplier,CN\na,supplier,CN\n"
    folder = bundle_folder(tmp_path, nodes, "source,target,kind\na,b,SUPPLIES\n")
    n = folder / "nodes.csv"
    assert problems(folder) == [
        f"error: {n}, row 5, column 'id': duplicate id 'a' (first on row 2)",
        f"error: {n}, row 6, column 'id': duplicate id 'b' (first on row 3)",
        f"error: {n}, row 7, column 'id': duplicate id 'a' (first on row 2)",
    ]


def test_repeated_edges_with_unknown_or_empty_ends(tmp_path):
    edges = (
        "source,target,kind\na,b,SUPPLIES\nghost,b,SUPPLIES\nghost,b,SUPPLIES\n"
        ",b,SUPPLIES\n,b,SUPPLIES\na,b,SUPPLIES\n"
    )
    folder = bundle_folder(tmp_path, NODES, edges)
    e = folder / "edges.csv"
    found = problems(folder)
    assert f"error: {e}, row 4, column 'target': duplicate edge 'ghost -> b' (first on row 3)" in (
        found
    )
    assert f"error: {e}, row 6, column 'target': duplicate edge ' -> b' (first on row 5)" in found
    assert f"error: {e}, row 7, column 'target': duplicate edge 'a -> b' (first on row 2)" in found
    assert f"error: {e}, row 3, column 'source': unknown node 'ghost' (not in the nodes table)" in (
        found
    )


def test_ids_match_after_stripping_and_kinds_use_the_first_row(tmp_path):
    nodes = " a ,Supplier,CN\nb,supplier,CN\nc,component,\n"
    folder = bundle_folder(
        tmp_path, "id,kind,country\n" + nodes, "source,target,kind\na ,c,MAKES\n"
    )
    bundle = read_bundle(folder)
    assert bundle.nodes["id"].tolist() == ["a", "b", "c"]
    assert bundle.edges["source"].tolist() == ["a"]


def test_share_totals_name_every_row_per_target(tmp_path):
    nodes = NODES + "d,component,\n"
    edges = "source,target,kind,share\na,b,SUPPLIES,0.7\nc,d,PART_OF,0.2\nc,b,USED_BY,0.6\n"
    folder = bundle_folder(tmp_path, nodes, edges + "a,c,MAKES,\n")
    e = folder / "edges.csv"
    message = "shares of the edges into 'b' sum to 1.3 (> 1): rows 2, 4"
    assert problems(folder) == [f"error: {e}, row 2, column 'share': {message}"]


# --- digest --------------------------------------------------------------------------------


def reference_digest(bundle: Bundle) -> str:
    """graphkit.digest's documented encoding, written out row by row in plain Python."""
    hasher = hashlib.sha256(b"graphkit-bundle-v2")

    def text(value: str) -> None:
        data = value.encode("utf-8")
        hasher.update(struct.pack("<q", len(data)) + data)

    for name, frame, key in (
        ("nodes", bundle.nodes, ["id"]),
        ("edges", bundle.edges, ["source", "target"]),
    ):
        rows = sorted(range(len(frame)), key=lambda i: tuple(frame[k].iat[i] for k in key))
        text(name)
        hasher.update(struct.pack("<q", len(frame)))
        for column in sorted(frame.columns):
            text(column)
            values = [frame[column].iat[i] for i in rows]
            if frame[column].dtype.kind == "f":
                hasher.update(b"f" + np.array(values, dtype="<f8").tobytes())
                continue
            cells = ["" if pd.isna(v) else str(v) for v in values]
            ends = np.cumsum([len(c.encode("utf-8")) for c in cells], dtype="<i8")
            hasher.update(b"s" + ends.tobytes() + "".join(cells).encode("utf-8"))
    return hasher.hexdigest()


def test_digest_is_the_documented_encoding():
    bundle = read_bundle(TINY)
    assert bundle.digest() == reference_digest(read_bundle(TINY))


def test_digest_ignores_row_order_and_sees_every_cell():
    bundle = read_bundle(TINY)
    shuffled = Bundle(bundle.nodes.iloc[::-1], bundle.edges.sample(frac=1, random_state=1))
    assert shuffled.digest() == bundle.digest()
    changed = bundle.nodes.copy()
    changed.loc[0, "name"] = changed.loc[0, "name"] + " "
    assert Bundle(changed, bundle.edges).digest() != bundle.digest()
    edges = bundle.edges.copy()
    edges.loc[0, "share"] = np.nan if not np.isnan(edges.loc[0, "share"]) else 0.5
    assert Bundle(bundle.nodes, edges).digest() != bundle.digest()


def test_digest_of_edges_that_name_no_node_still_ignores_order():
    bundle = read_bundle(TINY)
    edges = pd.concat([bundle.edges, bundle.edges.head(1).assign(source="zz-ghost")])
    one = Bundle(bundle.nodes, edges.reset_index(drop=True))
    other = Bundle(bundle.nodes, edges.iloc[::-1].reset_index(drop=True))
    assert one.digest() == other.digest() == reference_digest(one)


def test_digest_is_computed_once(monkeypatch):
    import graphkit.digest

    bundle = read_bundle(TINY)
    calls = []
    real = graphkit.digest.bundle_digest
    monkeypatch.setattr(graphkit.digest, "bundle_digest", lambda *a: calls.append(1) or real(*a))
    assert bundle.digest() == bundle.digest() == bundle.digest()
    assert len(calls) == 1


# --- screening -----------------------------------------------------------------------------

ADDRESSES = [
    "Zhenxing District, Dandong 118000",
    "Dalian Road, Shanghai",
    "",
    "Hunchun",
    "丹东市振兴区",
    "Harbin",
]
SECTOR_TEXT = [  # (hs_code, description, sector, name)
    ("6110", "", "", "Garments One"),
    ("", "", "", "Dandong Seafood Co"),
    ("", "", "", "Plain Trading Co"),
    ("", "printed circuit boards", "", "X"),
    ("", "", "apparel", "Y"),
    ("", "", "fish processing", ""),
    ("8534.00", "", "", "Z"),
    ("", "barcode scanners", "", "Seafood Ltd"),
]


def varied_nodes(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(SECTOR_TEXT), n)
    exposure = np.where(rng.random(n) < 0.1, rng.random(n).round(2), np.nan)
    return pd.DataFrame(
        {
            "id": [f"n{i}" for i in range(n)],
            "address": [ADDRESSES[i] for i in rng.integers(0, len(ADDRESSES), n)],
            "country": [["CN", "", "DE"][i] for i in rng.integers(0, 3, n)],
            "province": [["", "Liaoning", "Jilin"][i] for i in rng.integers(0, 3, n)],
            "port_of_lading": [["", "Dalian", "Hamburg"][i] for i in rng.integers(0, 3, n)],
            "hs_code": [SECTOR_TEXT[i][0] for i in pick],
            "description": [SECTOR_TEXT[i][1] for i in pick],
            "sector": [SECTOR_TEXT[i][2] for i in pick],
            "name": [SECTOR_TEXT[i][3] for i in pick],
            "exposure": exposure,
        },
        index=np.arange(n) * 2 + 5,
    )


def test_screening_each_distinct_text_once_equals_screening_every_row():
    nodes = varied_nodes()
    result = screen_nodes(nodes)
    factors = load_factors()
    for label, row in nodes.iterrows():
        got = result.loc[label]
        place = _place_row(
            resolve_address(row["address"], row["country"], DEFAULT_SCOPE, row["province"]),
            row["port_of_lading"],
            DEFAULT_SCOPE,
        )
        if "company name starts with" not in got["geo_evidence"]:  # else the name spoke
            assert (got["geo_province"], got["geo_country"], got["in_scope"]) == place[:3]
            assert (got["geo_confidence"], got["geo_evidence"]) == place[3:5]
            assert got["geo_ambiguous"] == place[5]
        match = classify_sector(
            row["hs_code"], row["description"], row["sector"], factors, row["name"]
        )
        rule = match.rule + (f" '{match.matched}'" if match.matched else "")
        assert (got["sector"], got["sector_rule"], got["sector_factor"]) == (
            match.sector,
            rule,
            match.factor,
        )
        expected = _explain(
            got["score_basis"],
            got["source_score"],
            got["geo_province"],
            got["geo_confidence"],
            got["sector"],
            got["sector_factor"],
        )
        assert got["score_evidence"] == expected
    assert set(result["sector_rule"]) >= {"name keyword 'seafood'", "no sector information"}


def test_screening_an_empty_table():
    result = screen_nodes(varied_nodes().head(0))
    assert len(result) == 0 and "score_evidence" in result.columns
