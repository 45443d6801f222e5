"""Reading the user's input tables, with every schema problem reported before any real job.

CSV is read as strings with the header's column names, RFC 4180 quotes (fields may hold the
separator, quotes and line breaks), the configured encoding, and a hidden column that catches
ragged rows (more or fewer fields than the header): :func:`scan` counts them, with the rows read
per file and the missing values per column, in one pass, and a ragged row is an error that names
the file and shows the row.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import InputError, Problems
from graphmill.hadoopfs import HadoopFS
from graphmill.spark import IN_FILE, IN_START, split_aggregates, with_input_order
from gsprocessing.config.schema import TableSource
from gsprocessing.transforms.base import quote

BAD_ROW = "__gm_bad_row"  # Spark's corrupt-record column: the raw text of a ragged CSV row
MAX_NULL_COLUMNS = 100    # wider tables get missing-value counts for the columns used only


@dataclass
class InputTable:
    """A loaded input table and where it came from (for error messages)."""

    df: DataFrame
    files: List[str]
    where: str
    source: TableSource
    rows_per_file: Dict[str, int] = field(default_factory=dict)
    nulls: Dict[str, int] = field(default_factory=dict)
    selected: Optional[int] = None  # rows of ``df`` when it is a filtered part of the files
    splits: Optional[List[Row]] = None  # its file splits, when scan found no missing id

    def describe(self) -> str:
        shown = ", ".join(self.files[:3]) + (f" (+{len(self.files) - 3} more)"
                                              if len(self.files) > 3 else "")
        return f"{self.where} ({shown})"

    @property
    def rows(self) -> int:
        """Rows of ``df``."""
        if self.selected is not None:
            return self.selected
        return sum(self.rows_per_file.values())


def resolve(prefix: str, path: str) -> str:
    """A config path made absolute: URIs and absolute paths stay, others join ``prefix``."""
    if "://" in path or path.startswith("/"):
        return path
    while path.startswith("./"):
        path = path[2:]
    return f"{prefix.rstrip('/')}/{path}"


def find_files(fs: HadoopFS, prefix: str, source: TableSource, where: str,
               problems: Problems) -> List[str]:
    """Every file the source names (globs expanded, directories listed), or a problem per miss."""
    found: List[str] = []
    for i, pattern in enumerate(source.files):
        path = resolve(prefix, pattern)
        matches = fs.glob(path)
        files: List[str] = []
        for m in matches:
            files.extend(fs.list_files(m) or [m])
        if not files:
            problems.add(f"{where}.files[{i}]", f"no file matches {path}")
        found.extend(files)
    return found


def read_table(spark: SparkSession, source: TableSource, files: List[str],
               where: str) -> InputTable:
    """Read CSV (every column as string, RFC 4180 quotes) or Parquet (native types)."""
    if source.format == "parquet":
        return InputTable(df=spark.read.parquet(*files), files=files, where=where, source=source)

    def reader():
        # multiLine: a quoted field may hold line breaks (RFC 4180); without it Spark would cut
        # such a row in two and fill the pieces with nulls.
        return (spark.read.option("header", source.header).option("sep", source.separator)
                .option("quote", '"').option("escape", '"').option("multiLine", True)
                .option("encoding", source.encoding))

    header = reader().option("inferSchema", False).csv(files).columns
    schema = T.StructType([T.StructField(c, T.StringType()) for c in header]
                          + [T.StructField(BAD_ROW, T.StringType())])
    df = (reader().schema(schema).option("mode", "PERMISSIVE")
          .option("columnNameOfCorruptRecord", BAD_ROW).csv(files))
    return InputTable(df=df, files=files, where=where, source=source)


def scan(table: InputTable, used: Sequence[str], ids: Sequence[str] = ()) -> None:
    """One pass over a table: rows per file, missing values per column, ragged CSV rows, and
    its file splits (:func:`graphmill.spark.input_splits`) when the ``ids`` columns are never
    missing (neither null nor empty), so that edge numbering can use them without a job.

    Raises:
        InputError: a CSV row has more or fewer fields than the header.
    """
    df = table.df
    columns = [c for c in df.columns if c != BAD_ROW]
    if len(columns) > MAX_NULL_COLUMNS:
        columns = [c for c in columns if c in set(used)]
    aggs = split_aggregates()  # n: the rows of the split
    aggs += [F.count(F.col(quote(c))).alias(f"__gm_c{i}") for i, c in enumerate(columns)]
    if ids:
        blank = [F.col(quote(c)).isNull() | (F.col(quote(c)).cast("string") == "") for c in ids]
        aggs.append(F.count_if(functools.reduce(operator.or_, blank)).alias("__gm_ids"))
    if BAD_ROW in df.columns:
        aggs.append(F.count(F.col(BAD_ROW)).alias("__gm_bad"))
    rows = with_input_order(df).groupBy(IN_FILE, IN_START).agg(*aggs).collect()
    rows_per_file: Dict[str, int] = {}
    for r in sorted(rows, key=lambda r: r[IN_FILE]):
        rows_per_file[r[IN_FILE]] = rows_per_file.get(r[IN_FILE], 0) + int(r.n)
    table.rows_per_file = rows_per_file
    table.nulls = {c: sum(int(r.n - r[f"__gm_c{i}"]) for r in rows)
                   for i, c in enumerate(columns)}
    table.nulls = {c: n for c, n in table.nulls.items() if n}
    if ids and not sum(int(r["__gm_ids"]) for r in rows):
        table.splits = rows  # each row: the split's file, start, lo, hi, n (and more)
    bad = sum(int(r["__gm_bad"]) for r in rows) if BAD_ROW in df.columns else 0
    if bad:
        # (Spark refuses a query of the corrupt-record column alone: one real column joins it.)
        examples = (df.where(F.col(BAD_ROW).isNotNull())
                    .select(F.input_file_name().alias("f"), F.col(BAD_ROW).alias("row"),
                            F.col(quote(columns[0])))
                    .limit(3).collect())
        shown = "; ".join(f"{r.f}: {r.row[:200]!r}" for r in examples)
        raise InputError(
            f"{table.where}: {bad} CSV row(s) do not have the {len(columns)} fields of the header "
            f"(separator {table.source.separator!r}), e.g. {shown}; fix the rows, quote fields "
            "that contain the separator, or set the right separator")


def check_columns(table: InputTable, needed: Dict[str, str], problems: Problems) -> None:
    """Add a problem for each needed column (name → what it is for) the table lacks."""
    have = [c for c in table.df.columns if c != BAD_ROW]
    for column, purpose in needed.items():
        if column not in have:
            problems.add(table.where, f"column '{column}' ({purpose}) is not in "
                                      f"{table.describe()}; its columns are: {', '.join(have)}")


def columns_of(spec_features: Sequence, extra: Dict[str, str]) -> Dict[str, str]:
    """Columns a block needs: ``extra`` (ids, labels) plus every feature's input columns."""
    needed = dict(extra)
    for f in spec_features:
        for c in f.columns:
            needed.setdefault(c, f"input of feature '{f.name}'")
    return needed
