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
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from graphkit import model
from graphkit.errors import BackendError, InvalidInput
from graphkit.model import Bundle
from graphkit.store import cypher, rows
from graphkit.store.rows import LABELS

if TYPE_CHECKING:
    import neo4j
    import pandas as pd

ENV_PREFIX = "GRAPHKIT_NEO4J_"
DEFAULT_DATABASE = "neo4j"
BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
CONNECTION_TIMEOUT = 10.0
#: seconds an analyst query may run (graphkit neo4j query --timeout)
QUERY_TIMEOUT = 60.0
#: extra seconds our own deadline waits for the server's timeout error
TIMEOUT_GRACE = 2.0
#: records per batch when streaming reads (export, the state a load compares against)
READ_BATCH = 10_000
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
        self._late_query: threading.Thread | None = None
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
        """Close the driver; one still running a timed-out query closes when it ends."""
        if self._late_query is None or not self._late_query.is_alive():
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

    def _session(self, **config: Any) -> neo4j.Session:
        return self.driver.session(database=self.settings.database, **config)

    def _read(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Run cypher/<name>.cypher in a read transaction; its (small) result as dicts."""
        query = cypher.statement(name)

        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(query, params)]

        with self._errors(), self._session() as session:
            return session.execute_read(work)

    def _stream(self, name: str, batch_size: int = READ_BATCH) -> Iterator[list[dict[str, Any]]]:
        """The records of cypher/<name>.cypher in batches, fetched as they are consumed."""
        import neo4j

        query = cypher.statement(name)
        config = {"default_access_mode": neo4j.READ_ACCESS, "fetch_size": batch_size}
        with self._errors(), self._session(**config) as session:
            batch: list[dict[str, Any]] = []
            for record in session.run(query):
                batch.append(record.data())
                if len(batch) == batch_size:
                    yield batch
                    batch = []
            if batch:
                yield batch

    def _read_within(self, name: str, timeout: float, params: dict[str, Any]) -> list[dict]:
        """Run a bounded read with a transaction timeout the server enforces, and the same
        deadline on our side for servers that ignore it (ArcadeDB does). A query still
        running at the deadline is left to finish in the background; the store is then
        closed for further use (its driver closes when that query ends)."""
        import neo4j

        query = neo4j.Query(cypher.statement(name), timeout=timeout)
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                with self._session(default_access_mode=neo4j.READ_ACCESS) as session:
                    outcome["rows"] = [record.data() for record in session.run(query, params)]
            except Exception as exc:  # handed to the caller's thread below
                outcome["error"] = exc
            finally:
                if self._late_query is not None:
                    self.driver.close()

        worker = threading.Thread(target=work, name=f"graphkit-query-{name}", daemon=True)
        worker.start()
        worker.join(timeout + min(TIMEOUT_GRACE, timeout))
        if worker.is_alive():
            self._late_query = worker  # closing the driver under it would break its read
        if worker.is_alive() or _timed_out(outcome.get("error")):
            raise BackendError(
                f"query {name.rsplit('/', 1)[-1]} did not finish within {timeout:g} s on "
                f"{self.settings.server}: narrow it with --param or allow more with --timeout"
            )
        if "error" in outcome:
            with self._errors():
                raise outcome["error"]
        return outcome["rows"]

    def _write(self, name: str, **params: Any) -> None:
        """Run every statement of cypher/<name>.cypher, each as one idempotent write."""
        from neo4j import RoutingControl

        with self._errors():
            for query in cypher.statements(name):
                self.driver.execute_query(
                    query, params, database_=self.settings.database, routing_=RoutingControl.WRITE
                )

    def _write_each(self, name: str, batches: Iterable[list], progress: Progress | None) -> None:
        """Run cypher/<name>.cypher once per batch of $rows, as each batch is built."""
        for batch in batches:
            self._write(name, rows=batch)
            if progress is not None:
                progress(len(batch))

    # --- load -----------------------------------------------------------------------------

    def load(
        self,
        bundle: Bundle,
        batch_size: int = 10_000,
        progress: Progress | None = None,
        prune: bool = True,
    ) -> LoadSummary:
        """Load a bundle: schema, nodes, relationships, in batches built as they are sent;
        then (with prune) delete what the bundle no longer has. Without prune the bundle is
        merged into the graph: nothing is deleted."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        problems = rows.property_name_problems(bundle)
        if problems:
            raise InvalidInput(problems)
        self._write("schema")
        before = self._state() if prune else None
        stale = before or _State.empty()
        for kind, label in LABELS.items():
            nodes = bundle.nodes[bundle.nodes["kind"] == kind]
            keys = stale.node_keys.get(kind, set())
            batches = (rows.node_rows(b, keys) for b in rows.batches(nodes, batch_size))
            self._write_each(f"load_{label.lower()}s", batches, progress)
        for kind in model.EDGE_KINDS:
            edges = bundle.edges[bundle.edges["kind"] == kind]
            keys = stale.edge_keys.get(kind, set())
            batches = (rows.edge_rows(b, keys) for b in rows.batches(edges, batch_size))
            self._write_each(f"load_{kind.lower()}", batches, progress)
        gone_nodes, gone_edges = (
            (0, 0) if before is None else self._prune(before, bundle, batch_size)
        )
        return LoadSummary(len(bundle.nodes), len(bundle.edges), gone_nodes, gone_edges)

    def _prune(self, before: _State, bundle: Bundle, batch_size: int) -> tuple[int, int]:
        """Delete the relationships, then the nodes, that the bundle no longer has."""
        gone_edges = _missing(before.edges, bundle.edges, ["kind", "source", "target"])
        for kind in model.EDGE_KINDS:
            pairs = gone_edges[gone_edges["kind"] == kind][["source", "target"]]
            batches = (b.to_dict("records") for b in rows.batches(pairs, batch_size))
            self._write_each(f"delete_{kind.lower()}", batches, None)
        gone_nodes = _missing(before.nodes, bundle.nodes, ["kind", "id"])
        for kind, label in LABELS.items():
            ids = gone_nodes.loc[gone_nodes["kind"] == kind, "id"]
            batches = (b.tolist() for b in rows.batches(ids, batch_size))
            for batch in batches:
                self._write(f"delete_{label.lower()}s", ids=batch)
        return len(gone_nodes), len(gone_edges)

    def _state(self) -> _State:
        """What the database holds now: node ids, relationship ends, property keys."""
        return _State(
            nodes=self._frame("existing_nodes", ["kind", "id"]),
            edges=self._frame("existing_edges", ["kind", "source", "target"]),
            node_keys=self._keys("node_keys"),
            edge_keys=self._keys("edge_keys"),
        )

    def _frame(self, name: str, columns: list[str]) -> pd.DataFrame:
        """A streamed read as one table, built batch by batch."""
        import pandas as pd

        frames = [pd.DataFrame(batch, columns=columns) for batch in self._stream(name)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)

    def _keys(self, name: str) -> dict[str, set[str]]:
        """{kind: property keys} from node_keys / edge_keys."""
        found: dict[str, set[str]] = {}
        for row in self._read(name):
            found.setdefault(row["kind"], set()).add(row["key"])
        return found

    # --- export ---------------------------------------------------------------------------

    def stream(self, batch_size: int = READ_BATCH) -> rows.TableStream:
        """The graph as table batches streamed from the server (result properties left out);
        the columns are known before the first row arrives."""
        node_keys = set().union(*self._keys("node_keys").values())
        edge_keys = set().union(*self._keys("edge_keys").values())
        node_columns = rows.columns_for(node_keys, model.NODE_COLUMNS)
        edge_columns = rows.columns_for(edge_keys, model.EDGE_COLUMNS)
        nodes = self._stream("export_nodes", batch_size)
        edges = self._stream("export_edges", batch_size)
        return rows.TableStream(
            node_columns,
            edge_columns,
            (rows.nodes_frame(batch, node_columns) for batch in nodes),
            (rows.edges_frame(batch, edge_columns) for batch in edges),
        )

    def export(self) -> Bundle:
        """The graph in the database as a Bundle in memory (result properties left out)."""
        nodes, edges = self.stream().collect()
        nodes = nodes.sort_values("id", ignore_index=True)
        edges = edges.sort_values(["source", "target"], ignore_index=True)
        return Bundle(nodes=nodes, edges=edges, origin=self.settings.server)

    # --- propagate and write back ---------------------------------------------------------

    def propagate(self, progress: Progress | None = None, **options: Any) -> pd.DataFrame:
        """Pull the graph, screen and propagate it with the engine, write the results back.

        Source scores come from screening as in the embedded pipeline (the engine's
        ``source_scores_for``) unless ``source_scores`` is given; other options go to the
        engine's ``propagate``. Every node gets exposure_reach (0 where nothing reaches
        it), exposure_unmapped and exposure_inputs, which the bounded analyst queries rely
        on. Returns the engine's table.
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
        """Write a propagation table (indexed by node id) back as exposure_* properties, with
        each node's number of inputs (exposure_inputs) beside the engine's unmapped remainder."""
        if "reach" in table.columns:
            table = table.assign(reach=table["reach"].fillna(0.0))
        if "unmapped" in table.columns:
            inputs = bundle.edges["target"].astype(str).value_counts()
            table = table.assign(inputs=inputs.reindex(table.index, fill_value=0))
        kinds = bundle.nodes.set_index("id")["kind"]
        for kind, label in LABELS.items():
            part = table[table.index.isin(kinds.index[kinds == kind])]
            batches = (rows.result_rows(b) for b in rows.batches(part, batch_size))
            self._write_each(f"write_results_{label.lower()}s", batches, progress)

    # --- status and queries ---------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Server, database and counts by label and relationship type (never the password)."""
        info = self._read("server_info")
        labels = {row["label"]: row["count"] for row in self._read("status_labels")}
        types = {row["type"]: row["count"] for row in self._read("status_types")}
        return {
            "server": self.settings.server,
            "database": self.settings.database,
            "user": self.settings.user,
            "product": " ".join(
                f"{row['name']} {'/'.join(row['versions'])} {row['edition']}" for row in info
            ),
            "nodes": {label: labels.get(label, 0) for label in LABELS.values()},
            "relationships": {kind: types.get(kind, 0) for kind in model.EDGE_KINDS},
        }

    def query(
        self, name: str, params: dict[str, str] | None = None, timeout: float = QUERY_TIMEOUT
    ) -> list[dict[str, Any]]:
        """Run analyst query cypher/queries/<name>.cypher with command-line parameters,
        within `timeout` seconds (BackendError, exit 3, when it takes longer)."""
        _, values = cypher.bind_query(name, params or {})
        return self._read_within(f"{cypher.QUERIES}/{name}", timeout, values)


@dataclass
class _State:
    """What the database held before a load."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    node_keys: dict[str, set[str]]
    edge_keys: dict[str, set[str]]

    @classmethod
    def empty(cls) -> _State:
        import pandas as pd

        return cls(pd.DataFrame(columns=["kind", "id"]), pd.DataFrame(), {}, {})


def _missing(before: pd.DataFrame, bundle_table: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Rows of `before` whose key the bundle table does not have."""
    merged = before[key].merge(bundle_table[key].drop_duplicates(), how="left", indicator=True)
    return merged[merged["_merge"] == "left_only"][key]


def _timed_out(error: Exception | None) -> bool:
    """Whether the server ended the transaction for running past its timeout."""
    return "TransactionTimedOut" in str(getattr(error, "code", "") or "")
