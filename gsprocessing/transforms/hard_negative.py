"""``edge_dst_hard_negative``: per edge, a list of destination nodes to use as hard negatives.

The input column holds original destination ids: an array column, or a string split on
``separator``. The edge pipeline first maps every id through the destination type's id map
(:func:`map_hard_negatives`: an explode, one join, a regroup by row; an id that is not a node
becomes -1 and is counted), so no edge row is lost, whatever its list holds. This transform then
pads each list with -1 (or cuts it) to a fixed width: the longest list seen when fitted (the
state). The output is an ``int64`` vector of node ids (nids), in the input's order.

Where GraphStorm differs: GSProcessing's join dropped the edges whose negatives were unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.spark import LONG, LONGS
from gsprocessing.transforms.base import State, Transform, quote, value_tokens

MAPPED = "__gm_hardneg"  # prefix of the mapped (array<long>) columns the pipeline adds


@dataclass
class HardNegativeState(State):
    width: int = 0


class EdgeDstHardNegative(Transform):
    name = "edge_dst_hard_negative"
    state_cls = HardNegativeState
    output_dtype = "int64"  # node ids, whatever the feature's out_dtype

    def __init__(self, separator: Optional[str] = None) -> None:
        if separator is not None and (not isinstance(separator, str) or separator == ""):
            raise ValueError(f"separator must be a non-empty string, got {separator!r}")
        self.separator = separator

    def aggregates(self, df: DataFrame, column: str) -> Dict[str, Column]:
        if not column.startswith(MAPPED):
            raise TypeError("edge_dst_hard_negative applies to edge tables only (the ids are "
                            "mapped through the destination node type)")
        return {"width": F.max(F.size(F.col(quote(column))))}

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> HardNegativeState:
        return HardNegativeState(width=max(int(stats["width"] or 0), 0))

    def dim(self, state: HardNegativeState) -> int:
        return state.width

    def expression(self, df: DataFrame, column: str, state: HardNegativeState) -> Column:
        if not state.width:
            return F.array().cast(LONGS)
        pad = F.array_repeat(F.lit(-1).cast(LONG), state.width)
        return F.slice(F.concat(F.col(quote(column)), pad), 1, state.width)

    def tokens(self, df: DataFrame, column: str) -> Column:
        """The column's ids as array<string> (trimmed, empties dropped)."""
        return value_tokens(df, column, self.separator)


def map_hard_negatives(df: DataFrame, transform: EdgeDstHardNegative, column: str,
                       id_map: DataFrame, id_type: T.DataType, row: str,
                       out: str) -> DataFrame:
    """``df`` with ``out``: the ids of ``column`` mapped to nids (-1 when not a node), in order.

    ``row`` is a unique row key of ``df``; ``id_map`` has (orig, nid) of the destination type.
    """
    exploded = df.select(F.col(row), F.posexplode(transform.tokens(df, column)).alias("pos",
                                                                                        "orig"))
    exploded = exploded.withColumn("orig", F.col("orig").cast(id_type))
    mapped = exploded.join(id_map.select("orig", "nid"), "orig", "left")
    lists = mapped.groupBy(row).agg(F.array_sort(F.collect_list(F.struct(
        "pos", F.coalesce(F.col("nid"), F.lit(-1)).cast(LONG).alias("nid")))).alias("l"))
    lists = lists.select(row, F.transform("l", lambda s: s["nid"]).alias(out))
    joined = df.join(lists, row, "left")
    return joined.withColumn(out, F.coalesce(F.col(out), F.array().cast(LONGS)))
