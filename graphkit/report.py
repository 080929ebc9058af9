"""The auditor report: what is exposed, through which paths, with which evidence (HTML + MD)."""

from __future__ import annotations

import base64
import io
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from graphkit.analysis import exposed_products
from graphkit.errors import Problem
from graphkit.graph.rules import EXPOSED_ABOVE

if TYPE_CHECKING:
    from graphkit.analysis import Analysis
    from graphkit.model import Bundle
    from graphkit.propagation.paths import TopPaths


CAUTION = (
    "A score is a lead for due diligence, not a finding. It says that a mapped path of goods "
    "or services connects this product to a place and sector where North Korean forced labour "
    "has been reported; it says nothing about any person. Korean names or language are never "
    "evidence: about two million Korean Chinese (Chaoxianzu), Chinese citizens, live mostly in "
    "Jilin. Suspected cases need expert guidance, and any engagement must put the safety of "
    "the workers first: workers can be harmed if a case is exposed carelessly."
)

MODE_MEANINGS = {
    "reach": (
        "probability that at least one exposed input reaches the product through any tier "
        "(\u201cmade in whole or in part\u201d; the default, because any path matters under US law "
        "and ILO standards)"
    ),
    "share": (
        "expected fraction of the product's value that was embodied at exposed sources "
        "(Leontief input-output; contributions add up exactly to the score)"
    ),
    "path": "strength of the single strongest chain of links from an exposed source",
}


#: the report details this many of the most exposed products; the CSVs and the products
#: page hold them all
REPORT_PRODUCTS = 100
#: the files of a run the report links to
FULL_TABLES = ("exposures.csv", "paths.csv", "contributions.csv", "products.html")


@dataclass
class ReportInput:
    """What the report shows: a run's analysis, the mode that decides "exposed", the views."""

    analysis: Analysis
    mode: str = "reach"
    views: dict[str, str] = field(default_factory=dict)  # product id -> relative view path
    generated: str = ""

    @property
    def bundle(self) -> Bundle:
        return self.analysis.bundle

    @property
    def screening(self) -> pd.DataFrame:
        return self.analysis.screening

    @property
    def table(self) -> pd.DataFrame:
        return self.analysis.table

    @property
    def paths(self) -> TopPaths:
        return self.analysis.paths

    @property
    def map_next(self) -> pd.DataFrame | None:
        return self.analysis.map_next


def clean_products(data: ReportInput) -> pd.DataFrame:
    """Buyer-facing nodes with mapped inputs and no exposed chain in the report's mode."""
    table = data.table
    facing = table[table["buyer_facing"] & has_mapped_inputs(data)]
    return facing[~(facing[data.mode].fillna(0) > EXPOSED_ABOVE)]


def unmapped_products(data: ReportInput) -> pd.DataFrame:
    """Buyer-facing nodes with no mapped input and no exposure of their own: nothing is
    known about what goes into them, so they are never called clean."""
    table = data.table
    facing = table[table["buyer_facing"] & ~has_mapped_inputs(data)]
    return facing[~(facing[data.mode].fillna(0) > EXPOSED_ABOVE)]


def has_mapped_inputs(data: ReportInput) -> pd.Series:
    """Per node: whether at least one input edge is mapped into it."""
    import numpy as np

    graph = data.analysis.graph
    inputs = np.bincount(graph.dst, minlength=graph.n) > 0
    return pd.Series(inputs, index=data.table.index)


def summary(data: ReportInput) -> dict[str, Any]:
    """Headline numbers: products exposed, sources by sector and province, top sources."""
    exposed = exposed_products(data.table, data.mode)
    sources = data.screening[data.screening["source_score"] > 0]
    reaching = _sources_reaching(data)
    used = sources.loc[sources.index.isin(reaching)]
    return {
        "buyer_facing": int(data.table["buyer_facing"].sum()),
        "exposed": int(len(exposed)),
        "sources": int(len(sources)),
        "by_sector": used["sector"].replace("", "unknown").value_counts().to_dict(),
        "by_province": used["geo_province"].replace("", "unknown").value_counts().to_dict(),
        "by_tier": _by_tier(exposed),
        "top_sources": _top_sources(data, used),
    }


def _by_tier(exposed: pd.DataFrame) -> dict[str, int]:
    """Exposed products by distance (edges) from their nearest source."""
    tiers = exposed["tier"].dropna().astype(int).value_counts().sort_index()
    return {str(tier): int(count) for tier, count in tiers.items()}


def _sources_reaching(data: ReportInput) -> set[str]:
    return set(_products_reached(data))


def _products_reached(data: ReportInput) -> dict[str, int]:
    """Per source on some top path: how many explained products it reaches (read from the
    path table's columns, not path objects)."""
    paths = data.paths
    pairs = pd.DataFrame({"target": paths.table.target, "source": paths.first_nodes()})
    counts = pairs.drop_duplicates()["source"].value_counts(sort=False)
    return dict(zip(paths.facts.ids[counts.index.to_numpy()].tolist(), counts.tolist()))


def _top_sources(data: ReportInput, used: pd.DataFrame, k: int = 10) -> list[dict[str, Any]]:
    counts = _products_reached(data)
    names = data.table["name"]
    rows = [
        {
            "id": node,
            "name": names.get(node, "") or node,
            "province": used.at[node, "geo_province"] if node in used.index else "",
            "sector": used.at[node, "sector"] if node in used.index else "",
            "source_score": float(data.screening.at[node, "source_score"]),
            "products_reached": n,
            "evidence": str(data.screening.at[node, "score_evidence"]),
        }
        for node, n in counts.items()
        if node in data.screening.index
    ]
    rows.sort(key=lambda r: (-r["products_reached"], -r["source_score"], r["id"]))
    return rows[:k]


def product_sections(data: ReportInput) -> list[dict[str, Any]]:
    """One section per exposed product (the REPORT_PRODUCTS most exposed): scores, and each
    top path hop by hop with evidence."""
    sections = []
    exposed = exposed_products(data.table, data.mode).head(REPORT_PRODUCTS)
    for node, row in exposed.iterrows():
        sections.append(
            {
                "id": node,
                "name": row.get("name", "") or node,
                "kind": row["kind"],
                "scores": {m: _num(row.get(m)) for m in ("reach", "share", "path")},
                "tier": _count(row.get("tier")),
                "n_sources": _count(row.get("n_sources")),
                "top_sources": row.get("top_sources", ""),
                "view": data.views.get(node, ""),
                "paths": [_path_record(data, p) for p in data.paths.get(node, [])],
            }
        )
    return sections


def _count(value: Any) -> int | None:
    """A nullable integer column's value (None where missing, never a pandas NA)."""
    return None if pd.isna(value) else int(value)


def _path_record(data: ReportInput, path: Any) -> dict[str, Any]:
    names = data.table["name"]
    return {
        "value": float(path.value),
        "chain": [names.get(n, "") or n for n in path.nodes],
        "source": path.source,
        "source_evidence": path.source_evidence,
        "hops": [
            {
                "from": names.get(h.source, "") or h.source,
                "to": names.get(h.target, "") or h.target,
                "kind": h.kind,
                "share": _num(h.share),
                "confidence": _num(h.confidence),
                "item": h.item or "",
                "evidence": h.evidence or "",
            }
            for h in path.hops
        ],
    }


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def plots(data: ReportInput) -> dict[str, str]:
    """PNG plots as data URIs: exposed nodes by tier distance, and sources by sector."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = data.table
    exposed = table[table[data.mode].fillna(0) > EXPOSED_ABOVE]
    by_tier = exposed["tier"].dropna().astype(int).value_counts().sort_index()
    by_sector = summary(data)["by_sector"]
    images = {}
    for key, series, title, xlabel in (
        ("by_tier", by_tier, "Exposed nodes by distance from the nearest source", "tier"),
        ("by_sector", pd.Series(by_sector), "Sources reaching products, by sector", "sector"),
    ):
        figure, axes = plt.subplots(figsize=(6, 3), dpi=100)
        if len(series):
            axes.bar([str(x) for x in series.index], series.to_numpy(), color="#3b528b")
        axes.set_title(title)
        axes.set_xlabel(xlabel)
        axes.set_ylabel("count")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        images[key] = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return images


def report_context(data: ReportInput) -> dict[str, Any]:
    """Everything both the HTML and the Markdown report show."""
    from graphkit.screen.sanctions import lists_used

    clean = clean_products(data)
    unmapped = unmapped_products(data)
    exposed = exposed_products(data.table, data.mode)
    return {
        "sanctions_lists": lists_used(data.bundle.nodes),
        "bundle": data.bundle.origin,
        "bundle_hash": data.analysis.digest,
        "generated": data.generated,
        "mode": data.mode,
        "mode_meanings": MODE_MEANINGS,
        "caution": CAUTION,
        "summary": summary(data),
        "products": product_sections(data),
        "products_shown": min(len(exposed), REPORT_PRODUCTS),
        "clean": _listed(clean),
        "n_clean": len(clean),
        "unmapped": _listed(unmapped),
        "n_unmapped": len(unmapped),
        "full_tables": FULL_TABLES,
        "map_next": _rounded_records(data.map_next),
        "quality": [_problem_record(p) for p in data.bundle.warnings],
    }


def _listed(products: pd.DataFrame) -> list[dict[str, str]]:
    """The first REPORT_PRODUCTS products as id and name."""
    head = products.head(REPORT_PRODUCTS)
    return [{"id": i, "name": r.get("name", "") or i} for i, r in head.iterrows()]


def _rounded_records(frame: pd.DataFrame | None, rows: int = 20) -> list[dict[str, Any]]:
    """The first rows of a table as records, numbers rounded for reading."""
    if frame is None:
        return []
    return frame.head(rows).round(4).to_dict("records")


def _problem_record(problem: Problem) -> dict[str, Any]:
    return {"where": f"{problem.file} row {problem.row}", "message": problem.message}


def render_report_html(data: ReportInput) -> str:
    """Self-contained HTML report; every string from input data is escaped (autoescape)."""
    context = report_context(data)
    context["plots"] = plots(data)
    return templates().get_template("report.html.j2").render(**context)


def templates():
    """graphkit's Jinja templates, with autoescaping on for every template and string."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("graphkit", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


def render_report_markdown(data: ReportInput) -> str:
    """The same report as Markdown; data strings are escaped so they cannot inject markup."""
    c = report_context(data)
    s = c["summary"]
    lines = [
        "# Forced-labour exposure report",
        "",
        f"Bundle {_code(c['bundle'])} (sha256 {c['bundle_hash'][:16]}…), generated "
        f"{c['generated']}, mode **{c['mode']}**: {c['mode_meanings'][c['mode']]}.",
        "",
        f"> {c['caution']}",
        "",
        "## Summary",
        "",
        f"- {s['exposed']} of {s['buyer_facing']} buyer-facing products and buyers are exposed.",
        f"- {s['sources']} source node(s) flagged by screening or explicit exposure.",
        f"- Sources reaching products by sector: {_md(_pairs(s['by_sector']))}",
        f"- … by province: {_md(_pairs(s['by_province']))}",
        "",
        "| source | province | sector | score | products reached | evidence |",
        "|---|---|---|---|---|---|",
    ]
    for r in s["top_sources"]:
        lines.append(
            f"| {_md(r['name'])} | {_md(r['province'])} | {_md(r['sector'])} | "
            f"{r['source_score']:.3f} | {r['products_reached']} | {_md(r['evidence'])} |"
        )
    lines += [
        "",
        f"Exposed products by tier: {_md(_pairs(s['by_tier']))}. Full tables: "
        + ", ".join(c["full_tables"])
        + ".",
        "",
        "## Exposed products",
        "",
    ]
    if c["products_shown"] < s["exposed"]:
        lines += [f"The {c['products_shown']} most exposed of {s['exposed']} are shown.", ""]
    for p in c["products"]:
        lines += _md_product(p, c["mode"])
    lines += [
        "## Clean products",
        "",
        f"{c['n_clean']} with mapped inputs and no exposed chain.",
        "",
    ]
    lines += [f"- {_md(p['name'])} ({_code(p['id'])})" for p in c["clean"]] or ["- none"]
    lines += ["", "## No mapped inputs", "", f"{c['n_unmapped']} with no mapped input.", ""]
    lines += [f"- {_md(p['name'])} ({_code(p['id'])})" for p in c["unmapped"]] or ["- none"]
    lines += ["", "## Sanctions lists used", ""]
    lines += [f"- {_md(x['list'])}: sha256 {_code(x['sha256'])}" for x in c["sanctions_lists"]]
    lines += [] if c["sanctions_lists"] else ["- none"]
    lines += ["", "## Map next", ""]
    lines += _md_table(c["map_next"]) or ["No priors given: no map-next list."]
    lines += ["", "## Data quality", ""]
    lines += [f"- {_md(q['where'])}: {_md(q['message'])}" for q in c["quality"]] or ["- none"]
    lines += ["", "## Methodology", ""]
    lines += [f"- **{m}**: {text}" for m, text in c["mode_meanings"].items()]
    return "\n".join(lines) + "\n"


def _md_product(product: dict[str, Any], mode: str) -> list[str]:
    score = product["scores"][mode]
    view = f" — [view]({product['view']})" if product["view"] else ""
    lines = [f"### {_md(product['name'])} ({_code(product['id'])}): {score:.3f}{view}", ""]
    for i, path in enumerate(product["paths"], 1):
        chain = " → ".join(_md(n) for n in path["chain"])
        lines.append(f"{i}. **{path['value']:.3f}** {chain}")
        lines.append(f"   - source evidence: {_md(path['source_evidence'])}")
        for hop in path["hops"]:
            share = "" if hop["share"] is None else f", share {hop['share']:.2f}"
            conf = "" if hop["confidence"] is None else f", confidence {hop['confidence']:.2f}"
            lines.append(
                f"   - {_md(hop['from'])} {hop['kind']} {_md(hop['to'])}{share}{conf}: "
                f"{_md(hop['evidence']) or 'no evidence recorded'}"
            )
    return lines + [""]


def _md_table(records: list[dict[str, Any]]) -> list[str]:
    if not records:
        return []
    columns = list(records[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(_md(r[c]) for c in columns) + " |" for r in records]


def _pairs(mapping: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in mapping.items()) or "none"


#: characters Markdown or HTML acts on anywhere in a line (backslash-escaped: a link needs
#: "[", an image "![", HTML and autolinks "<", entities "&", emphasis "*" "_", code "`",
#: strike-through "~", a table cell "|")
MD_ACTIVE = "\\`*_[]<>&|~"
_MD_ESCAPES = str.maketrans({c: "\\" + c for c in MD_ACTIVE})
#: what starts a block (heading, quote, list, setext line) at the start of a value, which
#: may follow "- " or "### " in the report
_BLOCK_START = re.compile(r"^(?:([#>+=-])|(\d+)([.)]))")
#: line breaks in an inline value would start a new block (a heading, a list, a table row)
_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x85\u2028\u2029]+")


def _inline(value: Any) -> str:
    """Text from input data on one line: every run of line breaks becomes one space, and
    no leading or trailing blanks (four would start a code block)."""
    return _LINE_BREAKS.sub(" ", str(value if value is not None else "")).strip()


def _code(value: Any) -> str:
    """Text from input data as an inline code span; a longer fence than any backtick run in
    the text keeps it from closing early (CommonMark shows code spans literally)."""
    text = _inline(value)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md(value: Any) -> str:
    """Escape text from input data for Markdown: on one line, with every character that
    Markdown or HTML can act on backslash-escaped, so that no link, image, heading, list,
    table cell, HTML or emphasis can come from data."""
    text = _inline(value).translate(_MD_ESCAPES)
    return _BLOCK_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)


# --- the products page: every exposed product with its top paths, searchable offline ----------

PRODUCTS_PAGE = "products.html"


def render_products_page(analysis: Analysis, mode: str, views: dict[str, str]) -> str:
    """One self-contained page listing every exposed product with its top paths; the search
    runs in the page (no request; CSP-locked; data as escaped JSON, shown as plain text)."""
    from markupsafe import Markup

    from graphkit import __version__
    from graphkit.render import script_json

    data = products_data(analysis, mode, views)
    return (
        templates()
        .get_template("products.html.j2")
        .render(
            bundle=analysis.bundle.origin,
            bundle_hash=analysis.digest,
            mode=mode,
            k=analysis.k,
            total=len(data["products"]),
            caution=CAUTION,
            version=__version__,
            data_json=Markup(script_json(data)),
        )
    )


def products_data(analysis: Analysis, mode: str, views: dict[str, str]) -> dict[str, list]:
    """The products page's data, each thing once: ``nodes`` [id, name] (every exposed product
    and every node on a top path), ``evidence`` (each distinct source evidence text) and
    ``products`` [rank, node, score, reach, share, path, n_sources, view, paths], each path
    [value, its nodes, its source's evidence] by position in those lists."""
    import numpy as np

    from graphkit.explain import EXPLICIT_EVIDENCE

    table, paths = analysis.table, analysis.paths
    exposed = exposed_products(table, mode)
    graph_ids = paths.facts.ids
    products = analysis.graph.ids.get_indexer(exposed.index)
    used = np.unique(np.concatenate([products, paths.table.nodes]))
    local = np.searchsorted(used, paths.table.nodes).tolist()
    ids = graph_ids[used]
    names = table["name"].reindex(ids).fillna("").astype(str).to_numpy(object)
    texts = pd.Series(paths.sources()).map(paths.evidence).fillna(EXPLICIT_EVIDENCE)
    codes, evidence = pd.factorize(texts.where(texts != "", EXPLICIT_EVIDENCE))
    starts, values, codes = paths.table.starts.tolist(), paths.table.value.tolist(), codes.tolist()

    def path_list(target: str) -> list[list[Any]]:
        first, stop = paths.rows_of(target)
        return [[values[i], local[starts[i] : starts[i + 1]], codes[i]] for i in range(first, stop)]

    scores = {m: [_num(x) for x in exposed[m]] if m in exposed else [None] * len(exposed)
              for m in (mode, "reach", "share", "path")}  # fmt: skip
    counts = [_count(x) for x in exposed["n_sources"]]
    rows = [
        [rank, int(at), scores[mode][i], scores["reach"][i], scores["share"][i],
         scores["path"][i], counts[i], views.get(node, ""), path_list(node)]
        for i, (rank, node, at) in enumerate(
            zip(range(1, len(exposed) + 1), exposed.index, np.searchsorted(used, products))
        )
    ]  # fmt: skip
    return {
        "nodes": [[i, n if n and n != i else ""] for i, n in zip(ids.tolist(), names.tolist())],
        "evidence": list(evidence),
        "products": rows,
    }


def write_products_page(analysis: Analysis, mode: str, views: dict[str, str], path) -> None:
    """Write the products page (into a staged output folder)."""
    from pathlib import Path

    Path(path).write_text(render_products_page(analysis, mode, views), encoding="utf-8")
