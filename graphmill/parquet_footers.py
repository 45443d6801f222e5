"""What the footers of Parquet files say about them, read on the driver without a Spark job:
their schema (:func:`file_schemas`), rows and missing values
(:func:`footer_stats`).

A Parquet footer holds each row group's row count and, per column chunk, statistics: the number
of nulls and the smallest and largest value. For the input tables that is enough to count rows
per file and missing values per column, and to know that an id column has no missing or empty
id, without reading a single row (at 10M edges, the scan job this replaces took about 10 s of
task time per table). Footers are read through Hadoop's FileSystem, so s3://, gs:// and hdfs://
work as Spark's own reads do.

Statistics are optional in Parquet: when a file lacks what is needed (no null count, a nested
column, a column missing from one file), :func:`footer_stats` returns None and the caller scans
the table instead. Nothing here guesses.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from pyspark.sql import types as T

from graphmill.hadoopfs import each_file

log = logging.getLogger(__name__)

MAX_FOOTER_FILES = 256  # beyond this, the statistics are not taken from footers (a job counts)


@dataclass
class ColumnStats:
    """One column of one file."""

    nulls: int
    maybe_empty: bool  # a string whose smallest value is "" (or not known): empty ids possible


@dataclass
class FileStats:
    """One Parquet file: its URI as Spark's ``_metadata.file_path`` gives it, its rows, and the
    statistics of the asked columns."""

    uri: str
    rows: int
    columns: Dict[str, ColumnStats]


def footer_stats(spark, files: Sequence[str], columns: Sequence[str],
                 footers: Optional[Sequence[Tuple[object, object]]] = None
                 ) -> Optional[List[FileStats]]:
    """Statistics of ``columns`` (top-level, primitive) in each of ``files``, or None when a
    footer does not have them all (or there are more than ``MAX_FOOTER_FILES`` files).
    ``footers``: the files' footers as :func:`read_footers` gives them, if read already."""
    if not files or len(files) > MAX_FOOTER_FILES:
        return None
    if footers is None:
        footers = read_footers(spark, files, "the table is scanned instead")
    result = []
    for name, (path, footer) in zip(files, footers):
        if footer is None:
            return None
        stats = _file_stats(footer, columns)
        if stats is None:
            log.info("%s: its footer has no complete statistics for %s; the table is scanned "
                     "instead", name, list(columns))
            return None
        rows, found = stats
        result.append(FileStats(uri=str(path.toUri().toString()), rows=rows, columns=found))
    return result


def read_footers(spark, files: Sequence[str], otherwise: str) -> List[Tuple[object, object]]:
    """(Hadoop path, ParquetMetadata or None) of each of ``files``, several at a time
    (:func:`graphmill.hadoopfs.each_file`); a footer that cannot be read is None (logged with
    what is done ``otherwise``)."""
    return each_file(_FooterReader(spark, otherwise), files)


def file_schemas(spark, files: Sequence[str], footers: Sequence[Tuple[object, object]]) -> List:
    """The Spark schema of each of ``files``, from its footer (as :func:`read_footers` gives
    them) as Spark's own schema inference reads it (the schema Spark wrote there, else the
    Parquet types converted; every field nullable), without the Spark job that inference runs;
    None where a footer was not read or not converted.

    Files whose schema and Spark metadata are those of another share its converted schema
    (one conversion, some 50 calls into the JVM, per distinct schema); each file is compared
    with the first read one, several at a time (a handful of calls each)."""
    read = [i for i, (_, footer) in enumerate(footers) if footer is not None]
    schemas: List = [None] * len(files)
    if not read:
        return schemas
    first = footers[read[0]][1]
    first_message, first_meta = first.getFileMetaData().getSchema(), _spark_metadata(first)

    def same(i: int) -> bool:
        footer = footers[i][1]
        return bool(first_message.equals(footer.getFileMetaData().getSchema())) and \
            _spark_metadata(footer) == first_meta

    alike = [True] + each_file(same, read[1:])
    # (Parquet schema, Spark's) → converted schema; None: the first file's
    converted: Dict[Optional[Tuple[str, Optional[str]]], object] = {}
    for i, is_first in zip(read, alike):
        path, footer = footers[i]
        key = None if is_first else (str(footer.getFileMetaData().getSchema().toString()),
                                     _spark_metadata(footer))
        if key not in converted:
            converted[key] = _converted(spark, files[i], path, footer)
        schemas[i] = converted[key]
    return schemas


def _spark_metadata(footer) -> Optional[str]:
    """The schema Spark wrote in the footer's key-value metadata (it wins over the Parquet
    types when Spark reads the file), if any."""
    return footer.getFileMetaData().getKeyValueMetaData().get(
        "org.apache.spark.sql.parquet.row.metadata")


def _converted(spark, name: str, path, footer):
    """The footer's schema as Spark's schema inference converts it; None if that fails."""
    parquet = spark.sparkContext._jvm.org.apache.spark.sql.execution.datasources.parquet
    try:
        converter = parquet.ParquetToSparkSchemaConverter(
            spark._jsparkSession.sessionState().conf())
        schema = parquet.ParquetFileFormat.readSchemaFromFooter(
            spark.sparkContext._jvm.org.apache.parquet.hadoop.Footer(path, footer), converter)
        return _nullable(T.StructType.fromJson(json.loads(schema.json())))
    except Exception as err:  # noqa: BLE001  (py4j: the class or method may differ by version)
        log.info("%s: schema not converted here (%s); Spark reads it", name,
                 str(err).splitlines()[0][:200])
        return None


def _nullable(dtype):
    """``dtype`` with every field, element and value nullable, as Spark's file sources read."""
    if isinstance(dtype, T.StructType):
        return T.StructType([T.StructField(f.name, _nullable(f.dataType), True, f.metadata)
                             for f in dtype.fields])
    if isinstance(dtype, T.ArrayType):
        return T.ArrayType(_nullable(dtype.elementType), True)
    if isinstance(dtype, T.MapType):
        return T.MapType(_nullable(dtype.keyType), _nullable(dtype.valueType), True)
    return dtype


class _FooterReader:
    """Reads one file's footer: (Hadoop path, its ParquetMetadata), or (path, None) when it
    cannot be read (logged with what is done ``otherwise``). The JVM classes are looked up
    once (each package of a name written out is a call into the JVM)."""

    def __init__(self, spark, otherwise: str):
        jvm = spark.sparkContext._jvm
        self.path = jvm.org.apache.hadoop.fs.Path
        self.input_file = jvm.org.apache.parquet.hadoop.util.HadoopInputFile
        self.reader = jvm.org.apache.parquet.hadoop.ParquetFileReader
        self.conf = spark.sparkContext._jsc.hadoopConfiguration()
        self.otherwise = otherwise

    def __call__(self, name: str):
        path = self.path(name)
        try:
            reader = self.reader.open(self.input_file.fromPath(path, self.conf))
        except Exception as err:  # noqa: BLE001  (py4j wraps whatever the reader raises)
            log.info("%s: footer not read (%s); %s", name, str(err).splitlines()[0][:200],
                     self.otherwise)
            return path, None
        try:
            return path, reader.getFooter()
        finally:
            reader.close()


def _file_stats(footer, columns: Sequence[str]):
    """(rows, {column: ColumnStats}) summed over the row groups, or None if incomplete."""
    wanted = set(columns)
    rows = 0
    found: Dict[str, ColumnStats] = {}
    blocks = _java_list(footer.getBlocks())
    for block in blocks:
        rows += int(block.getRowCount())
        seen = set()
        for chunk in _java_list(block.getColumns()):
            path = chunk.getPath()
            if path.size() != 1:
                continue  # (a nested column's leaf)
            name = path.toDotString()
            if name not in wanted:
                continue
            seen.add(name)
            s = chunk.getStatistics()
            if s is None or s.isEmpty() or not s.isNumNullsSet():
                return None
            nulls = int(s.getNumNulls())
            maybe_empty = False
            if str(chunk.getPrimitiveType().getPrimitiveTypeName().name()) == "BINARY":
                # All-null chunks have no min; otherwise the min says whether "" is there.
                maybe_empty = bool(s.hasNonNullValue()) and s.genericGetMin().length() == 0
            prev = found.get(name)
            found[name] = ColumnStats(nulls=nulls + (prev.nulls if prev else 0),
                                      maybe_empty=maybe_empty or bool(prev and prev.maybe_empty))
        if seen != wanted:
            return None  # a column that is nested, or not in this file
    if not blocks:
        found = {c: ColumnStats(nulls=0, maybe_empty=False) for c in columns}
    return rows, found


def _java_list(jlist) -> list:
    """The elements of a ``java.util.List``, by index. (py4j's iterator over a Java collection
    ends by a Java exception, which PySpark's exception hook checks against some 14 classes: 56
    calls into the JVM each time a loop ends.)"""
    return [jlist.get(i) for i in range(jlist.size())]


def written_rows(spark, fs, directory: str) -> int:
    """Rows of a Parquet table this job has written: from its files' footers (no job), or, with
    more files than :data:`MAX_FOOTER_FILES`, counted by Spark (which also reads footers)."""
    stats = footer_stats(spark, fs.list_files(directory), [])
    if stats is None:
        return spark.read.parquet(directory).count()
    return sum(f.rows for f in stats)
