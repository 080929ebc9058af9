"""graphkit's Neo4j backend: load a bundle, export it back, propagate and write results.

Connection settings come from the environment only (GRAPHKIT_NEO4J_URI, _USER, _PASSWORD,
_DATABASE); the password is never printed, logged or put into an error message. Every
statement is read from the .cypher files in `cypher/`; labels and relationship types are
fixed per file (one file per node kind and edge kind), values travel as parameters.

Loading is idempotent: constraints first, nodes MERGEd by id, then relationships MATCHing
both ends by the constrained id, in UNWIND batches inside retried transaction functions.
After a changed bundle is loaded, what it no longer has (nodes, relationships, property
keys) is deleted, so load -> export gives back the bundle.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from graphkit import model
from graphkit.errors import BackendError
from graphkit.model import Bundle
from graphkit.store import cypher

if TYPE_CHECKING:
    import neo4j
    import pandas as pd

ENV_PREFIX = "GRAPHKIT_NEO4J_"
DEFAULT_DATABASE = "neo4j"
BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
CONNECTION_TIMEOUT = 10.0
LABELS = {model.SUPPLIER: "Supplier", model.COMPONENT: "Component"}
#: propagation table column -> node property written back
RESULT_PROPERTIES = {
    "reach": "exposure_reach",
    "share": "exposure_share",
    "path": "exposure_path",
    "tier": "exposure_tier",
    "n_sources": "exposure_n_sources",
    "top_sources": "exposure_sources",
}
Progress = Callable[[int], Any]

# The driver logs retries and routing failures as warnings; without this, Python's
# last-resort handler prints them next to our one-line error. Applications that configure
# logging still receive them.
logging.getLogger("neo4j").addHandler(logging.NullHandler())


@dataclass(frozen=True)
class Settings:
    """Where the server is and who we are; built from the environment."""

    uri: str
    user: str
    password: str = field(repr=False)
    database: str

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        uri = env.get(f"{ENV_PREFIX}URI", "").strip()
        if not uri:
            raise BackendError(f"{ENV_PREFIX}URI is not set (e.g. bolt://localhost:7687)")
        _check_uri(uri)
        return cls(
            uri=uri,
            user=env.get(f"{ENV_PREFIX}USER", "neo4j"),
            password=env.get(f"{ENV_PREFIX}PASSWORD", ""),
            database=env.get(f"{ENV_PREFIX}DATABASE", "") or DEFAULT_DATABASE,
        )

    @property
    def server(self) -> str:
        """The URI without any user:password@ part, safe to print."""
        parts = urlsplit(self.uri)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}"


def _check_uri(uri: str) -> None:
    """Refuse a URI graphkit cannot use, saying why without echoing it (it may hold secrets)."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise BackendError(f"{ENV_PREFIX}URI is not a valid URI") from None
    if parts.scheme not in BOLT_SCHEMES:
        raise BackendError(
            f"{ENV_PREFIX}URI must start with one of {', '.join(s + '://' for s in BOLT_SCHEMES)}"
        )
    if parts.username or parts.password:
        raise BackendError(
            f"put the user and password in {ENV_PREFIX}USER and {ENV_PREFIX}PASSWORD, "
            f"not in {ENV_PREFIX}URI"
        )


@dataclass
class LoadSummary:
    """What a load wrote and removed."""

    nodes: int
    relationships: int
    deleted_nodes: int
    deleted_relationships: int


class Neo4jStore:
    """A connection to one database of a Neo4j (or Bolt-compatible) server."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.driver = self._open_driver()
        try:
            with self._errors():
                self.driver.verify_connectivity()
            self._read("server_info")  # fails here if the database does not exist
        except BaseException:
            self.driver.close()
            raise

    def _open_driver(self) -> neo4j.Driver:
        import neo4j

        try:
            return neo4j.GraphDatabase.driver(
                self.settings.uri,
                auth=(self.settings.user, self.settings.password),
                connection_timeout=CONNECTION_TIMEOUT,
            )
        except (neo4j.exceptions.ConfigurationError, ValueError) as exc:
            message = f"cannot use {ENV_PREFIX}URI {self.settings.server}: {exc}"
            raise BackendError(self._scrub(message)) from None

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.driver.close()

    # --- running statements -------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn driver errors into one clear BackendError line, never showing the password."""
        import neo4j.exceptions as ne

        where = self.settings.server
        try:
            yield
        except ne.AuthError:
            raise BackendError(
                f"the server at {where} refused user '{self.settings.user}': check "
                f"{ENV_PREFIX}USER and {ENV_PREFIX}PASSWORD"
            ) from None
        except (ne.ServiceUnavailable, ne.SessionExpired, OSError):
            raise BackendError(
                f"cannot reach a Neo4j server at {where}: is it running? ({ENV_PREFIX}URI)"
            ) from None
        except ne.Neo4jError as exc:
            if exc.code and exc.code.endswith("DatabaseNotFound"):
                raise BackendError(
                    f"database '{self.settings.database}' does not exist on {where} "
                    f"({ENV_PREFIX}DATABASE)"
                ) from None
            raise BackendError(self._scrub(f"{where}: {exc.code}: {exc.message}")) from None
        except ne.DriverError as exc:
            raise BackendError(self._scrub(f"{where}: {exc}")) from None

    def _scrub(self, message: str) -> str:
        """The first line of a driver or server message, with the URI and secrets masked."""
        line = message.splitlines()[0] if message else ""
        line = line.replace(self.settings.uri, self.settings.server)
        for secret in (self.settings.password, urlsplit(self.settings.uri).password):
            if secret:
                line = line.replace(secret, "***")
        return line

    def _read(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Run cypher/<name>.cypher in a read transaction; its records streamed into dicts."""
        query = cypher.statement(name)

        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(query, params)]

        with self._errors(), self.driver.session(database=self.settings.database) as session:
            return session.execute_read(work)

    def _write(self, name: str, **params: Any) -> None:
        """Run every statement of cypher/<name>.cypher, each as one idempotent write."""
        from neo4j import RoutingControl

        with self._errors():
            for query in cypher.statements(name):
                self.driver.execute_query(
                    query, params, database_=self.settings.database, routing_=RoutingControl.WRITE
                )

    def _write_batches(
        self, name: str, key: str, rows: list, batch_size: int, progress: Progress | None
    ) -> None:
        """Run cypher/<name>.cypher once per batch of rows, as parameter `key`."""
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            self._write(name, **{key: batch})
            if progress is not None:
                progress(len(batch))

    # --- load -----------------------------------------------------------------------------

    def load(
        self, bundle: Bundle, batch_size: int = 10_000, progress: Progress | None = None
    ) -> LoadSummary:
        """Load a bundle: schema, nodes, relationships; then delete what it no longer has."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._write("schema")
        nodes_before = self._existing_nodes()
        edges_before = self._existing_edges()
        for kind, label in LABELS.items():
            stale_keys = _keys_of(nodes_before[nodes_before["kind"] == kind])
            rows = node_rows(bundle.nodes[bundle.nodes["kind"] == kind], stale_keys)
            self._write_batches(f"load_{label.lower()}s", "rows", rows, batch_size, progress)
        for kind in model.EDGE_KINDS:
            stale_keys = _keys_of(edges_before[edges_before["kind"] == kind])
            rows = edge_rows(bundle.edges[bundle.edges["kind"] == kind], stale_keys)
            self._write_batches(f"load_{kind.lower()}", "rows", rows, batch_size, progress)
        gone_edges = _missing(edges_before, bundle.edges, ["kind", "source", "target"])
        for kind in model.EDGE_KINDS:
            rows = gone_edges[gone_edges["kind"] == kind][["source", "target"]]
            self._write_batches(
                f"delete_{kind.lower()}", "rows", rows.to_dict("records"), batch_size, None
            )
        gone_nodes = _missing(nodes_before, bundle.nodes, ["kind", "id"])
        for kind, label in LABELS.items():
            ids = gone_nodes.loc[gone_nodes["kind"] == kind, "id"].tolist()
            self._write_batches(f"delete_{label.lower()}s", "ids", ids, batch_size, None)
        return LoadSummary(len(bundle.nodes), len(bundle.edges), len(gone_nodes), len(gone_edges))

    def _existing_nodes(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self._read("existing_nodes"), columns=["kind", "id", "keys"])

    def _existing_edges(self) -> pd.DataFrame:
        import pandas as pd

        rows = self._read("existing_edges", kinds=list(model.EDGE_KINDS))
        return pd.DataFrame(rows, columns=["kind", "source", "target", "keys"])

    # --- export ---------------------------------------------------------------------------

    def export(self) -> Bundle:
        """The graph in the database as a Bundle (result properties left out)."""
        nodes = self._read("export_nodes")
        edges = self._read("export_edges", kinds=list(model.EDGE_KINDS))
        return Bundle(
            nodes=nodes_frame(nodes), edges=edges_frame(edges), origin=self.settings.server
        )

    # --- propagate and write back ---------------------------------------------------------

    def propagate(self, progress: Progress | None = None, **options: Any) -> pd.DataFrame:
        """Pull the graph, screen and propagate it with the engine, write the results back.

        Source scores come from screening as in the embedded pipeline (the engine's
        ``source_scores_for``) unless ``source_scores`` is given; other options go to the
        engine's ``propagate``. Returns the engine's table.
        """
        from graphkit.propagation import propagate
        from graphkit.screen.sources import source_scores_for

        bundle = self.export()
        if options.get("source_scores") is None:
            options["source_scores"] = source_scores_for(bundle)
        table = propagate(bundle, **options).table
        self.write_results(bundle, table, progress=progress)
        return table

    def write_results(
        self,
        bundle: Bundle,
        table: pd.DataFrame,
        batch_size: int = 10_000,
        progress: Progress | None = None,
    ) -> None:
        """Write a propagation table (indexed by node id) back as exposure_* properties."""
        kinds = bundle.nodes.set_index("id")["kind"]
        for kind, label in LABELS.items():
            ids = kinds.index[kinds == kind]
            rows = result_rows(table[table.index.isin(ids)])
            self._write_batches(
                f"write_results_{label.lower()}s", "rows", rows, batch_size, progress
            )

    # --- status and queries ---------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Server, database and counts by label and relationship type (never the password)."""
        info = self._read("server_info")
        labels = {row["label"]: row["count"] for row in self._read("status_labels")}
        kinds = list(model.EDGE_KINDS)
        types = {row["type"]: row["count"] for row in self._read("status_types", kinds=kinds)}
        return {
            "server": self.settings.server,
            "database": self.settings.database,
            "user": self.settings.user,
            "product": " ".join(
                f"{row['name']} {'/'.join(row['versions'])} {row['edition']}" for row in info
            ),
            "nodes": {label: labels.get(label, 0) for label in LABELS.values()},
            "relationships": {kind: types.get(kind, 0) for kind in kinds},
        }

    def query(self, name: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Run analyst query cypher/queries/<name>.cypher with command-line parameters."""
        _, values = cypher.bind_query(name, params or {})
        return self._read(f"{cypher.QUERIES}/{name}", **values)


# --- bundle <-> rows ----------------------------------------------------------------------


def _keys_of(existing: pd.DataFrame) -> set[str]:
    """Every property key found on the existing nodes or relationships."""
    return {key for keys in existing["keys"] for key in keys}


def _missing(before: pd.DataFrame, bundle_table: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Rows of `before` whose key the bundle table does not have."""
    merged = before[key].merge(bundle_table[key].drop_duplicates(), how="left", indicator=True)
    return merged[merged["_merge"] == "left_only"][key]


def _props(table: pd.DataFrame, skip: set[str], stale_keys: set[str]) -> list[dict[str, Any]]:
    """One property map per row: missing values and stale keys as None (removes them)."""
    columns = [c for c in table.columns if c not in skip]
    values = table[columns].astype(object)
    values = values.where(~(values.isna() | (values == "")), None)
    removed = sorted(stale_keys - set(columns) - skip - set(RESULT_PROPERTIES.values()))
    for key in removed:
        values[key] = None
    records = values.to_dict("records")
    return [{k: _native(v) for k, v in record.items()} for record in records]


def _native(value: Any) -> Any:
    """A numpy scalar as the plain Python value the driver can send."""
    import numpy as np

    return value.item() if isinstance(value, np.generic) else value


def node_rows(nodes: pd.DataFrame, stale_keys: set[str] = frozenset()) -> list[dict[str, Any]]:
    """The $rows of a load_*s.cypher statement for these nodes."""
    props = _props(nodes, {"id", "kind"}, stale_keys)
    return [{"id": str(i), "props": p} for i, p in zip(nodes["id"], props, strict=True)]


def edge_rows(edges: pd.DataFrame, stale_keys: set[str] = frozenset()) -> list[dict[str, Any]]:
    """The $rows of a load_<kind>.cypher statement for these edges."""
    props = _props(edges, {"source", "target", "kind"}, stale_keys)
    return [
        {"source": str(s), "target": str(t), "props": p}
        for s, t, p in zip(edges["source"], edges["target"], props, strict=True)
    ]


def result_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The $rows of a write_results_*.cypher statement: exposure_* properties per node."""
    present = {col: prop for col, prop in RESULT_PROPERTIES.items() if col in table.columns}
    renamed = table[list(present)].rename(columns=present)
    props = _props(renamed, set(), set())
    return [{"id": str(i), "props": p} for i, p in zip(table.index, props, strict=True)]


def nodes_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The nodes table of a bundle from exported {kind, props} records."""
    import pandas as pd

    rows = [{**r["props"], "kind": r["kind"]} for r in records]
    frame = pd.DataFrame(rows, columns=_union_keys(rows, model.NODE_COLUMNS))
    frame = frame.drop(columns=[c for c in RESULT_PROPERTIES.values() if c in frame.columns])
    return _typed(frame, model.NODE_NUMERIC).sort_values("id", ignore_index=True)


def edges_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The edges table of a bundle from exported {kind, source, target, props} records."""
    rows = [
        {**r["props"], "source": r["source"], "target": r["target"], "kind": r["kind"]}
        for r in records
    ]
    import pandas as pd

    frame = pd.DataFrame(rows, columns=_union_keys(rows, model.EDGE_COLUMNS))
    return _typed(frame, model.EDGE_NUMERIC).sort_values(["source", "target"], ignore_index=True)


def _union_keys(rows: list[dict[str, Any]], first: tuple[str, ...]) -> list[str]:
    """The standard columns first, then every other key found, sorted."""
    extra = sorted({key for row in rows for key in row} - set(first))
    return [*first, *extra]


def _typed(frame: pd.DataFrame, numeric: tuple[str, ...]) -> pd.DataFrame:
    """Numeric columns as float with NaN for missing; every other column str with ''."""
    import pandas as pd

    for column in frame.columns:
        if column in numeric:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        else:
            frame[column] = frame[column].where(frame[column].notna(), "").astype(str)
    return frame
