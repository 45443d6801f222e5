"""The "Spark floor" for gsprocessing on the demo tables: a bare Spark job that reads the same
tables, numbers ids with a sort, maps both endpoints of every edge with one join each and writes
Parquet. Nothing else (no features, checks, labels or manifests): the least any processing job
on these tables could cost.

    python bench/spark_floor.py --input DIR --output DIR
"""

from __future__ import annotations

import argparse
import time

from pyspark.sql import functions as F

from graphmill.spark import make_spark


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    args = p.parse_args()
    spark = make_spark("spark-floor")
    t0 = time.time()
    csv = spark.read.option("header", True)
    users = csv.csv(f"{args.input}/users.csv")
    items = csv.csv(f"{args.input}/items.csv")
    purchases = spark.read.parquet(f"{args.input}/purchases.parquet")
    also = spark.read.parquet(f"{args.input}/also_bought.parquet")

    def ids(df, col):
        return (df.select(F.col(col).alias("orig")).orderBy("orig")
                .withColumn("nid", F.monotonically_increasing_id()))

    u, i = ids(users, "user_id"), ids(items, "item_id")
    u.write.mode("overwrite").parquet(f"{args.output}/id_map/user")
    i.write.mode("overwrite").parquet(f"{args.output}/id_map/item")
    u = spark.read.parquet(f"{args.output}/id_map/user")
    i = spark.read.parquet(f"{args.output}/id_map/item")

    def mapped(df, src_col, src_map, dst_col, dst_map):
        df = df.join(src_map.select(F.col("orig").alias(src_col), F.col("nid").alias("src")),
                     src_col)
        return df.join(dst_map.select(F.col("orig").alias(dst_col), F.col("nid").alias("dst")),
                       dst_col).drop(src_col, dst_col)

    mapped(purchases, "user_id", u, "item_id", i).write.mode("overwrite").parquet(
        f"{args.output}/edges/purchases")
    mapped(also, "item_id", i, "also_item_id", i).write.mode("overwrite").parquet(
        f"{args.output}/edges/also_bought")
    print(f"spark floor: {time.time() - t0:.1f} s after the session started")


if __name__ == "__main__":
    main()
