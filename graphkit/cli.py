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


@cli.command()
@click.argument("input_csv", type=click.Path(dir_okay=False))
@click.option("--column", required=True, help="Column holding the address text.")
@click.option("--country-column", default=None, help="Optional column holding the country.")
@click.option("--out", "out_path", default=None, help="Output CSV (default: INPUT.screened.csv).")
@click.option(
    "--scope",
    default="liaoning,jilin,north_korea",
    show_default=True,
    help="Comma-separated places counted as in scope (e.g. add heilongjiang,russian_far_east).",
)
def screen(
    input_csv: str, column: str, country_column: str | None, out_path: str | None, scope: str
) -> None:
    """Flag addresses located in Liaoning, Jilin or North Korea, with the evidence.

    \b
    Example:
      graphkit screen imports.csv --column address --out imports.screened.csv
    """
    import os
    from pathlib import Path

    from graphkit.screen.batch import screen_csv
    from graphkit.screen.geo import parse_scope

    try:
        scope_keys = parse_scope(scope)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scope") from exc
    out = out_path or str(Path(input_csv).with_suffix("")) + ".screened.csv"
    size = os.path.getsize(input_csv) if os.path.isfile(input_csv) else 0
    with click.progressbar(
        length=size, label="screening", file=sys.stderr, hidden=size < 5_000_000
    ) as bar:
        summary = screen_csv(input_csv, column, out, country_column, scope_keys, bar.update)
    click.echo(f"{summary.rows} rows screened, {summary.in_scope} in scope -> {summary.output}")


# --- propagation commands (Propagation engine) ------------------------------------------


# --- neo4j commands (Neo4j backend) ------------------------------------------------------


# --- render commands (Auditor views) -----------------------------------------------------


# --- run command (main job) ---------------------------------------------------------------


if __name__ == "__main__":
    main()
