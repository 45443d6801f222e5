"""Random partitioning: each node goes to part ``xxhash64(seed, node type, nid) mod num_parts``.

A column expression, so fully distributed and free of any Spark job of its own; independent of
Spark's partitioning and of every other node. Parts are balanced as a fair die is: within a few
standard deviations (``sqrt(n / num_parts)``) of ``n / num_parts``.
"""

from __future__ import annotations

from typing import Dict

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from graphmill.spark import INT


def assign(nodes: Dict[str, DataFrame], edges: Dict[str, DataFrame], num_parts: int,
           seed: int) -> Dict[str, DataFrame]:
    """Map each node type's ``nid`` frame to ``(nid, part)``; edges are not looked at."""
    return {
        ntype: df.select("nid", F.pmod(F.xxhash64(F.lit(seed), F.lit(ntype), F.col("nid")),
                                       F.lit(num_parts)).cast(INT).alias("part"))
        for ntype, df in nodes.items()
    }
