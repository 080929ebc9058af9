"""Scale-out commands: `graphkit spark propagate` and `graphkit export --parquet`."""

from __future__ import annotations

import click

from graphkit.cli.common import (
    BUNDLE_ARG,
    FORMAT_OPTION,
    MAX_ITER_OPTION,
    MODE_CHOICE,
    TOL_OPTION,
    key_value,
    print_json,
)


@click.group("spark")
def spark_group() -> None:
    """Run propagation on Apache Spark, for graphs that outgrow one machine.

    Needs the spark extra: pip install 'graphkit[spark]'.
    """


@spark_group.command("propagate")
@click.argument("source", metavar="BUNDLE_OR_PARQUET")
@click.option("--out", "out_dir", required=True, help="Result folder (local, hdfs://, s3a://).")
@click.option(
    "--master",
    default=None,
    help="Spark master URL  [default: the one spark-submit gives, else local[*]]",
)
@click.option("--mode", type=MODE_CHOICE, default="all", show_default=True)
@TOL_OPTION
@MAX_ITER_OPTION
@click.option(
    "--conf", "conf", multiple=True, metavar="KEY=VALUE", help="Spark setting (repeatable)."
)
@FORMAT_OPTION
def spark_propagate(source, out_dir, master, mode, tol, max_iter, conf, output_format) -> None:
    """Propagate exposure on Spark; write OUT/exposures.parquet and OUT/run.json.

    BUNDLE_OR_PARQUET is a bundle folder (CSV), a Parquet export (`graphkit export
    --parquet`) or a remote Parquet export. Source scores come from a `source_score`
    column (the export adds it from screening), else from `exposure`. With an export's
    scores the results equal `graphkit propagate` (embedded engine) to 1e-9.

    \b
    Example:
      graphkit export --parquet sample_graphs/electronics_machinery em.parquet
      graphkit spark propagate em.parquet --out results-spark --master 'local[4]'
    """
    from graphkit.engines import spark as spark_engine

    settings = dict(key_value(item, "--conf") for item in conf)
    modes = spark_engine.MODES if mode == "all" else (mode,)
    record = spark_engine.run(
        source, out_dir, master, modes, conf=settings, tol=tol, max_iter=max_iter
    )
    if output_format == "json":
        print_json(record)
        return
    exposed = ", ".join(f"{m}: {record[f'exposed_{m}']}" for m in modes)
    click.echo(
        f"{record['nodes']} nodes, exposed ({exposed}); {record['iterations']} iterations "
        f"in {record['total_seconds']:.1f} s on {record['master']}; wrote {record['output']}"
    )


@click.command("export")
@BUNDLE_ARG
@click.argument("out", type=click.Path(path_type=str))
@click.option("--parquet", "as_parquet", is_flag=True, required=True, help="Write Parquet.")
@click.option(
    "--scores/--no-scores",
    default=True,
    show_default=True,
    help="Add a source_score column (screening, else explicit exposure).",
)
@click.option("--rows-per-file", type=click.IntRange(1), default=1_000_000, show_default=True)
def export_command(bundle, out, as_parquet, scores, rows_per_file) -> None:
    """Export a bundle as partitioned Parquet (OUT/nodes/, OUT/edges/) for a Spark cluster.

    \b
    Example:
      graphkit export --parquet sample_graphs/seafood_ready_meals seafood.parquet
    """
    from graphkit.engines.parquet import export_parquet
    from graphkit.io import read_bundle
    from graphkit.screen.sources import source_scores_for

    loaded = read_bundle(bundle)
    source_scores = source_scores_for(loaded) if scores else None
    path = export_parquet(loaded, out, source_scores, rows_per_file)
    click.echo(f"wrote {path} ({len(loaded.nodes)} nodes, {len(loaded.edges)} edges)")
