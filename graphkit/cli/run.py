"""The main job: `graphkit run`."""

from __future__ import annotations

import sys

import click

from graphkit.cli.common import (
    FORMAT_OPTION,
    print_json,
    print_table,
    stderr_progress,
)


@click.command("run")
@click.argument("bundles", nargs=-1, required=True)
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Result folder.")
@click.option(
    "--mode",
    type=click.Choice(["reach", "share", "path"]),
    default="reach",
    show_default=True,
    help="Score that decides 'exposed' and orders the report (all three are computed).",
)
@click.option("--priors", type=click.Path(exists=True), help="Priors CSV for unmapped tiers.")
@click.option("-k", "--k", "k", default=5, show_default=True, help="Top paths per product.")
@click.option("--cap", default=500, show_default=True, help="Most nodes drawn in one view.")
@click.option(
    "--views",
    default="50",
    show_default=True,
    metavar="N|all",
    help="Write a view for the N most exposed products (all: every one); products.html lists all.",
)
@click.option(
    "--neo4j",
    "use_neo4j",
    is_flag=True,
    help="Also load each bundle and its results into Neo4j (settings from GRAPHKIT_NEO4J_*).",
)
@click.option(
    "--evidence",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also write evidence packs (evidence/*.zip) for the N most exposed products.",
)
@FORMAT_OPTION
def run_command(bundles, out_dir, mode, priors, k, cap, views, use_neo4j, evidence, output_format):
    """Screen, propagate, explain, render and report, in one go.

    BUNDLES are bundle folders, .xlsx or .json files, or glob patterns. One bundle writes
    into OUT; several write one folder each plus index.html and index.csv. Exit code 0 when
    every bundle ran (whether or not exposure was found: see the summary), 2 when an input
    was invalid, 3 when a backend was unreachable; one bad bundle does not stop the others.

    \b
    Example:
      graphkit run sample_graphs/electronics_machinery --out graphkit-out
      graphkit run 'sample_graphs/*/' --out results --format json
    """
    from graphkit.pipeline import RunOptions, batch_exit_code, run_many, summary_json

    paths = expand_bundle_patterns(bundles)
    options = RunOptions(
        mode=mode,
        priors=priors,
        k=k,
        cap=cap,
        views=view_count(views),
        neo4j=use_neo4j,
        evidence=evidence,
    )
    results = run_many(paths, out_dir, options, progress=stderr_progress(output_format))
    if output_format == "json":
        print_json(summary_json(results))
    else:
        print_table(
            [
                {"bundle": r.bundle, "status": r.status, "exposed": r.exposed, "out": r.out_dir}
                for r in results
            ]
        )
        for r in results:
            if r.message:
                click.echo(f"{r.bundle}: {r.status}\n{r.message}", err=True)
    sys.exit(batch_exit_code(results))


def expand_bundle_patterns(patterns: tuple[str, ...]) -> list[str]:
    """Expand glob patterns (quoted on the shell) into bundle paths, keeping order."""
    import glob

    paths: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise click.BadParameter(f"{pattern!r} matches no bundle", param_hint="BUNDLES")
        paths += [m.rstrip("/") for m in matches if m.rstrip("/") not in paths]
    return paths


def view_count(text: str) -> int | None:
    """--views: a count, or None for "all"."""
    if text.strip().lower() == "all":
        return None
    if not text.strip().isdigit():
        raise click.BadParameter(f"expected a number or 'all', got {text!r}", param_hint="--views")
    return int(text)
