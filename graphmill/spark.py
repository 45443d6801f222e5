"""Spark helpers shared by the Spark stages: session set-up (for ``__main__`` modules and tests),
a scratch space for intermediate tables, and dense row numbering (in a sort order, or in input
order)."""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import uuid
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from pyspark import SparkConf
from pyspark.sql import Column, DataFrame, Observation, Row, SparkSession
from pyspark.sql import functions as F

from graphmill.errors import GraphMillError

log = logging.getLogger(__name__)

# Small and medium jobs drown in Spark's default of 200 shuffle partitions (DESIGN.md: 504 s vs
# 135 s on a 1M-edge graph); adaptive execution still coalesces what is too small.
LOCAL_DEFAULTS = {
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": os.environ.get("GM_SPARK_DRIVER_MEMORY", "6g"),
    # Spark's progress bar on a terminal; in logs and CI it only adds noise.
    "spark.ui.showConsoleProgress": "true" if sys.stderr.isatty() else "false",
}


def parse_conf(items: Sequence[str]) -> Dict[str, str]:
    """``["k=v", ...]`` from ``--spark-conf`` into a dict, with a clear error for a bad item."""
    conf = {}
    for item in items:
        if "=" not in item:
            raise GraphMillError(f"--spark-conf {item!r}: expected KEY=VALUE, "
                                 "e.g. spark.sql.shuffle.partitions=64")
        key, value = item.split("=", 1)
        conf[key.strip()] = value.strip()
    return conf


def make_spark(app_name: str, conf: Optional[Dict[str, str]] = None):
    """Get the SparkSession: the cluster's under spark-submit, else ``local[*]`` with defaults.

    User settings in ``conf`` win over every default.
    """
    active = SparkSession.getActiveSession()
    if active is not None:  # e.g. a test's session, or an embedding application's
        for key, value in (conf or {}).items():
            active.conf.set(key, value)
        return active
    conf = dict(conf or {})
    submitted = SparkConf()  # holds spark-submit's settings when launched by it
    builder = SparkSession.builder.appName(app_name)
    master = conf.get("spark.master") or submitted.get("spark.master", None)
    if master is None:
        builder = builder.master("local[*]")
    if master is None or master.startswith("local"):
        # Python workers (pandas UDFs) must run this interpreter, with its packages: Spark's
        # default is whatever "python3" is first on PATH (e.g. a venv that is not activated).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        for key, value in LOCAL_DEFAULTS.items():
            if not submitted.contains(key):
                builder = builder.config(key, value)
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if "spark.sql.shuffle.partitions" not in conf and not submitted.contains(
            "spark.sql.shuffle.partitions"):
        parallelism = spark.sparkContext.defaultParallelism
        spark.conf.set("spark.sql.shuffle.partitions", str(max(4, 2 * parallelism)))
    spark.sparkContext.setLogLevel(os.environ.get("GM_SPARK_LOG_LEVEL", "WARN"))
    log.info("Spark %s, master %s, shuffle partitions %s", spark.version,
             spark.sparkContext.master, spark.conf.get("spark.sql.shuffle.partitions"))
    return spark


class Scratch:
    """Intermediate tables of one job, written once as Parquet under ``root`` and read back.

    Spark recomputes a DataFrame for every action on it: a table that later steps read several
    times (edges joined with the id maps, a sorted frame being numbered) is written once
    instead. Parquet rather than ``persist``/``localCheckpoint``: it is columnar and compressed
    and needs no executor heap (7M joined edges, 4 columns: 9 s to write vs 20 s to persist, and
    reading it back is under a second). Columns are stored as c0, c1, ... (Parquet and Spark
    restrict some characters in names) and get their names back on reading.
    """

    def __init__(self, spark: SparkSession, root: str):
        self.spark = spark
        self.root = root.rstrip("/")
        self._lock = threading.Lock()
        self._count = itertools.count()

    def table(self, df: DataFrame, name: str) -> DataFrame:
        """``df`` written, and read back."""
        with self._lock:
            path = f"{self.root}/{next(self._count):04d}-{_safe(name)}"
        names = df.columns
        df.select(*[F.col(quote(c)).alias(f"c{i}") for i, c in enumerate(names)]) \
            .write.mode("errorifexists").parquet(path)
        back = self.spark.read.parquet(path)
        return back.select(*[F.col(f"c{i}").alias(c) for i, c in enumerate(names)])


def observe(df: DataFrame, metrics: Dict[str, Column]) -> Tuple[DataFrame, Callable[[], Dict]]:
    """``df`` with aggregates over its rows computed while the next action runs over it (no pass
    of their own), and a function that returns their values once that action has run."""
    observation = Observation(f"gm-{uuid.uuid4().hex}")
    df = df.observe(observation, *[e.alias(k) for k, e in metrics.items()])
    return df, lambda: observation.get


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:60]


def quote(column: str) -> str:
    """Backtick-quote a column name so names like ``~id`` or ``a.b`` are taken literally."""
    return "`" + column.replace("`", "``") + "`"


_LOW_BITS = (1 << 33) - 1  # monotonically_increasing_id = partition index << 33 | row in partition


def dense_index(df: DataFrame, order: Sequence[Union[str, Column]], out: str,
                scratch: Optional[Scratch] = None) -> Tuple[DataFrame, int]:
    """Add column ``out``: each row's position 0..n-1 in the total order given by ``order``.

    Returns the frame and n.

    ``order`` must be a total order (unique keys), or ties must be rows that are interchangeable.
    The sorted frame is materialized once (as Parquet in ``scratch``, else as a local
    checkpoint) so the per-partition counts and the numbering come from the same partitioning.
    """
    ordered = df.orderBy(*order).withColumn("__gm_mid", F.monotonically_increasing_id())
    if scratch is not None:
        ordered = scratch.table(ordered, "sorted")
    else:
        ordered = ordered.localCheckpoint(eager=True)
    counts = (ordered.groupBy(F.shiftright("__gm_mid", 33).alias("pid")).count()
              .orderBy("pid").collect())
    offsets: List[Tuple[int, int]] = []
    running = 0
    for row in counts:
        offsets.append((row.pid, running))
        running += row["count"]
    if not offsets:
        return ordered.withColumn(out, F.lit(None).cast("long")).drop("__gm_mid"), 0
    table = F.create_map(*[F.lit(x).cast("long") for pair in offsets for x in pair])
    position = table[F.shiftright("__gm_mid", 33)] + F.col("__gm_mid").bitwiseAND(_LOW_BITS)
    return ordered.withColumn(out, position.cast("long")).drop("__gm_mid"), running


# The columns :func:`with_input_order` adds: where each row was read (file, start of its split)
# and a per-partition row counter.
IN_FILE, IN_START, IN_ROW = "__gm_in_file", "__gm_in_start", "__gm_in_row"


def with_input_order(df: DataFrame) -> DataFrame:
    """``df`` with the columns :func:`input_order_index` numbers rows by.

    Call it on a frame that is only a file scan plus narrow steps (filters, projections): the
    file name is only known before a shuffle, and the row counter only follows the file's order
    there.
    """
    return df.withColumn(IN_FILE, F.input_file_name()) \
        .withColumn(IN_START, F.input_file_block_start()) \
        .withColumn(IN_ROW, F.monotonically_increasing_id())


_MAX_RANGES = 256  # splits beyond which input_order_index joins a table instead of a search tree


def _range_lookup(x: Column, ranges: Sequence[Tuple[int, int]]) -> Column:
    """The value of the range ``x`` falls in: ``ranges`` are (start, value) sorted by start, each
    range ending where the next starts (a balanced tree of comparisons)."""
    if len(ranges) == 1:
        return F.lit(ranges[0][1]).cast("long")
    mid = len(ranges) // 2
    return F.when(x < ranges[mid][0], _range_lookup(x, ranges[:mid])) \
        .otherwise(_range_lookup(x, ranges[mid:]))


def split_aggregates() -> List[Column]:
    """What :func:`input_order_index` needs of each split, grouped by (``IN_FILE``,
    ``IN_START``): the lowest and highest row counter (lo, hi) and the rows (n)."""
    return [F.min(IN_ROW).alias("lo"), F.max(IN_ROW).alias("hi"), F.count(F.lit(1)).alias("n")]


def input_splits(df: DataFrame) -> List[Row]:
    """Per file split of a frame with :func:`with_input_order`'s columns: file, start and
    :func:`split_aggregates` (one small aggregate job)."""
    splits = df.groupBy(IN_FILE, IN_START).agg(*split_aggregates()).collect()
    if any(not r[IN_FILE] for r in splits):
        raise GraphMillError("internal: rows without an input file; with_input_order must be "
                             "applied before any shuffle")
    return splits


def input_order_index(df: DataFrame, out: str, splits: Sequence[Row],
                      scratch: Optional[Scratch] = None) -> Tuple[DataFrame, int]:
    """Add column ``out``: each row's position 0..n-1 in input order (files by path, then rows in
    file order) among the rows of ``df``; return the frame (without the input-order columns)
    and n.

    ``df`` carries :func:`with_input_order`'s columns, which must hold the same values for every
    job on it: a materialized table (e.g. :class:`Scratch`), or the same files read again through
    the same steps (Spark plans the same splits, read in the same order). Rows may have been
    joined or shuffled since. ``splits`` is :func:`input_splits` of ``df``. The order does not
    depend on how Spark split the files.

    When no row was removed from inside a split (its row counters are consecutive), a row's
    position is its counter plus its split's offset, found from the counter alone (a tree of
    comparisons; beyond 256 splits, a join on the file and split start), and nothing is sorted.
    Otherwise (rows dropped in between, e.g. dangling edges) the rows are sorted by (file, split
    start, counter): :func:`dense_index`.
    """
    inputs = (IN_FILE, IN_START, IN_ROW)
    if any(r.hi - r.lo + 1 != r.n for r in splits):
        keyed, n = dense_index(df, list(inputs), out, scratch)
        return keyed.drop(*inputs), n
    ordered = sorted(splits, key=lambda r: (r[IN_FILE], r[IN_START]))
    deltas, running = [], 0  # per split: its offset minus its lowest counter
    for r in ordered:
        deltas.append(running - r.lo)
        running += r.n
    if not ordered:
        return df.withColumn(out, F.lit(None).cast("long")).drop(*inputs), 0
    if len(ordered) <= _MAX_RANGES:
        # The counters of different splits never overlap (a partition's index is in their high
        # bits), so where each split's counters start is enough to find a row's split.
        delta = _range_lookup(F.col(IN_ROW), sorted(zip([r.lo for r in ordered], deltas)))
        return df.withColumn(out, F.col(IN_ROW) + delta).drop(*inputs), running
    table = df.sparkSession.createDataFrame(
        [(r[IN_FILE], r[IN_START], d) for r, d in zip(ordered, deltas)],
        f"{IN_FILE} string, {IN_START} long, __gm_delta long")
    keyed = df.join(F.broadcast(table), [IN_FILE, IN_START]) \
        .withColumn(out, F.col(IN_ROW) + F.col("__gm_delta"))
    return keyed.drop(*inputs, "__gm_delta"), running
