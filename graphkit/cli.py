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

MODE_CHOICE = click.Choice(["reach", "share", "path", "all"])


def _load_for_propagation(bundle_path: str):
    """Read the bundle and its source scores (screening if installed, else explicit)."""
    from graphkit.io import read_bundle
    from graphkit.propagate import source_table_for

    bundle = read_bundle(bundle_path)
    return bundle, source_table_for(bundle)


@cli.command("propagate")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(exists=True))
@click.option("--mode", type=MODE_CHOICE, default="all", show_default=True)
@click.option("--priors", type=click.Path(exists=True, dir_okay=False), help="Priors CSV.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("-k", "k", type=click.IntRange(1, 100), default=5, show_default=True)
def propagate_command(bundle_path: str, mode: str, priors: str | None, out_dir: str, k: int):
    """Propagate exposure to every node; write exposures, paths, contributions and run info.

    \b
    Example:
      graphkit propagate sample_graphs/electronics_machinery --out results/
    """
    import time

    from graphkit.explain import write_results
    from graphkit.propagate import MODES, propagate

    started = time.perf_counter()
    bundle, sources = _load_for_propagation(bundle_path)
    modes = MODES if mode == "all" else (mode,)
    exposure = propagate(bundle, sources["source_score"], modes=modes, priors=priors)
    run_info = {
        "graphkit_version": __version__,
        "bundle": {"path": str(bundle_path), "sha256": bundle.digest()},
        "priors": {"path": priors, "sha256": _file_sha256(priors)} if priors else None,
        "parameters": {**exposure.params, "k": k},
        "timings_s": {**exposure.params["timings_s"], "total": time.perf_counter() - started},
    }
    files = write_results(bundle, exposure, out_dir, run_info, k, sources["evidence"])
    facing = exposure.table[exposure.table["buyer_facing"]]
    click.echo(f"{len(exposure.table)} nodes, {len(facing)} buyer-facing; wrote:")
    for path in files:
        click.echo(f"  {path}")


def _file_sha256(path: str) -> str:
    import hashlib
    from pathlib import Path

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@cli.command("paths")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(exists=True))
@click.option("--target", required=True, help="Node id to explain.")
@click.option("-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True)
@FORMAT_OPTION
def paths_command(bundle_path: str, target: str, k: int, output_format: str):
    """Print the top-k exposure paths into one node, strongest first.

    \b
    Example:
      graphkit paths sample_graphs/electronics_machinery --target P-100 -k 10
    """
    from graphkit.explain import top_paths

    bundle, sources = _load_for_propagation(bundle_path)
    found = top_paths(bundle, target, k, sources["source_score"], evidence=sources["evidence"])
    if output_format == "json":
        print_json([p.as_dict() for p in found])
        return
    rows = [
        {"rank": i, "value": p.value, "source": p.source, "path": p.text(),
         "source_evidence": p.source_evidence}
        for i, p in enumerate(found, 1)
    ]  # fmt: skip
    print_table(rows, ["rank", "value", "source", "path", "source_evidence"])


def _pairs(values: tuple[str, ...], size: int, option: str) -> list[list[str]]:
    parts = [v.split(",") for v in values]
    bad = [v for v, p in zip(values, parts, strict=True) if len(p) != size]
    if bad:
        raise click.BadParameter(
            f"expected {size} comma-separated values, got {bad[0]!r}", param_hint=option
        )
    return [[x.strip() for x in p] for p in parts]


@cli.command("whatif")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(exists=True))
@click.option("--remove-node", multiple=True, metavar="ID")
@click.option("--remove-edge", multiple=True, metavar="SRC,DST")
@click.option("--set-share", multiple=True, metavar="SRC,DST,SHARE")
@click.option("--mode", type=click.Choice(["reach", "share", "path"]), default="reach")
@FORMAT_OPTION
def whatif_command(bundle_path, remove_node, remove_edge, set_share, mode, output_format):
    """Recompute after removing nodes/edges or changing shares; show each product's change.

    \b
    Example:
      graphkit whatif sample_graphs/electronics_machinery --remove-node S-17 --set-share S-3,P-1,0.2
    """
    from graphkit.explain import whatif

    edges = [tuple(p) for p in _pairs(remove_edge, 2, "--remove-edge")]
    try:
        shares = {(a, b): float(v) for a, b, v in _pairs(set_share, 3, "--set-share")}
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--set-share") from None
    bundle, sources = _load_for_propagation(bundle_path)
    result = whatif(bundle, remove_node, edges, shares, sources["source_score"], mode)
    if output_format == "json":
        print_json(result.to_dict("records"))
    else:
        print_table(result.to_dict("records"))


# --- neo4j commands (Neo4j backend) ------------------------------------------------------


# --- render commands (Auditor views) -----------------------------------------------------


# --- run command (main job) ---------------------------------------------------------------


if __name__ == "__main__":
    main()
