"""The analyst notebook runs clean in a real kernel, with and without a Neo4j server."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
WALKTHROUGH = NOTEBOOKS / "exposure_walkthrough.ipynb"
NEO4J_VARIABLES = ("URI", "USER", "PASSWORD", "DATABASE")


def execute(path: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    """Run every cell in a fresh python3 kernel started with ``env``; raise on any error."""
    notebook = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        client = NotebookClient(
            notebook,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": NOTEBOOKS}},
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return notebook


def outputs_text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.extend(str(v) for v in output.get("data", {}).values())
    return "\n".join(parts)


def without_neo4j() -> dict[str, str]:
    """This environment minus any Neo4j settings; the kernel imports graphkit from this repo."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHKIT_NEO4J_")}
    root = str(NOTEBOOKS.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    return env


def test_committed_notebook_has_no_outputs():
    notebook = nbformat.read(WALKTHROUGH, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_walkthrough_runs_and_skips_neo4j_clearly():
    notebook = execute(WALKTHROUGH, without_neo4j())
    text = outputs_text(notebook)
    assert "GRAPHKIT_NEO4J_URI is not set: skipping the Neo4j section." in text
    assert "s-dandong-xinlian -> c-bare-pcb -> c-pcba -> c-controller" in text
    assert "graphkitNetwork" in text  # the view was displayed inline


@pytest.mark.usefixtures("neo4j_env")
def test_walkthrough_neo4j_section_runs_against_a_server(neo4j_env):
    notebook = execute(WALKTHROUGH, without_neo4j() | neo4j_env)
    text = outputs_text(notebook)
    assert "skipping the Neo4j section" not in text
    assert "c-km500" in notebook.cells[-1].outputs[0]["data"]["text/plain"]
