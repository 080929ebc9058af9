"""What every command shares: output formats, printing, common options."""

from __future__ import annotations

import json
import re
from typing import Any

import click

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Print a human-readable table or machine-readable JSON.",
)


def print_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """Print rows as an aligned plain-text table."""
    if not rows:
        click.echo("(no rows)")
        return
    columns = columns or list(rows[0])
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def cell(value: Any) -> str:
    """A value as one table cell: terminal escape sequences and control characters from data
    (names are hostile) removed, so a table cannot move the cursor or retitle the terminal."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else f"{value:.4g}"
    return _CONTROLS.sub(" ", _ESCAPES.sub("", str(value)))


#: terminal escape sequences (CSI, OSC up to BEL/ST), then any other control character
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def report_problems(problems: list, stream_err: bool = True) -> None:
    """Print validation problems (errors and warnings), one per line."""
    for problem in problems:
        click.echo(str(problem), err=stream_err)


BUNDLE_ARG = click.argument("bundle", type=click.Path(exists=True, path_type=str))


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


def key_value(text: str, option: str) -> tuple[str, str]:
    """Split a KEY=VALUE option value (the key and the value stripped)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"expected KEY=VALUE, got {text!r}", param_hint=option)
    return key.strip(), value.strip()


def stderr_progress(output_format: str):
    """A progress callback printing to stderr, with the elapsed time; silent with --format
    json or when stderr is not a terminal (a log file or a scheduler gets the summary only)."""
    import sys
    import time

    if output_format == "json" or not sys.stderr.isatty():
        return lambda message: None
    started = time.perf_counter()

    def show(message: str) -> None:
        click.echo(f"[{time.perf_counter() - started:7.1f} s] {message}", err=True)

    return show
