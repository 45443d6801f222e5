"""What is read of the input tables without a Spark job is what Spark's readers would say: the
names of a CSV header (tables.csv_header), the schema of a Parquet file (file_schemas); and
every file of a table is checked against the first (CSV headers, Parquet columns)."""

import datetime
import decimal
import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphmill import parquet_footers
from graphmill.errors import InputError, Problems
from graphmill.hadoopfs import HadoopFS
from graphmill.parquet_footers import file_schemas, read_footers
from gsprocessing import tables
from gsprocessing.config.schema import TableSource
from gsprocessing.tables import check_columns, csv_header, read_table, scan

CASES = {  # name: (files' bytes, separator, header, encoding)
    "plain": ([b"a,b,c\n1,2,3\n"], ",", True, "utf-8"),
    "bom, repeated and empty names, quoted separator": (
        [b'\xef\xbb\xbfid,"a,b",,id,ID,""\n1,2,3,4,5,6\n'], ",", True, "utf-8"),
    "quoted line break and quotes": ([b'"x\ny","say ""hi""",z\n1,2,3\n'], ",", True, "utf-8"),
    "crlf": ([b"a,b\r\n1,2\r\n"], ",", True, "utf-8"),
    "blank lines first, no newline at the end": ([b"\n\na;b\n1;2"], ";", True, "utf-8"),
    "header only, no newline": ([b"a\tb"], "\t", True, "utf-8"),
    "latin-1": (["café|prix\n1|2\n".encode("latin-1")], "|", True, "iso-8859-1"),
    "utf-16": (["nom,âge\n1,2\n".encode("utf-16")], ",", True, "utf-16"),
    "no header": ([b"1,2,3\n4,5,6\n"], ",", False, "utf-8"),
    "empty first file": ([b"", b"p,q\n1,2\n"], ",", True, "utf-8"),
    "every file empty": ([b"", b""], ",", True, "utf-8"),
    "quote inside a field": ([b'a"b,c\n1,2\n'], ",", True, "utf-8"),
    "gzip": ([gzip.compress(b"g,h\n1,2\n")], ",", True, "utf-8"),
    "separator of several characters": ([b'a||"b||c"||d\n1||2||3\n'], "||", True, "utf-8"),
}


def _files(tmp_path, contents):
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for i, data in enumerate(contents):
        path = folder / (f"f{i}.csv.gz" if data[:2] == b"\x1f\x8b" else f"f{i}.csv")
        path.write_bytes(data)
        paths.append(f"file:{path}")
    return paths


@pytest.mark.parametrize("name", list(CASES))
def test_header_is_spark_s(spark, tmp_path, name):
    contents, sep, header, encoding = CASES[name]
    files = _files(tmp_path, contents)
    source = TableSource(files=tuple(files), format="csv", separator=sep, header=header,
                         encoding=encoding)
    spark_says = (spark.read.option("header", header).option("sep", sep).option("quote", '"')
                  .option("escape", '"').option("multiLine", True).option("encoding", encoding)
                  .option("inferSchema", False).csv(files).columns)
    assert csv_header(HadoopFS(spark), source, files) == spark_says


def test_header_past_the_limit_is_read_by_spark(spark, tmp_path, monkeypatch):
    """A first record longer than HEADER_BYTES is left to Spark's reader; the table reads the
    same. One longer than HEAD_BYTES is read again, whole."""
    files = _files(tmp_path, [b'"a long\nname",b\n1,2\n'])
    source = TableSource(files=tuple(files), format="csv")
    monkeypatch.setattr(tables, "HEAD_BYTES", 4)
    assert csv_header(HadoopFS(spark), source, files) == ["a long\nname", "b"]
    monkeypatch.setattr(tables, "HEADER_BYTES", 8)
    assert csv_header(HadoopFS(spark), source, files) is None
    table = read_table(spark, source, files, "t")
    assert table.df.columns[:2] == ["a long\nname", "b"]


def test_every_file_s_header_is_checked(spark, tmp_path, monkeypatch):
    """Spark names the columns from one file and takes every other file's fields by position:
    a file whose columns are in another order is reported (Spark would swap its values). A
    difference in case only, an empty file and a header read in two steps are not."""
    monkeypatch.setattr(tables, "HEAD_BYTES", 5)
    files = _files(tmp_path, [b"", b"id,a,b\n1,x,y\n", b"ID,A,B\n2,x,y\n", b"id,b,a\n3,y,x\n",
                              b"id,a\n4,x\n", b"id,a,b\n5,x,y\n"])
    source = TableSource(files=tuple(files), format="csv")
    table = read_table(spark, source, files, "nodes[0]")
    assert table.df.columns[:3] == ["id", "a", "b"]
    assert len(table.problems) == 2
    assert table.problems[0].startswith(
        f"the header of {files[3]} is ['id', 'b', 'a'] (3 columns), not ['id', 'a', 'b'] "
        f"(3 columns) as in {files[1]}: Spark takes every file's columns by position")
    assert table.problems[1].startswith(f"the header of {files[4]} is ['id', 'a'] (2 columns)")
    without = TableSource(files=tuple(files), format="csv", header=False)
    assert read_table(spark, without, files, "t").problems == []


def footer_schema(spark, name):
    return file_schemas(spark, [name], read_footers(spark, [name], "Spark reads the schema"))[0]


def test_parquet_schema_is_spark_s(spark, tmp_path):
    """From pyarrow's files (Parquet types converted) and Spark's (the schema Spark wrote in
    the footer: here a nested struct and non-nullable fields)."""
    pq.write_table(pa.table({
        "i32": pa.array([1], pa.int32()), "i64": [2], "f": pa.array([1.5], pa.float32()),
        "d": [2.5], "s": ["x"], "b": [True], "tags": [["a", "b"]], "xs": [[1.0, 2.0]],
        "day": [datetime.date(2020, 1, 2)], "ts": [datetime.datetime(2020, 1, 2, 3, 4)],
        "dec": pa.array([decimal.Decimal("1.25")], pa.decimal128(9, 2)),
        "bin": [b"\x00"]}), tmp_path / "arrow.parquet")
    spark.createDataFrame([(1, ("a", [1.0]))], "id long not null, st struct<n: string, "
                          "v: array<double>>").write.parquet(str(tmp_path / "spark"))
    written = [f"file:{p}" for p in sorted((tmp_path / "spark").glob("*.parquet"))]
    for name in [f"file:{tmp_path}/arrow.parquet", written[0]]:
        assert footer_schema(spark, name) == spark.read.parquet(name).schema
    assert footer_schema(spark, f"file:{tmp_path}/missing.parquet") is None
    table = read_table(spark, TableSource(files=(written[0],), format="parquet"), written, "t")
    assert table.df.collect()[0].st.v == [1.0]


def test_every_parquet_file_s_columns_are_checked(spark, tmp_path, monkeypatch):
    """Spark reads a Parquet table with its first file's schema: a later file without a column
    the config reads would give missing values, one with it in another type fails mid-job.
    Both are reported per column, naming the files; what Spark reads alike is not (a name in
    another case, int32 for int64 or double, float for double, bytes for text), nor a column
    not read; a double or int64 where the first file has the other is.
    Past MAX_FOOTER_FILES files the footers are not kept (a job counts the rows), but every
    file is still checked."""
    def write(i, columns):
        pq.write_table(pa.table(columns), tmp_path / f"p{i}.parquet")
        return f"file:{tmp_path}/p{i}.parquet"

    files = [write(0, {"id": ["a"], "x": [1], "y": [0.5], "s": ["t"], "tags": [["u"]],
                       "unused": [1]}),
             write(1, {"id": ["b"], "x": ["2"], "s": pa.array([b"t"], pa.binary()),
                       "tags": [["v"]], "z": [1]}),
             write(2, {"ID": ["c"], "X": pa.array([3], pa.int32()),
                       "y": pa.array([1.5], pa.float32()), "s": ["w"],
                       "tags": pa.array([[]], pa.list_(pa.string()))}),
             write(3, {"id": ["d"], "x": [4], "y": [2.5], "s": ["w"], "tags": ["u v"]}),
             write(4, {"id": ["e"], "x": ["5"], "s": ["w"], "tags": [["v"]]}),
             write(5, {"id": ["f"], "x": [6], "y": pa.array([2], pa.int32()), "s": ["w"],
                       "tags": [["u"]], "n": [1.5]}),
             write(6, {"id": ["g"], "x": [7.0], "y": [3], "s": ["w"], "tags": [["u"]]})]
    table = read_table(spark, TableSource(files=tuple(files), format="parquet"), files,
                       "nodes[0]")
    assert [s is table.file_schemas[0] for s in table.file_schemas] == [True] + [False] * 6
    needed = {"id": "node id", "x": "input of feature 'x'", "y": "input of feature 'y'",
              "s": "label", "tags": "input of feature 'tags'", "z": "input of feature 'z'"}
    problems = Problems("input")
    check_columns(table, needed, problems)
    messages = problems.items
    assert len(messages) == 6, messages
    assert messages[0] == (
        f"nodes[0]: column 'x' (input of feature 'x') is bigint in {files[0]} but string in "
        f"{files[1]}, {files[4]}: Spark cannot read it as bigint there; write it with one type "
        "in every file, or leave those files out")
    assert messages[1].startswith(f"nodes[0]: column 'x' (input of feature 'x') is bigint in "
                                  f"{files[0]} but double in {files[6]}: ")
    assert messages[2] == (
        f"nodes[0]: column 'y' (input of feature 'y') is in {files[0]} but not in {files[1]}, "
        f"{files[4]}: Spark reads a Parquet table with its first file's columns, and would give "
        "every row of those files a missing value; add the column to them (null where a value "
        "is unknown), or leave them out")
    assert messages[3].startswith(f"nodes[0]: column 'y' (input of feature 'y') is double in "
                                  f"{files[0]} but bigint in {files[6]}: ")
    assert messages[4].startswith(
        f"nodes[0]: column 'tags' (input of feature 'tags') is array<string> in {files[0]} but "
        f"string in {files[3]}: ")
    assert messages[5].startswith("nodes[0]: column 'z' (input of feature 'z') is not in ")
    assert messages[5].endswith(f"(a Parquet table has the columns of its first file, "
                                f"{files[0]}; {files[1]} has it)")
    monkeypatch.setattr(tables, "MAX_FOOTER_FILES", 4)
    many = read_table(spark, TableSource(files=tuple(files), format="parquet"), files, "nodes[0]")
    assert many.footers is None and len(many.file_schemas) == 7
    again = Problems("input")
    check_columns(many, needed, again)
    assert again.items == messages
    case = Problems("input")
    check_columns(table, {"ID": "node id"}, case)  # (in every file, in another case: no hint)
    assert len(case.items) == 1 and "first file" not in case.items[0]
    same = files[:1] + [write(7, {"id": ["f"], "x": [6], "y": [0.0], "s": ["w"],
                                  "tags": [["u"]], "unused": [1]})]
    table = read_table(spark, TableSource(files=tuple(same), format="parquet"), same, "t")
    assert table.file_schemas[1] is table.file_schemas[0]  # (one conversion)

    def unread(*args):
        raise AssertionError("the footers were read again")

    monkeypatch.setattr(parquet_footers, "read_footers", unread)
    scan(table, ["id", "x"], ["id"])  # (the row counts from the footers read_table kept)
    assert table.rows_per_file == {same[0]: 1, same[1]: 1} and table.complete_ids



def test_a_later_parquet_file_with_a_column_in_two_cases_is_an_error(spark, tmp_path):
    """A later file with two columns whose names differ only in case (``x`` and ``X``): Spark
    fails on that file in the middle of a job when the column is read (shown here), so a
    column the config reads is reported before any job, naming the file and both names; a
    column not read is left alone, as Spark reads the table's other columns. Such a first
    file is an error naming it (Spark's own says only that a column already exists)."""
    files = []
    for i, columns in enumerate(({"id": ["a"], "x": [1]},
                                 {"id": ["b"], "x": [2], "X": [3]})):
        pq.write_table(pa.table(columns), tmp_path / f"p{i}.parquet")
        files.append(f"file:{tmp_path}/p{i}.parquet")
    with pytest.raises(Exception):
        spark.read.parquet(*files).select("x").collect()
    table = read_table(spark, TableSource(files=tuple(files), format="parquet"), files,
                       "nodes[0]")
    problems = Problems("input")
    check_columns(table, {"id": "node id", "x": "input of feature 'x'"}, problems)
    assert problems.items == [
        f"nodes[0]: column 'x' (input of feature 'x') is in {files[1]} 2 times, as x, X: "
        "Spark matches Parquet columns whatever their case and fails on that file in the "
        "middle of a job; rename or drop all but one of them"]
    fine = Problems("input")
    check_columns(table, {"id": "node id"}, fine)
    assert fine.items == []
    # In the first file, whose schema is the table's, Spark cannot even build the table.
    first = files[::-1]
    with pytest.raises(InputError, match=(
            rf"^nodes\[0\]: {first[0]} has columns whose names differ only in case \(x, X\), "
            "which Spark cannot tell apart")):
        read_table(spark, TableSource(files=tuple(first), format="parquet"), first, "nodes[0]")

def test_read_text_is_utf8(spark, tmp_path):
    """Config and JSON files: UTF-8, with or without a byte-order mark; other bytes are an
    error that names the file and the byte."""
    fs = HadoopFS(spark)
    (tmp_path / "a.json").write_bytes(b'\xef\xbb\xbf{"a": "\xc3\xa9"}\r\n')
    assert json.loads(fs.read_text(f"file:{tmp_path}/a.json")) == {"a": "\u00e9"}
    (tmp_path / "b.json").write_bytes('{"a": "\u00e9"}'.encode("latin-1"))
    with pytest.raises(InputError, match=r"b.json: not UTF-8 text \(byte 7 is 0xe9\)"):
        fs.read_text(f"file:{tmp_path}/b.json")
