"""Records commands: ingest import records (bills of lading) into a bundle."""

from __future__ import annotations

import click

from graphkit.cli.common import (
    FORMAT_OPTION,
    print_json,
    print_table,
    report_problems,
)


@click.command("ingest")
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
@click.option(
    "--preset",
    type=click.Choice(["panjiva", "us_customs"]),
    help="A known export layout (graphkit/data/records_mapping.toml); --mapping still applies.",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Leave out unusable records, listed in OUT/rejected_records.csv (default: exit 2).",
)
@FORMAT_OPTION
def ingest_command(
    records: str,
    mapping: str | None,
    into: str | None,
    out: str,
    preset: str | None,
    skip_invalid: bool,
    output_format: str,
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

    result = ingest(records, out, mapping, into, preset=preset, skip_invalid=skip_invalid)
    if output_format == "json":
        print_json({"out": out, **result.stats})
        return
    report_problems(result.bundle.warnings)
    stats = result.stats
    counts = ("records_read", "records_used", "names_merged", "skipped_self_loops", "rejected")
    print_table([{"count": c.replace("_", " "), "n": stats[c]} for c in counts], ["count", "n"])
    click.echo(
        f"wrote {out}: {stats['records']} records -> {stats['new_nodes']} new supplier(s), "
        f"{stats['record_edges']} SUPPLIES edge(s) from records, {stats['candidates']} "
        f"uncertain match(es) in {out}/match_candidates.csv"
    )
