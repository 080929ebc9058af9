"""The Cypher statements graphkit runs, read from the .cypher files of the `cypher/` folder.

The folder sits at the top of the repository; the build copies it into the installed
package as ``graphkit/cypher`` (see setup.py). From a source checkout it is read in place.
Analyst queries live in ``cypher/queries/`` and declare their parameters in the header:

    //   $limit (int, default 20): how many rows

which is what ``graphkit neo4j query`` uses to convert ``--param k=v`` values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from graphkit.errors import GraphError, UnknownName

QUERIES = "queries"
SUFFIX = ".cypher"
#: the largest integer Bolt can carry (a signed 64-bit integer)
MAX_INT = 2**63 - 1
_PARAM_LINE = re.compile(
    r"^//\s+\$(?P<name>\w+)\s+\((?P<type>str|int|float|list)(?:,\s*default\s+(?P<default>.*?))?\):"
)


@cache
def cypher_dir() -> Traversable:
    """The folder holding the .cypher files: installed package data, else the checkout's."""
    installed = resources.files("graphkit") / "cypher"
    if installed.is_dir():
        return installed
    checkout = Path(__file__).resolve().parents[2] / "cypher"
    if checkout.is_dir():
        return checkout
    raise GraphError("graphkit's Cypher files are missing: reinstall graphkit")


def text(name: str) -> str:
    """The full text of cypher/<name>.cypher (name may include a subfolder: queries/x)."""
    path = cypher_dir().joinpath(*f"{name}{SUFFIX}".split("/"))
    if not path.is_file():
        raise GraphError(f"no Cypher file {name}{SUFFIX}")
    return path.read_text(encoding="utf-8")


def statements(name: str) -> list[str]:
    """The statements of cypher/<name>.cypher, comments dropped, split at ';' line ends."""
    body = "\n".join(line for line in text(name).splitlines() if not line.lstrip().startswith("//"))
    return [s.strip() for s in re.split(r";\s*$", body, flags=re.M) if s.strip()]


def statement(name: str) -> str:
    """The one statement of cypher/<name>.cypher."""
    (single,) = statements(name)
    return single


@dataclass(frozen=True)
class Param:
    """A parameter an analyst query declares in its header."""

    name: str
    type: str
    default: str | None

    def convert(self, raw: str) -> Any:
        """The value of a command-line string for this parameter."""
        if self.type == "list":
            return [item.strip() for item in raw.split(",") if item.strip()]
        if self.type == "str":
            return raw.strip('"') if raw in ('""', "''") else raw
        try:
            value = int(raw) if self.type == "int" else float(raw)
        except ValueError:
            raise UnknownName(f"parameter {self.name} must be {self.type}, got {raw!r}") from None
        if self.type == "int" and not 0 <= value <= MAX_INT:
            raise UnknownName(f"parameter {self.name} must be from 0 to {MAX_INT}, got {raw}")
        if self.type == "float" and not math.isfinite(value):
            raise UnknownName(f"parameter {self.name} must be a finite number, got {raw!r}")
        return value


def query_names() -> list[str]:
    """The names of the analyst queries in cypher/queries/."""
    folder = cypher_dir() / QUERIES
    return sorted(p.name[: -len(SUFFIX)] for p in folder.iterdir() if p.name.endswith(SUFFIX))


def query_params(name: str) -> list[Param]:
    """The parameters an analyst query declares in its header comment."""
    found = (_PARAM_LINE.match(line) for line in text(f"{QUERIES}/{name}").splitlines())
    return [Param(m["name"], m["type"], m["default"]) for m in found if m]


def query_purpose(name: str) -> str:
    """What an analyst query answers: its header's first line, up to the colon."""
    first_line = text(f"{QUERIES}/{name}").splitlines()[0]
    return first_line.lstrip("/ ").split(":")[0].strip()


def bind_query(name: str, given: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The statement and converted parameters of analyst query `name`; defaults filled in.

    An unknown query or parameter, a missing one or a bad value is UnknownName (exit 2).
    """
    if name not in query_names():
        raise UnknownName(f"unknown query {name!r}; available: {', '.join(query_names())}")
    params = {p.name: p for p in query_params(name)}
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise UnknownName(
            f"query {name} has no parameter {', '.join(unknown)}; it takes {', '.join(params)}"
        )
    missing = [p for p in params.values() if p.name not in given and p.default is None]
    if missing:
        raise UnknownName(f"query {name} needs --param {missing[0].name}=...  ({missing[0].type})")
    values = {p.name: p.convert(given.get(p.name, p.default)) for p in params.values()}
    return statement(f"{QUERIES}/{name}"), values
