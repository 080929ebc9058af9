"""summary.html and summary.md: the product, its scores and chains, the lists checked, what is
not mapped, the cautions and the clearance plan, in words an auditor reads."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from graphkit.graph.rules import MODES
from graphkit.report import MODE_MEANINGS, _code, _md, _path_record, templates

if TYPE_CHECKING:
    from pathlib import Path

    from graphkit.evidence.clearance import Plan
    from graphkit.evidence.flow import FlowLayout
    from graphkit.evidence.pack import PackInput
    from graphkit.evidence.upstream import Upstream

CAUTIONS = (
    "A lead, not a finding: a score says that a mapped chain of goods or services connects "
    "this product to a place and sector where North Korean forced labour has been reported. It "
    "says nothing about any person and is a reason to look closer, not a conclusion.",
    "Korean names or language are never evidence: about two million Korean Chinese "
    "(Chaoxianzu), Chinese citizens, live mostly in Jilin. graphkit flags places and sectors, "
    "never people.",
    "Expert guidance: suspected cases need expert guidance (forced-labour and sanctions "
    "specialists, legal counsel) before anyone acts on them.",
    "The workers' safety first: workers can be harmed if a case is exposed carelessly; any "
    "engagement with suppliers must put their safety first.",
)
METHOD = (
    "Screening gives each party a source score: the confidence that its address lies in "
    "Liaoning, Jilin or North Korea times a factor for its sector (1 for apparel, electronics, "
    "seafood and IT services), or an analyst's explicit exposure, or a sanctions-list match. "
    "Propagation carries the scores along the flow of goods. A maker of a part whose bill of "
    "materials is listed passes on only its own labour; the listed parts carry the rest. "
    "Depth N means N links on the longest chain from a party or part to the product. The "
    "clearance plan is a minimum cut: the cheapest set of links whose removal leaves no chain "
    "from the sources to the product (each link costs 1 + its share of the receiver's inputs + "
    "the fraction of buyer-facing products it feeds), checked by re-running the engine "
    "with each cut link's supplier replaced by a clean stand-in (the part stays listed)."
)
FILES = (
    ("steps.csv", "every link upstream, numbered from raw inputs to the product, with "
     "addresses, screening evidence, shares, confidence and documents; unmapped remainders"),
    ("flow.svg, flow.png", "the merchandise flow chart"),
    ("clearance.csv", "the clearance plan and its what-if scores in every mode"),
    ("bundle/", "the upstream subgraph as a bundle (nodes.csv, edges.csv)"),
    ("input/", "copies of the input files"),
    ("run.json", "parameters, inputs and their hashes, graphkit version"),
    ("MANIFEST.sha256", "SHA-256 of every file; check with sha256sum -c MANIFEST.sha256"),
)  # fmt: skip


def summary_context(data: PackInput, upstream: Upstream, plan: Plan, layout: FlowLayout) -> dict:
    """Everything both summaries show."""
    from graphkit import __version__

    graph = upstream.graph
    inputs = len(upstream.edges)
    suppliers = int(graph.is_supplier[upstream.nodes].sum())
    return {
        "product": {"id": data.product, "name": data.name_of(data.product)},
        "bundle": data.bundle.origin,
        "bundle_hash": data.bundle.digest(),
        "generated": data.generated,
        "version": __version__,
        "mode": data.mode,
        "headline": _headline(data, plan, inputs),
        "scores": _scores(plan.before),
        "upstream": {
            "parties": suppliers,
            "parts": len(upstream.nodes) - suppliers,
            "links": inputs,
            "exposed_links": int(upstream.exposed_edges.sum()),
            "depth": max(upstream.depth.values(), default=0),
        },
        "flow_note": layout.note,
        "paths": [_path_record(data, path) for path in data.paths],  # data has .table
        "sources": _sources(data, upstream),
        "lists": _lists(data, upstream),
        "unmapped": _unmapped(data, upstream),
        "map_next": _map_next(data, upstream),
        "map_next_basis": (
            "priced by the priors table"
            if data.priors is not None
            else "no priors table given: ranked as if every unmapped input were exposed"
        ),
        "plan": plan,
        "cautions": CAUTIONS,
        "method": METHOD,
        "files": FILES,
    }


def _headline(data: PackInput, plan: Plan, inputs: int) -> str:
    if inputs == 0:
        return (
            "This product has no mapped inputs: the bundle records no supplier, part or maker "
            "feeding it, so nothing upstream can be traced (100 % of its value is unmapped)."
        )
    reach = plan.before.get("reach", 0.0)
    if reach <= 1e-12:
        return "No exposed chain: no mapped chain from any source reaches this product."
    sources = len({path.source for path in data.paths})
    return (
        f"Exposed: reach {reach:.3f}. The top {len(data.paths)} chain(s) below run from "
        f"{sources} source(s) to this product."
    )


def _scores(before: dict[str, float]) -> list[dict[str, Any]]:
    meanings = MODE_MEANINGS | {
        "reach_expected": "reach including the unmapped tiers, priced by the priors table",
        "share_expected": "share including the unmapped tiers, priced by the priors table",
    }
    return [{"mode": m, "score": v, "meaning": meanings[m]} for m, v in before.items()]


def _sources(data: PackInput, upstream: Upstream) -> list[dict[str, Any]]:
    nodes = data.bundle.nodes.set_index("id")
    found = []
    for node in upstream.nodes.tolist():
        if data.source_array[node] > 0:
            node_id = str(upstream.graph.ids[node])
            record = nodes.loc[node_id]
            found.append(
                {
                    "id": node_id,
                    "name": data.name_of(node_id),
                    "address": record["address"],
                    "country": record["country"],
                    "score": float(data.source_array[node]),
                    "depth": upstream.depth[node],
                    "evidence": data.evidence.get(node_id, ""),
                }
            )
    return sorted(found, key=lambda r: (-r["score"], r["id"]))


def _lists(data: PackInput, upstream: Upstream) -> list[dict[str, Any]]:
    ids = set(upstream.ids(upstream.nodes))
    return [
        {
            "name": check.name,
            "sha256": check.sha256,
            "date": check.date,
            "entries": check.entries,
            "matches": check.matches[check.matches["node"].isin(ids)].to_dict("records"),
        }
        for check in data.lists
    ]


def _unmapped(data: PackInput, upstream: Upstream) -> list[dict[str, Any]]:
    from graphkit.evidence.steps import unmapped_text
    from graphkit.evidence.upstream import unmapped_rows

    rows = unmapped_rows(upstream, data.table["name"])
    return [r | {"text": unmapped_text(r["unmapped"])} for r in rows]


def _map_next(data: PackInput, upstream: Upstream, rows: int = 10) -> list[dict[str, Any]]:
    """Where mapping one more tier would change this product's answer most."""
    import pandas as pd

    from graphkit.propagation.priors import map_next

    if not len(upstream.edges):
        return []
    priors = data.priors
    if priors is None:
        priors = pd.DataFrame({"country": ["*"], "sector": ["*"], "expected_exposure": [1.0]})
    ranked = map_next(data.bundle, data.exposure, priors, target=data.product)
    ranked = ranked[ranked["supplier"].isin(upstream.ids(upstream.nodes))]
    ranked = ranked[(ranked["impact_share"] > 0) | (ranked["impact_reach"] > 0)]
    columns = ["supplier", "name", "unmapped", "prior", "impact_share", "impact_reach"]
    return ranked.head(rows)[columns].round(4).to_dict("records")


def render_summary_html(context: dict, flow_svg: Path) -> str:
    """summary.html: self-contained, offline (CSP: nothing loads), every data string escaped."""
    image = "data:image/svg+xml;base64," + base64.b64encode(flow_svg.read_bytes()).decode()
    return (
        templates()
        .get_template("evidence.html.j2")
        .render(**context, flow_image=image, modes=MODES)
    )


def render_summary_markdown(context: dict) -> str:
    """summary.md: the same content; data strings escaped so they cannot inject markup."""
    sections = (_md_head, _md_chains, _md_sources, _md_lists, _md_unmapped, _md_plan, _md_tail)
    return "\n".join(line for section in sections for line in section(context)) + "\n"


def _md_head(c: dict) -> list[str]:
    up = c["upstream"]
    return [
        f"# Evidence pack: {_md(c['product']['name'])} ({_code(c['product']['id'])})",
        "",
        f"Bundle {_code(c['bundle'])} (sha256 {c['bundle_hash']}), generated {c['generated']} by "
        f"graphkit {c['version']}, mode **{c['mode']}**.",
        "",
        f"**{_md(c['headline'])}**",
        "",
        "## Read this first",
        "",
        *[f"- {text}" for text in c["cautions"]],
        "",
        "## Scores",
        "",
        "| mode | score | what it means |",
        "|---|---|---|",
        *[f"| {s['mode']} | {s['score']:.3f} | {s['meaning']} |" for s in c["scores"]],
        "",
        "## Upstream",
        "",
        f"{up['parties']} parties and {up['parts']} parts, {up['depth']} link(s) deep, "
        f"{up['links']} links, of which {up['exposed_links']} lie on exposed chains. The flow "
        "chart is flow.svg (flow.png); every link is in steps.csv.",
        *(["", _md(c["flow_note"])] if c["flow_note"] else []),
    ]


def _md_chains(c: dict) -> list[str]:
    lines = ["", "## Top chains", ""]
    for i, path in enumerate(c["paths"], 1):
        lines.append(f"{i}. **{path['value']:.3f}** {' → '.join(_md(n) for n in path['chain'])}")
        lines.append(f"   - source evidence: {_md(path['source_evidence'])}")
        lines += [
            f"   - {_md(h['from'])} {h['kind']} {_md(h['to'])}, share {h['share']:.2f}, "
            f"confidence {h['confidence']:.2f}, {_md(h['item'])}: "
            f"{_md(h['evidence']) or 'no document recorded'}"
            for h in path["hops"]
        ]
    return lines + ([] if c["paths"] else ["No exposed chain."])


def _md_sources(c: dict) -> list[str]:
    rows = [
        f"- {_md(s['name'])} ({_code(s['id'])}), {_md(s['address'])}, {_md(s['country'])}: "
        f"score {s['score']:.3f}, depth {s['depth']}; {_md(s['evidence'])}"
        for s in c["sources"]
    ]
    return ["", "## Sources upstream", "", *(rows or ["- none"])]


def _md_lists(c: dict) -> list[str]:
    lines = ["", "## Sanctions lists checked", ""]
    for check in c["lists"]:
        lines.append(
            f"- {_md(check['name'])}: sha256 {check['sha256']}, {_md(check['date'])}, "
            f"{check['entries']} entries; {len(check['matches'])} match(es) upstream"
        )
        lines += [
            f"  - {'strong' if m['strong'] else 'weak'}: {_md(m['node_name'])} "
            f"({_code(m['node'])}) ~ {_md(m['matched_name'])} (entry {_md(m['list_entity'])}, "
            f"program {_md(m['program'])}, "
            f"score {m['score']:.0f})"
            for m in check["matches"]
        ]
    return lines + ([] if c["lists"] else ["No sanctions list was checked (see --sanctions)."])


def _md_unmapped(c: dict) -> list[str]:
    lines = ["", "## Not mapped", ""]
    lines += [
        f"- {_md(u['name'] or u['id'])} ({_code(u['id'])}), depth {u['depth']}: {u['text']}"
        for u in c["unmapped"]
    ] or ["- every input is mapped"]
    lines += ["", f"### Map next ({_md(c['map_next_basis'])})", ""]
    return lines + [
        f"- {_md(r['name'] or r['supplier'])} ({_code(r['supplier'])}): unmapped "
        f"{r['unmapped']:.2f}, impact on share {r['impact_share']:.3f}, on reach "
        f"{r['impact_reach']:.3f}"
        for r in c["map_next"]
    ] or ["- nothing to map next"]


def _md_plan(c: dict) -> list[str]:
    plan = c["plan"]
    lines = ["", "## Clearance plan", "", _md(plan.message), ""]
    if not plan.links:
        return lines
    lines += [
        "| # | supplier | receiver | link | item | share | documents | cuts off |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {i} | {_md(cut['supplier_name'])} | {_md(cut['receiver_name'])} | "
        f"{cut['link_kind']} | {_md(cut['item'])} | {cut['share']:.2f} | "
        f"{_md(cut['documents'])} | {_md(cut['sources_cut_off'])} |"
        for i, cut in enumerate(plan.links, 1)
    ]
    lines += ["", "| mode | before | after the plan (what-if) |", "|---|---|---|"]
    return lines + [
        f"| {m} | {v:.3f} | {plan.after.get(m, float('nan')):.3f} |" for m, v in plan.before.items()
    ]


def _md_tail(c: dict) -> list[str]:
    files = [f"- `{name}`: {what}" for name, what in c["files"]]
    return ["", "## Method", "", c["method"], "", "## Files in this pack", "", *files]
