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
from graphkit.errors import GraphError


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
    """Load BUNDLE into Neo4j (re-running it changes nothing; a changed bundle updates).

    \b
    Example:
      graphkit neo4j load sample_graphs/electronics_machinery --batch-size 5000
    """
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
    """Propagate exposure over the graph in Neo4j and write the results back onto its nodes.

    \b
    Example:
      graphkit neo4j propagate
    """
    from graphkit.store.neo4j import Neo4jStore
    from graphkit.store.rows import RESULT_PROPERTIES

    with Neo4jStore() as store:
        total = sum(store.status()["nodes"].values())
        bar = click.progressbar(length=total, label="Writing results", file=sys.stderr)
        with bar:
            table = store.propagate(progress=bar.update)
    written = ", ".join(RESULT_PROPERTIES[c] for c in RESULT_PROPERTIES if c in table.columns)
    click.echo(f"wrote {written} for {len(table)} nodes")


@neo4j_group.command("export")
@click.argument("out", type=click.Path(), required=False)
@click.option(
    "--admin-import",
    "admin_dir",
    type=click.Path(file_okay=False),
    help="Also (or only) write neo4j-admin import CSVs and import.sh into this folder.",
)
@click.option(
    "--bundle",
    "from_bundle",
    type=click.Path(exists=True),
    help="With --admin-import: take the graph from this bundle, no server needed.",
)
def neo4j_export(out: str | None, admin_dir: str | None, from_bundle: str | None) -> None:
    """Export the graph in Neo4j into a bundle folder OUT and/or neo4j-admin CSVs, streamed.

    \b
    Example:
      graphkit neo4j export exported_bundle
      graphkit neo4j export --admin-import admin-csv --bundle sample_graphs/apparel_ppe
    """
    from graphkit.store import export
    from graphkit.store.neo4j import Neo4jStore

    if not (out or admin_dir) or (from_bundle and (out or not admin_dir)):
        raise click.UsageError("give OUT and/or --admin-import DIR; --bundle only with DIR alone")
    if from_bundle:
        from graphkit.io import read_bundle
        from graphkit.store.rows import TableStream

        stream = TableStream.of_bundle(read_bundle(from_bundle))
        counts = export.write_admin_import(stream, admin_dir)
        click.echo(
            f"wrote neo4j-admin CSVs of {counts[0]} nodes and {counts[1]} edges to {admin_dir}"
        )
        return
    with Neo4jStore() as store:
        if out:
            counts = export.write_bundle_folder(store.stream(), out)
            click.echo(f"exported {counts[0]} nodes and {counts[1]} edges to {out}")
        if admin_dir:
            counts = export.write_admin_import(store.stream(), admin_dir, store.settings.database)
            click.echo(
                f"wrote neo4j-admin CSVs of {counts[0]} nodes and {counts[1]} edges to {admin_dir}"
            )


@neo4j_group.command("query")
@click.argument("name", required=False)
@click.option("--param", "params", multiple=True, metavar="K=V", help="A query parameter.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds the query may run; longer ends with exit 3.",
)
@FORMAT_OPTION
def neo4j_query(name: str | None, params: tuple[str, ...], timeout: float, output_format) -> None:
    """Run the analyst query NAME (from cypher/queries); without NAME, list them.

    \b
    Example:
      graphkit neo4j query top_exposed_products --param limit=10
    """
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
    try:
        cypher.bind_query(name, given)  # parameter errors before connecting
    except GraphError as exc:
        raise click.BadParameter(str(exc), param_hint="--param") from None
    with Neo4jStore() as store:
        rows = store.query(name, given, timeout=timeout)
    if output_format == "json":
        print_json(rows)
    else:
        print_table([{k: _joined(v) for k, v in row.items()} for row in rows])


@neo4j_group.command("status")
@FORMAT_OPTION
def neo4j_status(output_format: str) -> None:
    """Show the server, the database and the node and relationship counts.

    \b
    Example:
      graphkit neo4j status --format json
    """
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
