"""Neo4j commands: load, propagate, export, query, status (settings from GRAPHKIT_NEO4J_*)."""

from __future__ import annotations

import sys
from typing import Any

import click

from graphkit.cli.common import (
    FORMAT_OPTION,
    key_value,
    print_json,
    print_table,
)


@click.group("neo4j")
def neo4j_group() -> None:
    """Store the graph in Neo4j, propagate there, and query it.

    \b
    The server comes from environment variables, never from the command line:
      GRAPHKIT_NEO4J_URI       e.g. bolt://localhost:7687
      GRAPHKIT_NEO4J_USER      e.g. neo4j
      GRAPHKIT_NEO4J_PASSWORD
      GRAPHKIT_NEO4J_DATABASE  default: neo4j
    """


@neo4j_group.command("load")
@click.argument("bundle", type=click.Path(exists=True))
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Rows per transaction.",
)
def neo4j_load(bundle: str, batch_size: int) -> None:
    """Load BUNDLE into Neo4j (re-running it changes nothing; a changed bundle updates)."""
    from graphkit.io import read_bundle
    from graphkit.store.neo4j import Neo4jStore

    data = read_bundle(bundle)
    with Neo4jStore() as store:
        total = len(data.nodes) + len(data.edges)
        with click.progressbar(length=total, label="Loading", file=sys.stderr) as bar:
            summary = store.load(data, batch_size=batch_size, progress=bar.update)
    click.echo(
        f"loaded {summary.nodes} nodes and {summary.relationships} relationships into "
        f"{store.settings.database}; removed {summary.deleted_nodes} nodes and "
        f"{summary.deleted_relationships} relationships the bundle no longer has"
    )


@neo4j_group.command("propagate")
def neo4j_propagate() -> None:
    """Propagate exposure over the graph in Neo4j and write the results back onto its nodes."""
    from graphkit.store.neo4j import RESULT_PROPERTIES, Neo4jStore

    with Neo4jStore() as store:
        total = sum(store.status()["nodes"].values())
        bar = click.progressbar(length=total, label="Writing results", file=sys.stderr)
        with bar:
            table = store.propagate(progress=bar.update)
    written = ", ".join(RESULT_PROPERTIES[c] for c in RESULT_PROPERTIES if c in table.columns)
    click.echo(f"wrote {written} for {len(table)} nodes")


@neo4j_group.command("export")
@click.argument("out", type=click.Path())
def neo4j_export(out: str) -> None:
    """Export the graph in Neo4j back into a bundle folder OUT."""
    from graphkit.io import write_bundle
    from graphkit.store.neo4j import Neo4jStore

    with Neo4jStore() as store:
        bundle = store.export()
    write_bundle(bundle, out)
    click.echo(f"exported {len(bundle.nodes)} nodes and {len(bundle.edges)} edges to {out}")


@neo4j_group.command("query")
@click.argument("name", required=False)
@click.option("--param", "params", multiple=True, metavar="K=V", help="A query parameter.")
@FORMAT_OPTION
def neo4j_query(name: str | None, params: tuple[str, ...], output_format: str) -> None:
    """Run the analyst query NAME (from cypher/queries); without NAME, list them."""
    from graphkit.store import cypher
    from graphkit.store.neo4j import Neo4jStore

    if name is None:
        print_table([_query_info(n) for n in cypher.query_names()])
        return
    if name not in cypher.query_names():
        raise click.BadParameter(
            f"unknown query {name!r}; available: {', '.join(cypher.query_names())}",
            param_hint="NAME",
        )
    given = dict(key_value(p, "--param") for p in params)
    cypher.bind_query(name, given)  # parameter errors before connecting
    with Neo4jStore() as store:
        rows = store.query(name, given)
    if output_format == "json":
        print_json(rows)
    else:
        print_table([{k: _joined(v) for k, v in row.items()} for row in rows])


@neo4j_group.command("status")
@FORMAT_OPTION
def neo4j_status(output_format: str) -> None:
    """Show the server, the database and the node and relationship counts."""
    from graphkit.store.neo4j import Neo4jStore

    with Neo4jStore() as store:
        status = store.status()
    if output_format == "json":
        print_json(status)
        return
    for key in ("server", "product", "database", "user"):
        click.echo(f"{key}: {status[key]}")
    counts = [{"label or type": k, "count": v} for k, v in status["nodes"].items()]
    counts += [{"label or type": k, "count": v} for k, v in status["relationships"].items()]
    print_table(counts)


def _query_info(name: str) -> dict[str, str]:
    from graphkit.store import cypher

    params = ", ".join(
        p.name if p.default is None else f"{p.name}={p.default}" for p in cypher.query_params(name)
    )
    return {"query": name, "parameters": params, "answers": cypher.query_purpose(name)}


def _joined(value: Any) -> Any:
    """A list shown as one cell in a table."""
    return " > ".join(map(str, value)) if isinstance(value, list) else value
