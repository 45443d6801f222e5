"""Reading the user's input tables, with every schema problem reported before any real job.

CSV is read as strings with the header's column names (read without a Spark job:
:func:`csv_header`; every file's header must be the first's: :func:`header_mismatches`), RFC
4180 quotes (fields may hold the separator, quotes and line breaks), the configured encoding,
and a hidden column that catches ragged rows (more or fewer fields than the header):
:func:`scan` counts them, with the rows read per file and the missing values per column, in one
pass, and a ragged row is an error that names the file and shows the row.

Parquet is read with its native types and the first file's schema, as Spark does; every file's
footer is read, and a file without a column the config reads, or with it in a type Spark cannot
read as the first file's, is reported (:func:`check_columns`).
"""

from __future__ import annotations

import codecs
import functools
import operator
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import GraphMillError, InputError, Problems
from graphmill.hadoopfs import HadoopFS, each_file, file_uris
from graphmill.parquet_footers import MAX_FOOTER_FILES, file_schemas, footer_stats, read_footers
from graphmill.spark import IN_FILE, IN_ROW, STRING, FileOrder, Scratch, observe
from gsprocessing import hdf5
from gsprocessing.config.schema import TableSource
from gsprocessing.transforms import TRANSFORMS
from gsprocessing.transforms.base import not_a_number, parse_number, quote, raise_bad_numbers

BAD_ROW = "__gm_bad_row"  # Spark's corrupt-record column: the raw text of a ragged CSV row
INTERNAL = (BAD_ROW, IN_FILE, IN_ROW)  # columns a table as read may have that are not the user's
MAX_NULL_COLUMNS = 100    # wider tables get missing-value counts for the columns used only
MAX_OBSERVED_FILES = 16  # CSV files beyond which rows per file are counted by a job of their own
HEADER_BYTES = 1 << 20  # a CSV header record longer than this is left to Spark (a job)
HEAD_BYTES = 64 << 10  # read first from each file for its header (HEADER_BYTES if it needs more)


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
    order: Optional[FileOrder] = None  # each row's input position (set by scan)
    complete_ids: bool = False  # scan found no missing (null or empty) value in the id columns
    problems: List[str] = field(default_factory=list)  # found while opening, reported together
    # Parquet: each file's schema from its footer (None: not read), and the footers themselves
    # (read_footers) for scan's statistics when there are at most MAX_FOOTER_FILES files.
    file_schemas: Optional[List] = None
    footers: Optional[List] = None
    # where scan parsed a CSV (JSON, HDF5) table into the scratch space, and the names of the
    # stored columns (c0, c1, ...): the local engine reads it (gsprocessing.local_nodes)
    copy: Optional[Tuple[str, List[str]]] = None

    def describe(self) -> str:
        shown = ", ".join(self.files[:3]) + (f" (+{len(self.files) - 3} more)"
                                              if len(self.files) > 3 else "")
        return f"{self.where} ({shown})"

    @property
    def rows(self) -> int:
        """Rows of ``df``."""
        if self.selected is not None:
            return self.selected
        return self.file_rows

    @property
    def file_rows(self) -> int:
        """Rows of the files (``df`` may be a filtered part of them)."""
        return sum(self.rows_per_file.values())


def check_aligned_rows(table: InputTable, id_table: InputTable, ids: str, id_keys: str) -> None:
    """A block without ids (GConstruct) is matched to its type's block with the ids (``ids``:
    e.g. "column 'id'") row by row: both must have the same rows. ``id_keys``: the config keys
    that would name the ids in ``table``'s block."""
    if table.rows != id_table.rows:
        raise InputError(f"{table.describe()}: {table.rows} row(s), but {id_table.describe()} "
                         f"(the block with the ids, {ids}) has {id_table.rows}: a block without "
                         f"{id_keys} is matched to the ids row by row, in input order (files by "
                         "name, then rows); give both the same rows, or name the ids in this "
                         "block too")


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
        files = expand(fs, path)
        if not files:
            problems.add(f"{where}.files[{i}]", f"no file matches {path}")
        found.extend(files)
    return found


def expand(fs: HadoopFS, path: str) -> List[str]:
    """The files ``path`` names: a glob's matches, each directory's data files listed."""
    files: List[str] = []
    for m in fs.glob(path):
        files.extend(fs.list_files(m) or [m])
    return files


def read_table(spark: SparkSession, source: TableSource, files: List[str], where: str,
               fs: Optional[HadoopFS] = None, needed: Sequence[str] = ()) -> InputTable:
    """Read CSV (every column as string, RFC 4180 quotes), Parquet (native types), JSON lines
    or HDF5; ``fs``: the run's file system (else one is made). ``needed``: the columns the
    config reads (HDF5 checks those in every file; :func:`scan` reads them)."""
    if source.format == "hdf5":  # (its rows are read by the scan: hdf5.rows)
        schema, problems = hdf5.read_schema(spark, files, where, needed)
        return InputTable(df=spark.createDataFrame([], schema), files=files, where=where,
                          source=source, problems=problems)
    if source.format == "parquet":
        # Every file's footer: its schema is checked against the first's (check_columns), and
        # the first's is the table's (Spark's schema inference would run a job for it).
        footers = read_footers(spark, files, "Spark reads it")
        schemas = file_schemas(spark, files, footers)
        if schemas[0] is not None:
            twins = [v for v in _by_lower_name(schemas[0]).values() if isinstance(v, list)]
            if twins:  # (Spark: "[COLUMN_ALREADY_EXISTS] The column `x` already exists")
                raise InputError(f"{where}: {files[0]} has columns whose names differ only in "
                                 f"case ({'; '.join(', '.join(t) for t in twins)}), which Spark "
                                 "cannot tell apart: it reads Parquet columns whatever their "
                                 "case; rename or drop all but one of each")
        reader = spark.read if schemas[0] is None else spark.read.schema(schemas[0])
        return InputTable(df=reader.parquet(*files), files=files, where=where, source=source,
                          file_schemas=schemas,
                          footers=footers if len(files) <= MAX_FOOTER_FILES else None)

    if source.format == "json":
        return _read_json(spark, source, files, where)

    def reader():
        # multiLine: a quoted field may hold line breaks (RFC 4180); without it Spark would cut
        # such a row in two and fill the pieces with nulls.
        return (spark.read.option("header", source.header).option("sep", source.separator)
                .option("quote", '"').option("escape", '"').option("multiLine", True)
                .option("encoding", source.encoding))

    fs = fs or HadoopFS(spark)
    problems: List[str] = []
    if source.header and len(files) > 1:  # every file's header, to compare them
        records = _file_records(fs, source, files)
        header = _names(source, next((r for r in records if r != []), []))
        if header is not None:
            problems = header_mismatches(files, records)
    else:
        header = csv_header(fs, source, files)
    if header is None:  # (Spark reads it: one job)
        header = reader().option("inferSchema", False).csv(files).columns
    schema = T.StructType([T.StructField(c, T.StringType()) for c in header]
                          + [T.StructField(BAD_ROW, T.StringType())])
    df = (reader().schema(schema).option("mode", "PERMISSIVE")
          .option("columnNameOfCorruptRecord", BAD_ROW).csv(files))
    if source.missing_values:  # (before anything counts or parses a value)
        marks = list(source.missing_values)
        df = df.select(*[F.when(F.trim(F.col(quote(c))).isin(marks), F.lit(None).cast(STRING))
                         .otherwise(F.col(quote(c))).alias(c) for c in header], BAD_ROW)
    return InputTable(df=df, files=files, where=where, source=source, problems=problems)


def _read_json(spark: SparkSession, source: TableSource, files: List[str],
               where: str) -> InputTable:
    """JSON lines (GConstruct's ``json``: one object a line, blank lines skipped), with native
    types as Spark infers them over every file (one job). Each file is read whole by one task
    and its lines numbered: a row's place in its file is exact (Spark's JSON reader splits a
    file among tasks, and tells no line number), so ``IN_FILE`` and ``IN_ROW`` come with the
    rows and :func:`scan` orders them as CSV rows. A line that is not a JSON object is a bad
    row (``BAD_ROW``: its text), which the scan reports."""
    inferred = spark.read.json(files).schema
    fields = [f for f in inferred.fields if f.name != "_corrupt_record"]
    schema = T.StructType(fields + [T.StructField(BAD_ROW, T.StringType())])
    whole = spark.read.text(files, wholetext=True)  # (text()'s own argument, not an option)
    lines = whole.select(F.col("_metadata.file_path").alias(IN_FILE), F.posexplode(
        F.filter(F.split(F.col("value"), "\n"), lambda line: line.rlike("\\S"))
    ).alias(IN_ROW, "__gm_line"))
    parsed = F.from_json(F.col("__gm_line"), schema, {"mode": "PERMISSIVE",
                                                       "columnNameOfCorruptRecord": BAD_ROW})
    df = lines.select(IN_FILE, IN_ROW, parsed.alias("__gm_record")).select(
        *[F.col("__gm_record").getField(f.name).alias(f.name) for f in schema.fields],
        IN_FILE, IN_ROW)
    return InputTable(df=df, files=files, where=where, source=source)


def csv_header(fs: HadoopFS, source: TableSource, files: Sequence[str]) -> Optional[List[str]]:
    """The column names Spark's CSV reader gives ``files``, read without a Spark job (about
    0.5 s of a run's start-up): the first record of the first file that has one, named as
    Spark names them (an empty name is ``_c<i>``, a name repeated, in any case, gets its
    index appended); ``_c0, _c1, ...`` without a header. None when it cannot be read here (a
    first record over ``HEADER_BYTES``): Spark then reads it."""
    for path in files:
        fields = _file_record(fs, source, path)
        if fields != []:
            return _names(source, fields)
    return []  # (no file has a record: Spark finds no column either)


def _names(source: TableSource, fields: Optional[List[str]]) -> Optional[List[str]]:
    """The column names Spark gives a first record's ``fields`` (None: not read here)."""
    if fields is None:
        return None
    return _spark_names(fields) if source.header else [f"_c{i}" for i in range(len(fields))]


def header_mismatches(files: Sequence[str],
                      records: Sequence[Optional[List[str]]]) -> List[str]:
    """One message per file whose header (its first record, in ``records``) differs from the
    first file's.

    Spark takes the column names from one file and drops the first record of every other file
    unread, taking their fields by position: a file with its columns in another order would
    have its values put under the wrong names, silently (Spark only logs it). Headers are
    compared as Spark resolves names (case-insensitively); empty files are skipped, and so is
    a header too long to be read here (see :func:`csv_header`).
    """
    found = [(path, fields) for path, fields in zip(files, records) if fields]
    if not found:
        return []
    first, expected = found[0]
    messages = []
    for path, fields in found[1:]:
        if [f.lower() for f in fields] != [f.lower() for f in expected]:
            messages.append(
                f"the header of {path} is {_shown(fields)}, not {_shown(expected)} as in "
                f"{first}: Spark takes every file's columns by position, so its values would "
                "be read under the wrong names; write the columns of every file of a table in "
                "one order, or give such files a block of their own")
    return messages


def _shown(fields: Sequence[str]) -> str:
    text = ", ".join(repr(f) for f in fields[:12])
    return f"[{text}{', ...' if len(fields) > 12 else ''}] ({len(fields)} columns)"


def _file_records(fs: HadoopFS, source: TableSource,
                  files: Sequence[str]) -> List[Optional[List[str]]]:
    """:func:`_file_record` of every file, several at once (:func:`each_file`)."""
    return each_file(lambda path: _file_record(fs, source, path), files)


def _file_record(fs: HadoopFS, source: TableSource, path: str) -> Optional[List[str]]:
    """The fields of the first record of one file ([] when it has none; None when it is longer
    than ``HEADER_BYTES``): ``HEAD_BYTES`` are read first, the rest only when it needs more."""
    for size in dict.fromkeys((min(HEAD_BYTES, HEADER_BYTES), HEADER_BYTES)):
        data = fs.head(path, size)
        whole = len(data) < size
        text = codecs.getincrementaldecoder(source.encoding)(errors="replace").decode(
            data, final=whole)
        fields = _first_record(text.lstrip("\ufeff"), source.separator, whole)
        if fields is not None or whole:
            return fields
    return None


def _first_record(text: str, separator: str, whole: bool) -> Optional[List[str]]:
    """The fields of the first record of CSV ``text`` (blank lines skipped; RFC 4180 quotes: a
    field that starts with one may hold separators and line breaks, ``""`` inside it is a
    quote; ``separator`` may have several characters); [] when there is none, None when it does
    not end within ``text`` (``whole``: the text is the whole file)."""
    i, n = 0, len(text)
    while i < n and text[i] in "\r\n":
        i += 1
    if i == n:
        return [] if whole else None
    fields: List[str] = []
    field: List[str] = []
    quoted, fresh = False, True  # inside quotes; at the start of a field
    while i < n:
        ch = text[i]
        i += 1
        if quoted:
            if ch != '"':
                field.append(ch)
            elif i < n and text[i] == '"':
                field.append('"')
                i += 1
            elif i == n and not whole:
                return None  # (a quote doubled across the end of what was read?)
            else:
                quoted = False
        elif ch == '"' and fresh:
            quoted, fresh = True, False
        elif ch == separator[0] and text.startswith(separator, i - 1):
            fields.append("".join(field))
            field, fresh = [], True
            i += len(separator) - 1
        elif ch in "\r\n":
            return fields + ["".join(field)]
        else:
            field.append(ch)
            fresh = False
    return fields + ["".join(field)] if whole and not quoted else None


def _spark_names(names: Sequence[str]) -> List[str]:
    """A header's fields as Spark names its columns (``CSVUtils.makeSafeHeader``, with Spark's
    default case-insensitive names)."""
    lower = [n.lower() for n in names if n]
    repeated = {n for n in lower if lower.count(n) > 1}
    return [f"_c{i}" if not n else _repeated_name(n, i) if n.lower() in repeated else n
            for i, n in enumerate(names)]


def _repeated_name(name: str, position: int) -> str:
    """What Spark calls a header's ``name`` at ``position`` when the header repeats it."""
    return f"{name}{position}"


def scan(table: InputTable, used: Sequence[str], ids: Sequence[str] = (),
         scratch: Optional[Scratch] = None, numbers: Optional[Mapping[str, str]] = None) -> None:
    """Rows per file, missing values per column, ragged CSV rows, each row's input position
    (``table.order``) and whether the ``ids`` columns are never missing (neither null nor empty:
    ``table.complete_ids``).

    Parquet files whose footers have the statistics (:mod:`graphmill.parquet_footers`) need no
    job; other Parquet tables one aggregate job. A CSV table is parsed once, into ``scratch``
    (only the ``used`` columns, with where each row was read), and counted on the way:
    ``table.df`` then reads that copy, and nothing parses the CSV again. Its columns that are
    read only as numbers (``numbers``: column → where the feature that reads it is, see
    :func:`number_columns`) are copied parsed, as doubles (null: missing), and a value that is
    not a number is reported here (the missing-value counts are of the text).

    Raises:
        InputError: a CSV row has more or fewer fields than the header, or a value of a
            ``numbers`` column is not a number.
    """
    if table.source.format == "hdf5":
        have = set(table.df.columns)
        table.df = hdf5.rows(table.df.sparkSession, table.files, table.df.schema,
                             [c for c in dict.fromkeys([*used, *ids]) if c in have], BAD_ROW)
    df = table.df
    columns = [c for c in df.columns if c not in INTERNAL]
    if len(columns) > MAX_NULL_COLUMNS:
        columns = [c for c in columns if c in set(used)]
    aggs = {f"__gm_c{i}": F.count(F.col(quote(c))) for i, c in enumerate(columns)}
    if ids:
        blank = [F.col(quote(c)).isNull() | (F.col(quote(c)).cast(STRING) == "") for c in ids]
        aggs["__gm_ids"] = F.count_if(functools.reduce(operator.or_, blank))
    if table.source.format == "parquet":
        if not _from_footers(table, columns, ids):
            _scan_parquet(table, columns, aggs)
    else:  # (JSON values have their types: none is parsed as a number in the copy)
        _scan_csv(table, columns, [c for c in df.columns if c in set(used)], aggs, scratch,
                  dict(numbers or {}) if table.source.format == "csv" else {})


def _counted(table: InputTable, columns: Sequence[str], values: Dict, rows: int) -> None:
    """Set the missing values and ``complete_ids`` from :func:`scan`'s aggregates."""
    nulls = {c: rows - int(values[f"__gm_c{i}"]) for i, c in enumerate(columns)}
    table.nulls = {c: n for c, n in nulls.items() if n}
    table.complete_ids = "__gm_ids" in values and not values["__gm_ids"]


def _from_footers(table: InputTable, columns: Sequence[str], ids: Sequence[str]) -> bool:
    """:func:`scan` from the Parquet footers; False when they do not have what it needs."""
    wanted = list(dict.fromkeys([*columns, *ids]))
    files = footer_stats(table.df.sparkSession, table.files, wanted, table.footers)
    if files is None:
        return False
    table.rows_per_file = {name: f.rows for name, f in zip(table.files, files)}
    nulls = {c: sum(f.columns[c].nulls for f in files) for c in columns}
    table.nulls = {c: n for c, n in nulls.items() if n}
    table.complete_ids = bool(ids) and not any(
        f.columns[c].nulls or f.columns[c].maybe_empty for f in files for c in ids)
    table.order = FileOrder.parquet([(f.uri, f.rows) for f in files])
    return True


def _scan_parquet(table: InputTable, columns: Sequence[str], aggs: Dict) -> None:
    """:func:`scan` of Parquet files without the footer statistics: one job, grouped by file."""
    path = F.col("_metadata.file_path")
    per_file = table.df.groupBy(path.alias("uri")).agg(
        F.count(F.lit(1)).alias("n"), *[e.alias(k) for k, e in aggs.items()]).collect()
    by_uri = {r.uri: r for r in per_file}
    uris = file_uris(table.df.sparkSession, table.files)
    table.rows_per_file = {name: int(by_uri[u].n) if u in by_uri else 0
                           for name, u in zip(table.files, uris)}
    total = {k: sum(int(r[k]) for r in per_file) for k in aggs}
    _counted(table, columns, total, table.file_rows)
    table.order = FileOrder.parquet([(u, table.rows_per_file[name])
                                     for name, u in zip(table.files, uris)])


def _scan_csv(table: InputTable, columns: Sequence[str], used: Sequence[str], aggs: Dict,
              scratch: Optional[Scratch], numbers: Dict[str, str]) -> None:
    """:func:`scan` of CSV: parsed once into ``scratch`` with the counts observed on the way."""
    spark = table.df.sparkSession
    uris = file_uris(spark, table.files)
    # One file: every row comes from it, so no row needs the file's name (with_positions uses
    # the counter alone) and none is copied or compared (about 1.2 s on 500K rows, cold).
    one = len(uris) == 1
    df = table.df
    if IN_ROW not in df.columns:  # (JSON rows come with them: _read_json)
        df = df if one else df.withColumn(IN_FILE, F.col("_metadata.file_path"))
        df = df.withColumn(IN_ROW, F.monotonically_increasing_id())
    metrics = {"n": F.count(F.lit(1)), "__gm_bad": F.count(F.col(BAD_ROW)), **aggs}
    # Numeric columns parsed once, beside the text (which the missing-value counts are of).
    parsed = {c: f"__gm_num{i}" for i, c in enumerate(c for c in used if c in numbers)}
    for i, (column, tmp) in enumerate(parsed.items()):
        df = df.withColumn(tmp, parse_number(F.col(quote(column))))
        metrics[f"__gm_nan{i}"] = F.count_if(not_a_number(F.col(quote(column)), F.col(tmp)))
    per_file = len(uris) <= MAX_OBSERVED_FILES  # per-file figures observed, else one small job
    if one:
        metrics.update({"__gm_lo0": F.min(IN_ROW), "__gm_hi0": F.max(IN_ROW)})
    elif per_file:
        for k, uri in enumerate(uris):
            mine = F.col(IN_FILE) == uri
            metrics.update({f"__gm_n{k}": F.count_if(mine),
                            f"__gm_lo{k}": F.min(F.when(mine, F.col(IN_ROW))),
                            f"__gm_hi{k}": F.max(F.when(mine, F.col(IN_ROW)))})
    df, observed = observe(df, metrics)
    kept = df.select(*[F.col(parsed[c]).alias(c) if c in parsed else F.col(quote(c))
                       for c in used], *([] if one else [IN_FILE]), IN_ROW)
    if scratch is None:
        copy = kept.localCheckpoint(eager=True)
    else:
        copy, path, names = scratch.stored(kept, f"input-{table.where}")
        table.copy = (path, names)
    values = observed()
    if values["__gm_bad"]:
        _raise_ragged(table, columns, int(values["__gm_bad"]))
    for i, column in enumerate(parsed):
        if values[f"__gm_nan{i}"]:
            raise_bad_numbers(table.df, column, int(values[f"__gm_nan{i}"]), numbers[column])
    if one:
        files = [(uris[0], values["n"], values["__gm_lo0"], values["__gm_hi0"])]
    elif per_file:
        files = [(u, values[f"__gm_n{k}"], values[f"__gm_lo{k}"], values[f"__gm_hi{k}"])
                 for k, u in enumerate(uris)]
    else:
        found = {r[IN_FILE]: r for r in copy.groupBy(IN_FILE).agg(
            F.count(F.lit(1)).alias("n"), F.min(IN_ROW).alias("lo"),
            F.max(IN_ROW).alias("hi")).collect()}
        files = [(u, found[u].n, found[u].lo, found[u].hi) if u in found else (u, 0, None, None)
                 for u in uris]
    offsets, running = {}, 0
    for uri, n, lo, hi in sorted(files, key=lambda f: f[0]):
        if not n:
            continue
        if hi - lo + 1 != n:
            raise GraphMillError(f"internal: {uri} was not read by one task in order "
                                 f"({n} rows, counters {lo}..{hi})")
        offsets[uri] = running - lo
        running += n
    table.rows_per_file = {name: int(f[1]) for name, f in zip(table.files, files)}
    _counted(table, columns, values, table.file_rows)
    table.order = FileOrder(IN_FILE, IN_ROW, offsets)
    table.df = copy


def _raise_ragged(table: InputTable, columns: Sequence[str], bad: int) -> None:
    # (Spark refuses a query of the corrupt-record column alone: one real column joins it.)
    df = table.df
    examples = (df.where(F.col(BAD_ROW).isNotNull())
                .select(F.input_file_name().alias("f"), F.col(BAD_ROW).alias("row"),
                        F.col(quote(columns[0])))
                .limit(3).collect())
    shown = "; ".join(f"{r.f}: {r.row[:200]!r}" for r in examples)
    if table.source.format == "json":
        raise InputError(f"{table.where}: {bad} line(s) are not JSON objects, e.g. {shown}; "
                         "a JSON table has one object a line ({\"column\": value, ...})")
    raise InputError(
        f"{table.where}: {bad} CSV row(s) do not have the {len(columns)} fields of the header "
        f"(separator {table.source.separator!r}), e.g. {shown}; fix the rows, quote fields "
        "that contain the separator, or set the right separator")


def check_columns(table: InputTable, needed: Dict[str, str], problems: Problems) -> None:
    """Add a problem for each needed column (name → what it is for) the table lacks, and, in a
    Parquet table of several files, for each file that lacks one the first file has or has it
    in a type Spark cannot read as the first file's (Spark would read the first as missing in
    every row of that file, and fail on the second in the middle of a job)."""
    schema = table.df.schema
    have = [c for c in schema.names if c not in INTERNAL]
    if not have and needed:  # (CSV: every file is empty, so there is not even a header)
        files, one = _listed(table.files), len(table.files) == 1
        if table.problems:  # (its files could not be read: said already)
            return
        if table.source.format == "json":
            problems.add(table.where, f"{files} {'has' if one else 'have'} no JSON object, so "
                                      "the table has no columns")
        elif table.source.format == "hdf5":
            problems.add(table.where, f"the first file of {files} has no dataset at its root, "
                                      "so the table has no columns")
        else:
            problems.add(table.where, f"{files} {'is' if one else 'are'} empty, so the table has "
                                      "no columns (a CSV table's header is the first line of "
                                      "its first file that has one)")
        return
    others = _other_files(table)
    for column, purpose in needed.items():
        if column not in have:
            in_first = column.lower() in {h.lower() for h in have}  # (in another case)
            elsewhere = [] if in_first else [name for name, fields in others
                                             if column.lower() in fields]
            hint = (f" (a Parquet table has the columns of its first file, {table.files[0]}; "
                    f"{_listed(elsewhere)} {'has' if len(elsewhere) == 1 else 'have'} it)"
                    if elsewhere else "")
            # A CSV header that names a column twice (see _spark_names).
            twice = [h for i, h in enumerate(have)
                     if h.lower() == _repeated_name(column.lower(), i)]
            if table.source.format != "parquet" and len(twice) > 1:
                hint = (f" (the header names it {len(twice)} times, and Spark reads those "
                        f"columns as {', '.join(twice)}: rename all but one of them in the "
                        "file, or name one of those in the config)")
            problems.add(table.where, f"column '{column}' ({purpose}) is not in "
                                      f"{table.describe()}; its columns are: {', '.join(have)}"
                                      f"{hint}")
            continue
        if not others:
            continue
        want = schema[column].dataType
        lacking: List[str] = []
        other_types: Dict[str, List[str]] = {}
        for name, fields in others:
            got = fields.get(column.lower())
            if got is None:
                lacking.append(name)
            elif isinstance(got, list):  # (names that differ only in case)
                problems.add(table.where, f"column '{column}' ({purpose}) is in {name} "
                                          f"{len(got)} times, as {', '.join(got)}: Spark matches "
                                          "Parquet columns whatever their case and fails on "
                                          "that file in the middle of a job; rename or drop "
                                          "all but one of them")
            elif not _readable_as(got, want):
                other_types.setdefault(got.simpleString(), []).append(name)
        if lacking:
            problems.add(table.where, f"column '{column}' ({purpose}) is in {table.files[0]} "
                                      f"but not in {_listed(lacking)}: Spark reads a Parquet "
                                      "table with its first file's columns, and would give "
                                      "every row of those files a missing value; add the "
                                      "column to them (null where a value is unknown), or "
                                      "leave them out")
        for got, names in other_types.items():
            problems.add(table.where, f"column '{column}' ({purpose}) is {want.simpleString()} "
                                      f"in {table.files[0]} but {got} in {_listed(names)}: Spark "
                                      f"cannot read it as {want.simpleString()} there; write it "
                                      "with one type in every file, or leave those files out")


def _other_files(table: InputTable) -> List:
    """(name, {lower-case column: type}) of each file after the first whose schema was read
    (Spark matches Parquet columns to the table's case-insensitively). A name that stands for
    several columns of a file (``x`` and ``X``) maps to their names instead of a type."""
    if not table.file_schemas or len(table.file_schemas) < 2:
        return []
    result = []
    fields: Dict[int, Dict[str, Any]] = {}  # files of one schema share its object
    for name, schema in zip(table.files[1:], table.file_schemas[1:]):
        if schema is not None:
            if id(schema) not in fields:
                fields[id(schema)] = _by_lower_name(schema)
            result.append((name, fields[id(schema)]))
    return result


def _by_lower_name(schema: T.StructType) -> Dict[str, Any]:
    """{lower-case name: type, or the names of the columns it stands for when several}."""
    names: Dict[str, List[str]] = {}
    for f in schema.fields:
        names.setdefault(f.name.lower(), []).append(f.name)
    return {lower: schema[found[0]].dataType if len(found) == 1 else found
            for lower, found in names.items()}


# Numbers Spark's Parquet readers read as a wider type (measured, Spark 4.3): INT32-stored
# integers as any integer, double or decimal; longs as decimals; floats as doubles. Any other
# pair (a long or a double read as a double or a long, ...) fails in the middle of a job.
_SMALL_INTS = (T.ByteType, T.ShortType, T.IntegerType)
_WIDER = {T.ByteType: _SMALL_INTS + (T.LongType, T.DoubleType, T.DecimalType),
          T.ShortType: _SMALL_INTS + (T.LongType, T.DoubleType, T.DecimalType),
          T.IntegerType: _SMALL_INTS + (T.LongType, T.DoubleType, T.DecimalType),
          T.LongType: (T.DecimalType,), T.FloatType: (T.DoubleType,),
          T.DecimalType: (T.DecimalType,)}  # (precision and scale are left to Spark)


def _readable_as(got: T.DataType, want: T.DataType) -> bool:
    """Whether Spark may read a Parquet column of type ``got`` as ``want``: the same type, a
    number it widens (``_WIDER``), text against bytes (one Parquet type), lists of such, or
    maps or structs (compared by kind only; Spark names the file and column if it cannot)."""
    if got == want:
        return True
    if isinstance(want, _WIDER.get(type(got), ())):
        return True
    if isinstance(got, (T.StringType, T.BinaryType)) and isinstance(want, (T.StringType,
                                                                           T.BinaryType)):
        return True
    if isinstance(got, T.ArrayType) and isinstance(want, T.ArrayType):
        return _readable_as(got.elementType, want.elementType)
    return type(got) is type(want) and isinstance(got, (T.MapType, T.StructType))


def _listed(names: Sequence[str], shown: int = 3) -> str:
    """Up to ``shown`` file names, and how many more."""
    more = f" (+{len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def columns_of(spec_features: Sequence, extra: Dict[str, str]) -> Dict[str, str]:
    """Columns a block needs: ``extra`` (ids, labels) plus every feature's input columns."""
    needed = dict(extra)
    for f in spec_features:
        for c in f.columns:
            needed.setdefault(c, f"input of feature '{f.name}'")
    return needed


def number_columns(spec_features: Sequence, extra: Dict[str, str]) -> Dict[str, str]:
    """The columns of a block that only transforms reading numbers read (``numeric_input``):
    column → where the first feature reading it is. A column that is also an id, a label
    (``extra``) or the input of another transform is not one."""
    numbers: Dict[str, str] = {}
    other = set(extra)
    for f in spec_features:
        reads_numbers = getattr(TRANSFORMS.get(f.transform), "numeric_input", False)
        for c in f.columns:
            if reads_numbers:
                numbers.setdefault(c, f.where)
            else:
                other.add(c)
    return {c: where for c, where in numbers.items() if c not in other}
