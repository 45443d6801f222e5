"""Reading the user's input tables, with every schema problem reported before any real job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence

from pyspark.sql import DataFrame, SparkSession

from graphmill.errors import Problems
from graphmill.hadoopfs import HadoopFS
from gsprocessing.config.schema import TableSource


@dataclass
class InputTable:
    """A loaded input table and where it came from (for error messages)."""

    df: DataFrame
    files: List[str]
    where: str

    def describe(self) -> str:
        shown = ", ".join(self.files[:3]) + (f" (+{len(self.files) - 3} more)"
                                              if len(self.files) > 3 else "")
        return f"{self.where} ({shown})"


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
    if source.format == "csv":
        # multiLine: a quoted field may hold line breaks (RFC 4180); without it Spark would cut
        # such a row in two and fill the pieces with nulls.
        df = (spark.read.option("header", source.header).option("sep", source.separator)
              .option("quote", '"').option("escape", '"').option("inferSchema", False)
              .option("multiLine", True).csv(files))
    else:
        df = spark.read.parquet(*files)
    return InputTable(df=df, files=files, where=where)


def check_columns(table: InputTable, needed: Dict[str, str], problems: Problems) -> None:
    """Add a problem for each needed column (name → what it is for) the table lacks."""
    have = table.df.columns
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
