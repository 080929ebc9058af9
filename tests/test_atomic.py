"""The one writer: staged, replaces the destination as a whole, leaves nothing behind on
failure or on a real signal."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graphkit.errors import InvalidInput
from graphkit.generate import write_generated
from graphkit.io.atomic import MARKER, atomic_file, staged_dir


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".old")))


def test_a_rerun_replaces_the_folder_as_a_whole(tmp_path):
    out = tmp_path / "out"
    with staged_dir(out) as stage:
        (stage / "views").mkdir()
        (stage / "views" / "old-product.html").write_text("old")
    with staged_dir(out) as stage:
        (stage / "report.html").write_text("new")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        MARKER,
        "report.html",
    ]
    assert leftovers(tmp_path) == []


def test_a_failed_block_keeps_the_previous_content_and_no_stage(tmp_path):
    out = tmp_path / "out"
    with staged_dir(out) as stage:
        (stage / "report.html").write_text("previous")
    with pytest.raises(RuntimeError), staged_dir(out) as stage:
        (stage / "report.html").write_text("half")
        raise RuntimeError("disk trouble")
    assert (out / "report.html").read_text() == "previous"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("existing", ["file", "foreign folder"])
def test_an_output_that_is_a_file_or_a_foreign_folder_is_refused(tmp_path, existing):
    out = tmp_path / "out"
    if existing == "file":
        out.write_text("mine")
    else:
        out.mkdir()
        (out / "thesis.docx").write_text("mine")
    with pytest.raises(InvalidInput) as caught, staged_dir(out):
        pytest.fail("the block must not run")
    assert str(out) in str(caught.value)
    assert leftovers(tmp_path) == []


def test_a_failed_file_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "index.csv"
    target.write_text("old")
    with pytest.raises(ValueError), atomic_file(target) as temp:
        temp.write_text("new")
        raise ValueError
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == [
        "index.csv"
    ]


def test_outputs_get_the_users_default_file_mode(tmp_path):
    with atomic_file(tmp_path / "a.csv") as temp:
        temp.write_text("x")
    with staged_dir(tmp_path / "out") as stage:
        (stage / "b.csv").write_text("x")
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o666 & ~current_umask()
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o777 & ~current_umask()


def current_umask() -> int:
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_a_run_killed_by_a_real_signal_leaves_nothing(tmp_path, signal_number):
    bundle = tmp_path / "bundle"
    write_generated(bundle, 3000, seed=2)
    out = tmp_path / "results"
    command = [sys.executable, "-m", "graphkit.cli", "run", str(bundle), "--out", str(out)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".results.*.tmp")):  # wait until the run is writing
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.05)
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal_number
    assert "interrupted by" in stderr and "Traceback" not in stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]
