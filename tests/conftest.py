"""Shared fixtures: one real Bolt server and one real headless Chromium per test session."""

from __future__ import annotations

import os

import pytest
from neo4j_server import ArcadeBoltServer, ServerStartError, configured_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (one per session: two Playwright
    sessions in one process clash)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def neo4j_env() -> dict[str, str]:
    """GRAPHKIT_NEO4J_* of a running server: the configured one, else a fresh ArcadeDB."""
    configured = configured_env()
    if configured:
        yield configured
        return
    try:
        server = ArcadeBoltServer().start()
    except ServerStartError as exc:
        pytest.fail(f"cannot start the ArcadeDB Bolt test server: {exc}", pytrace=False)
    try:
        yield server.env
    finally:
        server.stop()
