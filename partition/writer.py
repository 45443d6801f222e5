"""Writing parts/ from processed/ with Spark (the format is described in :mod:`partition.reader`).

Steps: assign every node a part (the algorithm) → number nodes by (part, nid) so each part owns a
contiguous gid range → node_map (with the original ids) → per node and edge type, one Parquet file
per part, written by ``partitionBy`` under a staging folder and moved to ``part_<k>/``.
Every step is a distributed Spark job; only per-part counts reach the driver.
"""

from __future__ import annotations

import logging
import time
from typing import Dict, List, Optional

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from graphmill.errors import InputError
from graphmill.hadoopfs import HadoopFS, StagedOutput
from graphmill.spark import INT, LONG
from gsprocessing import output as processed
from gsprocessing.transforms.base import quote
from partition import reader as fmt
from partition.algorithms import ALGORITHMS

log = logging.getLogger(__name__)
STAGING = "_staging"


def partition_graph(spark: SparkSession, input_root: str, output: str, num_parts: int,
                    algorithm: str, seed: int, overwrite: bool = False) -> fmt.PartsMeta:
    """Partition the processed graph at ``input_root`` into ``num_parts`` parts at ``output``."""
    if algorithm not in ALGORITHMS:
        raise InputError(f"unknown partition algorithm '{algorithm}'; known: "
                         f"{', '.join(sorted(ALGORITHMS))}")
    if num_parts < 1:
        raise InputError(f"--num-parts must be at least 1, got {num_parts}")
    fs = HadoopFS(spark)
    manifest = processed.read_manifest(fs, input_root)
    staged = StagedOutput(fs, output, overwrite)
    staged.check()
    started = time.time()
    try:
        meta = _write(spark, fs, manifest, input_root, staged.tmp, num_parts, algorithm, seed)
        meta.source["timings_s"] = {"total": round(time.time() - started, 2)}
        fs.write_text(f"{staged.tmp}/{fmt.META}", meta.to_json())
        staged.commit()
    except BaseException:
        staged.abort()
        raise
    log.info("%d parts written to %s in %.1f s", num_parts, output, time.time() - started)
    return meta


def _write(spark: SparkSession, fs: HadoopFS, manifest: processed.Manifest, input_root: str,
           root: str, num_parts: int, algorithm: str, seed: int) -> fmt.PartsMeta:
    nodes = {t: spark.read.parquet(processed.nodes_path(input_root, t))
             for t in manifest.node_types}
    edges = {e: processed.read_edges(spark, input_root, manifest, e) for e in manifest.edge_types}
    assignment = ALGORITHMS[algorithm](nodes, edges, num_parts, seed)
    node_metas: Dict[str, fmt.NodeTypeMeta] = {}
    maps: Dict[str, DataFrame] = {}
    train_counts: Dict[str, List[int]] = {}
    for ntype, info in manifest.node_types.items():
        t0 = time.time()
        train_mask = (info.label.get("masks") or ["train_mask"])[0] if info.label else None
        df, offsets, train = _number(nodes[ntype], assignment[ntype], num_parts, train_mask)
        try:
            id_map = spark.read.parquet(processed.id_map_path(input_root, ntype))
            processed.write_table(df.select("nid", "part", "gid").join(id_map, "nid")
                                  .select("nid", "orig", "part", "gid"),
                                  fmt.node_map_path(root, ntype))
            columns = [c for c in df.columns if c not in ("nid", "gid", "part")]
            _write_per_part(spark, fs, df.select("gid", *[F.col(quote(c)) for c in columns],
                                                 "part"), root, "nodes", ntype, num_parts, "gid")
        finally:
            df.unpersist()
        maps[ntype] = spark.read.parquet(fmt.node_map_path(root, ntype))
        if train is not None:
            train_counts[ntype] = train
        node_metas[ntype] = fmt.NodeTypeMeta(
            count=info.count, offsets=offsets, id_dtype=info.id_dtype,
            features=_dims(info.features), label=info.label)
        log.info("nodes/%s: %d nodes in %d parts (%.1f s)", ntype, info.count, num_parts,
                 time.time() - t0)
    edge_metas: Dict[str, fmt.EdgeTypeMeta] = {}
    cut = total = 0
    for name, info in manifest.edge_types.items():
        t0 = time.time()
        df, counts, crossing = _edges(edges[name], maps[info.src_type], maps[info.dst_type],
                                      num_parts)
        _write_per_part(spark, fs, df, root, "edges", name, num_parts, ["dst_gid", "src_gid"])
        cut, total = cut + crossing, total + info.count
        edge_metas[name] = fmt.EdgeTypeMeta(
            src_type=info.src_type, relation=info.relation, dst_type=info.dst_type,
            count=info.count, part_counts=counts, reverse_of=info.reverse_of,
            features=_dims(info.features))
        log.info("edges/%s: %d edges, %d cross parts (%.1f s)", name, info.count, crossing,
                 time.time() - t0)
    fs.delete(f"{root}/{STAGING}")
    quality = _quality(node_metas, edge_metas, train_counts, cut, total)
    return fmt.PartsMeta(num_parts=num_parts, algorithm=algorithm, seed=seed,
                         node_types=node_metas, edge_types=edge_metas, quality=quality,
                         source={"processed": input_root, "processed_seed": manifest.seed})


def _number(nodes: DataFrame, assigned: DataFrame, num_parts: int, train_mask: Optional[str]):
    """Add ``part`` and ``gid`` (part k owns a contiguous range, by nid within it) to a node table.

    Returns the frame (persisted: the caller writes it twice and unpersists it), the part
    offsets, and the training nodes per part (or None for unlabelled types). ``train_mask``
    names the first label's train mask column (None: no label).
    """
    labelled = train_mask is not None
    df = nodes.join(assigned, "nid")
    aggs = [F.count(F.lit(1)).alias("n")]
    if labelled:
        aggs.append(F.sum(F.col(quote(train_mask)).cast(INT)).alias("train"))
    counts, train = [0] * num_parts, [0] * num_parts
    for row in df.groupBy("part").agg(*aggs).collect():
        counts[row.part] = int(row.n)
        if labelled:
            train[row.part] = int(row.train or 0)
    offsets = [0]
    for c in counts:
        offsets.append(offsets[-1] + c)
    base = F.create_map(*[F.lit(x).cast(LONG) for k in range(num_parts)
                          for x in (k, offsets[k])])
    # Within a part, gids follow nid order: one window per part (num_parts tasks), no global sort.
    rank = F.row_number().over(Window.partitionBy("part").orderBy("nid"))
    df = df.withColumn("gid", base[F.col("part").cast(LONG)] + rank - 1).persist()
    return df, offsets, (train if labelled else None)


def _edges(df: DataFrame, src_map: DataFrame, dst_map: DataFrame, num_parts: int):
    """Edges with gids and the part owning their dst; per-part counts and edges crossing parts."""
    src = src_map.select(F.col("nid").alias("src"), F.col("gid").alias("src_gid"),
                         F.col("part").alias("__gm_src_part"))
    dst = dst_map.select(F.col("nid").alias("dst"), F.col("gid").alias("dst_gid"), "part")
    joined = df.join(src, "src").join(dst, "dst").persist()
    rows = joined.groupBy("part").agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.when(F.col("__gm_src_part") != F.col("part"), 1).otherwise(0)).alias("cut")
    ).collect()
    counts = [0] * num_parts
    crossing = 0
    for row in rows:
        counts[row.part] = int(row.n)
        crossing += int(row.cut)
    features = [c for c in df.columns if c not in ("src", "dst", "eid")]
    return (joined.select("src_gid", "dst_gid", "eid", *[F.col(quote(c)) for c in features],
                          "part"), counts, crossing)


def _write_per_part(spark: SparkSession, fs: HadoopFS, df: DataFrame, root: str, kind: str,
                    name: str, num_parts: int, order) -> None:
    """One Parquet file per part: ``part_<k>/<kind>/<name>.parquet`` (empty parts included)."""
    staging = f"{root}/{STAGING}/{kind}/{name}"
    (df.repartition("part").sortWithinPartitions(order)
     .write.partitionBy("part").parquet(staging))
    empty_schema = df.drop("part").schema
    for k in range(num_parts):
        target = f"{fmt.part_dir(root, k)}/{kind}/{name}.parquet"
        files = fs.list_files(f"{staging}/part={k}")
        if not files:
            spark.createDataFrame([], empty_schema).coalesce(1).write.parquet(
                f"{staging}/empty{k}")
            files = fs.list_files(f"{staging}/empty{k}")
        if len(files) != 1:
            raise RuntimeError(f"expected one file for part {k} of {kind}/{name}, found {files}")
        fs.rename(files[0], target)


def _quality(nodes: Dict[str, fmt.NodeTypeMeta], edges: Dict[str, fmt.EdgeTypeMeta],
             train: Dict[str, List[int]], cut: int, total: int) -> Dict:
    """Edge cut and max/mean balance of nodes, in-edges and training labels per part."""
    def balance(counts: List[int]) -> float:
        mean = sum(counts) / len(counts)
        return round(max(counts) / mean, 4) if mean else 1.0

    return {
        "edge_cut": round(cut / total, 4) if total else 0.0,
        "node_balance": {t: balance(list(_diff(m.offsets))) for t, m in nodes.items()},
        "edge_balance": {e: balance(m.part_counts) for e, m in edges.items()},
        "train_balance": {t: balance(c) for t, c in train.items()},
    }


def _dims(features: Dict[str, processed.FeatureInfo]) -> Dict[str, Dict]:
    return {k: {"dim": v.dim, "dtype": v.dtype, "encoding": v.encoding}
            for k, v in features.items()}


def _diff(offsets: List[int]):
    return (b - a for a, b in zip(offsets, offsets[1:]))
