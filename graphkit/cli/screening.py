"""Screening commands: screen addresses, match names against sanctions lists."""

from __future__ import annotations

import sys

import click

from graphkit.cli.common import (
    BUNDLE_ARG,
    FORMAT_OPTION,
    print_json,
    print_table,
    report_problems,
)


@click.command()
@click.argument("input_csv", type=click.Path(dir_okay=False))
@click.option("--column", required=True, help="Column holding the address text.")
@click.option("--country-column", default=None, help="Optional column holding the country.")
@click.option("--out", "out_path", default=None, help="Output CSV (default: INPUT.screened.csv).")
@click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    help="Encoding of INPUT_CSV (e.g. gb18030, big5); the output is always UTF-8.",
)
@click.option(
    "--scope",
    default="liaoning,jilin,north_korea",
    show_default=True,
    help="Comma-separated places counted as in scope (e.g. add heilongjiang,russian_far_east).",
)
def screen(
    input_csv: str,
    column: str,
    country_column: str | None,
    out_path: str | None,
    encoding: str,
    scope: str,
) -> None:
    """Flag addresses located in Liaoning, Jilin or North Korea, with the evidence.

    \b
    Example:
      graphkit screen imports.csv --column address --out imports.screened.csv
    """
    import codecs
    import os
    from pathlib import Path

    from graphkit.screen.batch import screen_csv
    from graphkit.screen.geo import parse_scope

    try:
        scope_keys = parse_scope(scope)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scope") from exc
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise click.BadParameter(f"unknown encoding {encoding!r}", param_hint="--encoding") from exc
    out = out_path or str(Path(input_csv).with_suffix("")) + ".screened.csv"
    size = os.path.getsize(input_csv) if os.path.isfile(input_csv) else 0
    with click.progressbar(
        length=size, label="screening", file=sys.stderr, hidden=size < 5_000_000
    ) as bar:
        summary = screen_csv(
            input_csv, column, out, country_column, scope_keys, bar.update, encoding
        )
    click.echo(f"{summary.rows} rows screened, {summary.in_scope} in scope -> {summary.output}")


@click.command("sanctions")
@BUNDLE_ARG
@click.option(
    "--list",
    "list_paths",
    required=True,
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    help="Sanctions list (repeatable): OpenSanctions targets.simple.csv, FtM entities.ftm.json "
    "(JSON lines), or a CSV with a 'name' column.",
)
@click.option(
    "--out",
    type=click.Path(path_type=str),
    help="Also write the bundle with strong matches made sources (exposure = match score).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 100),
    default=90.0,
    show_default=True,
    help="Score (0-100) of a strong match; short names also need an exact or corroborated match.",
)
@click.option(
    "--weak",
    type=click.FloatRange(0, 100),
    default=80.0,
    show_default=True,
    help="Score (0-100) from which a match is listed for review.",
)
@FORMAT_OPTION
def sanctions_command(
    bundle: str,
    list_paths: tuple[str, ...],
    out: str | None,
    threshold: float,
    weak: float,
    output_format: str,
) -> None:
    """Match node names against sanctions lists; strong matches are sources.

    \b
    Example:
      graphkit sanctions sample_graphs/apparel_ppe --list sample_graphs/sanctions_example.csv
    """
    from graphkit.io import read_bundle, write_bundle
    from graphkit.screen.sanctions import apply_sanctions, long_name_warnings, screen_sanctions

    loaded = read_bundle(bundle)
    matches, lists = screen_sanctions(loaded.nodes, list_paths, threshold, weak)
    if out:
        write_bundle(apply_sanctions(loaded, matches), out)
    if output_format == "json":
        listed = [{"list": x.label, "sha256": x.sha256} for x in lists]
        print_json({"lists": listed, "matches": matches.to_dict("records")})
        return
    cut = long_name_warnings(loaded.nodes, loaded.origin or str(bundle))
    report_problems(cut + [p for x in lists for p in x.warnings])
    if not len(matches):
        click.echo("no matches" + (f": wrote {out} unchanged" if out else ""))
    else:
        print_table(matches.to_dict("records"), list(matches.columns))
        strong = int(matches["strong"].sum())
        click.echo(f"{strong} strong and {len(matches) - strong} weak match(es)")
    for x in lists:
        click.echo(f"list {x.label}: sha256 {x.sha256}")
