"""Random partitioning: each node type's nodes are shuffled with a seed and cut into equal parts.

Balanced to within one node per type and part, fully distributed (a seeded hash order, numbered
by a distributed sort), and independent of Spark's partitioning.
"""

from __future__ import annotations

from typing import Dict

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from graphmill.spark import dense_index


def assign(nodes: Dict[str, DataFrame], edges: Dict[str, DataFrame], num_parts: int,
           seed: int) -> Dict[str, DataFrame]:
    """Map each node type's ``nid`` frame to ``(nid, part)``; edges are not looked at."""
    out = {}
    for ntype, df in nodes.items():
        key = F.xxhash64(F.lit(seed), F.lit(ntype), F.col("nid"))
        ranked, count = dense_index(df.select("nid"), [key, F.col("nid")], "_rank")
        part = F.floor(F.col("_rank") * num_parts / F.lit(max(count, 1))).cast("int")
        out[ntype] = ranked.select("nid", part.alias("part"))
    return out
