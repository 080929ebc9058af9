"""The result files of a run, from its analysis: exposures.csv, contributions.csv, paths.json
and paths.csv (the same paths, one row per hop), and run.json (parameters, every input with
its SHA-256, timings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.graph.rules import EXPOSURE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.analysis import Analysis

RESULT_FILES = ("exposures.csv", "contributions.csv", "paths.json", "paths.csv", "run.json")
PATH_COLUMNS = [
    "target", "rank", "value", "source", "source_evidence", "hop", "from", "to", "kind",
    "share", "confidence", "item", "evidence",
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
    rows = with_provenance(exposure_rows(exposure.table), analysis.bundle.nodes)
    safe_csv(rows, folder / "exposures.csv")
    safe_csv(exposure.contributions, folder / "contributions.csv")
    as_dicts = {node: [p.as_dict() for p in found] for node, found in analysis.paths.items()}
    write_json(as_dicts, folder / "paths.json", compact=True)
    safe_csv(path_rows(analysis.paths), folder / "paths.csv")
    write_json(run_record(analysis, run_info), folder / "run.json")


def exposure_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The exposure table's columns in file order (expected-exposure columns when present)."""
    extra = [c for c in ("prior", "reach_expected", "share_expected") if c in table]
    return table[[*EXPOSURE_COLUMNS, *extra]]


def path_rows(paths: dict[str, list[Any]]) -> pd.DataFrame:
    """Every path hop by hop: one row per (target, rank, hop); the source's evidence on the
    path's first hop only (it is the same for every hop)."""
    import pandas as pd

    rows = [
        (target, rank, p.value, p.source, p.source_evidence if number == 1 else "", number,
         h.source, h.target, h.kind, h.share, h.confidence, h.item, h.evidence)
        for target, found in paths.items()
        for rank, p in enumerate(found, 1)
        for number, h in enumerate(p.hops, 1)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=PATH_COLUMNS)


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

    write_csv(frame, path, float_format="%.10g")


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
