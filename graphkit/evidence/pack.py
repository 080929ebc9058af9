"""The evidence pack of one product: a zip with the tracing file, a flow chart, a summary, a
clearance plan, the upstream as a bundle, the inputs, run.json and a SHA-256 manifest.

``prepare`` gathers what the pack shows; it takes the bundle, screening, exposure and paths
already computed by a run, and computes whatever is not given. ``write_pack`` writes the zip
atomically: a failed pack leaves no file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphkit.errors import UnknownName
from graphkit.graph.rules import MODES
from graphkit.model import EDGES_FILE, NODES_FILE, Bundle

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from graphkit.explain import ExposurePath
    from graphkit.graph.index import IndexedGraph
    from graphkit.propagation import Exposure

MANIFEST = "MANIFEST.sha256"
#: the files every pack holds (plus bundle/ and input/), as the README lists them
PACK_FILES = ("steps.csv", "flow.svg", "flow.png", "summary.html", "summary.md", "clearance.csv")


@dataclass
class ListCheck:
    """One sanctions list the bundle was checked against, and its matches."""

    name: str
    sha256: str
    date: str  # the file's modification date (UTC), and the list's latest change if it says
    entries: int
    matches: pd.DataFrame


@dataclass
class PackInput:
    """Everything one product's pack shows; built by ``prepare``."""

    bundle: Bundle
    product: str
    screening: pd.DataFrame  # screen_nodes output, indexed by node id
    exposure: Exposure
    paths: list[ExposurePath]
    mode: str = "reach"
    k: int = 5
    threshold: float = 0.0
    priors: pd.DataFrame | None = None
    priors_path: str | None = None
    lists: list[ListCheck] = field(default_factory=list)
    input_files: list[Path] = field(default_factory=list)
    generated: str = ""

    @property
    def table(self) -> pd.DataFrame:
        return self.exposure.table

    @cached_property
    def graph(self) -> IndexedGraph:
        from graphkit.graph.index import index_graph

        return index_graph(self.bundle)

    @cached_property
    def source_array(self) -> np.ndarray:
        from graphkit.graph.index import score_array

        return score_array(self.graph, self.table["source_score"])

    @cached_property
    def evidence(self) -> dict[str, str]:
        """Per node id: why screening scored it (rule, address signals, sector; sanctions)."""
        from graphkit.screen.score import source_evidence

        text = source_evidence(self.screening)
        if "sanctions_evidence" in self.bundle.nodes:
            listed = self.bundle.nodes.set_index("id")["sanctions_evidence"].reindex(text.index)
            text = text.where(listed.fillna("") == "", text + "; " + listed.fillna(""))
        return text.to_dict()

    def name_of(self, node: str) -> str:
        name = self.table["name"].get(node, "")
        return str(name) if name else node


def prepare(
    bundle: Bundle | str | Path,
    product: str,
    *,
    mode: str = "reach",
    priors: str | Path | pd.DataFrame | None = None,
    sanctions: tuple[str | Path, ...] | list[str | Path] = (),
    threshold: float = 0.0,
    k: int = 5,
    screening: pd.DataFrame | None = None,
    exposure: Exposure | None = None,
    paths: list[ExposurePath] | None = None,
) -> PackInput:
    """Gather the pack's inputs; ``screening``, ``exposure`` and ``paths`` are computed when
    not given (when given, they must come from the same bundle, lists and priors)."""
    from graphkit.io import read_bundle
    from graphkit.propagation import propagate
    from graphkit.propagation.priors import read_priors
    from graphkit.screen.score import screen_nodes, source_evidence

    files = input_files(bundle)
    loaded = bundle if isinstance(bundle, Bundle) else read_bundle(bundle)
    check_product(loaded, product)
    loaded, lists = _apply_lists(loaded, sanctions)
    prior_table = read_priors(priors) if priors is not None else None
    if screening is None:
        screening = screen_nodes(loaded.nodes).set_axis(loaded.nodes["id"].to_numpy())
    if exposure is None:
        scores = screening["source_score"]
        exposure = propagate(loaded, scores, MODES, priors=prior_table, contributions_for=[product])
    if paths is None:
        from graphkit.explain import top_paths

        paths = top_paths(
            loaded, product, k, exposure=exposure, evidence=source_evidence(screening)
        )
    return PackInput(
        bundle=loaded,
        product=product,
        screening=screening,
        exposure=exposure,
        paths=paths,
        mode=mode,
        k=k,
        threshold=threshold,
        priors=prior_table,
        priors_path=str(priors) if isinstance(priors, str | Path) else None,
        lists=lists,
        input_files=files,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )


def check_product(bundle: Bundle, product: str) -> None:
    """Raise UnknownName (exit 2) naming the closest ids when ``product`` is not a node id."""
    ids = bundle.nodes["id"].astype(str)
    if (ids == product).any():
        return
    close = closest_ids(product, ids.tolist(), bundle.nodes["name"].astype(str).tolist())
    hint = f"; closest ids: {', '.join(close)}" if close else ""
    where = bundle.origin or "the bundle"
    raise UnknownName(f"product {product!r} is not a node id in {where}{hint}")


def closest_ids(query: str, ids: list[str], names: list[str], n: int = 5) -> list[str]:
    """Ids most like the query, by their id or name (a name containing it counts as 0.5)."""
    from difflib import SequenceMatcher

    wanted = query.lower()

    def likeness(node: str, name: str) -> float:
        ratios = (SequenceMatcher(None, wanted, text.lower()).ratio() for text in (node, name))
        return max(*ratios, 0.5 if wanted in name.lower() else 0.0)

    scored = sorted(((likeness(i, m), i) for i, m in zip(ids, names, strict=True)), reverse=True)
    return [node for score, node in scored[:n] if score >= 0.5]


def input_files(bundle: Bundle | str | Path) -> list[Path]:
    """The files the bundle was read from (nodes.csv and edges.csv, or the one workbook/JSON)."""
    text = bundle.origin if isinstance(bundle, Bundle) else str(bundle)
    origin = Path(text)
    if not text or not origin.exists():
        return []
    if origin.is_dir():
        return [origin / NODES_FILE, origin / EDGES_FILE]
    return [origin]


def _apply_lists(bundle: Bundle, sanctions) -> tuple[Bundle, list[ListCheck]]:
    """Screen node names against each list; strong matches become sources (apply_sanctions)."""
    import pandas as pd

    from graphkit.screen.sanctions import apply_sanctions, screen_sanctions

    checks = []
    for path in sanctions:
        matches, (listed,) = screen_sanctions(bundle.nodes, [path])
        checks.append(
            ListCheck(listed.label, listed.sha256, _list_date(path), len(listed.entries), matches)
        )
    strong = [c.matches[c.matches["strong"].astype(bool)] for c in checks]
    if any(len(m) for m in strong):  # apply_sanctions needs at least one row
        bundle = apply_sanctions(bundle, pd.concat(strong, ignore_index=True))
    return bundle, checks


def _list_date(path: str | Path) -> str:
    """The list file's modification date, and its latest 'last_change' when it has one."""
    import pandas as pd

    modified = datetime.fromtimestamp(Path(path).stat().st_mtime, timezone.utc).date().isoformat()
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        header = next(csv.reader(handle), [])
    if "last_change" not in header:
        return f"file dated {modified}"
    changes = pd.read_csv(path, usecols=["last_change"], dtype=str)["last_change"].dropna()
    latest = max(changes, default="")
    return (
        f"file dated {modified}; latest entry change {latest[:10]}"
        if latest
        else f"file dated {modified}"
    )


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- writing the pack ------------------------------------------------------------------------


def write_pack(data: PackInput, out: str | Path) -> Path:
    """Build every file in a temporary folder, then zip it into ``out`` atomically."""
    from graphkit.io.atomic import atomic_file

    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="graphkit-evidence-") as temp:
        stage = Path(temp)
        build_files(data, stage)
        with atomic_file(out) as target:
            _zip_folder(stage, target)
    return out


def build_files(data: PackInput, stage: Path) -> None:
    """Write the pack's files into ``stage``, the manifest last."""
    from graphkit.evidence.clearance import clearance_plan, plan_table
    from graphkit.evidence.flow import flow_layout, write_png, write_svg
    from graphkit.evidence.steps import steps_table
    from graphkit.evidence.summary import (
        render_summary_html,
        render_summary_markdown,
        summary_context,
    )
    from graphkit.evidence.upstream import product_upstream, upstream_bundle
    from graphkit.io import write_bundle

    target = int(data.graph.ids.get_indexer([data.product])[0])
    reach = data.table["reach"].to_numpy(float)
    upstream = product_upstream(data.graph, target, reach, data.source_array)
    _safe_csv(steps_table(data, upstream), stage / "steps.csv")
    plan = clearance_plan(data, upstream)
    _safe_csv(plan_table(plan), stage / "clearance.csv")
    layout = flow_layout(data, upstream)
    write_svg(layout, stage / "flow.svg")
    write_png(layout, stage / "flow.png")
    write_bundle(upstream_bundle(data.bundle, upstream), stage / "bundle")
    inputs = _copy_inputs(data, stage / "input")
    context = summary_context(data, upstream, plan, layout)
    (stage / "summary.html").write_text(
        render_summary_html(context, stage / "flow.svg"), encoding="utf-8"
    )
    (stage / "summary.md").write_text(render_summary_markdown(context), encoding="utf-8")
    _write_json(run_info(data, upstream, plan, inputs), stage / "run.json")
    write_manifest(stage)


def _safe_csv(frame: pd.DataFrame, path: Path) -> None:
    from graphkit.io.safe_csv import spreadsheet_safe

    spreadsheet_safe(frame).to_csv(path, index=False, na_rep="", float_format="%.6g")


def _copy_inputs(data: PackInput, folder: Path) -> dict[str, dict[str, str]]:
    """Copies of the input files under fixed names (original names are data, so hostile)."""
    from graphkit.io import write_bundle

    folder.mkdir()
    copied: dict[str, dict[str, str]] = {}
    if not data.input_files:
        write_bundle(data.bundle, folder / "bundle")
        copied["input/bundle/"] = {"from": "the bundle in memory", "sha256": data.bundle.digest()}
    for source in data.input_files:
        name = (
            source.name
            if source.name in (NODES_FILE, EDGES_FILE)
            else "bundle" + source.suffix.lower()
        )
        shutil.copyfile(source, folder / name)
        copied[f"input/{name}"] = {"from": str(source), "sha256": file_sha256(source)}
    if data.priors_path:
        shutil.copyfile(data.priors_path, folder / "priors.csv")
        copied["input/priors.csv"] = {
            "from": data.priors_path,
            "sha256": file_sha256(data.priors_path),
        }
    return copied


def run_info(data: PackInput, upstream, plan, inputs) -> dict[str, Any]:
    """run.json: parameters, inputs with their hashes, graphkit version, the headline results."""
    from graphkit import __version__

    return {
        "graphkit_version": __version__,
        "generated": data.generated,
        "product": data.product,
        "parameters": {
            "mode": data.mode,
            "k": data.k,
            "threshold": data.threshold,
            "priors": data.priors_path or ("table" if data.priors is not None else None),
            "sanctions_lists": [
                {"name": c.name, "sha256": c.sha256, "date": c.date, "entries": c.entries}
                for c in data.lists
            ],
        },
        "bundle": {"origin": data.bundle.origin, "sha256": data.bundle.digest()},
        "inputs": inputs,
        "upstream": {"nodes": len(upstream.nodes), "links": len(upstream.edges)},
        "scores": plan.before,
        "clearance": {"status": plan.status, "links": len(plan.links), "after": plan.after},
    }


def _write_json(data: Any, path: Path) -> None:
    path.write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )


def write_manifest(stage: Path) -> None:
    """MANIFEST.sha256 in `sha256sum` format over every other file, paths relative to the pack."""
    lines = [
        f"{file_sha256(path)}  {path.relative_to(stage).as_posix()}\n"
        for path in sorted(stage.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    ]
    (stage / MANIFEST).write_text("".join(lines), encoding="utf-8")


def _zip_folder(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())


def evidence_pack(
    bundle: Bundle | str | Path,
    product: str,
    out: str | Path,
    **options: Any,
) -> Path:
    """Write the evidence pack of ``product`` to the zip file ``out``; see ``prepare`` for the
    options (mode, priors, sanctions, threshold, k, and precomputed screening/exposure/paths)."""
    return write_pack(prepare(bundle, product, **options), out)
