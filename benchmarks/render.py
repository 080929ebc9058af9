"""Auditor views: build + render time and file size for 100/500/2,000-node views.

Compares with the naive approach in the same run:
- pyvis's own ``generate_html`` (``cdn_resources="in_line"``), which still links Bootstrap
  from a CDN and so is not offline;
- with ``--browser``: time until the view is drawn in headless Chromium with our
  Python-computed layout (physics off) versus vis-network's physics layout (what pyvis does
  by default), measured until its stabilisation finishes.

Run:  PYTHONPATH=. python benchmarks/render.py [--browser]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from graphkit import model, render
from graphkit.explain import ExposurePath, Hop

SIZES = (100, 500, 2_000)
TIERS = 8
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
BROWSER_LIMIT_S = 180.0  # stop waiting for the physics layout after this long


def synthetic(n: int, seed: int = 7):
    """A layered supply graph of n nodes and enough random source-to-product paths to cover it."""
    rng = np.random.default_rng(seed)
    per_tier = math.ceil(n / TIERS)
    ids = [[f"t{t}_{i}" for i in range(per_tier)] for t in range(TIERS)]
    nodes = pd.DataFrame(
        {
            "id": [i for tier in ids for i in tier],
            "kind": [
                model.SUPPLIER if t < TIERS - 1 else model.COMPONENT
                for t in range(TIERS)
                for _ in range(per_tier)
            ],
        }
    )
    for column in model.NODE_COLUMNS[2:-1]:
        nodes[column] = "Liaoning Example Works Co. Ltd, Dalian" if column == "name" else ""
    nodes["exposure"] = math.nan
    paths, seen, hops = [], set(), {}
    while len(seen) < n:
        chain = [ids[t][rng.integers(per_tier)] for t in range(TIERS)]
        for a, b in zip(chain, chain[1:], strict=False):
            kind = model.MAKES if b.startswith(f"t{TIERS - 1}_") else model.SUPPLIES
            share, confidence = rng.uniform(0.05, 1), rng.uniform(0.5, 1)
            hops.setdefault((a, b), Hop(a, b, kind, share, confidence, "", "declared by supplier"))
        chain_hops = [hops[p] for p in zip(chain, chain[1:], strict=False)]
        paths.append(ExposurePath(chain[0], chain[-1], rng.uniform(), chain, chain_hops))
        seen.update(chain)
    edges = pd.DataFrame([vars(h) for h in hops.values()], columns=model.EDGE_COLUMNS)
    bundle = model.Bundle(nodes[nodes["id"].isin(seen)].reset_index(drop=True), edges)
    scores = pd.Series(rng.uniform(size=len(bundle.nodes)), index=bundle.nodes["id"])
    return bundle, scores, paths


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def pyvis_naive_html(spec: render.ViewSpec) -> str:
    """What pyvis writes itself for the same network (physics on, its own template)."""
    net = render._network(spec)
    net.options["physics"] = {"enabled": True}
    net.cdn_resources = "in_line"
    return net.generate_html()


def browser_times(html_ours: str, folder: Path) -> tuple[float, float]:
    """Seconds until drawn: our layout (physics off) and vis physics layout (stabilised)."""
    from playwright.sync_api import sync_playwright

    physics = html_ours.replace('"physics":{"enabled":false}', '"physics":{"enabled":true}', 1)
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, html, done in (
            ("ours", html_ours, "() => window.graphkitNetwork !== undefined"),
            ("physics", physics, "() => window.graphkitNetwork.physics.stabilized === true"),
        ):
            path = folder / f"{name}.html"
            path.write_text(html, encoding="utf-8")
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(path.as_uri())
            while not page.evaluate(done):  # polls from outside: the page's CSP forbids eval
                if time.perf_counter() - start > BROWSER_LIMIT_S:
                    break
                time.sleep(0.02)
            results.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", action="store_true", help="also time drawing in Chromium")
    args = parser.parse_args()
    render.render_html(render.view_from_paths(*synthetic(10)))  # warm imports and caches
    header = "| nodes | edges | build view s | render s | file KB | pyvis render s | pyvis KB |"
    if args.browser:
        header += " drawn s (ours) | drawn s (physics) | ratio |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    with tempfile.TemporaryDirectory() as folder:
        for n in SIZES:
            bundle, scores, paths = synthetic(n)
            spec, build = timed(render.view_from_paths, bundle, scores, paths, cap=n)
            html, seconds = timed(render.render_html, spec)
            naive, naive_seconds = timed(pyvis_naive_html, spec)
            row = (
                f"| {len(spec.nodes)} | {len(spec.edges)} | {build:.3f} | {seconds:.3f} "
                f"| {len(html.encode()) / 1024:.0f} | {naive_seconds:.3f} "
                f"| {len(naive.encode()) / 1024:.0f} |"
            )
            if args.browser:
                ours, physics = browser_times(html, Path(folder))
                over = ">" if physics > BROWSER_LIMIT_S else ""
                row += f" {ours:.2f} | {over}{physics:.1f} | {over}{physics / ours:.1f}x |"
            print(row)


if __name__ == "__main__":
    main()
