"""Write a streamed graph to disk batch by batch: a bundle folder, or neo4j-admin import CSVs.

Both writers take a ``TableStream`` (from the server, or from a bundle in memory) and
append each batch as it arrives, so memory stays at one batch; both stage their files and
move them into place only when everything is written.

The neo4j-admin files are for neo4j-admin, not for spreadsheets: cells are written verbatim
(no apostrophe before ``=``/``+``/``-``/``@``), because neo4j-admin would store such an
apostrophe in the database and the round trip would no longer be lossless.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from graphkit import model
from graphkit.errors import InvalidInput, Problem
from graphkit.io.atomic import staged_dir
from graphkit.io.safe_csv import spreadsheet_safe
from graphkit.store import cypher
from graphkit.store.rows import LABELS, TableStream, property_name_problems

if TYPE_CHECKING:
    import pandas as pd

ADMIN_NODES = "nodes.csv"
ADMIN_RELATIONSHIPS = "relationships.csv"
ADMIN_SCRIPT = "import.sh"
ADMIN_SCHEMA = "schema.cypher"
#: bundle column -> neo4j-admin header field, for the columns with a special role
NODE_ROLES = {"id": "id:ID", "kind": ":LABEL"}
EDGE_ROLES = {"source": ":START_ID", "target": ":END_ID", "kind": ":TYPE"}
#: options of `neo4j-admin database import full` that the CSVs rely on
ADMIN_OPTIONS = (
    "--delimiter=,",
    "--multiline-fields=true",
    "--legacy-style-quoting=false",
    "--ignore-empty-strings=true",
    "--id-type=string",
)


def write_bundle_folder(stream: TableStream, out: str | Path) -> tuple[int, int]:
    """A bundle folder (nodes.csv, edges.csv, formula-safe like every bundle CSV)."""
    with staged_dir(out) as stage:
        n_nodes = _append_all(stream.nodes, stage / model.NODES_FILE, stream.node_columns, True)
        n_edges = _append_all(stream.edges, stage / model.EDGES_FILE, stream.edge_columns, True)
    return n_nodes, n_edges


def write_admin_import(
    stream: TableStream, out: str | Path, database: str = "neo4j"
) -> tuple[int, int]:
    """nodes.csv and relationships.csv with neo4j-admin headers, import.sh, schema.cypher."""
    problems = admin_header_problems(stream.node_columns, stream.edge_columns)
    if problems:
        raise InvalidInput(problems)
    nodes_header = _admin_header(stream.node_columns, NODE_ROLES, model.NODE_NUMERIC)
    edges_header = _admin_header(stream.edge_columns, EDGE_ROLES, model.EDGE_NUMERIC)
    with staged_dir(out) as stage:
        nodes = (b.assign(kind=b["kind"].map(LABELS)) for b in stream.nodes)
        n_nodes = _append_all(nodes, stage / ADMIN_NODES, nodes_header, False)
        n_edges = _append_all(stream.edges, stage / ADMIN_RELATIONSHIPS, edges_header, False)
        (stage / ADMIN_SCRIPT).write_text(admin_script(database), encoding="utf-8")
        (stage / ADMIN_SCRIPT).chmod(0o755)
        (stage / ADMIN_SCHEMA).write_text(cypher.text("schema"), encoding="utf-8")
    return n_nodes, n_edges


def admin_header_problems(node_columns: list[str], edge_columns: list[str]) -> list[Problem]:
    """Column names neo4j-admin cannot take as property names (plus the server's rules)."""
    import pandas as pd

    empty = model.Bundle(
        nodes=pd.DataFrame(columns=node_columns), edges=pd.DataFrame(columns=edge_columns)
    )
    problems = property_name_problems(empty)
    for file, columns in ((model.NODES_FILE, node_columns), (model.EDGES_FILE, edge_columns)):
        problems += [
            Problem(file, 1, c[:80], "neo4j-admin headers cannot hold ':' in a column name")
            for c in columns
            if ":" in c
        ]
    return problems


def admin_script(database: str) -> str:
    """import.sh: the exact neo4j-admin command for these files, run from their folder."""
    command = [
        f"neo4j-admin database import full {shlex.quote(database)}",
        f'--nodes="$HERE/{ADMIN_NODES}"',
        f'--relationships="$HERE/{ADMIN_RELATIONSHIPS}"',
        *ADMIN_OPTIONS,
    ]
    return (
        "#!/bin/sh\n"
        "# Initial load of these CSVs into an empty, stopped Neo4j 5 database (Community or\n"
        "# Enterprise), written by `graphkit neo4j export --admin-import`. Run it on the\n"
        "# database server, with neo4j-admin on PATH (or NEO4J_HOME set):\n"
        "#   sh import.sh\n"
        "# Then start the database and create graphkit's constraints and indexes:\n"
        f"#   cypher-shell -d {shlex.quote(database)} -f {ADMIN_SCHEMA}\n"
        "set -eu\n"
        'HERE="$(cd "$(dirname "$0")" && pwd)"\n'
        'if [ -n "${NEO4J_HOME:-}" ]; then PATH="$NEO4J_HOME/bin:$PATH"; fi\n'
        + " \\\n  ".join(command)
        + "\n"
    )


def _admin_header(columns: list[str], roles: dict[str, str], numeric: tuple[str, ...]) -> list:
    """neo4j-admin header fields: the role columns, then every property with its type."""
    return [roles.get(c) or f"{c}:{'float' if c in numeric else 'string'}" for c in columns]


def _append_all(
    frames: Iterator[pd.DataFrame], path: Path, header: list[str], spreadsheet: bool
) -> int:
    """Write the header, then each batch as it comes; the number of rows written."""
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(_header_line(header))
        for frame in frames:
            frame = spreadsheet_safe(frame) if spreadsheet else frame
            frame.to_csv(
                handle,
                index=False,
                header=False,
                float_format="%.12g" if spreadsheet else None,
            )
            written += len(frame)
    return written


def _header_line(fields: list[str]) -> str:
    import csv
    import io

    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(fields)
    return line.getvalue()
