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

BUNDLE_ARG = click.argument("bundle", type=click.Path(exists=True, path_type=str))


@cli.command()
@BUNDLE_ARG
@FORMAT_OPTION
def validate(bundle: str, output_format: str) -> None:
    """Check a bundle and list every problem, with file, row and column.

    BUNDLE is a folder with nodes.csv and edges.csv, an .xlsx workbook (sheets nodes,
    edges) or a .json file. Exits 0 when valid (warnings may be printed), 2 when not.

    \b
    Example:
      graphkit validate sample_graphs/apparel_ppe
    """
    from graphkit.io import read_bundle

    try:
        loaded = read_bundle(bundle)
    except InvalidInput as exc:
        if output_format == "json":
            print_json({"valid": False, "problems": [p.as_dict() for p in exc.problems]})
            sys.exit(exc.exit_code)
        raise
    if output_format == "json":
        problems = [p.as_dict() for p in loaded.warnings]
        print_json({"valid": True, "nodes": len(loaded.nodes), "problems": problems})
        return
    report_problems(loaded.warnings)
    click.echo(
        f"{bundle}: valid ({len(loaded.nodes)} nodes, {len(loaded.edges)} edges, "
        f"{len(loaded.warnings)} warning(s))"
    )


@cli.command()
@BUNDLE_ARG
@FORMAT_OPTION
def info(bundle: str, output_format: str) -> None:
    """Summarise a bundle: counts by kind, tiers, connected parts, cycles, unmapped inputs.

    \b
    Example:
      graphkit info sample_graphs/electronics_machinery --format json
    """
    from graphkit.io import read_bundle
    from graphkit.summary import summarise

    facts = summarise(read_bundle(bundle))
    if output_format == "json":
        print_json(facts)
        return
    rows = [{"fact": key, "value": _flat(value)} for key, value in facts.items()]
    print_table(rows, ["fact", "value"])


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items()) or "-"
    return _cell(value)


@cli.command("convert")
@BUNDLE_ARG
@click.argument("out", type=click.Path(path_type=str))
def convert(bundle: str, out: str) -> None:
    """Write a bundle in another format: a folder (CSV), .xlsx, .json or .graphml (Gephi).

    \b
    Example:
      graphkit convert sample_graphs/seafood_ready_meals seafood.graphml
    """
    from graphkit.io import read_bundle, write_bundle

    path = write_bundle(read_bundle(bundle), out)
    click.echo(f"wrote {path}")


# --- screening commands (Source identification) -----------------------------------------


@cli.command("ingest")
@click.argument("records", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    help="TOML file naming your export's columns (default: graphkit/data/records_mapping.toml).",
)
@click.option(
    "--into",
    type=click.Path(exists=True, path_type=str),
    help="Existing bundle to merge the records into (its nodes are matched by name).",
)
@click.option(
    "--out", required=True, type=click.Path(path_type=str), help="Bundle folder to write."
)
@FORMAT_OPTION
def ingest_command(
    records: str, mapping: str | None, into: str | None, out: str, output_format: str
) -> None:
    """Turn import records (bills of lading) into supplier nodes and SUPPLIES edges.

    Shipper and consignee names are resolved into companies (legal forms, spelling, pinyin
    spacing, English/Chinese names); uncertain matches go to OUT/match_candidates.csv for an
    analyst to confirm. Exits 2, writing nothing, when a record is invalid.

    \b
    Example:
      graphkit ingest sample_graphs/apparel_ppe/shipments.csv \\
          --into sample_graphs/apparel_ppe --out apparel_with_records
    """
    from graphkit.ingest import ingest

    result = ingest(records, out, mapping_path=mapping, into=into)
    if output_format == "json":
        print_json({"out": out, **result.stats})
        return
    report_problems(result.bundle.warnings)
    stats = result.stats
    click.echo(
        f"wrote {out}: {stats['records']} records -> {stats['new_nodes']} new supplier(s), "
        f"{stats['record_edges']} SUPPLIES edge(s) from records, {stats['candidates']} "
        f"uncertain match(es) in {out}/match_candidates.csv"
    )


@cli.command("sanctions")
@BUNDLE_ARG
@click.option(
    "--list",
    "list_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    help="Sanctions list: OpenSanctions targets.simple.csv, or a CSV with a 'name' column.",
)
@click.option(
    "--out",
    type=click.Path(path_type=str),
    help="Also write the bundle with strong matches made sources (exposure = match score).",
)
@FORMAT_OPTION
def sanctions_command(bundle: str, list_path: str, out: str | None, output_format: str) -> None:
    """Match node names against a sanctions list; strong matches are sources.

    \b
    Example:
      graphkit sanctions sample_graphs/apparel_ppe --list sample_graphs/sanctions_example.csv
    """
    from graphkit.io import read_bundle, write_bundle
    from graphkit.screen.sanctions import apply_sanctions, screen_sanctions

    loaded = read_bundle(bundle)
    matches = screen_sanctions(loaded.nodes, list_path)
    if out:
        write_bundle(apply_sanctions(loaded, matches), out)
    if output_format == "json":
        print_json(matches.to_dict("records"))
        return
    print_table(matches.to_dict("records"), list(matches.columns))
    strong = int(matches["strong"].sum())
    click.echo(f"{strong} strong and {len(matches) - strong} weak match(es)")


# --- propagation commands (Propagation engine) ------------------------------------------


# --- neo4j commands (Neo4j backend) ------------------------------------------------------


# --- render commands (Auditor views) -----------------------------------------------------


# --- run command (main job) ---------------------------------------------------------------


if __name__ == "__main__":
    main()
