"""Evidence pack command: the tracing file of one product, with a clearance plan."""

from __future__ import annotations

import json

import click

from graphkit.cli.common import BUNDLE_ARG


@click.command("evidence")
@BUNDLE_ARG
@click.option("--product", required=True, help="Node id of the product (or buyer) to trace.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Zip file to write.")
@click.option(
    "--mode",
    type=click.Choice(["reach", "share", "path"]),
    default="reach",
    show_default=True,
    help="Score that colours the flow chart (every mode is in the pack).",
)
@click.option("--priors", type=click.Path(exists=True, dir_okay=False), help="Priors CSV.")
@click.option(
    "--sanctions",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Sanctions list to check (repeatable); strong matches become sources.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Clearance goal: reach at or below this (0: no mapped chain from any source).",
)
@click.option("-k", "--k", "k", type=click.IntRange(1, 100), default=5, show_default=True)
def evidence_command(bundle, product, out, mode, priors, sanctions, threshold, k) -> None:
    """Write the evidence pack of one product: tracing file, flow chart, clearance plan.

    The zip holds steps.csv, flow.svg/png, summary.html/md, clearance.csv, bundle/, input/,
    run.json and MANIFEST.sha256 (check with `sha256sum -c MANIFEST.sha256` after unzipping).

    \b
    Example:
      graphkit evidence sample_graphs/electronics_machinery --product c-km500 --out km500.zip
    """
    import zipfile

    from graphkit.evidence import evidence_pack

    options = {"mode": mode, "priors": priors, "sanctions": sanctions, "threshold": threshold}
    path = evidence_pack(bundle, product, out, k=k, **options)
    run = json.loads(zipfile.ZipFile(path).read("run.json"))
    clearance = run["clearance"]
    click.echo(
        f"wrote {path}: {run['upstream']['links']} links upstream, reach "
        f"{run['scores']['reach']:.3f}; clearance: {clearance['status']} "
        f"({clearance['links']} link(s))"
    )
