"""The `graphkit` command line: thin click commands that parse, call the library and print.

Heavy libraries (pandas, scipy, neo4j, pyvis) are imported inside the commands, never at
module level, so that `graphkit --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from graphkit import __version__
from graphkit.model import GraphError, InvalidInput

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Print a human-readable table or machine-readable JSON.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="graphkit")
def cli() -> None:
    """Find hidden exposure to North Korean forced labour in multi-tier supply chains.

    \b
    Example:
      graphkit validate sample_graphs/electronics_machinery
    """


def print_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """Print rows as an aligned plain-text table."""
    if not rows:
        click.echo("(no rows)")
        return
    columns = columns or list(rows[0])
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else f"{value:.4g}"
    return str(value)


def report_problems(problems: list, stream_err: bool = True) -> None:
    """Print validation problems (errors and warnings), one per line."""
    for problem in problems:
        click.echo(str(problem), err=stream_err)


def main() -> None:
    """Entry point: run the CLI, turning user errors into one clear message and an exit code."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except InvalidInput as exc:
        report_problems(exc.problems)
        n = sum(1 for p in exc.problems if p.severity == "error")
        click.echo(f"invalid input: {n} error(s)", err=True)
        sys.exit(exc.exit_code)
    except GraphError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


# --- bundle commands (Foundation) -------------------------------------------------------


# --- screening commands (Source identification) -----------------------------------------


# --- propagation commands (Propagation engine) ------------------------------------------


# --- neo4j commands (Neo4j backend) ------------------------------------------------------


@cli.group("neo4j")
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
    given = dict(_key_value(p) for p in params)
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


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"expected K=V, got {text!r}", param_hint="--param")
    return key.strip(), value


def _joined(value: Any) -> Any:
    """A list shown as one cell in a table."""
    return " > ".join(map(str, value)) if isinstance(value, list) else value


# --- render commands (Auditor views) -----------------------------------------------------


# --- run command (main job) ---------------------------------------------------------------


if __name__ == "__main__":
    main()
