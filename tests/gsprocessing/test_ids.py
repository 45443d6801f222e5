"""Dense numbering: in a sort order (dense_index, inferred node types) and in input order
(files by path, then rows as in the file: node and edge ids), from Parquet footers or one CSV parse."""


import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from graphmill.parquet_footers import footer_stats, written_rows
from graphmill.spark import IN_POS, Scratch, dense_index, position_index, with_positions
from gsprocessing.config.schema import TableSource
from gsprocessing.ids import ids_from_endpoints
from gsprocessing.tables import read_table, scan


def test_dense_index_many_partitions_and_empty(spark):
    df = spark.range(1000).withColumn("k", (F.col("id") * 7919) % 1000).repartition(7)
    numbered, n = dense_index(df, ["k"], "pos")
    assert n == 1000
    assert [r.pos for r in numbered.orderBy("k").select("pos").collect()] == list(range(1000))
    empty, n = dense_index(df.where("id < 0"), ["k"], "pos")
    assert n == 0 and empty.count() == 0


def test_ids_from_endpoints_union_distinct(spark):
    a = spark.createDataFrame([("x",), ("y",), (None,)], "orig string")
    b = spark.createDataFrame([("y",), ("z",)], "orig string")
    ids, n = ids_from_endpoints([a, b])
    assert n == 3
    assert {r.orig: r.nid for r in ids.collect()} == {"x": 0, "y": 1, "z": 2}


def _scanned(spark, tmp_path, fmt: str, scratch=None):
    """Two files (``b`` 300 rows of v = 0.., ``a`` 300 rows of v = 1000..; ``a`` sorts first) in
    ``fmt``, read and scanned as an input table."""
    for name, base in (("b", 0), ("a", 1000)):
        values = list(range(base, base + 300))
        if fmt == "parquet":
            pq.write_table(pa.table({"v": values}), tmp_path / f"{name}.parquet",
                           row_group_size=20)
        else:
            (tmp_path / f"{name}.csv").write_text("v\n" + "".join(f"{v}\n" for v in values))
    files = sorted(f"file:{p}" for p in tmp_path.glob(f"*.{fmt}"))
    source = TableSource(files=tuple(files), format=fmt)
    table = read_table(spark, source, files, "t")
    scan(table, ["v"], ["v"], scratch)
    return table


def _positions(spark, table, max_split: int, keep=None):
    """Positions given by position_index to ``table`` read in splits of ``max_split`` bytes and
    shuffled (as a join may), as {v: position}."""
    old = {k: spark.conf.get(k) for k in ("spark.sql.files.maxPartitionBytes",
                                          "spark.sql.files.openCostInBytes")}
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(max_split))
    spark.conf.set("spark.sql.files.openCostInBytes", "0")
    try:
        df = with_positions(table.df, table.order).select(F.col("v").cast("int"), IN_POS)
        splits = df.rdd.getNumPartitions()
        if keep is not None:
            df = df.where(keep)
        df = df.repartition(5, "v")
        numbered, n = position_index(df, "pos", table.file_rows, df.count())
        got = {r.v: r.pos for r in numbered.collect()}
    finally:
        for k, v in old.items():
            spark.conf.set(k, v)
    assert set(numbered.columns) == {"v", "pos"} and n == len(got)
    return got, splits


EXPECTED = list(range(1000, 1300)) + list(range(300))  # file a, then file b, rows in file order


@pytest.mark.parametrize("max_cases", [16, 0])  # 0: the offsets are joined, not compared
def test_parquet_positions_follow_files_and_rows_whatever_the_splits(spark, tmp_path,
                                                                     monkeypatch, max_cases):
    monkeypatch.setattr("graphmill.spark._MAX_CASES", max_cases)
    table = _scanned(spark, tmp_path, "parquet")
    assert table.complete_ids and table.rows_per_file == {
        f"file:{tmp_path}/a.parquet": 300, f"file:{tmp_path}/b.parquet": 300}
    whole, whole_splits = _positions(spark, table, 128 * 2**20)
    split, many_splits = _positions(spark, table, 400)
    assert whole == split == {v: i for i, v in enumerate(EXPECTED)}
    assert many_splits > max(whole_splits, 4)


@pytest.mark.parametrize("max_files, in_scratch", [(16, True), (1, True), (16, False)])
def test_csv_positions_follow_files_and_rows(spark, tmp_path, monkeypatch, max_files,
                                             in_scratch):
    """max_files 1: rows per file counted by a job; without a scratch space the parsed copy is
    a local checkpoint."""
    monkeypatch.setattr("gsprocessing.tables.MAX_OBSERVED_FILES", max_files)
    scratch = Scratch(spark, str(tmp_path / "scratch")) if in_scratch else None
    table = _scanned(spark, tmp_path, "csv", scratch)
    assert table.complete_ids and table.rows_per_file == {
        f"file:{tmp_path}/a.csv": 300, f"file:{tmp_path}/b.csv": 300}
    if in_scratch:
        assert str(tmp_path / "scratch") in table.df.inputFiles()[0]  # parsed once, into scratch
    got, _ = _positions(spark, table, 128 * 2**20)
    assert got == {v: i for i, v in enumerate(EXPECTED)}


def test_positions_with_rows_dropped(spark, tmp_path):
    """Rows filtered after the positions were taken leave gaps: the sorted fallback."""
    kept = [v for v in EXPECTED if v % 7 != 3]
    table = _scanned(spark, tmp_path, "parquet")
    got, _ = _positions(spark, table, 400, keep=F.col("v") % 7 != 3)
    assert got == {v: i for i, v in enumerate(kept)}


def test_parquet_scan_without_footer_statistics(spark, tmp_path):
    """Files written without statistics are scanned by a job; a nested column has no top-level
    null count in the footer either. Same figures and positions as from the footers."""
    pq.write_table(pa.table({"v": ["x", "", None, "y"], "w": [[1], None, [2], []]}),
                   tmp_path / "s.parquet", write_statistics=False)
    files = [f"file:{tmp_path}/s.parquet"]
    assert footer_stats(spark, files, ["v"]) is None
    pq.write_table(pa.table({"v": ["x", "", None, "y"], "w": [[1], None, [2], []]}),
                   tmp_path / "s.parquet")
    assert footer_stats(spark, files, ["v", "w"]) is None  # nested
    stats = footer_stats(spark, files, ["v"])[0]
    assert stats.rows == 4 and stats.columns["v"].nulls == 1 and stats.columns["v"].maybe_empty
    table = read_table(spark, TableSource(files=tuple(files), format="parquet"), files, "s")
    scan(table, ["v", "w"], ["v"])
    assert table.rows_per_file == {files[0]: 4} and table.nulls == {"v": 1, "w": 1}
    assert not table.complete_ids
    got = with_positions(table.df, table.order).select("v", IN_POS).collect()
    assert [r[IN_POS] for r in got] == [0, 1, 2, 3]


def test_csv_scan_copies_number_columns_parsed(spark, tmp_path):
    """``numbers`` columns are copied as doubles (the missing-value counts are of the text);
    the others stay text."""
    (tmp_path / "t.csv").write_text("a,b\n 1.5 ,x\n,y\n2e3,\n")
    files = [f"file:{tmp_path}/t.csv"]
    table = read_table(spark, TableSource(files=tuple(files), format="csv"), files, "t")
    scan(table, ["a", "b"], (), Scratch(spark, f"{tmp_path}/scratch"), {"a": "t.features[0]"})
    assert table.df.schema["a"].dataType.simpleString() == "double"
    assert table.df.schema["b"].dataType.simpleString() == "string"
    assert [tuple(r) for r in table.df.select("a", "b").collect()] == [
        (1.5, "x"), (None, "y"), (2000.0, None)]
    assert table.nulls == {"a": 1, "b": 1}


def test_written_rows_from_footers_and_by_spark(spark, tmp_path, monkeypatch):
    """The rows of a written table: from the footers, or counted by Spark past the file limit."""
    import graphmill.parquet_footers as footers
    from graphmill.hadoopfs import HadoopFS

    path = str(tmp_path / "t")
    spark.range(0, 1000, numPartitions=3).where("id % 7 != 0").write.parquet(path)
    fs = HadoopFS(spark)
    assert written_rows(spark, fs, path) == 857
    monkeypatch.setattr(footers, "MAX_FOOTER_FILES", 1)
    assert written_rows(spark, fs, path) == 857
    spark.range(0).write.parquet(str(tmp_path / "empty"))
    assert written_rows(spark, fs, str(tmp_path / "empty")) == 0
