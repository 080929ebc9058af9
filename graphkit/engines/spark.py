"""Scale-out: the three propagation modes on Apache Spark DataFrames.

The same semantics as the embedded engine (graphkit.propagation, over the rules in
graphkit.graph; the README's "Propagation: how exposure travels"). Every mode is the
least fixpoint of

    value(v) = AGG( fixed(v),  AGG over carrying edges u->v of w_uv * value(u) )

where fixed(v) combines v's own term with its "own" edges: a MAKES edge into a component
whose bill of materials is known (it has PART_OF inputs) carries only the maker's own
source score. AGG is noisy-OR with w = confidence for ``reach`` (a sum of log(1 - c*p) per
target), sum with w = share for ``share`` (a Jacobi iteration of x = D s + A^T x) and max
with w = confidence for ``path``; the tier is the same iteration with (min, +1).

Spark does the partitioning, shuffles and fault tolerance. One iteration is a join of the
edges with the current values, one aggregation per target and a join back; a checkpoint
every few iterations keeps the lineage short; convergence is a global max-delta. Only
DataFrame expressions are used (no Python UDFs), so executors need no Python packages.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import operator
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphkit.errors import ConvergenceError, GraphError, InvalidInput, Problem
from graphkit.graph.loops import on_loops
from graphkit.graph.rules import AGGREGATE, EXPOSURE_COLUMNS, MODES, WEIGHT
from graphkit.io.atomic import atomic_file, staged_dir
from graphkit.io.safe_csv import ESCAPED_FORMULA
from graphkit.model import (
    COMPONENT,
    EDGE_ENDPOINTS,
    EDGES_FILE,
    MAKES,
    NODE_KINDS,
    NODES_FILE,
    PART_OF,
    SUPPLIER,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd
    from pyspark.sql import Column, DataFrame, SparkSession

    from graphkit.model import Bundle

log = logging.getLogger(__name__)
INSTALL_HINT = "pip install 'graphkit[spark]'"
#: the exposure columns of every engine (graphkit.graph.rules) but the embedded engine's
#: per-source columns (n_sources, top_sources)
OUTPUT_COLUMNS = tuple(c for c in EXPOSURE_COLUMNS if c not in ("n_sources", "top_sources"))
EXPOSURES_DIR = "exposures.parquet"
RUN_FILE = "run.json"
#: a reliable checkpoint (when a checkpoint dir is set) every this many iterations
CHECKPOINT_EVERY = 10
#: reach saturates loops of certain edges; their core is collected to the driver up to this
CERTAIN_CORE_LIMIT = 5_000_000


def require_pyspark() -> Any:
    """Import pyspark, or fail with the command that installs the extra."""
    try:
        import pyspark
        import pyspark.sql  # noqa: F401
    except ImportError as exc:
        raise GraphError(f"the Spark engine needs pyspark: {INSTALL_HINT}") from exc
    return pyspark


def session(
    master: str | None = None, app_name: str = "graphkit", conf: dict[str, str] | None = None
) -> SparkSession:
    """A SparkSession: ``master`` if given, else the one spark-submit chose, else local[*]."""
    require_pyspark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:
        master = "local[*]"
    if master:
        builder = builder.master(master)
    settings = {
        **_local_defaults(master),
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **(conf or {}),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _local_defaults(master: str | None) -> dict[str, str]:
    """In local mode, shuffle into a few partitions per core, not Spark's default 200."""
    if not master or not master.startswith("local"):
        return {}
    cores = master.partition("[")[2].rstrip("]").split(",")[0]
    count = (os.cpu_count() or 2) if cores in ("", "*") else int(cores)
    return {"spark.sql.shuffle.partitions": str(2 * count)}


# --- reading nodes and edges ----------------------------------------------------------------


def read_frames(spark: SparkSession, path: str) -> tuple[DataFrame, DataFrame]:
    """Validated nodes and edges from a bundle folder (CSV), a Parquet export or a bundle file.

    A Parquet export (``graphkit export --parquet``) is a folder with ``nodes/`` and
    ``edges/`` sub-folders of Parquet files; remote paths (``s3a://``, ``hdfs://``) are read
    as Parquet exports. Excel and JSON bundles are read on the driver.
    """
    layout = input_layout(path)
    if layout == "bundle":
        from graphkit.io import read_bundle

        return frames_from_bundle(spark, read_bundle(path))
    if layout == "csv":
        labels = (NODES_FILE, EDGES_FILE)
        nodes, edges = (_read_csv(spark, _join(path, name)) for name in labels)
    else:
        labels = ("nodes (Parquet)", "edges (Parquet)")
        nodes, edges = (spark.read.parquet(_join(path, part)) for part in ("nodes", "edges"))
    nodes, edges = _normal_nodes(nodes, restore=layout == "csv"), _normal_edges(edges, layout)
    problems = check_frames(nodes, edges, labels)
    if problems:
        raise InvalidInput(problems)
    return _numeric_nodes(nodes), _numeric_edges(edges)


def input_layout(path: str) -> str:
    """'csv' (bundle folder), 'parquet' (export folder or remote path) or 'bundle' (a file)."""
    if "://" in path:
        return "parquet"
    local = Path(path)
    if local.is_file():
        return "bundle"
    if (local / NODES_FILE).is_file() and (local / EDGES_FILE).is_file():
        return "csv"
    if (local / "nodes").is_dir() and (local / "edges").is_dir():
        return "parquet"
    message = "not a bundle folder (nodes.csv, edges.csv) nor a Parquet export (nodes/, edges/)"
    raise InvalidInput([Problem(path, None, None, message)])


def frames_from_bundle(
    spark: SparkSession, bundle: Bundle, source_scores: pd.Series | None = None
) -> tuple[DataFrame, DataFrame]:
    """A validated in-memory Bundle as Spark nodes and edges; scores default to ``exposure``."""
    nodes = bundle.nodes[["id", "kind", "name"]].copy()
    scores = bundle.nodes["exposure"] if source_scores is None else None
    if source_scores is not None:
        scores = source_scores.groupby(level=0).max().reindex(bundle.nodes["id"]).to_numpy()
    nodes["source_score"] = scores
    edges = bundle.edges[["source", "target", "kind", "share", "confidence"]]
    as_spark = (spark.createDataFrame(frame) for frame in (nodes, edges))
    return (
        _numeric_nodes(_normal_nodes(next(as_spark), restore=False)),
        _numeric_edges(_normal_edges(next(as_spark), "bundle")),
    )


def _read_csv(spark: SparkSession, path: str) -> DataFrame:
    return (
        spark.read.option("header", True)
        .option("multiLine", True)
        .option("escape", '"')
        .option("inferSchema", False)
        .csv(path)
    )


def _join(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name


def _text(frame: DataFrame, name: str, restore: bool, trim: bool = True) -> Column:
    """A text column as the bundle reader sees it: '' for missing, formula escapes undone."""
    from pyspark.sql import functions as F

    if name not in frame.columns:
        return F.lit("")
    value = F.coalesce(frame[name].cast("string"), F.lit(""))
    if restore:
        value = F.regexp_replace(value, ESCAPED_FORMULA, "")
    return F.trim(value) if trim else value


def _number_text(frame: DataFrame, name: str) -> Column:
    """A numeric column kept as text for checking (bad cells are reported, not dropped)."""
    from pyspark.sql import functions as F

    if name not in frame.columns:
        return F.lit("")
    return F.trim(F.coalesce(frame[name].cast("string"), F.lit("")))


def _normal_nodes(nodes: DataFrame, restore: bool) -> DataFrame:
    from pyspark.sql import functions as F

    score = "source_score" if "source_score" in nodes.columns else "exposure"
    return nodes.select(
        _text(nodes, "id", restore).alias("id"),
        F.lower(_text(nodes, "kind", restore)).alias("kind"),
        _text(nodes, "name", restore, trim=False).alias("name"),
        _number_text(nodes, score).alias("source_score"),
    )


def _normal_edges(edges: DataFrame, layout: str) -> DataFrame:
    from pyspark.sql import functions as F

    restore = layout == "csv"
    return edges.select(
        _text(edges, "source", restore).alias("src"),
        _text(edges, "target", restore).alias("dst"),
        F.upper(_text(edges, "kind", restore)).alias("kind"),
        _number_text(edges, "share").alias("share"),
        _number_text(edges, "confidence").alias("confidence"),
    )


def _as_number(column: str) -> Column:
    """Text -> double; '' and anything not a number -> null (NaN -> null too)."""
    from pyspark.sql import functions as F

    value = F.expr(f"try_cast(`{column}` as double)")
    return F.nanvl(value, F.lit(None).cast("double"))


def _numeric_nodes(nodes: DataFrame) -> DataFrame:
    return nodes.withColumn("source_score", _as_number("source_score"))


def _numeric_edges(edges: DataFrame) -> DataFrame:
    return edges.withColumn("share", _as_number("share")).withColumn(
        "confidence", _as_number("confidence")
    )


# --- distributed validation -----------------------------------------------------------------


def check_frames(
    nodes: DataFrame, edges: DataFrame, labels: tuple[str, str] = (NODES_FILE, EDGES_FILE)
) -> list[Problem]:
    """Every problem that would make propagation wrong, counted in one pass per table.

    Rows of a distributed file have no stable row number, so each problem names the file,
    the column, how many rows have it and one example.
    """
    from pyspark.sql import functions as F

    node_checks = [
        ("id", "empty id", F.col("id") == "", F.lit("")),
        ("kind", "unknown node kind", ~F.col("kind").isin(*NODE_KINDS), F.col("kind")),
        *_number_checks("source_score"),
    ]
    problems = _count_problems(nodes, labels[0], node_checks)
    duplicated = nodes.groupBy("id").count().where("count > 1")
    problems += _count_problems(
        duplicated, labels[0], [("id", "duplicate id", F.lit(True), F.col("id"))]
    )
    kinds = nodes.select("id", "kind").dropDuplicates(["id"])
    joined = edges.join(
        kinds.withColumnsRenamed({"id": "src", "kind": "src_kind"}), "src", "left"
    ).join(kinds.withColumnsRenamed({"id": "dst", "kind": "dst_kind"}), "dst", "left")
    example = F.concat_ws(" -> ", "src", "dst")
    edge_checks = [
        ("source", "unknown node (not in the nodes table)", F.col("src_kind").isNull(), "src"),
        ("target", "unknown node (not in the nodes table)", F.col("dst_kind").isNull(), "dst"),
        ("kind", "unknown edge kind", ~F.col("kind").isin(*EDGE_ENDPOINTS), F.col("kind")),
        ("kind", "edge kind does not fit its endpoints", _wrong_endpoints(), example),
        *_number_checks("share"),
        *_number_checks("confidence"),
    ]
    return problems + _count_problems(joined, labels[1], edge_checks)


def _number_checks(column: str) -> list[tuple[str, str, Column, Column]]:
    from pyspark.sql import functions as F

    value = _as_number(column)
    text = F.col(column)
    return [
        (column, "not a number", (text != "") & value.isNull(), text),
        (column, "outside [0, 1]", (value < 0) | (value > 1), text),
    ]


def _wrong_endpoints() -> Column:
    from pyspark.sql import functions as F

    fits = F.lit(False)
    for kind, (source_kind, target_kind) in EDGE_ENDPOINTS.items():
        fits = fits | (
            (F.col("kind") == kind)
            & (F.col("src_kind") == source_kind)
            & (F.col("dst_kind") == target_kind)
        )
    known = F.col("src_kind").isNotNull() & F.col("dst_kind").isNotNull()
    return known & F.col("kind").isin(*EDGE_ENDPOINTS) & ~fits


def _count_problems(frame: DataFrame, label: str, checks: list) -> list[Problem]:
    """One Problem per check that some row fails, with the count and one example."""
    from pyspark.sql import functions as F

    aggregates = []
    for position, (_, _, failed, example) in enumerate(checks):
        example = F.col(example) if isinstance(example, str) else example
        aggregates.append(F.count(F.when(failed, 1)).alias(f"n{position}"))
        aggregates.append(F.min(F.when(failed, example.cast("string"))).alias(f"e{position}"))
    row = frame.agg(*aggregates).first()
    problems = []
    for position, (column, message, _, _) in enumerate(checks):
        count = row[f"n{position}"]
        if count:
            text = f"{message} in {count} row(s), e.g. {row[f'e{position}']!r}"
            problems.append(Problem(label, None, column, text))
    return problems


# --- the propagation ------------------------------------------------------------------------


@dataclass
class SparkExposure:
    """The result of ``propagate``: the exposures table (one row per node) and parameters."""

    table: DataFrame
    params: dict[str, Any] = field(default_factory=dict)


def propagate(
    nodes: DataFrame,
    edges: DataFrame,
    modes: Iterable[str] = MODES,
    tol: float = 1e-12,
    max_iter: int = 10_000,
    checkpoint_every: int = CHECKPOINT_EVERY,
) -> SparkExposure:
    """Propagate exposure over Spark frames from ``read_frames`` or ``frames_from_bundle``.

    Modes not asked for are null in the table; ``tier`` is always computed. Missing
    confidence is 1; missing shares split the target's unmapped remainder equally.
    """
    modes = tuple(dict.fromkeys(modes))
    unknown = set(modes) - set(MODES)
    if unknown:
        raise GraphError(f"unknown mode(s): {', '.join(sorted(unknown))}; use {', '.join(MODES)}")
    clock = time.perf_counter()
    weighted, node_stats = _weighted_edges(edges)
    scores = _scores(nodes)
    own = weighted.where("own")
    carry = weighted.where("not own").select("src", "dst", "confidence", "share")
    carry = carry.repartition("src").persist()
    looped = certain_loop_nodes(carry) if "reach" in modes else None
    state = _initial_state(scores, own, node_stats, modes, looped)
    state, iterations, residuals = _iterate(state, carry, modes, tol, max_iter, checkpoint_every)
    table = _exposure_table(nodes, edges, scores, node_stats, state, modes).persist()
    table.count()
    for frame in (state, carry, weighted):
        frame.unpersist()
    params = {
        "engine": "spark",
        "modes": list(modes),
        "tol": tol,
        "max_iter": max_iter,
        "iterations": iterations,
        "residuals": residuals,
        "checkpoint_every": checkpoint_every,
        "seconds": round(time.perf_counter() - clock, 3),
    }
    return SparkExposure(table=table, params=params)


def _clip01(value: Column) -> Column:
    from pyspark.sql import functions as F

    return F.least(F.greatest(value, F.lit(0.0)), F.lit(1.0))


def _scores(nodes: DataFrame) -> DataFrame:
    """id, s: the source score (null/NaN -> 0, clipped to 0..1)."""
    from pyspark.sql import functions as F

    score = F.coalesce(F.nanvl("source_score", F.lit(0.0)), F.lit(0.0))
    return nodes.select("id", _clip01(score).alias("s"))


def _weighted_edges(edges: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Edges with confidence, imputed share and the 'own' flag; per-target share facts.

    The DataFrame form of the rules in graphkit.graph.rules (``impute_shares``,
    ``carries_own_score_only``): missing confidence = 1; missing shares split the target's
    remainder (1 - given shares) equally; shares are scaled down where they sum above 1; a
    MAKES edge into a target with PART_OF inputs is 'own'. tests/test_spark.py holds the two
    equal to 1e-9.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    by_target = Window.partitionBy("dst")
    missing = F.col("share").isNull()
    given = _clip01(F.coalesce("share", F.lit(0.0)))
    n_missing = F.sum(missing.cast("double")).over(by_target)
    remainder = _clip01(1.0 - F.sum(given).over(by_target))
    per_missing = F.when(n_missing > 0, remainder / n_missing).otherwise(0.0)
    weighted = (
        edges.withColumn("confidence", _clip01(F.coalesce("confidence", F.lit(1.0))))
        .withColumn("missing", missing)
        .withColumn("raw_share", F.when(missing, per_missing).otherwise(given))
        .withColumn("has_bom", F.max((F.col("kind") == PART_OF).cast("int")).over(by_target))
        .withColumn("scale", F.greatest(F.sum("raw_share").over(by_target), F.lit(1.0)))
        .select(
            "src",
            "dst",
            "confidence",
            (F.col("raw_share") / F.col("scale")).alias("share"),
            ((F.col("kind") == MAKES) & (F.col("has_bom") == 1)).alias("own"),
            "missing",
        )
        .persist()
    )
    node_stats = weighted.groupBy(F.col("dst").alias("id")).agg(
        _clip01(1.0 - F.sum("share")).alias("unmapped"),
        F.max("missing").alias("share_imputed"),
    )
    return weighted, node_stats


def _reduce(mode: str, value: Column) -> list[Column]:
    """Partial aggregates of ``value`` (edge weight x upstream value) per target."""
    from pyspark.sql import functions as F

    if AGGREGATE[mode] == "noisy_or":  # log(1 - x) summed; x = 1 makes the product 0
        return [
            F.sum(F.when(value < 1, F.log1p(-value)).otherwise(0.0)).alias(f"{mode}_log"),
            F.max(value).alias(f"{mode}_in"),
        ]
    if AGGREGATE[mode] == "sum":
        return [F.sum(value).alias(f"{mode}_in")]
    return [F.max(value).alias(f"{mode}_in")]


def _reduced(mode: str) -> Column:
    """The aggregate from ``_reduce``, 0 (the identity) for a target with no inputs."""
    from pyspark.sql import functions as F

    inflow = F.coalesce(F.col(f"{mode}_in"), F.lit(0.0))
    if AGGREGATE[mode] == "noisy_or":
        inflow = F.when(inflow >= 1, 1.0).otherwise(
            -F.expm1(F.coalesce(F.col(f"{mode}_log"), F.lit(0.0)))
        )
    return inflow


def _combine(mode: str, a: Column, b: Column) -> Column:
    from pyspark.sql import functions as F

    if AGGREGATE[mode] == "noisy_or":
        return 1.0 - (1.0 - a) * (1.0 - b)
    if AGGREGATE[mode] == "sum":
        return a + b
    return F.greatest(a, b)


def _inflow(edges: DataFrame, upstream: DataFrame, modes: tuple[str, ...]) -> DataFrame:
    """Per target: every mode's aggregate of weight x upstream value, and the tier.

    ``upstream`` has src, u_<mode> (the value that edges out of src carry) and u_tier.
    """
    from pyspark.sql import functions as F

    joined = edges.join(upstream, "src")
    aggregates = [agg for m in modes for agg in _reduce(m, F.col(WEIGHT[m]) * F.col(f"u_{m}"))]
    tier = F.min(F.when(F.col("confidence") > 0, F.col("u_tier") + 1)).alias("tier_in")
    return joined.groupBy(F.col("dst").alias("id")).agg(*aggregates, tier)


def _initial_state(scores, own, node_stats, modes, looped) -> DataFrame:
    """id, fixed_<mode>, <mode> (= fixed), fixed_tier, tier, saturate: before any step."""
    from pyspark.sql import functions as F

    upstream = scores.select(
        F.col("id").alias("src"),
        *(F.col("s").alias(f"u_{m}") for m in modes),
        F.when(F.col("s") > 0, 0).alias("u_tier"),
    )
    state = scores.join(_inflow(own, upstream, modes), "id", "left")
    state = state.join(node_stats, "id", "left")
    if looped is not None:
        state = state.join(looped.withColumn("saturate", F.lit(True)), "id", "left")
    saturate = F.coalesce(F.col("saturate"), F.lit(False)) if looped is not None else F.lit(False)
    unmapped = F.coalesce("unmapped", F.lit(1.0))
    terms = {"reach": F.col("s"), "share": unmapped * F.col("s"), "path": F.col("s")}
    fixed = {m: _combine(m, terms[m], _reduced(m)) for m in modes}
    tier = F.least(F.when(F.col("s") > 0, 0), F.col("tier_in"))
    return state.select(
        "id",
        *(fixed[m].alias(f"fixed_{m}") for m in modes),
        *(fixed[m].alias(m) for m in modes),
        tier.alias("fixed_tier"),
        tier.alias("tier"),
        saturate.alias("saturate"),
    ).repartition("id")


def _step(state: DataFrame, carry: DataFrame, modes: tuple[str, ...]) -> DataFrame:
    """One Jacobi step of every mode at once, with each node's change (delta_<mode>)."""
    from pyspark.sql import functions as F

    upstream = state.select(
        F.col("id").alias("src"),
        *(F.col(m).alias(f"u_{m}") for m in modes),
        F.col("tier").alias("u_tier"),
    )
    joined = state.join(_inflow(carry, upstream, modes), "id", "left")
    new = {m: _combine(m, F.col(f"fixed_{m}"), _reduced(m)) for m in modes}
    if "reach" in new:  # on a loop of certain edges any exposure circulates to certainty
        new["reach"] = F.when(F.col("saturate") & (new["reach"] > 0), 1.0).otherwise(new["reach"])
    tier = F.least("fixed_tier", "tier_in")
    tier_changed = (~tier.eqNullSafe(F.col("tier"))).cast("double")
    reached = [(F.col(m) == 0) & (new[m] > 0) for m in modes]
    return joined.select(
        "id",
        *(F.col(f"fixed_{m}") for m in modes),
        *(new[m].alias(m) for m in modes),
        "fixed_tier",
        tier.alias("tier"),
        "saturate",
        *(F.abs(new[m] - F.col(m)).alias(f"delta_{m}") for m in modes),
        tier_changed.alias("delta_tier"),
        functools.reduce(operator.or_, reached, F.lit(False)).alias("first_reached"),
    )


def _iterate(state, carry, modes, tol, max_iter, checkpoint_every):
    """Iterate to the fixpoint. Each step is one Spark job: it is materialised by a local
    checkpoint (cutting the lineage; a reliable one every ``checkpoint_every`` steps if a
    checkpoint dir is set) and observed for its max-delta in the same pass. As in the
    embedded engine, steps in which exposure first reaches a node do not count towards
    ``max_iter`` (a chain of n suppliers needs n of them)."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    state = state.localCheckpoint(eager=True)
    deltas = [*modes, "tier"]
    residuals = dict.fromkeys(deltas, float("inf"))
    iteration = refining = 0
    while refining < max_iter:
        iteration += 1
        observed = Observation(f"graphkit-step-{iteration}")
        step = _step(state, carry, modes).observe(
            observed,
            *(F.max(f"delta_{d}").alias(d) for d in deltas),
            F.max(F.col("first_reached").cast("int")).alias("first_reached"),
        )
        state = _checkpoint(step, iteration % checkpoint_every == 0)
        refining += not observed.get["first_reached"]
        residuals = {d: float(observed.get[d] or 0.0) for d in deltas}
        log.info("step %d: max change %s", iteration, residuals)
        worst = max(residuals, key=lambda d: residuals[d])
        if residuals[worst] <= tol:
            return state, iteration, residuals
        if not math.isfinite(residuals[worst]):
            raise ConvergenceError(worst, iteration, residuals[worst], "diverged")
    hint = "a loop of shares sums to 1?" if worst == "share" else "raise max_iter or tol"
    raise ConvergenceError(worst, max_iter, residuals[worst], hint)


def _checkpoint(frame: DataFrame, reliable: bool) -> DataFrame:
    """Materialise ``frame`` and cut its lineage: reliably if asked and a dir is set."""
    if reliable and frame.sparkSession.sparkContext.getCheckpointDir():
        return frame.checkpoint(eager=True)
    return frame.localCheckpoint(eager=True)


def certain_loop_nodes(carry: DataFrame) -> DataFrame:
    """Ids on a loop of confidence-1 edges (reach saturates them, as the embedded engine does).

    The certain edges go to the driver for the embedded engine's strongly-connected-
    components test; above CERTAIN_CORE_LIMIT edges, nodes without a certain in-edge or
    out-edge are first trimmed away in Spark (what remains are the loops and the chains
    between them, small in supply chains).
    """
    import numpy as np
    import pandas as pd
    from pyspark.sql import functions as F

    sure = carry.where(F.col("confidence") >= 1.0).select("src", "dst").distinct()
    sure = sure.localCheckpoint(eager=True)
    size, previous = sure.count(), None
    while size > CERTAIN_CORE_LIMIT and size != previous:
        heads = sure.select(F.col("dst").alias("src")).distinct()
        tails = sure.select(F.col("src").alias("dst")).distinct()
        sure = sure.join(heads, "src", "semi").join(tails, "dst", "semi")
        sure = sure.localCheckpoint(eager=True)
        size, previous = sure.count(), size
    if size > CERTAIN_CORE_LIMIT:
        raise GraphError(
            f"{size} edges lie on or between loops of confidence-1 edges (limit "
            f"{CERTAIN_CORE_LIMIT}); run with modes share,path or raise CERTAIN_CORE_LIMIT"
        )
    core = sure.toPandas()
    ids = pd.Index(pd.unique(core[["src", "dst"]].to_numpy().ravel()))
    src, dst = ids.get_indexer(core["src"]), ids.get_indexer(core["dst"])
    order = np.argsort(src, kind="stable")
    looped = ids[on_loops(len(ids), src[order], dst[order])] if len(ids) else ids
    frame = pd.DataFrame({"id": looped.astype(str)})
    return carry.sparkSession.createDataFrame(frame, "id string")


def _exposure_table(nodes, edges, scores, node_stats, state, modes) -> DataFrame:
    """One row per node with the embedded engine's columns; unasked modes are null."""
    from pyspark.sql import functions as F

    out_edges = edges.groupBy(F.col("src").alias("id")).agg(
        F.max((F.col("kind") == PART_OF).cast("int")).alias("part_of"),
    )
    table = (
        nodes.select("id", "kind", "name")
        .join(scores, "id")
        .join(state, "id")
        .join(node_stats, "id", "left")
        .join(out_edges, "id", "left")
    )
    final_product = (F.col("kind") == COMPONENT) & F.coalesce(F.col("part_of") == 0, F.lit(True))
    last_buyer = (F.col("kind") == SUPPLIER) & F.col("part_of").isNull()
    return table.select(
        "id",
        "kind",
        "name",
        F.col("s").alias("source_score"),
        *(
            (_clip01(F.col(m)) if m in modes else F.lit(None).cast("double")).alias(m)
            for m in MODES
        ),
        F.col("tier").cast("int").alias("tier"),
        (final_product | last_buyer).alias("buyer_facing"),
        F.coalesce("share_imputed", F.lit(False)).alias("share_imputed"),
        F.coalesce("unmapped", F.lit(1.0)).alias("unmapped"),
    )


# --- writing and the end-to-end run ---------------------------------------------------------


def write_exposures(table: DataFrame, out: str) -> str:
    """Write the exposures table as Parquet under ``out``; locally, all or nothing."""
    target = _join(out, EXPOSURES_DIR)
    if "://" in out:
        table.write.mode("overwrite").parquet(target)
        return target
    with staged_dir(target) as stage:
        table.write.mode("overwrite").parquet(str(stage))
    return target


def run(
    path: str,
    out: str,
    master: str | None = None,
    modes: Iterable[str] = MODES,
    conf: dict[str, str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Read, validate, propagate and write exposures; return the run record (run.json)."""
    spark = session(master, conf=conf)
    clock = time.perf_counter()
    nodes, edges = read_frames(spark, path)
    result = propagate(nodes, edges, modes, **options)
    written = write_exposures(result.table, out)
    counts = result.table.agg(*_exposed_counts(result.params["modes"])).first().asDict()
    record = {
        "input": path,
        "output": written,
        "master": spark.sparkContext.master,
        **counts,
        **result.params,
        "total_seconds": round(time.perf_counter() - clock, 3),
    }
    if "://" not in out:
        with atomic_file(Path(out) / RUN_FILE) as temp:
            temp.write_text(json.dumps(record, indent=2), encoding="utf-8")
    result.table.unpersist()
    return record


def run_on_bundle(
    bundle_path: str,
    out: str,
    master: str | None = None,
    modes: Iterable[str] = MODES,
    **options: Any,
) -> dict[str, Any]:
    """``run`` on a bundle screened here: read and screen it, export Parquet with its source
    scores to a temporary folder, propagate that on Spark."""
    from graphkit.engines.parquet import export_parquet
    from graphkit.io import read_bundle
    from graphkit.screen.sources import source_scores_for

    bundle = read_bundle(bundle_path)
    with tempfile.TemporaryDirectory(prefix="graphkit-spark-") as staging:
        staged = export_parquet(bundle, Path(staging) / "input", source_scores_for(bundle))
        return run(str(staged), out, master, modes, **options)


def _exposed_counts(modes: list[str]) -> list[Column]:
    from pyspark.sql import functions as F

    return [F.count("*").alias("nodes")] + [
        F.count(F.when(F.col(m) > 0, 1)).alias(f"exposed_{m}") for m in modes
    ]
