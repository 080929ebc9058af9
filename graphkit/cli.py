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


@cli.command()
@click.option(
    "--suppliers",
    "n_suppliers",
    type=click.IntRange(min=20),
    default=1000,
    show_default=True,
    help="Number of suppliers; half as many components are added.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same graph)."
)
@click.argument("out", type=click.Path(file_okay=False))
def generate(n_suppliers: int, seed: int, out: str) -> None:
    """Write a synthetic supply-chain bundle (nodes.csv, edges.csv) to folder OUT.

    The graph has tiers of suppliers, bills of materials up to five levels deep,
    heavy-tailed fan-in and fan-out, some trading loops, about five edges per node, and
    a few percent of suppliers in Liaoning or Jilin with messy addresses. Use it to
    try graphkit at scale; the same seed always gives the same graph.

    \b
    Example:
      graphkit generate --suppliers 100000 --seed 1 big_bundle
    """
    import time

    from graphkit.generate import write_generated

    started = time.perf_counter()
    try:
        n_nodes, n_edges = write_generated(out, n_suppliers, seed)
    except OSError as exc:
        raise click.ClickException(f"cannot write the bundle to {out}: {exc}") from exc
    elapsed = time.perf_counter() - started
    click.echo(f"wrote {n_nodes} nodes and {n_edges} edges to {out} in {elapsed:.1f} s")


# --- screening commands (Source identification) -----------------------------------------


# --- propagation commands (Propagation engine) ------------------------------------------


# --- neo4j commands (Neo4j backend) ------------------------------------------------------


# --- render commands (Auditor views) -----------------------------------------------------


# --- run command (main job) ---------------------------------------------------------------


if __name__ == "__main__":
    main()
