"""Readers and writers for supply-chain bundles (CSV folder, Excel, JSON, GraphML)."""

from __future__ import annotations

from pathlib import Path

from graphkit.io.tables import read_tables
from graphkit.io.validate import build_bundle
from graphkit.io.writers import FORMATS, write_bundle
from graphkit.model import Bundle

__all__ = ["FORMATS", "read_bundle", "write_bundle"]


def read_bundle(path: str | Path) -> Bundle:
    """Read and validate the bundle at ``path``; raise InvalidInput listing every problem."""
    nodes, edges = read_tables(path)
    return build_bundle(nodes, edges, origin=str(path))
