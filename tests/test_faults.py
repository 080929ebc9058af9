"""The fault suite: every bad input and every failing disk is one named line and an exit
code, never a traceback, and the output path holds the previous content or nothing.

Commands run in-process through ``graphkit.cli.invoke`` (what the console script runs);
conditions the test process cannot make for itself run the real CLI in a subprocess: a
parent folder without write permission (root's DAC capabilities dropped with setpriv), a
file-size limit (RLIMIT_FSIZE) and a full disk (a 64 KiB tmpfs in a private mount
namespace, skipped where mounting is not allowed).
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
import pytest

from graphkit.cli import invoke
from graphkit.io import read_bundle

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny"
RECORDS = ROOT / "tests" / "data" / "records_small.csv"
SANCTIONS = ROOT / "sample_graphs" / "sanctions_example.csv"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def gk(*args: object) -> tuple[int, str, str]:
    """Run graphkit in-process: (exit code, stdout, stderr); any traceback fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = invoke([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def leftovers(folder: Path) -> list[str]:
    """Staging files or folders left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".old")))


def bundle_copy(tmp_path: Path, name: str = "b") -> Path:
    target = tmp_path / name
    shutil.copytree(TINY, target)
    return target


def edit_csv(path: Path, edit, out: Path | None = None) -> None:
    """Edit the CSV at ``path`` as a frame; written (to ``out``, default ``path``) with CRLF
    row ends, so that the csv module quotes every CR in a cell, as Excel does."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame)
    frame.to_csv(out or path, index=False, lineterminator="\r\n")


# --- outputs that cannot be written ------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["run", TINY, "--out"],
        ["ingest", RECORDS, "--out"],
        ["convert", TINY],
        ["propagate", TINY, "--out"],
        ["generate", "--suppliers", "20", "--out"],
    ],
    ids=["run", "ingest", "convert", "propagate", "generate"],
)
def test_an_output_folder_that_is_a_file_is_refused(tmp_path, command):
    out = tmp_path / "out"
    out.write_text("previous")
    if command[0] == "generate":
        command = command[:-1]
    code, _, err = gk(*command, out)
    if command[0] in ("propagate", "generate"):  # click checks these options itself
        assert code == 2 and err.strip().splitlines()[-1].startswith("Error: Invalid value for")
    else:
        assert (code, first_line(err)) == (2, f"error: {out}: is a file, not a folder")
    assert out.read_text() == "previous" and leftovers(tmp_path) == []


def test_screen_out_naming_a_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous")
    code, _, err = gk("screen", RECORDS, "--column", "shipper_address", "--out", out)
    assert (code, first_line(err)) == (
        2,
        f"error: cannot write {out}: is a folder, expected a file",
    )
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["screen", "run", "convert.xlsx"])
def test_an_output_under_a_file_is_refused(tmp_path, command):
    blocker = tmp_path / "blocker"
    blocker.write_text("previous")
    out = blocker / "out"
    args = {
        "screen": ["screen", RECORDS, "--column", "shipper_address", "--out", out / "x.csv"],
        "run": ["run", TINY, "--out", out],
        "convert.xlsx": ["convert", TINY, out / "x.xlsx"],
    }[command]
    code, _, err = gk(*args)
    target = args[-1]
    assert code == 2
    assert (
        first_line(err)
        == f"error: cannot write {target}: a part of the path is a file, not a folder"
    )
    assert blocker.read_text() == "previous" and leftovers(tmp_path) == []


def test_a_folder_where_report_md_goes_is_replaced_with_the_whole_output(tmp_path):
    out = tmp_path / "out"
    assert gk("run", TINY, "--out", out)[0] == 0
    (out / "report.md").unlink()
    (out / "report.md").mkdir()
    assert gk("run", TINY, "--out", out)[0] == 0
    assert (out / "report.md").is_file() and leftovers(tmp_path) == []


def subprocess_gk(args: list[object], cwd: Path, prefix=(), preexec=None):
    """The real CLI in a subprocess: (exit code, first line of stderr, whole stderr)."""
    command = [*prefix, sys.executable, "-m", "graphkit.cli", *map(str, args)]
    done = subprocess.run(
        command, cwd=cwd, env=ENV, capture_output=True, text=True, preexec_fn=preexec, timeout=600
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, first_line(done.stderr), done.stderr


#: root's capabilities to ignore file permissions, dropped (the suite runs as root)
WITHOUT_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def permission_cases(locked: Path) -> dict[str, tuple[list[object], Path]]:
    return {
        "run": (["run", TINY, "--out", locked / "out"], locked / "out"),
        "propagate": (["propagate", TINY, "--out", locked / "out"], locked / "out"),
        "screen": (
            ["screen", RECORDS, "--column", "shipper_address", "--out", locked / "s.csv"],
            locked / "s.csv",
        ),
        "ingest": (["ingest", RECORDS, "--out", locked / "out"], locked / "out"),
        "convert": (["convert", TINY, locked / "out"], locked / "out"),
        "convert.xlsx": (["convert", TINY, locked / "b.xlsx"], locked / "b.xlsx"),
        "render": (["render", TINY, "--top", "1", "--out", locked / "v.html"], locked / "v.html"),
    }


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
@pytest.mark.parametrize(
    "case", ["run", "propagate", "screen", "ingest", "convert", "convert.xlsx", "render"]
)
def test_an_output_under_a_folder_without_write_permission(tmp_path, case):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    args, target = permission_cases(locked)[case]
    try:
        code, line, _ = subprocess_gk(args, tmp_path, prefix=WITHOUT_DAC)
    finally:
        locked.chmod(0o755)
    assert (code, line) == (2, f"error: cannot write {target}: permission denied")
    assert list(locked.iterdir()) == []


def _file_size_limit(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("case", ["run", "screen", "convert", "convert.xlsx", "ingest"])
def test_a_file_size_limit_while_writing_is_an_environment_error(tmp_path, case):
    out = tmp_path / "out"
    args = {
        "run": ["run", TINY, "--format", "json", "--out", out],
        "screen": ["screen", RECORDS, "--column", "shipper_address", "--out", out],
        "convert": ["convert", TINY, out],
        "convert.xlsx": ["convert", TINY, out.with_suffix(".xlsx")],
        "ingest": ["ingest", RECORDS, "--out", out],
    }[case]
    code, line, _ = subprocess_gk(args, tmp_path, preexec=_file_size_limit(300))
    assert code == 3
    assert line.startswith(f"error: cannot write {args[-1]}")
    assert line.endswith(": file too large (a file-size limit was reached); nothing was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_full_disk_is_an_environment_error(tmp_path):
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux) to mount a small tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    big = tmp_path / "big.csv"
    rows = "".join(f"r{i},No. {i} Binjiang Road Dandong Liaoning 118000\n" for i in range(4000))
    big.write_text("id,address\n" + rows)
    graphkit = f"{sys.executable} -m graphkit.cli screen {big} --column address --out {disk}/s.csv"
    script = f"mount -t tmpfs -o size=64k tmpfs {disk} && {graphkit}; echo rc=$? >&2; ls -A {disk}"
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script], env=ENV, capture_output=True, text=True
    )
    if "mount" in done.stderr.split("\n")[0] and "rc=" not in done.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    assert "Traceback" not in done.stderr
    expected = f"error: cannot write {disk}/s.csv: no space left on the device; nothing was written"
    assert first_line(done.stderr) == expected
    assert "rc=3" in done.stderr and done.stdout.strip() == ""  # nothing left on the disk


# --- inputs that cannot be read ----------------------------------------------------------


def test_a_header_only_records_file(tmp_path):
    records = tmp_path / "r.csv"
    records.write_text(RECORDS.read_text().splitlines()[0] + "\n")
    code, _, err = gk("ingest", records, "--out", tmp_path / "out")
    assert (code, first_line(err)) == (2, f"error: {records}: file has a header but no records")
    assert not (tmp_path / "out").exists()


def test_a_header_only_sanctions_list(tmp_path):
    listed = tmp_path / "l.csv"
    listed.write_text(SANCTIONS.read_text().splitlines()[0] + "\n")
    code, _, err = gk("sanctions", TINY, "--list", listed, "--out", tmp_path / "out")
    assert (code, first_line(err)) == (2, f"error: {listed}: file has a header but no rows")
    assert not (tmp_path / "out").exists()


def test_sanctions_out_with_no_match_writes_the_bundle_unchanged(tmp_path):
    listed = tmp_path / "l.csv"
    listed.write_text("name\nZyxwvut Nothing Alike Holdings\n")
    code, out, _ = gk("sanctions", TINY, "--list", listed, "--out", tmp_path / "out")
    assert (code, first_line(out)) == (0, f"no matches: wrote {tmp_path / 'out'} unchanged")
    written, original = read_bundle(tmp_path / "out"), read_bundle(TINY)
    pd.testing.assert_frame_equal(written.nodes, original.nodes)


def test_a_one_megabyte_cell_is_read_by_screen_and_ingest(tmp_path):
    cell = "x" * 1_000_000
    table = tmp_path / "big.csv"
    table.write_text(f"note,address\n{cell},Dandong Liaoning\n")
    code, _, _ = gk("screen", table, "--column", "address", "--out", tmp_path / "s.csv")
    assert code == 0
    assert pd.read_csv(tmp_path / "s.csv", dtype=str)["note"].iat[0] == cell
    records = tmp_path / "r.csv"
    edit_csv(RECORDS, lambda f: f.loc.__setitem__((0, "goods_description"), cell), records)
    assert gk("ingest", records, "--out", tmp_path / "out")[0] == 0


def test_deeply_nested_json_is_refused(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"nodes": ' + "[" * 100_000 + "]" * 100_000 + ', "edges": []}')
    code, _, err = gk("validate", deep)
    assert (code, first_line(err)) == (2, f"error: {deep}: invalid JSON: nested too deeply to read")


def test_convert_refuses_what_a_sheet_cannot_hold(tmp_path):
    wide = bundle_copy(tmp_path)
    nodes = pd.read_csv(wide / "nodes.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame({f"c{i}": ["v"] * len(nodes) for i in range(20_000)})
    pd.concat([nodes, extra], axis=1).to_csv(wide / "nodes.csv", index=False)
    out = tmp_path / "wide.xlsx"
    code, _, err = gk("convert", wide, out)
    expected = (
        f"error: {out} [sheet nodes]: 20,010 columns; an .xlsx sheet holds 16,384: "
        "write a CSV folder or .json instead"
    )
    assert (code, first_line(err)) == (2, expected) and not out.exists()


@pytest.mark.parametrize(
    ("value", "suffix", "message"),
    [
        ("a\x00b", ".xlsx", "holds a control character (such as NUL) that .xlsx cannot hold"),
        ("a\x00b", ".graphml", "holds a control character (such as NUL) that GraphML cannot hold"),
        ("x" * 40_000, ".xlsx", "cell needs 40,000 characters; an .xlsx cell holds 32,767"),
    ],
    ids=["nul-xlsx", "nul-graphml", "long-xlsx"],
)
def test_convert_refuses_a_cell_the_format_cannot_hold(tmp_path, value, suffix, message):
    source = bundle_copy(tmp_path)
    edit_csv(source / "nodes.csv", lambda f: f.__setitem__("name", [value] + list(f["name"][1:])))
    out = (tmp_path / "out").with_suffix(suffix)
    code, _, err = gk("convert", source, out)
    sheet = " [sheet nodes]" if suffix == ".xlsx" else " [nodes]"
    expected = f"error: {out}{sheet}, row 2, column 'name': {message}"
    assert (code, first_line(err)) == (2, expected + ": write a CSV folder or .json instead")
    assert not out.exists()


def test_a_share_above_one_on_a_single_edge(tmp_path):
    source = bundle_copy(tmp_path)
    edit_csv(source / "edges.csv", lambda f: f.__setitem__("share", ["1.5"] + list(f["share"][1:])))
    code, _, err = gk("validate", source)
    expected = f"error: {source / 'edges.csv'}, row 2, column 'share': 1.5 is outside [0, 1]"
    assert (code, first_line(err)) == (2, expected)


@pytest.mark.parametrize("value", ["inf", "1e309", "-inf"])
def test_non_finite_numbers_are_named(tmp_path, value):
    source = bundle_copy(tmp_path)
    edit_csv(source / "nodes.csv", lambda f: f.__setitem__("exposure", [value] + [""] * 5))
    code, _, err = gk("validate", source)
    expected = (
        f"error: {source / 'nodes.csv'}, row 2, column 'exposure': '{value}' is not a finite number"
    )
    assert (code, first_line(err)) == (2, expected)
    records = tmp_path / "r.csv"
    edit_csv(RECORDS, lambda f: f.loc.__setitem__((0, "value_usd"), value), records)
    code, _, err = gk("ingest", records, "--out", tmp_path / "out")
    expected = f"error: {records}, row 2, column 'value_usd': '{value}' is not a finite number"
    assert (code, first_line(err)) == (2, expected) and not (tmp_path / "out").exists()


def test_duplicate_column_headers_are_named(tmp_path):
    source = bundle_copy(tmp_path)
    lines = (source / "nodes.csv").read_text().splitlines()
    lines[0] += ",exposure"
    lines[1:] = [line + ",1" for line in lines[1:]]
    (source / "nodes.csv").write_text("\n".join(lines) + "\n")
    code, _, err = gk("validate", source)
    expected = (
        f"error: {source / 'nodes.csv'}, row 1, column 'exposure': duplicate column header "
        "'exposure' (columns 9 and 11): give every column its own name"
    )
    assert (code, first_line(err)) == (2, expected)


def test_a_stray_field_on_the_first_row_names_the_row_and_the_cause(tmp_path):
    source = bundle_copy(tmp_path)
    lines = (source / "nodes.csv").read_text().splitlines()
    lines[1] += ",stray"
    (source / "nodes.csv").write_text("\n".join(lines) + "\n")
    code, _, err = gk("validate", source)
    expected = (
        f"error: {source / 'nodes.csv'}, row 2: row 2 has 11 fields but the header has 10: a "
        "stray separator (such as an unquoted comma) would shift every column; quote that "
        "cell or remove the extra field"
    )
    assert (code, first_line(err)) == (2, expected)


def test_a_semicolon_separated_file_is_recognised(tmp_path):
    source = bundle_copy(tmp_path)
    frame = pd.read_csv(source / "nodes.csv", dtype=str, keep_default_na=False)
    frame.to_csv(source / "nodes.csv", index=False, sep=";")
    code, _, err = gk("validate", source)
    expected = (
        f"error: {source / 'nodes.csv'}, row 1: the file is separated by semicolons, not "
        "commas (as Excel saves CSV in many European locales): save it as CSV UTF-8 "
        "(comma delimited)"
    )
    assert (code, first_line(err)) == (2, expected)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (
            b"\x9c\x00\xffbinary\x00",
            "file is not UTF-8 (invalid byte at offset 0); it looks like binary data (not "
            "text); save as UTF-8",
        ),
        (
            "country,sector,expected_exposure\n朝鲜,服装,0.5\n".encode("gb18030"),
            "file is not UTF-8 (invalid byte at offset 33); it looks like GB18030/GBK "
            "(Simplified Chinese); save as UTF-8",
        ),
        (None, "is a folder, expected a priors CSV file"),
    ],
    ids=["empty", "binary", "gb18030", "folder"],
)
def test_malformed_priors_are_named(tmp_path, content, message):
    priors = tmp_path / "priors"
    if content is None:
        priors.mkdir()
    else:
        priors.write_bytes(content)
    row = ", row 2" if "GB18030" in message else ", row 1" if "offset 0" in message else ""
    code, _, err = gk("propagate", TINY, "--out", tmp_path / "out", "--priors", priors)
    if content is None:  # click refuses a folder for --priors itself
        assert code == 2 and "is a directory" in err
        code, _, err = gk("run", TINY, "--out", tmp_path / "out", "--priors", priors)
        assert code == 2 and f"error: {priors}: {message}" in err.splitlines()
        return
    assert (code, first_line(err)) == (2, f"error: {priors}{row}: {message}")
    assert not (tmp_path / "out").exists()


SCREEN_ROWS = (
    "name,address\n丹東華鑫服裝有限公司,遼寧省丹東市振興區錦山大街88號\n"
    "大連海產加工廠,遼寧省大連市甘井子區\nAcme,Berlin\n"
)


@pytest.mark.parametrize(
    ("codec", "text", "name"),
    [
        ("big5", SCREEN_ROWS, "Big5 (Traditional Chinese)"),
        (
            "gb18030",
            "name,address\n丹东华鑫服装有限公司,辽宁省丹东市振兴区锦山大街88号\n"
            "大连海产加工厂,辽宁省大连市甘井子区\nAcme,Berlin\n",
            "GB18030/GBK (Simplified Chinese)",
        ),
    ],
)
def test_screen_refuses_or_decodes_a_legacy_chinese_encoding(tmp_path, codec, text, name):
    source = tmp_path / "in.csv"
    source.write_bytes(text.encode(codec))
    out = tmp_path / "out.csv"
    code, _, err = gk("screen", source, "--column", "address", "--out", out)
    expected = (
        f"error: {source}, row 2: file is not UTF-8 (invalid byte at offset 13); it looks "
        f"like {name}; save as UTF-8 or give its encoding with --encoding"
    )
    assert (code, first_line(err)) == (2, expected) and not out.exists()
    code, stdout, _ = gk("screen", source, "--column", "address", "--out", out, "--encoding", codec)
    assert (code, first_line(stdout)) == (0, f"3 rows screened, 2 in scope -> {out}")
    assert pd.read_csv(out, dtype=str)["name"].iat[0] == text.splitlines()[1].split(",")[0]


# --- round trips ---------------------------------------------------------------------------


def test_a_carriage_return_in_a_cell_survives_convert_and_ingest(tmp_path):
    source = bundle_copy(tmp_path)
    hostile = "Acme\r=cmd|' /C calc'!A0"
    edit_csv(source / "nodes.csv", lambda f: f.__setitem__("name", [hostile] + list(f["name"][1:])))
    assert gk("convert", source, tmp_path / "copy")[0] == 0
    assert read_bundle(tmp_path / "copy").nodes["name"].iat[0] == hostile
    records = tmp_path / "r.csv"
    description = "jacket\rshells\r\n=1+1"
    edit_csv(RECORDS, lambda f: f.loc.__setitem__((0, "goods_description"), description), records)
    assert gk("ingest", records, "--out", tmp_path / "ingested")[0] == 0
    code, out, _ = gk("validate", tmp_path / "ingested")
    assert code == 0 and "valid" in out


def test_every_table_of_a_run_keeps_hostile_rows_intact(tmp_path):
    source = bundle_copy(tmp_path)
    hostile = ["Acme\r=cmd|' /C calc'!A0", "@SUM(9*9)", "\uff1dHYPERLINK(1)", "-2+3", "\t=x"]
    hostile += ["ok"]
    edit_csv(source / "nodes.csv", lambda f: f.__setitem__("name", hostile))
    assert gk("run", source, TINY, "--out", tmp_path / "out")[0] == 0
    for table in ("b/exposures.csv", "b/contributions.csv", "index.csv"):
        rows = list(pd.read_csv(tmp_path / "out" / table, dtype=str).itertuples(index=False))
        assert len(rows) == {"index.csv": 2}.get(table, len(rows))
        for row in rows:
            for cell in row:
                assert not (
                    isinstance(cell, str) and cell[:1] in "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
                )
    names = pd.read_csv(tmp_path / "out" / "b" / "exposures.csv", dtype=str)["name"]
    assert sorted(names) == sorted("'" + h if h[0] in "=+-@\t\uff1d" else h for h in hostile)


def test_json_output_is_valid_for_every_hostile_cell(tmp_path):
    source = bundle_copy(tmp_path)
    edit_csv(source / "nodes.csv", lambda f: f.__setitem__("name", ["a\x00\r\n\u2028b"] * 6))
    assert gk("convert", source, tmp_path / "b.json")[0] == 0
    document = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert {n["name"] for n in document["nodes"]} == {"a\x00\r\n\u2028b"}


# --- where outputs go ----------------------------------------------------------------------


def everything_under(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")}


def test_a_bundle_path_ending_in_dot_dot_writes_only_inside_out(tmp_path):
    work = tmp_path / "work"
    (bundle_copy(work, "a") / "sub").mkdir()
    bundle_copy(work, "b")
    before = everything_under(work)
    code, _, err = gk("run", work / "a" / "sub" / "..", work / "b", "--out", work / "out" / "o")
    assert code == 0, err
    added = everything_under(work) - before
    assert added and all(p.parts[:2] == ("out", "o") for p in added - {Path("out")})
    assert {"a", "b"} <= {p.name for p in (work / "out" / "o").iterdir()}
    assert (work / "out" / "o" / "a" / "report.html").is_file()
