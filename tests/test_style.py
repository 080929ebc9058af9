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
    """``import graphkit`` loads no heavy library; every public name is the object its module
    defines, before and after every submodule is imported (no submodule shadows it)."""
    code = (
        "import importlib, pkgutil, sys, types, graphkit\n"
        "assert 'pandas' not in sys.modules\n"
        "def wrong():\n"
        "    return [n for n, m in graphkit._EXPORTS.items() if isinstance(getattr(graphkit, n),\n"
        "            types.ModuleType) or getattr(graphkit, n) is not\n"
        "            getattr(importlib.import_module(m), n)]\n"
        "before = wrong()\n"
        "for info in pkgutil.walk_packages(graphkit.__path__, 'graphkit.'):\n"
        "    if not info.name.startswith(('graphkit.data', 'graphkit.cli.__main__')):\n"
        "        importlib.import_module(info.name)\n"
        "print(before, wrong())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] []"


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
    """Every command, group subcommands included, shows an example in its --help."""
    import click
    from click.testing import CliRunner

    from graphkit.cli import cli

    def commands(group: click.Group, prefix: list[str]):
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from commands(command, [*prefix, name])
            else:
                yield [*prefix, name]

    runner = CliRunner()
    helps = {" ".join(path): runner.invoke(cli, [*path, "--help"]) for path in commands(cli, [])}
    assert {"neo4j load", "neo4j query", "spark propagate", "run"} <= set(helps)
    missing = [name for name, r in helps.items() if r.exit_code or "Example" not in r.output]
    assert missing == []


def test_readme_layout_tree_names_every_module_and_only_modules_that_exist():
    """The Contributing section's tree and graphkit/ agree: every top-level module and
    package is in it, and every file or folder it names exists."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    contributing = readme.split("## Contributing", 1)[1]
    tree = re.search(r"```text\n\s*graphkit/\n(.*?)```", contributing, flags=re.S).group(1)
    package = ROOT / "graphkit"
    named = set(re.findall(r"(?<![.\w])([a-z_0-9]+(?:\.py|/))", tree))
    present = {p.name + ("/" if p.is_dir() else "") for p in package.rglob("*")}
    present |= {p.name + "/" for p in ROOT.iterdir() if p.is_dir()}  # cypher/ sits beside it
    assert sorted(named - present) == []
    top = {
        p.name + ("/" if p.is_dir() else "")
        for p in package.iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.name != "__init__.py"
    }
    assert sorted(top - named) == []
