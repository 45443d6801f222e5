"""Id maps: a bijection onto 0..N-1 that depends only on the set of ids."""

import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from graphmill.spark import (
    Scratch, dense_index, input_order_index, input_splits, with_input_order,
)
from gsprocessing.ids import NID, ids_from_endpoints, number_nodes


def id_map(df):
    numbered, n = number_nodes(df, "id")
    return {r.id: r[NID] for r in numbered.select("id", NID).collect()}, n


IDS = [f"n{i:03d}" for i in range(200)] + ["zoë", "Ünïcode", "a b", "0", "10", "9"]


@pytest.mark.parametrize("partitions", [1, 3])
def test_bijection_independent_of_order_and_partitioning(spark, partitions):
    shuffled = IDS[:]
    random.Random(partitions).shuffle(shuffled)
    df = spark.createDataFrame([(i,) for i in shuffled], "id string").repartition(partitions)
    mapping, n = id_map(df)
    assert n == len(IDS)
    assert sorted(mapping.values()) == list(range(len(IDS)))
    # sorted ids, numbered in order: identical whatever the input order and partitioning
    assert mapping == {orig: i for i, orig in enumerate(sorted(IDS, key=lambda s: s.encode()))}


def test_long_ids_sort_numerically(spark):
    df = spark.createDataFrame([(10,), (9,), (100,), (-1,)], "id long").repartition(2)
    assert id_map(df)[0] == {-1: 0, 9: 1, 10: 2, 100: 3}


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


def _input_order(spark, tmp_path, max_split: int, keep=None):
    """Positions given by input_order_index to two Parquet files (300 rows each, row groups of
    20) read in splits of ``max_split`` bytes and shuffled, as {value: position}."""
    for name, base in (("b.parquet", 0), ("a.parquet", 1000)):  # a sorts first
        pq.write_table(pa.table({"v": list(range(base, base + 300))}), tmp_path / name,
                       row_group_size=20)
    old = {k: spark.conf.get(k) for k in ("spark.sql.files.maxPartitionBytes",
                                          "spark.sql.files.openCostInBytes")}
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(max_split))
    spark.conf.set("spark.sql.files.openCostInBytes", "0")
    try:
        df = with_input_order(spark.read.parquet(str(tmp_path)))
        if keep is not None:
            df = df.where(keep)
        scratch = Scratch(spark, str(tmp_path / f"scratch{max_split}"))
        df = scratch.table(df.repartition(5, "v"), "shuffled")  # as a join may
        splits = input_splits(df)
        numbered, n = input_order_index(df, "pos", splits, scratch)
        got = {r.v: r.pos for r in numbered.collect()}
    finally:
        for k, v in old.items():
            spark.conf.set(k, v)
    assert set(numbered.columns) == {"v", "pos"} and n == len(got)
    return got, len(splits)


@pytest.mark.parametrize("max_ranges", [256, 1])  # 1: the join on (file, split start)
def test_input_order_index_follows_files_and_rows_whatever_the_splits(spark, tmp_path,
                                                                      monkeypatch, max_ranges):
    monkeypatch.setattr("graphmill.spark._MAX_RANGES", max_ranges)
    expected = {v: i for i, v in enumerate(list(range(1000, 1300)) + list(range(300)))}
    whole, whole_splits = _input_order(spark, tmp_path, 128 * 2**20)
    split, many_splits = _input_order(spark, tmp_path, 400)
    assert whole == split == expected
    assert whole_splits == 2 and many_splits > 4


def test_input_order_index_with_rows_dropped_inside_splits(spark, tmp_path):
    """Gaps in the row counters (rows filtered after they were taken): the sorted fallback."""
    kept = [v for v in list(range(1000, 1300)) + list(range(300)) if v % 7 != 3]
    got, _ = _input_order(spark, tmp_path, 400, keep=F.col("v") % 7 != 3)
    assert got == {v: i for i, v in enumerate(kept)}
