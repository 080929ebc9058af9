"""The main job: screen → propagate → explain → render → report, for one bundle or many."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from graphkit.errors import BackendError, FileSystemError, GraphError, InvalidInput

Progress = Callable[[str], None]

OK, EXPOSED, INVALID, UNREACHABLE, FAILED = "clean", "exposed", "invalid", "unreachable", "failed"
EXIT_CODES = {OK: 0, EXPOSED: 0, INVALID: 2, UNREACHABLE: 3, FAILED: 1}


@dataclass
class RunOptions:
    mode: str = "reach"
    priors: str | None = None
    k: int = 5
    cap: int = 500
    views: int | None = 50  # a view for this many of the most exposed products; None: all
    overview_top: int = 10
    neo4j: bool = False  # also load the bundle and its results into Neo4j (GRAPHKIT_NEO4J_*)
    neo4j_merge: bool = False  # several bundles: merge each into the graph, delete nothing
    evidence: int = 0  # evidence packs for the N most exposed products (evidence/*.zip)


@dataclass
class RunResult:
    """What happened to one bundle: status, where the results are, the headline numbers."""

    bundle: str
    out_dir: str
    status: str
    buyer_facing: int = 0
    exposed: int = 0
    exposed_products: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


def run_bundle(
    path: str | Path, out_dir: str | Path, options: RunOptions, progress: Progress = print
) -> RunResult:
    """Run the whole job on one bundle, writing into the folder ``out_dir`` (staged by the
    caller: ``run_many``); a bundle that fails writes nothing there."""
    from graphkit.io import read_bundle

    try:
        progress(f"{path}: reading and validating")
        clock = time.perf_counter()
        bundle = read_bundle(path)
        read_seconds = round(time.perf_counter() - clock, 3)
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        result = _run_loaded(bundle, Path(out_dir), options, progress, read_seconds)
    except InvalidInput as exc:
        errors = [str(p) for p in exc.problems if p.severity == "error"]
        return RunResult(str(path), str(out_dir), INVALID, message="\n".join(errors))
    except BackendError as exc:
        return RunResult(str(path), str(out_dir), UNREACHABLE, message=str(exc))
    except FileSystemError:
        raise  # the output cannot be written: the whole run stops, nothing is left
    except GraphError as exc:
        return RunResult(str(path), str(out_dir), FAILED, message=str(exc))
    result.out_dir = str(out_dir)
    progress(f"{path}: {result.exposed} of {result.buyer_facing} buyer-facing nodes exposed")
    return result


def _run_loaded(bundle, stage: Path, options: RunOptions, progress, read_seconds) -> RunResult:
    from graphkit.analysis import analyse, phase
    from graphkit.report import PRODUCTS_PAGE, write_products_page
    from graphkit.results import run_record, write_json, write_result_files

    analysis = analyse(bundle, priors=options.priors, k=options.k, progress=progress)
    analysis.timings = {"read": read_seconds, **analysis.timings}
    with phase(analysis.timings, "result_files"):
        write_result_files(analysis, stage)
    exposed = analysis.exposed(options.mode)
    with phase(analysis.timings, "views"):
        views = _write_views(analysis, list(exposed.index), stage, options, progress)
    progress(f"{bundle.origin}: writing the page of {len(exposed):,} exposed products")
    with phase(analysis.timings, "products_page"):
        write_products_page(analysis, options.mode, views, stage / PRODUCTS_PAGE)
    progress(f"{bundle.origin}: writing report")
    with phase(analysis.timings, "report"):
        _write_report(analysis, options.mode, views, stage)
    if options.evidence:
        progress(f"{bundle.origin}: writing {options.evidence} evidence pack(s)")
        with phase(analysis.timings, "evidence"):
            _write_evidence(analysis, list(exposed.index), stage, options)
    write_json(run_record(analysis, {"views": len(views)}), stage / "run.json")
    if options.neo4j:
        progress(f"{bundle.origin}: storing the graph and its results in Neo4j")
        _store_in_neo4j(bundle, analysis.table, prune=not options.neo4j_merge)
    facing = int(analysis.table["buyer_facing"].sum())
    status = EXPOSED if len(exposed) else OK
    return RunResult(bundle.origin, "", status, facing, len(exposed), list(exposed.index))


def _write_views(analysis, products: list[str], stage: Path, options, progress) -> dict[str, str]:
    """A view for each of the ``options.views`` most exposed products, plus an overview."""
    from graphkit.render import analysis_view, write_view

    chosen = products if options.views is None else products[: options.views]
    views = {}
    for done, node in enumerate(chosen, 1):
        relative = f"views/{view_slug(node)}.html"
        spec = analysis_view(analysis, target=node, mode=options.mode, cap=options.cap)
        write_view(spec, stage / relative)
        views[node] = relative
        if done % 10 == 0 or done == len(chosen):
            progress(f"{analysis.bundle.origin}: views {done:,}/{len(chosen):,}")
    if products:
        top = min(options.overview_top, len(products))
        overview = analysis_view(analysis, top=top, mode=options.mode, cap=options.cap)
        write_view(overview, stage / "views" / "overview.html")
    return views


def _write_evidence(analysis, products: list[str], stage: Path, options) -> None:
    """Evidence packs of the ``options.evidence`` most exposed products, from the analysis."""
    from graphkit.evidence import prepare, write_pack

    common = {"mode": options.mode, "priors": options.priors, "k": options.k}
    reused = {"screening": analysis.screening, "exposure": analysis.exposure}
    for node in products[: options.evidence]:
        found = prepare(analysis.bundle, node, **common, **reused, paths=analysis.paths.get(node))
        write_pack(found, stage / "evidence" / f"{view_slug(node)}.zip")


def _store_in_neo4j(bundle, table, prune: bool) -> None:
    """Load the bundle into Neo4j and write the results back as exposure_* properties."""
    from graphkit.store.neo4j import Neo4jStore

    with Neo4jStore() as store:
        store.load(bundle, prune=prune)
        store.write_results(bundle, table)


def view_slug(node_id: str) -> str:
    """A file name for a node's view: safe characters plus a short hash (ids are hostile)."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", node_id)[:40].strip("_") or "node"
    return f"{safe}-{hashlib.sha256(node_id.encode()).hexdigest()[:8]}"


def _write_report(analysis, mode: str, views: dict[str, str], stage: Path) -> None:
    from graphkit.report import ReportInput, render_report_html, render_report_markdown

    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    data = ReportInput(analysis, mode, views, generated)
    (stage / "report.html").write_text(render_report_html(data), encoding="utf-8")
    (stage / "report.md").write_text(render_report_markdown(data), encoding="utf-8")


def run_many(
    paths: list[str], out_root: str | Path, options: RunOptions, progress: Progress = print
) -> list[RunResult]:
    """Run every bundle (several: one folder each plus an index); one failure does not stop
    the others. The whole output folder is staged and replaces ``out_root`` at the end; when
    no bundle could be run, nothing is written."""
    from graphkit.io.atomic import staged_dir

    out_root = Path(out_root)
    try:
        with staged_dir(out_root) as stage:
            results = _run_into(paths, stage, options, progress)
            if all(r.status in (INVALID, UNREACHABLE, FAILED) for r in results):
                raise _NothingToWrite
    except _NothingToWrite:
        pass
    for result in results:
        result.out_dir = str(out_root / Path(result.out_dir).relative_to(stage))
    return results


class _NothingToWrite(Exception):
    """Raised inside the staged folder to discard it."""


def _run_into(paths: list[str], stage: Path, options: RunOptions, progress) -> list[RunResult]:
    if len(paths) == 1:
        return [run_bundle(paths[0], stage, options, progress)]
    folders = _result_folders(paths)
    options = replace(options, neo4j_merge=True)  # one graph holding every bundle
    results = [run_bundle(p, stage / folders[p], options, progress) for p in paths]
    write_index(results, stage)
    return results


def _result_folders(paths: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for path in paths:
        name_part = Path(path).resolve().stem  # "x/.." names its parent, never ".."
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", name_part).strip("_") or "bundle"
        name, n = base, 2
        while name in names.values():
            name, n = f"{base}_{n}", n + 1
        names[path] = name
    return names


def write_index(results: list[RunResult], out_root: Path) -> None:
    """index.csv and index.html summarising a batch (formula-safe, escaped), into the staged
    output folder."""
    import pandas as pd

    from graphkit.io.safe_csv import write_csv
    from graphkit.report import templates

    columns = ["bundle", "status", "buyer_facing", "exposed", "exposed_products", "message"]
    index = pd.DataFrame([asdict(r) for r in results], columns=[*columns, "out_dir"])[columns]
    index["exposed_products"] = index["exposed_products"].map(";".join)
    write_csv(index, out_root / "index.csv")
    rows = [asdict(r) | {"link": _relative_report(r, out_root)} for r in results]
    html = templates().get_template("index.html.j2").render(results=rows)
    (out_root / "index.html").write_text(html, encoding="utf-8")


def _relative_report(result: RunResult, out_root: Path) -> str:
    if result.status in (INVALID, UNREACHABLE, FAILED):
        return ""
    return (Path(result.out_dir).relative_to(out_root) / "report.html").as_posix()


def summary_json(results: list[RunResult]) -> dict[str, Any]:
    """Machine-readable summary for schedulers: per bundle status and exposure flag."""
    return {
        "exposure_found": any(r.status == EXPOSED for r in results),
        "exit_code": batch_exit_code(results),
        "bundles": [asdict(r) | {"exposure_found": r.status == EXPOSED} for r in results],
    }


def batch_exit_code(results: list[RunResult]) -> int:
    """3 if a backend was unreachable, else 2 if any input was invalid, 1 on other failures."""
    codes = {r.exit_code for r in results}
    for code in (3, 2, 1):
        if code in codes:
            return code
    return 0
