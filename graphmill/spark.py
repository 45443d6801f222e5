"""Spark helpers shared by the Spark stages: session set-up (for ``__main__`` modules and tests),
a scratch space for intermediate tables, and dense row numbering (in a sort order, or in input
order: files by path, then rows as in the file)."""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import uuid
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from pyspark import SparkConf
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import GraphMillError

log = logging.getLogger(__name__)

# Spark SQL types as objects, for casts and UDF results. A type written as a string ("double")
# goes through Spark's SQL parser (ANTLR), whose first use costs a fresh JVM about 0.6 CPU-s of
# parsing and compiling that nothing else in a job needs; an object travels as JSON instead.
STRING, DOUBLE, LONG, INT, FLOAT, BOOL = (T.StringType(), T.DoubleType(), T.LongType(),
                                          T.IntegerType(), T.FloatType(), T.BooleanType())
STRINGS, DOUBLES, LONGS, FLOATS = (T.ArrayType(t) for t in (STRING, DOUBLE, LONG, FLOAT))

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
    # While the JVM starts the main thread only waits for it: meanwhile, import what PySpark's
    # py4j converters import on their first use (pandas and numpy, about 0.4 s).
    threading.Thread(target=_preload, name="gm-preload", daemon=True).start()
    spark = builder.getOrCreate()
    if "spark.sql.shuffle.partitions" not in conf and not submitted.contains(
            "spark.sql.shuffle.partitions"):
        parallelism = spark.sparkContext.defaultParallelism
        spark.conf.set("spark.sql.shuffle.partitions", str(max(4, 2 * parallelism)))
    spark.sparkContext.setLogLevel(os.environ.get("GM_SPARK_LOG_LEVEL", "WARN"))
    log.info("Spark %s, master %s, shuffle partitions %s", spark.version,
             spark.sparkContext.master, spark.conf.get("spark.sql.shuffle.partitions"))
    return spark


def _preload() -> None:
    try:
        import pyspark.testing.utils  # noqa: F401  (imports pandas, numpy, pyarrow)
    except Exception:  # (without them PySpark works as it did: nothing is lost)
        pass


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
        return self.stored(df, name)[0]

    def stored(self, df: DataFrame, name: str) -> Tuple[DataFrame, str, List[str]]:
        """:meth:`table`, with where it was written and the names of its stored columns
        (``c{i}`` is the i-th name)."""
        with self._lock:
            path = f"{self.root}/{next(self._count):04d}-{_safe(name)}"
        names = df.columns
        stored = df.select(*[F.col(quote(c)).alias(f"c{i}") for i, c in enumerate(names)])
        stored.write.mode("errorifexists").parquet(path)
        back = read_written(self.spark, path, stored.schema)
        return back.select(*[F.col(f"c{i}").alias(c) for i, c in enumerate(names)]), path, names


def read_written(spark: SparkSession, path: str, schema) -> DataFrame:
    """A Parquet table this job has just written with ``schema``, read back. Given the schema,
    Spark runs no job to infer it from the files' footers (one job per read otherwise)."""
    return spark.read.schema(schema).parquet(path)


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
        return ordered.withColumn(out, F.lit(None).cast(LONG)).drop("__gm_mid"), 0
    table = F.create_map(*[F.lit(x).cast(LONG) for pair in offsets for x in pair])
    position = table[F.shiftright("__gm_mid", 33)] + F.col("__gm_mid").bitwiseAND(_LOW_BITS)
    return ordered.withColumn(out, position.cast(LONG)).drop("__gm_mid"), running


# Input order: a row's position among all rows of its table's files, files by path (their URIs
# as Spark's ``_metadata.file_path`` gives them), then rows as they are in the file.
IN_FILE, IN_ROW = "__gm_in_file", "__gm_in_row"  # where a CSV row was read (see FileOrder)
IN_POS = "__gm_in_pos"  # the position (with_positions)
_MAX_CASES = 16  # files beyond which with_positions joins a table instead of comparing


@dataclass(frozen=True)
class FileOrder:
    """How to find each row's position in input order from two columns of a table as read: the
    row's file URI (``file``) and its number in that file, or in the task that read it (``row``).
    ``offsets`` maps each file URI to what is added to ``row`` to give the position.

    Parquet: ``_metadata.file_path`` and ``_metadata.row_index``, with the rows of the files
    before (from the footers; :mod:`graphmill.parquet_footers`). A CSV file is read by one task
    (multiLine CSV is not split): ``IN_FILE`` and ``IN_ROW`` (``monotonically_increasing_id``)
    saved while it was read, with the rows before minus the file's first counter (a table of
    one file saves no ``IN_FILE``: :func:`with_positions` needs no name for it).
    """

    file: str
    row: str
    offsets: Dict[str, int] = field(default_factory=dict)

    @staticmethod
    def parquet(counts: Sequence[Tuple[str, int]]) -> "FileOrder":
        """The order of Parquet files, from (URI, rows) of each file."""
        offsets, running = {}, 0
        for uri, rows in sorted(counts):
            offsets[uri] = running
            running += rows
        return FileOrder("_metadata.file_path", "_metadata.row_index", offsets)


def with_positions(df: DataFrame, order: FileOrder) -> DataFrame:
    """``df`` with ``IN_POS``, each row's position in input order (see :class:`FileOrder`).

    Take it on the table as read (before any join or shuffle; filters and projections are fine):
    Parquet's ``_metadata`` columns only resolve against the file scan. A file not in the offsets
    fails the job with an internal error rather than giving a wrong position. (A table of one
    file needs no file name: its rows are that file's.)
    """
    path, row = F.col(order.file), F.col(order.row)
    if not order.offsets:  # no file has a row (a table of one file may not save file names)
        return df.withColumn(IN_POS, F.raise_error(F.lit(
            "internal: a row of a table whose files had no rows when scanned")).cast(LONG))
    if len(order.offsets) == 1:  # every row is from the one file: no file name to look at
        return df.withColumn(IN_POS, row + F.lit(next(iter(order.offsets.values()))))

    def unknown(uri: Column) -> Column:
        return F.raise_error(F.concat(F.lit("internal: no input position for file "), uri)) \
            .cast(LONG)

    if len(order.offsets) <= _MAX_CASES:
        offset = unknown(path)
        for uri, start in sorted(order.offsets.items(), reverse=True):
            offset = F.when(path == uri, F.lit(start)).otherwise(offset)
        return df.withColumn(IN_POS, offset + row)
    table = df.sparkSession.createDataFrame(list(order.offsets.items()), T.StructType([
        T.StructField("__gm_uri", STRING), T.StructField("__gm_offset", LONG)]))
    keyed = df.withColumn("__gm_uri", path).withColumn("__gm_row", row) \
        .join(F.broadcast(table), "__gm_uri", "left")
    offset = F.coalesce(F.col("__gm_offset"), unknown(F.col("__gm_uri")))
    return keyed.withColumn(IN_POS, offset + F.col("__gm_row")) \
        .drop("__gm_uri", "__gm_row", "__gm_offset")


def position_index(df: DataFrame, out: str, rows: int, kept: int,
                   scratch: Optional[Scratch] = None) -> Tuple[DataFrame, int]:
    """Add column ``out``: each row's position 0..n-1 in ``IN_POS`` order; return the frame
    (without ``IN_POS``) and n (= ``kept``, the rows of ``df``).

    ``rows`` is the rows of the files. When none was removed (``kept == rows``) the position is
    ``IN_POS`` itself, and nothing is sorted; otherwise the rows are sorted by it
    (:func:`dense_index`).
    """
    if kept == rows:
        return df.withColumnRenamed(IN_POS, out), kept
    keyed, n = dense_index(df, [IN_POS], out, scratch)
    return keyed.drop(IN_POS), n
