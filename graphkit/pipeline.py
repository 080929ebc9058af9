"""The main job: screen → propagate → explain → render → report, for one bundle or many."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from graphkit.model import BackendError, GraphError, InvalidInput

Progress = Callable[[str], None]

OK, EXPOSED, INVALID, UNREACHABLE, FAILED = "clean", "exposed", "invalid", "unreachable", "failed"
EXIT_CODES = {OK: 0, EXPOSED: 0, INVALID: 2, UNREACHABLE: 3, FAILED: 1}


@dataclass
class RunOptions:
    mode: str = "reach"
    priors: str | None = None
    k: int = 5
    cap: int = 500
    overview_top: int = 10
    neo4j: bool = False  # also load the bundle and its results into Neo4j (GRAPHKIT_NEO4J_*)
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
    """Run the whole job on one bundle; every output lands in ``out_dir`` or none does."""
    from graphkit.io import read_bundle
    from graphkit.io.atomic import staged_dir

    try:
        progress(f"{path}: reading and validating")
        bundle = read_bundle(path)
        with staged_dir(out_dir) as stage:
            result = _run_loaded(bundle, stage, options, progress)
    except InvalidInput as exc:
        errors = [str(p) for p in exc.problems if p.severity == "error"]
        return RunResult(str(path), str(out_dir), INVALID, message="\n".join(errors))
    except BackendError as exc:
        return RunResult(str(path), str(out_dir), UNREACHABLE, message=str(exc))
    except GraphError as exc:
        return RunResult(str(path), str(out_dir), FAILED, message=str(exc))
    result.out_dir = str(out_dir)
    progress(f"{path}: {result.exposed} of {result.buyer_facing} buyer-facing nodes exposed")
    return result


def _run_loaded(bundle, stage: Path, options: RunOptions, progress: Progress) -> RunResult:
    from graphkit.explain import paths_for_buyer_facing
    from graphkit.propagate import map_next, propagate, read_priors, write_results
    from graphkit.report import ReportInput, exposed_products
    from graphkit.screen.score import screen_nodes, source_evidence

    progress(f"{bundle.origin}: screening {len(bundle.nodes)} nodes")
    screening = screen_nodes(bundle.nodes).set_axis(bundle.nodes["id"].to_numpy())
    priors = read_priors(options.priors) if options.priors else None
    progress(f"{bundle.origin}: propagating (reach, share, path)")
    exposure = propagate(bundle, source_scores=screening["source_score"], priors=priors)
    table = exposure.table
    exposed = exposed_products(table, options.mode)
    progress(f"{bundle.origin}: explaining {len(exposed)} exposed products")
    all_paths = paths_for_buyer_facing(bundle, exposure, options.k, source_evidence(screening))
    write_results(exposure, all_paths, stage, bundle=bundle)
    paths = {node: all_paths.get(node, []) for node in exposed.index}
    views = _write_views(bundle, exposure, list(exposed.index), stage, options)
    upcoming = map_next(bundle, exposure, priors) if priors is not None else None
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    data = ReportInput(bundle, screening, table, paths, options.mode, views, upcoming, generated)
    progress(f"{bundle.origin}: writing report")
    _write_report(data, stage)
    if options.evidence:
        progress(f"{bundle.origin}: writing evidence packs")
        _write_evidence(bundle, screening, exposure, all_paths, exposed.index, stage, options)
    if options.neo4j:
        progress(f"{bundle.origin}: storing the graph and its results in Neo4j")
        _store_in_neo4j(bundle, table)
    facing = int(table["buyer_facing"].sum())
    status = EXPOSED if len(exposed) else OK
    return RunResult(bundle.origin, "", status, facing, len(exposed), list(exposed.index))


def _write_views(bundle, exposure, products, stage, options) -> dict[str, str]:
    """One view per exposed product plus an overview; tooltips carry the screening evidence."""
    from graphkit.render import exposure_view, write_view

    views = {}
    common = {"k": options.k, "mode": options.mode, "cap": options.cap}
    for node in products:
        relative = f"views/{view_slug(node)}.html"
        write_view(exposure_view(bundle, exposure, target=node, **common), stage / relative)
        views[node] = relative
    if products:
        overview = exposure_view(bundle, exposure, top=options.overview_top, **common)
        write_view(overview, stage / "views" / "overview.html")
    return views


def _write_evidence(bundle, screening, exposure, paths, exposed, stage, options) -> None:
    """Evidence packs of the N most exposed products, from this run's results."""
    from graphkit.evidence import prepare, write_pack

    for node in list(exposed)[: options.evidence]:
        common = {"mode": options.mode, "priors": options.priors, "k": options.k}
        found = {"screening": screening, "exposure": exposure, "paths": paths.get(node)}
        write_pack(
            prepare(bundle, node, **common, **found), stage / "evidence" / f"{view_slug(node)}.zip"
        )


def _store_in_neo4j(bundle, table) -> None:
    """Load the bundle into Neo4j and write the results back as exposure_* properties."""
    from graphkit.store.neo4j import Neo4jStore

    with Neo4jStore() as store:
        store.load(bundle)
        store.write_results(bundle, table)


def view_slug(node_id: str) -> str:
    """A file name for a node's view: safe characters plus a short hash (ids are hostile)."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", node_id)[:40].strip("_") or "node"
    return f"{safe}-{hashlib.sha256(node_id.encode()).hexdigest()[:8]}"


def _write_report(data, stage: Path) -> None:
    from graphkit.report import render_report_html, render_report_markdown

    (stage / "report.html").write_text(render_report_html(data), encoding="utf-8")
    (stage / "report.md").write_text(render_report_markdown(data), encoding="utf-8")


def run_many(
    paths: list[str], out_root: str | Path, options: RunOptions, progress: Progress = print
) -> list[RunResult]:
    """Run every bundle into its own folder; one failure does not stop the others."""
    out_root = Path(out_root)
    if len(paths) == 1:
        return [run_bundle(paths[0], out_root, options, progress)]
    folders = _result_folders(paths)
    results = [run_bundle(p, out_root / folders[p], options, progress) for p in paths]
    write_index(results, out_root)
    return results


def _result_folders(paths: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for path in paths:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(path).stem) or "bundle"
        name, n = base, 2
        while name in names.values():
            name, n = f"{base}_{n}", n + 1
        names[path] = name
    return names


def write_index(results: list[RunResult], out_root: Path) -> None:
    """index.csv and index.html summarising a batch (formula-safe, escaped)."""
    import pandas as pd

    from graphkit.io.atomic import atomic_file
    from graphkit.io.safe_csv import spreadsheet_safe
    from graphkit.report import templates

    columns = ["bundle", "status", "buyer_facing", "exposed", "exposed_products", "message"]
    index = pd.DataFrame([asdict(r) for r in results], columns=[*columns, "out_dir"])[columns]
    index["exposed_products"] = index["exposed_products"].map(";".join)
    with atomic_file(out_root / "index.csv") as temp:
        spreadsheet_safe(index).to_csv(temp, index=False)
    rows = [asdict(r) | {"link": _relative_report(r, out_root)} for r in results]
    html = templates().get_template("index.html.j2").render(results=rows)
    with atomic_file(out_root / "index.html") as temp:
        temp.write_text(html, encoding="utf-8")


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
