"""The one reader of the tables shipped in ``graphkit/data/`` (see graphkit/data/SOURCES.md).

Callers cache what they build from these tables; this module only finds and parses files.
"""

from __future__ import annotations

import csv
from importlib.resources import files
from typing import TYPE_CHECKING

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


def data_file(*parts: str) -> Traversable:
    """A file (or folder) of graphkit/data/, e.g. ``data_file("generator", "names.csv")``."""
    return files("graphkit").joinpath("data", *parts)


def read_text(*parts: str) -> str:
    return data_file(*parts).read_text(encoding="utf-8")


def read_toml(*parts: str) -> dict:
    return tomllib.loads(read_text(*parts))


def read_csv(*parts: str) -> list[dict[str, str]]:
    """A table's rows as dicts keyed by its header."""
    with data_file(*parts).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_rows(*parts: str) -> list[list[str]]:
    """A large table's rows without its header, as plain lists (faster than dicts)."""
    with data_file(*parts).open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]
