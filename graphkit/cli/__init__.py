"""The `graphkit` command line: thin click commands that parse, call the library and print.

One module per command group (bundle, screening, records, analysis, evidence, run, spark,
neo4j); heavy libraries (pandas, scipy, neo4j, pyvis) are imported inside the commands,
never at module level, so that `graphkit --help` stays fast.
"""

from __future__ import annotations

import signal
import sys

import click

from graphkit import __version__
from graphkit.cli import analysis, bundle, evidence, neo4j, records, run, screening, spark
from graphkit.cli.common import report_problems
from graphkit.errors import GraphError, Interrupted, InvalidInput


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="graphkit")
def cli() -> None:
    """Find hidden exposure to North Korean forced labour in multi-tier supply chains.

    \b
    Example:
      graphkit validate sample_graphs/electronics_machinery
    """


for command in (
    bundle.validate,
    bundle.info,
    bundle.convert,
    bundle.generate,
    screening.screen,
    records.ingest_command,
    screening.sanctions_command,
    analysis.propagate_command,
    analysis.paths_command,
    analysis.whatif_command,
    spark.spark_group,
    spark.export_command,
    neo4j.neo4j_group,
    analysis.render_command,
    evidence.evidence_command,
    run.run_command,
):
    cli.add_command(command)


def main() -> None:
    """Entry point: run the CLI, turning user errors into one clear message and an exit code."""
    _stop_cleanly_on_signals()
    sys.exit(invoke())


def invoke(args: list[str] | None = None) -> int:
    """Run the CLI on ``args`` (default: the command line) and return its exit code; every
    error graphkit knows of is printed as one message, never as a traceback."""
    try:
        code = cli.main(args=args, standalone_mode=False)
    except Interrupted as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.exceptions.ClickException as exc:
        exc.show()
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except InvalidInput as exc:
        report_problems(exc.problems)
        n = sum(1 for p in exc.problems if p.severity == "error")
        click.echo(f"invalid input: {n} error(s)", err=True)
        return exc.exit_code
    except GraphError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except OSError as exc:  # last resort: a read or write no library code named
        from graphkit.io.fs import filesystem_error

        error = filesystem_error(exc, action="read")
        click.echo(f"error: {error}", err=True)
        return error.exit_code
    except SystemExit as exc:  # a command's own sys.exit(code)
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    return code if isinstance(code, int) else 0


def _stop_cleanly_on_signals() -> None:
    """SIGINT and SIGTERM raise ``Interrupted``, so staged output is removed on the way out."""

    def stop(number: int, _frame) -> None:
        raise Interrupted(signal.Signals(number).name, 128 + number)

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, stop)
