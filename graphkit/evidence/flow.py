"""flow.svg and flow.png: the merchandise flow chart of a product's mapped upstream.

Depths are columns, goods flow left to right (raw inputs left, the product right); links on an
exposed chain are drawn in the views' highlight colour, boxes carry the views' exposure colour,
sources a black border and the product an orange one. Up to LEGIBLE parties and parts every
node is drawn; above that only the nodes on exposed chains are, the others collapsed into one
box per depth, and the chart says so. One layout, two painters: the SVG is written by hand
(every text escaped, no script), the PNG drawn with matplotlib.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from graphkit.render import NODE_BORDER, SOURCE_BORDER, TARGET_BORDER, exposure_colours

if TYPE_CHECKING:
    from pathlib import Path

    from graphkit.evidence.pack import PackInput
    from graphkit.evidence.upstream import Upstream

#: above this many nodes, only exposed chains are drawn and the rest collapsed per depth
LEGIBLE = 300
#: key prefix of the box that collapses one depth's nodes that are on no exposed chain
COLLAPSED = "depth"
BOX_W, BOX_H, ROW_H, COL_W = 250, 36, 46, 340
MARGIN, HEADER_H, LEGEND_H = 24, 86, 64
LABEL_MAX, SUB_MAX = 31, 40
EXPOSED_LINK = TARGET_BORDER
PLAIN_LINK = "#9a9a9a"
COLLAPSED_FILL = "#eeeeee"
FONT = "DejaVu Sans, Verdana, sans-serif"
#: the PNG is scaled down to at most this many pixels (a big chart stays quick to draw)
PNG_PIXELS = 8_000_000
#: characters XML 1.0 does not allow (they would make the SVG unreadable)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class Box:
    """One party, part or collapsed depth, positioned (top-left corner)."""

    key: str
    label: str
    sub: str
    tooltip: str
    x: float
    y: float
    swatch: str
    border: str
    border_width: float


@dataclass
class Link:
    start: tuple[float, float]
    end: tuple[float, float]
    colour: str
    width: float
    dashed: bool


@dataclass
class FlowLayout:
    width: float
    height: float
    title: str
    subtitle: str
    note: str
    boxes: list[Box] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    columns: list[tuple[float, str]] = field(default_factory=list)
    shown: int = 0
    collapsed: int = 0


def flow_layout(data: PackInput, upstream: Upstream) -> FlowLayout:
    """Positions of every shown box and link; see the module docstring."""
    shown, note = _shown_nodes(data, upstream)
    keys = {node: _key(upstream, node, shown) for node in upstream.nodes.tolist()}
    edges = _links_between(upstream, keys)
    depths = {key: upstream.depth[node] for node, key in keys.items()}
    deepest = max(depths.values(), default=0)
    y = _rows(list(dict.fromkeys(keys.values())), depths, edges)
    records = data.bundle.nodes.set_index("id")
    x = {key: MARGIN + (deepest - depth) * COL_W for key, depth in depths.items()}
    boxes = [
        _box(data, upstream, key, x[key], y[key], keys, records)
        for key in dict.fromkeys(keys.values())
    ]
    links = [_link(x, y, *edge) for edge in edges.values()]
    bottom = max((b.y + BOX_H for b in boxes), default=HEADER_H)
    columns = [(MARGIN + (deepest - d) * COL_W, f"depth {d}") for d in range(deepest, -1, -1)]
    name = data.name_of(data.product)
    return FlowLayout(
        width=2 * MARGIN + deepest * COL_W + BOX_W,
        height=bottom + LEGEND_H,
        title=f"Merchandise flow: {name} ({data.product})",
        subtitle=(
            f"Goods flow left to right; depth N = N links from the product. Orange links: exposed "
            f"chains. Box colour: {data.mode} score. Dashed: inferred link (confidence < 1)."
        ),
        note=note,
        boxes=boxes,
        links=links,
        columns=columns,
        shown=len(shown),
        collapsed=len(upstream.nodes) - len(shown),
    )


def _shown_nodes(data: PackInput, upstream: Upstream) -> tuple[set[int], str]:
    """Every node up to LEGIBLE; else the exposed chains (else the top paths) and a note."""
    nodes = set(upstream.nodes.tolist())
    if len(nodes) <= LEGIBLE:
        return nodes, ""
    shown = upstream.exposed_nodes
    what = "the exposed chains"
    if len(shown) > LEGIBLE:
        positions = data.graph.ids.get_indexer([n for p in data.paths for n in p.nodes])
        shown = {upstream.target, *positions.tolist()}
        what = f"the top {len(data.paths)} exposed chains"
    hidden = len(nodes) - len(shown)
    return shown, (
        f"{len(nodes)} parties and parts upstream: showing {what} ({len(shown)} nodes); "
        f"the other {hidden} are collapsed into one box per depth (all of them are in steps.csv)."
    )


def _key(upstream: Upstream, node: int, shown: set[int]) -> str:
    return f"n{node}" if node in shown else f"{COLLAPSED}{upstream.depth[node]}"


def _links_between(upstream: Upstream, keys: dict[int, str]) -> dict:
    """One drawn link per (from box, to box): exposed if any of its links is, widest share."""
    graph = upstream.graph
    drawn: dict[tuple[str, str], list] = {}
    for edge, exposed in zip(upstream.edges.tolist(), upstream.exposed_edges.tolist(), strict=True):
        a, b = keys[int(graph.src[edge])], keys[int(graph.dst[edge])]
        if a == b:
            continue
        share, confident = float(graph.share[edge]), graph.confidence[edge] >= 1.0
        old = drawn.get((a, b), [a, b, False, 0.0, True])
        drawn[(a, b)] = [a, b, old[2] or exposed, max(old[3], share), old[4] and confident]
    return drawn


def _rows(keys: list[str], depths: dict[str, int], edges: dict) -> dict[str, float]:
    """y per box: right to left, each column ordered by the mean row of what it feeds; then
    left to right, each box centred on what feeds it (order kept, no overlaps)."""
    after = {k: [] for k in keys}
    before = {k: [] for k in keys}
    for a, b, *_ in edges.values():
        after[a].append(b)
        before[b].append(a)
    columns: dict[int, list[str]] = {}
    for key in keys:
        columns.setdefault(depths[key], []).append(key)
    y: dict[str, float] = {}
    for depth in sorted(columns):
        wanted = {k: _mean([y[n] for n in after[k] if n in y], HEADER_H) for k in columns[depth]}
        order = sorted(columns[depth], key=lambda k: (k.startswith(COLLAPSED), wanted[k], k))
        columns[depth] = order
        _stack(order, wanted, y)
    for depth in sorted(columns, reverse=True):
        wanted = {k: _mean([y[n] for n in before[k]], y[k]) for k in columns[depth]}
        _stack(columns[depth], wanted, y)
    return y


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _stack(order: list[str], wanted: dict[str, float], y: dict[str, float]) -> None:
    floor = HEADER_H
    for key in order:
        y[key] = max(wanted[key], floor)
        floor = y[key] + ROW_H


def _box(data: PackInput, upstream: Upstream, key: str, x: float, y: float, keys, records) -> Box:
    if key.startswith(COLLAPSED):
        members = [n for n, k in keys.items() if k == key]
        text = f"{len(members)} more at depth {key.removeprefix(COLLAPSED)}"
        tip = "not on an exposed chain; listed in steps.csv"
        return Box(
            key, text, "collapsed: no exposed chain", tip, x, y, COLLAPSED_FILL, NODE_BORDER, 1
        )
    node = int(key[1:])
    node_id = str(upstream.graph.ids[node])
    record = records.loc[node_id]
    place = ", ".join(p for p in (str(record["province"]), str(record["country"])) if p)
    score = float(data.table.at[node_id, data.mode])
    is_source = data.source_array[node] > 0
    border = (
        TARGET_BORDER if node == upstream.target else SOURCE_BORDER if is_source else NODE_BORDER
    )
    tip = "\n".join(
        filter(None, [data.name_of(node_id), f"id: {node_id}", str(record["address"]), place,
                      f"{data.mode} score: {score:.3f}", data.evidence.get(node_id, "")])
    )  # fmt: skip
    return Box(
        key=key,
        label=_short(data.name_of(node_id), LABEL_MAX),
        sub=_short(" · ".join(filter(None, [node_id, place, f"{score:.2f}"])), SUB_MAX),
        tooltip=tip,
        x=x,
        y=y,
        swatch=_colour(round(score, 3)),
        border=border,
        border_width=3 if border != NODE_BORDER else 1,
    )


@functools.lru_cache(maxsize=1024)
def _colour(score: float) -> str:
    return exposure_colours([score])[0]


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(x: dict, y: dict, a: str, b: str, exposed: bool, share: float, confident: bool) -> Link:
    return Link(
        start=(x[a] + BOX_W, y[a] + BOX_H / 2),
        end=(x[b], y[b] + BOX_H / 2),
        colour=EXPOSED_LINK if exposed else PLAIN_LINK,
        width=round(1.0 + 5.0 * min(max(share, 0.0), 1.0), 2) + (0.5 if exposed else 0.0),
        dashed=not confident,
    )


def _curve(link: Link) -> tuple[tuple[float, float], ...]:
    """The cubic Bezier control points of a link (horizontal tangents at both ends)."""
    (x1, y1), (x2, y2) = link.start, link.end
    bend = max(abs(x2 - x1) / 2, 40.0)
    return (x1, y1), (x1 + bend, y1), (x2 - bend, y2), (x2, y2)


# --- SVG -------------------------------------------------------------------------------------


def _xml(text: str) -> str:
    """Text safe as SVG character data or a quoted attribute value."""
    return escape(_NOT_XML.sub("\ufffd", str(text)), {'"': "&quot;", "'": "&apos;"})


def svg_text(layout: FlowLayout) -> str:
    """The chart as a standalone SVG document (no script, no external reference)."""
    w, h = layout.width, layout.height
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
        f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="{FONT}">',
        f"<title>{_xml(layout.title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
        'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" '
        'fill="context-stroke"/></marker></defs>',
        f'<rect width="{w:.0f}" height="{h:.0f}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="28" font-size="17" font-weight="bold">{_xml(layout.title)}</text>',
        f'<text x="{MARGIN}" y="48" font-size="12" fill="#333">{_xml(layout.subtitle)}</text>',
    ]
    if layout.note:
        parts.append(
            f'<text x="{MARGIN}" y="66" font-size="12" fill="#8a4b00">{_xml(layout.note)}</text>'
        )
    parts += [
        f'<text x="{x:.0f}" y="{HEADER_H - 6}" font-size="11" fill="#666">{_xml(label)}</text>'
        for x, label in layout.columns
    ]
    parts += [_svg_link(link) for link in layout.links]
    parts += [_svg_box(box) for box in layout.boxes]
    parts += _svg_legend(layout)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _svg_link(link: Link) -> str:
    (x1, y1), (c1x, c1y), (c2x, c2y), (x2, y2) = _curve(link)
    dash = ' stroke-dasharray="6 4"' if link.dashed else ""
    return (
        f'<path d="M{x1:.1f},{y1:.1f} C{c1x:.1f},{c1y:.1f} {c2x:.1f},{c2y:.1f} {x2:.1f},{y2:.1f}" '
        f'fill="none" stroke="{link.colour}" stroke-width="{link.width}" stroke-opacity="0.85"'
        f'{dash} marker-end="url(#arrow)"/>'
    )


def _svg_box(box: Box) -> str:
    return (
        f"<g><title>{_xml(box.tooltip)}</title>"
        f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="4" '
        f'fill="#ffffff" stroke="{box.border}" stroke-width="{box.border_width}"/>'
        f'<rect x="{box.x + 1:.0f}" y="{box.y + 1:.0f}" width="10" height="{BOX_H - 2}" '
        f'fill="{box.swatch}"/>'
        f'<text x="{box.x + 16:.0f}" y="{box.y + 15:.0f}" font-size="12">{_xml(box.label)}</text>'
        f'<text x="{box.x + 16:.0f}" y="{box.y + 29:.0f}" font-size="10" fill="#555">'
        f"{_xml(box.sub)}</text></g>"
    )


def _svg_legend(layout: FlowLayout) -> list[str]:
    parts = []
    for item in legend_items(layout):
        x, y, colour = item.x, item.y, item.colour
        if item.kind == "swatch":
            parts.append(f'<rect x="{x}" y="{y - 10}" width="14" height="14" fill="{colour}"/>')
        elif item.kind == "line":
            parts.append(
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 28}" y2="{y - 4}" stroke="{colour}" '
                f'stroke-width="{item.width}"/>'
            )
        elif item.kind == "box":
            parts.append(
                f'<rect x="{x}" y="{y - 12}" width="18" height="16" fill="#fff" '
                f'stroke="{colour}" stroke-width="{item.width}"/>'
            )
        if item.label:
            parts.append(
                f'<text x="{item.text_x}" y="{y}" font-size="11">{_xml(item.label)}</text>'
            )
    return parts


@dataclass
class LegendItem:
    kind: str  # swatch | line | box | text
    x: float
    y: float
    colour: str = ""
    width: float = 0
    label: str = ""

    @property
    def text_x(self) -> float:
        return self.x + {"swatch": 0, "text": 0}.get(self.kind, 34)


def legend_items(layout: FlowLayout) -> list[LegendItem]:
    """The legend under the chart: the score scale, link colours, borders (fixed text only)."""
    y = layout.height - LEGEND_H + 24
    stops = exposure_colours([i / 10 for i in range(11)])
    items = [LegendItem("text", MARGIN, y, label="score 0")]
    items += [LegendItem("swatch", MARGIN + 52 + i * 14, y, c) for i, c in enumerate(stops)]
    items.append(LegendItem("text", MARGIN + 52 + 11 * 14 + 4, y, label="1"))
    x = MARGIN + 240
    for kind, colour, width, label in (
        ("line", EXPOSED_LINK, 4, "exposed chain"),
        ("line", PLAIN_LINK, 2, "other link"),
        ("box", SOURCE_BORDER, 3, "source"),
        ("box", TARGET_BORDER, 3, "product"),
    ):
        items.append(LegendItem(kind, x, y, colour, width, label))
        x += 130
    return items


def write_svg(layout: FlowLayout, path: Path) -> None:
    path.write_text(svg_text(layout), encoding="utf-8")


# --- PNG -------------------------------------------------------------------------------------


def write_png(layout: FlowLayout, path: Path, dpi: int = 100) -> None:
    """The same layout drawn with matplotlib (text drawn literally: no mathtext), scaled down
    to at most PNG_PIXELS pixels (the SVG keeps full detail)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as Curve

    figure = plt.figure(figsize=(layout.width / dpi, layout.height / dpi), dpi=dpi)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, layout.width)
    axes.set_ylim(layout.height, 0)
    axes.axis("off")
    points = 72 / dpi  # font size in points for a size given in pixels

    def text(x, y, value, size, **style):
        axes.text(x, y, value, fontsize=size * points, parse_math=False, va="baseline", **style)

    text(MARGIN, 28, layout.title, 17, weight="bold")
    text(MARGIN, 48, layout.subtitle, 12, color="#333333")
    if layout.note:
        text(MARGIN, 66, layout.note, 12, color="#8a4b00")
    for x, label in layout.columns:
        text(x, HEADER_H - 6, label, 11, color="#666666")
    for link in layout.links:
        codes = [Curve.MOVETO, Curve.CURVE4, Curve.CURVE4, Curve.CURVE4]
        style = (0, (6, 4)) if link.dashed else "solid"
        axes.add_patch(
            PathPatch(Curve(_curve(link), codes), fill=False, edgecolor=link.colour,
                      linewidth=link.width * points, linestyle=style, alpha=0.85)
        )  # fmt: skip
    for box in layout.boxes:
        axes.add_patch(
            Rectangle((box.x, box.y), BOX_W, BOX_H, facecolor="white", edgecolor=box.border,
                      linewidth=box.border_width * points)
        )  # fmt: skip
        axes.add_patch(Rectangle((box.x + 1, box.y + 1), 10, BOX_H - 2, facecolor=box.swatch))
        text(box.x + 16, box.y + 15, box.label, 12)
        text(box.x + 16, box.y + 29, box.sub, 10, color="#555555")
    for item in legend_items(layout):
        if item.kind == "swatch":
            axes.add_patch(Rectangle((item.x, item.y - 10), 14, 14, facecolor=item.colour))
        elif item.kind == "line":
            axes.plot([item.x, item.x + 28], [item.y - 4] * 2, color=item.colour,
                      linewidth=item.width * points)  # fmt: skip
        elif item.kind == "box":
            axes.add_patch(
                Rectangle((item.x, item.y - 12), 18, 16, facecolor="white", edgecolor=item.colour,
                          linewidth=item.width * points)
            )  # fmt: skip
        text(item.text_x, item.y, item.label, 11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # glyphs missing from the installed fonts (e.g. CJK)
        scale = min(1.0, (PNG_PIXELS / (layout.width * layout.height)) ** 0.5)
        figure.savefig(path, format="png", dpi=dpi * scale)
    plt.close(figure)
