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


# --- render commands (Auditor views) -----------------------------------------------------


@cli.command("render")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(exists=True))
@click.option("--target", help="Node id of the product (or supplier) whose exposure to show.")
@click.option("--top", type=click.IntRange(min=1), help="Show the N most exposed products.")
@click.option(
    "--k", "k", type=click.IntRange(min=1), default=5, show_default=True, help="Paths per target."
)
@click.option(
    "--mode",
    type=click.Choice(["reach", "share", "path"]),
    default="reach",
    show_default=True,
    help="Which score colours the nodes and ranks the targets.",
)
@click.option(
    "--cap",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Most nodes in the view; the highest-value paths are kept.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="HTML file to write (one self-contained file that works offline).",
)
def render_command(bundle_path, target, top, k, mode, cap, out) -> None:
    """Write an offline HTML view of the exposure paths into a product.

    \b
    Example:
      graphkit render sample_graphs/electronics_machinery --top 3 --out view.html
    """
    if (target is None) == (top is None):
        raise click.UsageError("give exactly one of --target ID or --top N")
    from graphkit import propagate
    from graphkit.io import read_bundle
    from graphkit.render import exposure_view, write_view

    bundle = read_bundle(bundle_path)
    exposure = propagate.propagate(bundle, source_scores=propagate.source_scores_for(bundle))
    spec = exposure_view(bundle, exposure, target=target, top=top, k=k, mode=mode, cap=cap)
    write_view(spec, out)
    click.echo(f"wrote {out}: {len(spec.nodes)} nodes, {len(spec.edges)} edges")
    if spec.note:
        click.echo(spec.note)


# --- run command (main job) ---------------------------------------------------------------


if __name__ == "__main__":
    main()
