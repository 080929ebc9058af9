"""Auditor views: self-contained, offline and safe HTML views of exposure paths.

pyvis builds the network (nodes, edges, options); our own Jinja template (autoescape on)
renders it with the vis-network build that pyvis ships inlined, so the file opens offline
and requests nothing. Positions are computed here (tier = x) and physics is off.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphkit.errors import GraphError
from graphkit.model import COMPONENT, SUPPLIER

if TYPE_CHECKING:
    import pandas as pd

    from graphkit.analysis import Analysis
    from graphkit.explain import ExposurePath, Hop
    from graphkit.model import Bundle

DEFAULT_CAP = 500
#: declared links have confidence 1; below it a link is inferred and drawn dashed
DECLARED_CONFIDENCE = 1.0
TIER_GAP_X = 260
ROW_GAP_Y = 90
LABEL_MAX = 30
#: sequential, colour-blind-safe scale; reversed so that high exposure is dark and salient
COLOUR_MAP = "viridis"
NO_SCORE_COLOUR = "#c8c8c8"
NODE_BORDER = "#3a3a3a"
SOURCE_BORDER = "#000000"
TARGET_BORDER = "#d55e00"
SHAPES = {SUPPLIER: "dot", COMPONENT: "square"}
SHARE_WIDTH = (1.0, 9.0)  # edge width for share 0 and share 1
UNKNOWN_SHARE_WIDTH = 1.5

NODE_VIEW_COLUMNS = ["id", "kind", "label", "score", "tier", "is_source", "is_target", "tooltip"]
EDGE_VIEW_COLUMNS = [
    "source",
    "target",
    "kind",
    "share",
    "confidence",
    "inferred",
    "tooltip",
]
#: header keys shown under the title, in this order (other keys follow); "title" is the h1
HEADER_FIELDS = (
    ("target", "Target"),
    ("mode", "Mode"),
    ("score", "Score"),
    ("paths", "Paths"),
    ("generated", "Generated"),
    ("bundle_hash", "Bundle hash"),
)

VIS_OPTIONS: dict[str, Any] = {
    "physics": {"enabled": False},
    "layout": {"improvedLayout": False, "hierarchical": {"enabled": False}},
    "interaction": {
        "hover": True,
        "tooltipDelay": 100,
        "multiselect": False,
        "navigationButtons": False,
    },
    "edges": {
        "arrows": {"to": {"enabled": True, "scaleFactor": 0.6}},
        "smooth": {
            "enabled": True,
            "type": "cubicBezier",
            "forceDirection": "horizontal",
            "roundness": 0.45,
        },
        "color": {"color": "#8a8a8a", "highlight": "#d55e00", "hover": "#d55e00"},
    },
    "nodes": {"size": 16, "borderWidth": 1.5, "font": {"size": 14, "face": "sans-serif"}},
}


@dataclass
class ViewSpec:
    """Everything a view shows: node and edge tables, a header and a note (e.g. a cut)."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    header: dict[str, Any] = field(default_factory=dict)
    note: str = ""


# --- building a view from paths ------------------------------------------------------------


def view_from_paths(
    bundle: Bundle,
    scores: pd.Series,
    paths: Iterable[ExposurePath],
    evidence: dict[str, str] | None = None,
    header: dict[str, Any] | None = None,
    cap: int = DEFAULT_CAP,
) -> ViewSpec:
    """The subgraph made of the given paths, highest-value first, cut at ``cap`` nodes."""
    ranked = sorted(paths, key=_path_value, reverse=True)
    kept = _paths_within_cap(ranked, cap)
    order = _first_appearance(kept)
    hops = _unique_hops(kept)
    tiers = _tiers(order, hops, {p.nodes[-1] for p in kept})
    nodes = _view_nodes(bundle, scores, evidence or {}, order, tiers, kept)
    edges = _view_edges(hops, nodes.set_index("id")["label"].to_dict())
    note = _cut_note(ranked, kept, cap)
    return ViewSpec(nodes=nodes, edges=edges, header=dict(header or {}), note=note)


def _path_value(path: ExposurePath) -> float:
    value = _number(path.value)
    return 0.0 if value != value else value


def _paths_within_cap(ranked: list[ExposurePath], cap: int) -> list[ExposurePath]:
    """The longest prefix of ranked paths whose nodes together stay within cap."""
    seen: set[str] = set()
    kept = []
    for path in ranked:
        grown = seen.union(path.nodes)
        if len(grown) > cap:
            break
        seen = grown
        kept.append(path)
    return kept


def _cut_note(ranked: list[ExposurePath], kept: list[ExposurePath], cap: int) -> str:
    if not ranked:
        return "no exposure paths to show"
    if len(kept) == len(ranked):
        return ""
    return (
        f"view cut at {cap} nodes: showing the {len(kept)} highest-value of {len(ranked)} paths. "
        "To see the rest, narrow the view with --target or fewer --top/--k, raise --cap, "
        "or list every path with `graphkit paths`."
    )


def _first_appearance(paths: list[ExposurePath]) -> list[str]:
    """Node ids in order of first appearance along the ranked paths (top path first)."""
    return list(dict.fromkeys(node for path in paths for node in path.nodes))


def _unique_hops(paths: list[ExposurePath]) -> list[Hop]:
    """One hop per (source, target, kind), first seen wins."""
    hops: dict[tuple[str, str, str], Hop] = {}
    for path in paths:
        for hop in path.hops:
            hops.setdefault((hop.source, hop.target, hop.kind), hop)
    return list(hops.values())


def _tiers(order: list[str], hops: list[Hop], targets: set[str]) -> dict[str, int]:
    """Longest distance from the view's sources (cycles collapsed); end targets rightmost."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(order)
    graph.add_edges_from((h.source, h.target) for h in hops if h.source != h.target)
    dag = nx.condensation(graph)
    level: dict[int, int] = {}
    for component in nx.topological_sort(dag):
        level[component] = max((level[p] + 1 for p in dag.predecessors(component)), default=0)
    mapping = dag.graph["mapping"]
    tiers = {node: level[mapping[node]] for node in order}
    right = max(tiers.values(), default=0)
    for node in targets:
        if graph.out_degree(node) == 0:
            tiers[node] = right
    return tiers


def _view_nodes(
    bundle: Bundle,
    scores: pd.Series,
    evidence: dict[str, str],
    order: list[str],
    tiers: dict[str, int],
    paths: list[ExposurePath],
) -> pd.DataFrame:
    import pandas as pd

    rows, missing = bundle.node_rows(order)
    if missing:
        raise GraphError(f"paths name nodes that are not in the bundle: {', '.join(missing[:5])}")
    records = rows.to_dict("records")
    score = pd.to_numeric(scores.reindex(order), errors="coerce").clip(0, 1).to_numpy()
    sources = {p.nodes[0] for p in paths}
    targets = {p.nodes[-1] for p in paths}
    view = pd.DataFrame(
        {
            "id": order,
            "kind": [r["kind"] for r in records],
            "label": [_label(r) for r in records],
            "score": score,
            "tier": [tiers[n] for n in order],
            "is_source": [n in sources for n in order],
            "is_target": [n in targets for n in order],
        }
    )
    view["tooltip"] = [
        _node_tooltip(record, s, evidence.get(record["id"], ""), record["id"] in sources)
        for record, s in zip(records, score, strict=True)
    ]
    return view[NODE_VIEW_COLUMNS]


def _view_edges(hops: list[Hop], labels: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    records = []
    for hop in hops:
        share = _number(hop.share)
        confidence = _number(hop.confidence)
        inferred = bool(getattr(hop, "inferred", False))
        records.append(
            {
                "source": hop.source,
                "target": hop.target,
                "kind": hop.kind,
                "share": share,
                "confidence": confidence,
                "inferred": inferred,
                "tooltip": _edge_tooltip(hop, labels, share, confidence, inferred),
            }
        )
    return pd.DataFrame(records, columns=EDGE_VIEW_COLUMNS)


def exposure_view(
    bundle: Bundle,
    exposure: Any,
    *,
    target: str | None = None,
    top: int | None = None,
    k: int = 5,
    mode: str = "reach",
    cap: int = DEFAULT_CAP,
    evidence: dict[str, str] | None = None,
) -> ViewSpec:
    """The view of the top-k paths into one target, or into the ``top`` most exposed
    buyer-facing nodes, from a propagate.Exposure result (for single calls; a run uses
    ``analysis_view``, which reuses what the run computed).

    ``evidence`` (node id -> text) defaults to the screening evidence of the shown nodes.
    """
    from graphkit.explain import top_paths
    from graphkit.screen.score import screen_nodes

    table = exposure.table
    targets = _targets(table, mode, target, top)
    paths = [p for t in targets for p in top_paths(bundle, t, k=k, exposure=exposure)]
    if evidence is None:
        shown = bundle.nodes[bundle.nodes["id"].isin({n for p in paths for n in p.nodes})]
        evidence = screening_evidence(screen_nodes(shown).set_axis(shown["id"].to_numpy()))
    header = _view_header(table, targets, target is not None, mode, k, bundle.digest())
    return view_from_paths(bundle, table[mode], paths, evidence, header, cap)


def analysis_view(
    analysis: Analysis,
    *,
    target: str | None = None,
    top: int | None = None,
    mode: str = "reach",
    cap: int = DEFAULT_CAP,
) -> ViewSpec:
    """``exposure_view`` from a run's analysis: its paths, screening and digest, reused."""
    table = analysis.table
    targets = _targets(table, mode, target, top)
    paths = [p for t in targets for p in analysis.paths.get(t, [])]
    shown = list(dict.fromkeys(n for p in paths for n in p.nodes))
    evidence = screening_evidence(analysis.screening.loc[shown])
    header = _view_header(table, targets, target is not None, mode, analysis.k, analysis.digest)
    return view_from_paths(analysis.bundle, table[mode], paths, evidence, header, cap)


def _view_header(table, targets: list[str], one: bool, mode: str, k: int, digest: str) -> dict:
    names = [_text(table.at[t, "name"]) or t for t in targets]
    return {
        "title": f"Exposure paths to {names[0]}" if one else f"Top {len(targets)} exposed",
        "target": ", ".join(
            f"{n} ({t})" if n != t else t for n, t in zip(names, targets, strict=True)
        ),
        "mode": mode,
        "score": float(table.loc[targets, mode].max()) if targets else math.nan,
        "paths": f"top {k} per target",
        "bundle_hash": digest,
    }


def _targets(table: pd.DataFrame, mode: str, target: str | None, top: int | None) -> list[str]:
    """The one given target (checked), or the ``top`` buyer-facing nodes with a score > 0."""
    if target is not None:
        if target not in table.index:
            raise GraphError(f"--target {target!r} is not a node id in the bundle")
        return [target]
    from graphkit.graph.rules import most_exposed

    return list(most_exposed(table, (mode,))[: top or 0])


def screening_evidence(screened: pd.DataFrame) -> dict[str, str]:
    """Per node id (the index of ``screened``, a screen_nodes table), why screening scored
    it: the score rule, the address signals, the sector."""
    import pandas as pd

    named = {
        "screening": screened["score_evidence"],
        "address signals": screened["geo_evidence"],
        "sector rule": screened["sector_rule"],
    }
    rows = pd.DataFrame(named).to_dict("records")
    texts = ["\n".join(filter(None, (_field(k, v) for k, v in row.items()))) for row in rows]
    return dict(zip(map(str, screened.index), texts, strict=True))


# --- plain-text labels and tooltips --------------------------------------------------------


def _label(record: dict[str, Any]) -> str:
    text = str(record.get("name") or "") or str(record["id"])
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def _node_tooltip(record: dict[str, Any], score: float, evidence: str, is_source: bool) -> str:
    place = ", ".join(_text(record.get(k)) for k in ("province", "country") if _text(record.get(k)))
    explicit = _number(record.get("exposure"))
    lines = [
        _text(record.get("name")) or _text(record["id"]),
        f"id: {record['id']}",
        f"kind: {record.get('kind', '')}",
        _field("address", record.get("address")),
        _field("location", place),
        _field("sector", record.get("sector")),
        _field("HS code", record.get("hs_code")),
        f"exposure score: {_format(score)}",
        _field("analyst exposure (explicit)", _format(explicit) if explicit == explicit else ""),
        "role: source of exposure" if is_source else "",
        evidence,
    ]
    return "\n".join(line for line in lines if line)


def _edge_tooltip(
    hop: Hop, labels: dict[str, str], share: float, confidence: float, inferred: bool
) -> str:
    lines = [
        f"{hop.kind}: {labels.get(hop.source, hop.source)} → {labels.get(hop.target, hop.target)}",
        f"share: {_format(share)}",
        f"confidence: {_format(confidence)}" + (" (inferred)" if inferred else ""),
        _field("item", hop.item),
        _field("evidence", hop.evidence),
    ]
    return "\n".join(line for line in lines if line)


def _field(name: str, value: Any) -> str:
    text = _text(value)
    return f"{name}: {text}" if text else ""


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _number(value: Any) -> float:
    """The value as a float, NaN when it is missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _format(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"


# --- colours -------------------------------------------------------------------------------


def exposure_colours(scores: Sequence[float]) -> list[str]:
    """Hex colours for scores in 0..1 (high = dark); NaN gets a neutral grey."""
    import matplotlib
    import numpy as np
    from matplotlib.colors import to_hex

    values = np.asarray(scores, dtype=float)
    cmap = matplotlib.colormaps[COLOUR_MAP].reversed()
    rgba = cmap(np.nan_to_num(np.clip(values, 0, 1)))
    return [NO_SCORE_COLOUR if v != v else to_hex(c) for v, c in zip(values, rgba, strict=True)]


def _legend_gradient(stops: int = 11) -> str:
    """A CSS linear-gradient from score 0 to 1 on the exposure scale."""
    points = [i / (stops - 1) for i in range(stops)]
    colours = exposure_colours(points)
    return (
        "linear-gradient(to right, "
        + ", ".join(f"{c} {p * 100:.0f}%" for c, p in zip(colours, points, strict=True))
        + ")"
    )


# --- rendering -----------------------------------------------------------------------------


def _edge_width(share: float) -> float:
    if share != share:
        return UNKNOWN_SHARE_WIDTH
    low, high = SHARE_WIDTH
    return round(low + (high - low) * min(max(share, 0.0), 1.0), 2)


def _is_dashed(confidence: float, inferred: bool) -> bool:
    return bool(inferred) or confidence < DECLARED_CONFIDENCE  # NaN (not given) = declared


def _positions(nodes: pd.DataFrame) -> tuple[list[float], list[float]]:
    """x from the tier, y from the row within the tier (table order = top path first)."""
    rows = nodes.groupby("tier", sort=False).cumcount()
    return (nodes["tier"] * TIER_GAP_X).tolist(), (rows * ROW_GAP_Y).tolist()


def _network(spec: ViewSpec):
    """The pyvis Network of a view: positioned nodes, styled edges, physics off."""
    from pyvis.network import Network

    net = Network(directed=True)
    nodes = spec.nodes
    colours = exposure_colours(nodes["score"].to_numpy(dtype=float))
    xs, ys = _positions(nodes)
    for record, colour, x, y in zip(nodes.to_dict("records"), colours, xs, ys, strict=True):
        border = _border(record)
        net.add_node(
            record["id"],
            label=record["label"],
            shape=SHAPES.get(record["kind"], "dot"),
            color={
                "background": colour,
                "border": border,
                "highlight": {"background": colour, "border": TARGET_BORDER},
                "hover": {"background": colour, "border": TARGET_BORDER},
            },
            borderWidth=4 if border != NODE_BORDER else 1.5,
            title=record["tooltip"],
            x=float(x),
            y=float(y),
        )
    for number, record in enumerate(spec.edges.to_dict("records")):
        net.add_edge(
            record["source"],
            record["target"],
            id=f"e{number}",
            width=_edge_width(record["share"]),
            dashes=_is_dashed(record["confidence"], record["inferred"]),
            title=record["tooltip"],
        )
    net.set_options(json.dumps(VIS_OPTIONS))
    return net


def _border(record: dict[str, Any]) -> str:
    if record["is_source"]:
        return SOURCE_BORDER
    return TARGET_BORDER if record["is_target"] else NODE_BORDER


def script_json(data: Any) -> str:
    """JSON that is safe inside an HTML <script> element (no </script>, <!--, U+2028/9)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


@functools.lru_cache(maxsize=1)
def _vis_assets() -> tuple[str, str]:
    """The vis-network JS and CSS that pyvis ships, checked to be safe to inline."""
    import pyvis

    lib = Path(pyvis.__file__).parent / "lib"
    builds = sorted(lib.glob("vis-*"), key=lambda p: [int(n) for n in p.name[4:].split(".")])
    if not builds:
        raise GraphError(f"no vis-network build found in {lib}; reinstall pyvis")
    script = (builds[-1] / "vis-network.min.js").read_text(encoding="utf-8")
    style = (builds[-1] / "vis-network.css").read_text(encoding="utf-8")
    if "</script" in script.lower() or "</style" in style.lower():
        raise GraphError(f"vis-network build in {builds[-1]} cannot be inlined safely")
    return script, style


@functools.lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("graphkit", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
    )
    return env.get_template("view.html.j2")


def _header_rows(header: dict[str, Any]) -> list[tuple[str, str]]:
    known = dict(HEADER_FIELDS)
    extra = [k for k in header if k not in known and k != "title"]
    ordered = [k for k, _ in HEADER_FIELDS if k in header] + extra
    return [(known.get(k, k), _header_value(header[k])) for k in ordered]


def _header_value(value: Any) -> str:
    if isinstance(value, float):
        return _format(value)
    return _text(value)


def render_html(spec: ViewSpec) -> str:
    """The view as one self-contained HTML page (all scripts and styles inline)."""
    from markupsafe import Markup

    from graphkit import __version__

    nodes, edges, _, _, _, options = _network(spec).get_network_data()
    script, style = _vis_assets()
    options_data = json.loads(options)
    header = dict(spec.header)
    header.setdefault("generated", _now())
    title = _text(header.get("title")) or _text(header.get("target")) or "graphkit view"
    return _template().render(
        title=title,
        header_rows=_header_rows(header),
        note=spec.note,
        node_count=len(nodes),
        edge_count=len(edges),
        gradient=_legend_gradient(),
        colours={"source": SOURCE_BORDER, "target": TARGET_BORDER, "none": NO_SCORE_COLOUR},
        version=__version__,
        data_json=Markup(script_json({"nodes": nodes, "edges": edges, "options": options_data})),
        vis_js=Markup(script),
        vis_css=Markup(style),
    )


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def write_view(spec: ViewSpec, path: str | os.PathLike[str]) -> Path:
    """Render the view and write it atomically (temp file + os.replace), creating folders."""
    from graphkit.io.atomic import atomic_file

    html = render_html(spec)
    with atomic_file(path) as temp:
        temp.write_text(html, encoding="utf-8")
        temp.chmod(0o644)
    return Path(path)


def display_view(spec: ViewSpec) -> None:
    """Show the view in Jupyter as isolated HTML (an iframe, so its scripts run everywhere)."""
    from IPython.display import HTML, display

    display(HTML(render_html(spec), metadata={"isolated": True}))
