"""The code base stays clean under ruff (lint and format), as CI requires."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_ruff(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ruff", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_is_clean():
    result = run_ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = run_ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "bash tests/install_deps.sh && python -m pytest"
    assert f"```bash\n{command}\n```" in readme
    assert command in ci.splitlines()


def test_public_api_resolves_lazily():
    code = (
        "import sys, graphkit\n"
        "assert 'pandas' not in sys.modules\n"
        "missing = [n for n in graphkit.__all__ if not hasattr(graphkit, n)]\n"
        "print(missing)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
