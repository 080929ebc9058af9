"""The result files of a run, from its analysis: exposures.csv (one row per node, with each
source's evidence), contributions.csv, paths.json (each top path's source, value and nodes)
and paths.csv (the same paths, one row per hop with the edge's facts and evidence), and
run.json (parameters, every input with its SHA-256, timings). Nothing is written twice: a
path's source evidence is the source's row in exposures.csv."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.graph.rules import EXPOSURE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.analysis import Analysis
    from graphkit.propagation.paths import TopPaths

RESULT_FILES = ("exposures.csv", "contributions.csv", "paths.json", "paths.csv", "run.json")
PATH_COLUMNS = [
    "target", "rank", "value", "source", "hop", "from", "to", "kind", "share", "confidence",
    "item", "evidence",
]  # fmt: skip


def write_results(analysis: Analysis, out_dir: str | Path, run_info: dict | None = None):
    """Write the result files into a new folder ``out_dir``, all or nothing."""
    from graphkit.io.atomic import staged_dir

    out_dir = Path(out_dir)
    with staged_dir(out_dir) as stage:
        write_result_files(analysis, stage, run_info)
    return [out_dir / name for name in RESULT_FILES]


def write_result_files(analysis: Analysis, folder: Path, run_info: dict | None = None) -> None:
    """Write the result files into ``folder`` (a staged folder of the caller's); run.json
    last, so its timings cover the writing (a caller writing more may write it again)."""
    from graphkit.screen.sanctions import with_provenance

    exposure = analysis.exposure
    rows = with_provenance(exposure_rows(exposure.table, analysis.evidence), analysis.bundle.nodes)
    safe_csv(rows, folder / "exposures.csv")
    safe_csv(exposure.contributions, folder / "contributions.csv")
    write_json(path_lists(analysis.paths), folder / "paths.json", compact=True)
    safe_csv(path_rows(analysis.paths), folder / "paths.csv")
    write_json(run_record(analysis, run_info), folder / "run.json")


def exposure_rows(table: pd.DataFrame, evidence: pd.Series | None = None) -> pd.DataFrame:
    """The exposure table's columns in file order: with ``evidence`` (by node id) the source
    evidence of every node with a source score (blank elsewhere), then the expected-exposure
    columns when present."""
    extra = [c for c in ("prior", "reach_expected", "share_expected") if c in table]
    rows = table[list(EXPOSURE_COLUMNS)]
    if evidence is not None:
        text = evidence.reindex(table.index).fillna("").astype(str)
        rows = rows.assign(source_evidence=text.where(table["source_score"] > 0, ""))
    return rows.join(table[extra]) if extra else rows


def path_lists(paths: TopPaths) -> dict[str, list[dict[str, Any]]]:
    """paths.json: per explained target its top paths as source, value and node ids (each
    hop's facts and evidence are in paths.csv, each source's evidence in exposures.csv)."""
    table, ids = paths.table, paths.facts.ids
    nodes = ids[table.nodes].tolist()
    starts, values, sources = table.starts.tolist(), table.value.tolist(), paths.sources().tolist()
    found: dict[str, list[dict[str, Any]]] = {t: [] for t in paths}
    for i, target in enumerate(ids[table.target].tolist()):
        path = {"source": sources[i], "value": values[i], "nodes": nodes[starts[i] : starts[i + 1]]}
        found[target].append(path)
    return found


def path_rows(paths: TopPaths) -> pd.DataFrame:
    """paths.csv: every path hop by hop, one row per (target, rank, hop), with the edge's
    kind, share, confidence, item and evidence."""
    import pandas as pd

    columns = paths.hop_rows()
    facts, edge = paths.facts, columns.pop("edge")
    columns.update(
        {"from": facts.source[edge], "to": facts.target[edge], "kind": facts.kind[edge],
         "share": facts.share[edge], "confidence": facts.confidence[edge],
         "item": facts.item[edge], "evidence": facts.evidence[edge]}
    )  # fmt: skip
    return pd.DataFrame(columns, columns=PATH_COLUMNS)


def run_record(analysis: Analysis, run_info: dict | None = None) -> dict[str, Any]:
    """What run.json says: version, parameters, inputs with their hashes, timings."""
    from graphkit import __version__
    from graphkit.screen.sanctions import lists_used

    bundle = analysis.bundle
    inputs = {"bundle": {"path": bundle.origin, "sha256": analysis.digest}}
    inputs.update(analysis.inputs)
    parameters = {k: v for k, v in analysis.exposure.params.items() if k != "timings_s"}
    phases = dict(analysis.timings)
    engine = analysis.exposure.params.get("timings_s", {})
    return {
        "graphkit_version": __version__,
        "parameters": {**parameters, "paths_k": analysis.k},
        "inputs": inputs,
        "sanctions_lists": lists_used(bundle.nodes),  # the lists that made nodes sources
        # the run's phases, then the engine's own steps inside "propagate"
        "timings_s": {**phases, "total": round(sum(phases.values()), 3), "engine": engine},
        **(run_info or {}),
    }


def safe_csv(frame: pd.DataFrame, path: Path) -> None:
    """A table as CSV that spreadsheets cannot execute (the one table writer)."""
    from graphkit.io.safe_csv import write_csv

    write_csv(frame, path, float_format="%.10g", quote_text=True)


def write_json(data: Any, path: Path, compact: bool = False) -> None:
    """JSON; ``compact`` for big files (paths.json at 100k suppliers: hundreds of MB)."""
    layout = {"separators": (",", ":")} if compact else {"indent": 1}
    text = json.dumps(data, ensure_ascii=False, default=_json_default, **layout)
    path.write_text(text + "\n", encoding="utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return str(value)
