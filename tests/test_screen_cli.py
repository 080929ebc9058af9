import csv
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from graphkit.cli import cli
from graphkit.io.safe_csv import neutralise_formula

ROOT = Path(__file__).resolve().parents[1]


def write_input(tmp_path: Path) -> Path:
    path = tmp_path / "imports.csv"
    path.write_text(
        "id,supplier_address,ctry\n"
        '1,"Zhenxing District, Dandong 118000",CN\n'
        '2,"Dalian Road, Shanghai",CN\n'
        '3,=HYPERLINK("x"),\n'
        "4,Sinuiju,\n"
        "5,Ji'an,\n",
        encoding="utf-8",
    )
    return path


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_screen_writes_every_row_with_results(tmp_path):
    source, out = write_input(tmp_path), tmp_path / "out.csv"
    result = CliRunner().invoke(
        cli,
        [
            "screen",
            str(source),
            "--column",
            "supplier_address",
            "--country-column",
            "ctry",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = read(out)
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [r["in_scope"] for r in rows] == ["true", "false", "false", "true", "false"]
    assert [r["ambiguous"] for r in rows] == ["false", "false", "false", "false", "true"]
    assert rows[0]["province"] == "Liaoning" and "postal '118000'" in rows[0]["evidence"]
    assert rows[3]["country"] == "KP"
    assert 0 < float(rows[0]["confidence"]) <= 1
    assert rows[2]["supplier_address"].startswith("'=")
    assert "2 in scope" in result.output


def test_scope_option(tmp_path):
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("address\nHarbin\n", encoding="utf-8")
    args = ["screen", str(source), "--column", "address", "--out", str(out)]
    CliRunner().invoke(cli, args + ["--scope", "heilongjiang"])
    assert read(out)[0]["in_scope"] == "true"
    bad = CliRunner().invoke(cli, args + ["--scope", "atlantis"])
    assert bad.exit_code == 2


def test_missing_column_is_exit_2_names_file_and_column_and_writes_nothing(tmp_path):
    source, out = write_input(tmp_path), tmp_path / "out.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = ["screen", str(source), "--column", "address", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "graphkit.cli", *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "imports.csv" in proc.stderr and "'address'" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]


def test_neutralise_formula():
    assert neutralise_formula("=1+1") == "'=1+1"
    assert neutralise_formula("+86 411") == "'+86 411"
    assert neutralise_formula("-5") == "'-5"
    assert neutralise_formula("@cmd") == "'@cmd"
    assert neutralise_formula("Dandong") == "Dandong"
    assert neutralise_formula(3) == 3
