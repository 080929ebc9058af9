"""The result files of a propagation: exposures.csv, paths.json, contributions.csv, run.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.graph.rules import EXPOSURE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.model import Bundle
    from graphkit.propagation.engine import Exposure


RESULT_FILES = ("exposures.csv", "paths.json", "contributions.csv", "run.json")


def write_results(
    exposure: Exposure,
    paths: dict[str, list[Any]],
    out_dir: str | Path,
    bundle: Bundle | None = None,
    run_info: dict[str, Any] | None = None,
) -> list[Path]:
    """Write exposures.csv, paths.json (node id -> its ExposurePath list), contributions.csv
    and run.json into ``out_dir``, all or nothing (staged, then moved into place)."""
    from graphkit import __version__
    from graphkit.io.atomic import staged_dir

    out_dir = Path(out_dir)
    run = {"graphkit_version": __version__, "parameters": exposure.params}
    if bundle is not None:
        run["bundle"] = {"origin": bundle.origin, "sha256": bundle.digest()}
    run.update(run_info or {})
    as_dicts = {node: [p.as_dict() for p in found] for node, found in paths.items()}
    with staged_dir(out_dir) as stage:
        _safe_csv(exposure_rows(exposure.table), stage / "exposures.csv")
        _safe_csv(exposure.contributions, stage / "contributions.csv")
        _write_json(as_dicts, stage / "paths.json")
        _write_json(run, stage / "run.json")
    return [out_dir / name for name in RESULT_FILES]


def exposure_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The exposure table's columns in file order (expected-exposure columns when present)."""
    extra = [c for c in ("prior", "reach_expected", "share_expected") if c in table]
    return table[[*EXPOSURE_COLUMNS, *extra]]


def _safe_csv(frame: pd.DataFrame, path: Path) -> None:
    from graphkit.io.safe_csv import write_csv

    write_csv(frame, path, float_format="%.10g")


def _write_json(data: Any, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return str(value)
