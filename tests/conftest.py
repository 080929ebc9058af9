"""Shared fixtures: one real Bolt server per test session."""

from __future__ import annotations

import pytest
from neo4j_server import ArcadeBoltServer, ServerStartError, configured_env


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
