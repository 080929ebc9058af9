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


def test_every_readme_python_snippet_runs_twice_in_one_process(tmp_path):
    """The README's code works as written, and keeps working once the package's submodules
    are imported (no public name may be shadowed by a submodule)."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    snippets = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert len(snippets) >= 3
    runner = "\n".join(
        f"for _ in range(2):\n    exec(compile({code!r}, 'README snippet {i}', 'exec'), {{}})"
        for i, code in enumerate(snippets, 1)
    )
    (tmp_path / "sample_graphs").symlink_to(ROOT / "sample_graphs")  # snippets' paths
    result = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True,
                            cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def test_every_command_help_has_an_example():
    """Every command, group subcommands included, shows an example in --help."""
    import click

    from graphkit.cli import cli

    def commands(group: click.Group, prefix: str):
        for name, command in group.commands.items():
            yield f"{prefix}{name}", command
            if isinstance(command, click.Group):
                yield from commands(command, f"{prefix}{name} ")

    missing = [
        name
        for name, command in commands(cli, "")
        if not isinstance(command, click.Group) and "Example" not in (command.help or "")
    ]
    assert missing == []
