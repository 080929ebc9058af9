"""Analysis commands: propagate, paths, whatif, render."""

from __future__ import annotations

import click

from graphkit.cli.common import (
    FORMAT_OPTION,
    MAX_ITER_OPTION,
    MODE_CHOICE,
    TOL_OPTION,
    print_json,
    print_table,
)


def _load_for_propagation(bundle_path: str):
    """Read the bundle and its source scores and evidence (screening; explicit exposure wins)."""
    from graphkit.io import read_bundle
    from graphkit.screen.sources import source_table_for

    bundle = read_bundle(bundle_path)
    return bundle, source_table_for(bundle)


@click.command("propagate")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(exists=True))
@click.option("--mode", type=MODE_CHOICE, default="all", show_default=True)
@click.option("--priors", type=click.Path(exists=True, dir_okay=False), help="Priors CSV.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("-k", "k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option(
    "--engine",
    type=click.Choice(["embedded", "spark"]),
    default="embedded",
    show_default=True,
    help="embedded: numpy/scipy in memory, with paths and contributions; spark: Apache Spark.",
)
@click.option("--master", default=None, help="Spark master URL with --engine spark.")
@TOL_OPTION
@MAX_ITER_OPTION
def propagate_command(bundle_path, mode, priors, out_dir, k, engine, master, tol, max_iter):
    """Propagate exposure to every node; write exposures, paths, contributions and run info.

    With --engine spark the scores (exposures.parquet) come from Spark instead, equal to
    the embedded engine's to 1e-9; paths, contributions and priors stay embedded-only.

    \b
    Example:
      graphkit propagate sample_graphs/electronics_machinery --out results/
      graphkit propagate sample_graphs/electronics_machinery --engine spark --out results-spark
    """
    from graphkit.graph.rules import MODES

    modes = MODES if mode == "all" else (mode,)
    if engine == "spark":
        if priors:
            raise click.UsageError("--priors works with the embedded engine only")
        from graphkit.engines.spark import run_on_bundle

        record = run_on_bundle(bundle_path, out_dir, master, modes, tol=tol, max_iter=max_iter)
        click.echo(f"{record['nodes']} nodes on {record['master']}; wrote {record['output']}")
        return
    from graphkit.analysis import analyse
    from graphkit.io import read_bundle
    from graphkit.results import write_results

    bundle = read_bundle(bundle_path)
    analysis = analyse(bundle, modes=modes, priors=priors, k=k, tol=tol, max_iter=max_iter)
    files = write_results(analysis, out_dir)
    facing = analysis.table["buyer_facing"].sum()
    click.echo(f"{len(analysis.table)} nodes, {facing} buyer-facing; wrote:")
    for path in files:
        click.echo(f"  {path}")


@click.command("paths")
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


@click.command("whatif")
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


@click.command("render")
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
    from graphkit.io import read_bundle
    from graphkit.propagation import propagate
    from graphkit.render import exposure_view, write_view
    from graphkit.screen.sources import source_scores_for

    bundle = read_bundle(bundle_path)
    if target is not None and not bundle.nodes["id"].eq(target).any():
        raise click.BadParameter(
            f"{target!r} is not a node id in {bundle_path}", param_hint="--target"
        )
    exposure = propagate(bundle, source_scores=source_scores_for(bundle))
    spec = exposure_view(bundle, exposure, target=target, top=top, k=k, mode=mode, cap=cap)
    write_view(spec, out)
    click.echo(f"wrote {out}: {len(spec.nodes)} nodes, {len(spec.edges)} edges")
    if spec.note:
        click.echo(spec.note)
