"""Id maps: a bijection onto 0..N-1 that depends only on the set of ids."""

import random

import pytest
from pyspark.sql import functions as F

from graphmill.spark import dense_index
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
