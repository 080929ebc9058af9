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

MODE_CHOICE = click.Choice(["reach", "share", "path", "all"])
TOL_OPTION = click.option(
    "--tol",
    type=click.FloatRange(0.0),
    default=1e-12,
    show_default=True,
    help="Stop a loop's rounds when no score changes by more than this (relative).",
)
MAX_ITER_OPTION = click.option(
    "--max-iter",
    type=click.IntRange(1),
    default=10_000,
    show_default=True,
    help="Round cap; a loop still changing after it is an error, not a wrong number.",
)


def _load_for_propagation(bundle_path: str):
    """Read the bundle and its source scores and evidence (screening; explicit exposure wins)."""
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
    import time

    if engine == "spark":
        _propagate_on_spark(bundle_path, mode, priors, out_dir, master, tol, max_iter)
        return
    from graphkit.explain import paths_for_buyer_facing
    from graphkit.propagate import MODES, propagate, write_results

    started = time.perf_counter()
    bundle, sources = _load_for_propagation(bundle_path)
    modes = MODES if mode == "all" else (mode,)
    exposure = propagate(
        bundle, sources["source_score"], modes, priors=priors, tol=tol, max_iter=max_iter
    )
    paths = paths_for_buyer_facing(bundle, exposure, k, sources["evidence"])
    run_info = {
        "inputs": {
            "bundle": {"path": str(bundle_path), "sha256": bundle.digest()},
            "priors": {"path": priors, "sha256": _file_sha256(priors)} if priors else None,
        },
        "paths_k": k,
        "timings_s": {**exposure.params["timings_s"], "total": time.perf_counter() - started},
    }
    files = write_results(exposure, paths, out_dir, bundle, run_info)
    facing = exposure.table[exposure.table["buyer_facing"]]
    click.echo(f"{len(exposure.table)} nodes, {len(facing)} buyer-facing; wrote:")
    for path in files:
        click.echo(f"  {path}")


def _propagate_on_spark(bundle_path, mode, priors, out_dir, master, tol, max_iter) -> None:
    """Screen here, export Parquet with the scores to a temporary folder, run Spark on it."""
    import tempfile
    from pathlib import Path

    from graphkit.engines import spark as spark_engine
    from graphkit.engines.parquet import export_parquet

    if priors:
        raise click.UsageError("--priors works with the embedded engine only")
    bundle, sources = _load_for_propagation(bundle_path)
    modes = spark_engine.MODES if mode == "all" else (mode,)
    with tempfile.TemporaryDirectory(prefix="graphkit-spark-") as staging:
        staged = export_parquet(bundle, Path(staging) / "input", sources["source_score"])
        summary = spark_engine.run(str(staged), out_dir, master, modes, tol=tol, max_iter=max_iter)
    click.echo(f"{summary['nodes']} nodes on {summary['master']}; wrote {summary['output']}")


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


# Scale-out (Spark engine): `graphkit spark propagate` and `graphkit export --parquet`.


@cli.group("spark")
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

    settings = dict(_key_value(item) for item in conf)
    modes = spark_engine.MODES if mode == "all" else (mode,)
    summary = spark_engine.run(
        source, out_dir, master, modes, conf=settings, tol=tol, max_iter=max_iter
    )
    if output_format == "json":
        print_json(summary)
        return
    exposed = ", ".join(f"{m}: {summary[f'exposed_{m}']}" for m in modes)
    click.echo(
        f"{summary['nodes']} nodes, exposed ({exposed}); {summary['iterations']} iterations "
        f"in {summary['total_seconds']:.1f} s on {summary['master']}; wrote {summary['output']}"
    )


def _key_value(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--conf")
    return key.strip(), value.strip()


@cli.command("export")
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
    from graphkit.propagate import source_scores_for

    loaded = read_bundle(bundle)
    source_scores = source_scores_for(loaded) if scores else None
    path = export_parquet(loaded, out, source_scores, rows_per_file)
    click.echo(f"wrote {path} ({len(loaded.nodes)} nodes, {len(loaded.edges)} edges)")


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
    if target is not None and not bundle.nodes["id"].eq(target).any():
        raise click.BadParameter(
            f"{target!r} is not a node id in {bundle_path}", param_hint="--target"
        )
    exposure = propagate.propagate(bundle, source_scores=propagate.source_scores_for(bundle))
    spec = exposure_view(bundle, exposure, target=target, top=top, k=k, mode=mode, cap=cap)
    write_view(spec, out)
    click.echo(f"wrote {out}: {len(spec.nodes)} nodes, {len(spec.edges)} edges")
    if spec.note:
        click.echo(spec.note)


# --- evidence command (Evidence pack) --------------------------------------------------------


@cli.command("evidence")
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


# --- run command (main job) ---------------------------------------------------------------


@cli.command("run")
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
def run_command(bundles, out_dir, mode, priors, k, cap, use_neo4j, evidence, output_format):
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
    options = RunOptions(mode, priors, k, cap, neo4j=use_neo4j, evidence=evidence)
    quiet = output_format == "json"
    results = run_many(paths, out_dir, options, progress=lambda m: quiet or click.echo(m, err=True))
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


if __name__ == "__main__":
    main()
