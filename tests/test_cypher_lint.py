"""Every statement in cypher/ checked by Neo4j's own Cypher linter, and against graphkit's schema.

The test Bolt server (ArcadeDB) accepts Cypher that Neo4j 5 rejects (`exists(n.p)`, `id()`,
Enterprise-only constraints), so the statements are also linted by Neo4j's parser and
semantic analysis: npm `@neo4j-cypher/language-support` at the exact version pinned in
tests/cypher_lint/package-lock.json (installed by tests/install_deps.sh), in Cypher 5 mode.
Any error or warning (deprecations, unknown labels or types, undeclared parameters) fails.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from graphkit import model
from graphkit.store import cypher
from graphkit.store.rows import LABELS, RESULT_PROPERTIES

REPO = Path(__file__).resolve().parents[1]
LINT_DIR = REPO / "tests" / "cypher_lint"
PACKAGE = LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support"
#: statements Neo4j 5 rejects or deprecates, which ArcadeDB runs: the linter must report them
KNOWN_BAD = {
    "probe/exists": ("MATCH (n:Supplier) WHERE exists(n.name) RETURN n.id", "error"),
    "probe/id": ("MATCH (n:Supplier) RETURN id(n) AS internal", "warning"),
    "probe/label": ("MATCH (n:Suplier) RETURN n.id", "warning"),
    "probe/parameter": ("MATCH (n:Supplier {id: $undeclared}) RETURN n.id", "error"),
}
#: keys of the maps the statements use that are not property keys: the $rows graphkit
#: sends, and the chains exposure_paths builds
MAP_KEYS = {"props", "source", "target", "n", "w", "ids", "done"}


def cypher_files() -> list[str]:
    root = REPO / "cypher"
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.cypher"))


def declared_parameters(name: str) -> list[str]:
    """The $parameters a file's header declares."""
    return re.findall(r"(?m)^//\s+\$(\w+)\s", cypher.text(name))


def graphkit_schema() -> dict[str, list[str]]:
    """Labels, relationship types and property keys graphkit's graph has."""
    keys = {*model.NODE_COLUMNS, *model.EDGE_COLUMNS, *RESULT_PROPERTIES.values()} - {"kind"}
    keys -= {"source", "target"}
    return {
        "labels": sorted(LABELS.values()),
        "relationshipTypes": list(model.EDGE_KINDS),
        "propertyKeys": sorted(keys),
    }


def every_statement() -> list[dict]:
    return [
        {"name": f"{name}#{i}", "text": text, "parameters": declared_parameters(name)}
        for name in cypher_files()
        for i, text in enumerate(cypher.statements(name), start=1)
    ]


@pytest.fixture(scope="module")
def diagnostics() -> dict[str, list[dict]]:
    """Everything the linter reports, per statement name (one node run for all)."""
    node = shutil.which("node")
    if node is None or not PACKAGE.is_dir():
        pytest.fail(
            "Neo4j's Cypher linter is not installed: run tests/install_deps.sh "
            "(needs node and npm; it runs `npm ci` in tests/cypher_lint)",
            pytrace=False,
        )
    probes = [{"name": n, "text": t, "parameters": []} for n, (t, _) in KNOWN_BAD.items()]
    document = {"schema": graphkit_schema(), "statements": every_statement() + probes}
    done = subprocess.run(
        [node, "lint.js"],
        cwd=LINT_DIR,
        input=json.dumps(document),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, list[dict]] = {}
    for item in json.loads(done.stdout):
        found.setdefault(item["name"], []).append(item)
    return found


def test_the_pinned_linter_is_the_installed_one():
    lock = json.loads((LINT_DIR / "package-lock.json").read_text(encoding="utf-8"))
    pinned = json.loads((LINT_DIR / "package.json").read_text(encoding="utf-8"))
    wanted = pinned["dependencies"]["@neo4j-cypher/language-support"]
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[\w.]+)?", wanted), "pin an exact version"
    assert lock["packages"]["node_modules/@neo4j-cypher/language-support"]["version"] == wanted


def test_the_linter_reports_every_known_bad_statement(diagnostics):
    for name, (_, severity) in KNOWN_BAD.items():
        assert [d for d in diagnostics.get(name, []) if d["severity"] == severity], name


def test_every_statement_passes_neo4j_s_linter(diagnostics):
    statements = every_statement()
    assert len(statements) >= 30
    reported = {s["name"]: diagnostics[s["name"]] for s in statements if s["name"] in diagnostics}
    assert reported == {}


def test_the_schema_uses_only_community_ddl():
    allowed = re.compile(
        r"CREATE (CONSTRAINT \w+ IF NOT EXISTS FOR \(n:\w+\) REQUIRE n\.\w+ IS UNIQUE"
        r"|INDEX \w+ IF NOT EXISTS FOR \(n:\w+\) ON \(n\.\w+\))"
    )
    for statement in cypher.statements("schema"):
        assert not re.search(r"NODE KEY|RELATIONSHIP KEY|IS NOT NULL|IS\s*(::|TYPED)", statement)
        assert allowed.fullmatch(statement), statement


def test_no_statement_scans_untyped_relationships():
    for name in cypher_files():
        text = "\n".join(cypher.statements(name))
        assert not re.search(r"-\[\w*(\*[\d.]*)?\]-", text), f"{name}: untyped relationship"
        assert "type(" not in text, f"{name}: filters relationships by type()"


MATCH_CLAUSE = re.compile(
    r"\bMATCH\b(?P<pattern>.*?)(?=\b(?:WHERE|RETURN|WITH|UNWIND|SET|DELETE|DETACH|MERGE|"
    r"OPTIONAL|MATCH|CALL|ORDER|UNION)\b|$)",
    re.S,
)


def unanchored_matches(statement: str) -> list[str]:
    """MATCH patterns with no labelled node and no node bound earlier: a scan of every node."""
    found = []
    for clause in MATCH_CLAUSE.finditer(statement):
        nodes = re.findall(r"\((\w*)(:[\w|]+)?", clause["pattern"])
        before = statement[: clause.start()]
        anchored = any(label or (var and re.search(rf"\b{var}\b", before)) for var, label in nodes)
        if not anchored:
            found.append(clause.group(0).strip())
    return found


def test_no_statement_scans_unlabelled_nodes():
    for name in cypher_files():
        for statement in cypher.statements(name):
            assert unanchored_matches(statement) == [], f"{name}: scans every node"


def test_the_unlabelled_scan_check_finds_one():
    unanchored = "MATCH (n) WHERE n:Supplier OR n:Component OPTIONAL MATCH (i)-[r:SUPPLIES]->(n)"
    assert unanchored_matches(unanchored) == ["MATCH (n)"]
    anchored = "MATCH (p:Component {id: $id}) WITH p AS x OPTIONAL MATCH (m)-[r:PART_OF]->(x)"
    assert unanchored_matches(anchored) == []


def test_relationship_patterns_follow_the_four_endpoint_combinations():
    labels = {label: kind for kind, label in LABELS.items()}
    pattern = re.compile(r"\(\w*:(\w+)[^)]*\)-\[\w*:(\w+)\]->\(\w*:(\w+)")
    seen = set()
    for name in cypher_files():
        for start, kind, end in pattern.findall("\n".join(cypher.statements(name))):
            assert model.EDGE_ENDPOINTS[kind] == (labels[start], labels[end]), (name, kind)
            seen.add(kind)
    assert seen == set(model.EDGE_KINDS)


def test_every_property_key_is_graphkit_s():
    known = set(graphkit_schema()["propertyKeys"])
    for name in cypher_files():
        text = "\n".join(cypher.statements(name))
        for owner, key in re.findall(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b", text):
            if owner == "dbms":
                continue
            assert key in known | MAP_KEYS, f"{name}: {owner}.{key}"
