"""Node ids: original ids → dense integers, and edge endpoints mapped through them.

A node type read from node tables numbers its ids 0..N-1 (``nid``) in input order
(:mod:`gsprocessing.node_types`, :class:`graphmill.spark.FileOrder`). A type inferred from edges
numbers its distinct endpoint ids in sorted order (:func:`ids_from_endpoints`): nothing the size
of the data reaches the driver, :func:`graphmill.spark.dense_index` numbers rows from a
distributed sort plus one small collect of per-partition counts.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.spark import Scratch, dense_index
from gsprocessing.transforms.base import quote

# Internal column names while a table is processed: user tables may have columns called "nid",
# "src" or "dst" of their own. Outputs are renamed to the plain names when written.
NID, SRC, DST = "__gm_nid", "__gm_src", "__gm_dst"

def id_type(types: Sequence[T.DataType]) -> T.DataType:
    """The common id type of several id columns: long when all are integers, else string."""
    if types and all(isinstance(t, T.IntegralType) for t in types):
        return T.LongType()
    return T.StringType()


def clean_ids(col: Column, dtype: T.DataType, complete: bool = False) -> Column:
    """Cast ids to ``dtype``; empty strings count as missing (as CSV readers already do).
    ``complete``: the column is known to have no missing or empty id (the cast alone)."""
    cast = col.cast(dtype)
    if isinstance(dtype, T.StringType) and not complete:
        return F.when(cast == "", F.lit(None)).otherwise(cast)
    return cast


def ids_from_endpoints(columns: List[DataFrame],
                       scratch: Optional[Scratch] = None) -> Tuple[DataFrame, int]:
    """Id map of a node type that has no node table: its distinct edge endpoints, numbered."""
    ids = columns[0]
    for other in columns[1:]:
        ids = ids.union(other)
    ids = ids.where(F.col("orig").isNotNull()).distinct()
    return dense_index(ids, ["orig"], "nid", scratch)


def map_endpoint(edges: DataFrame, column: str, id_map: DataFrame, out: str,
                 how: str = "left") -> DataFrame:
    """Join ``column`` with ``id_map`` (orig, nid) into ``out``; unknown ids give null
    (``how="left"``) or drop the row (``"inner"``)."""
    right = id_map.select(F.col("orig").alias(f"{out}_orig"), F.col("nid").alias(out))
    return edges.join(right, F.col(quote(column)) == F.col(f"{out}_orig"), how) \
        .drop(f"{out}_orig")


def dangling_examples(edges: DataFrame, column: str, mapped: str, limit: int = 5) -> list:
    """A few endpoint ids in ``column`` that found no node (present, but ``mapped`` is null)."""
    rows = (edges.where(F.col(quote(column)).isNotNull() & F.col(mapped).isNull())
            .select(quote(column)).distinct().orderBy(quote(column)).limit(limit).collect())
    return [r[0] for r in rows]


def endpoint_metrics() -> Dict[str, Column]:
    """Aggregates over edges whose ids are present, with the mapped endpoints in ``SRC`` and
    ``DST``: the rows, and the rows whose src / dst id found no node."""
    return {"rows": F.count(F.lit(1)), "src": F.count_if(F.col(SRC).isNull()),
            "dst": F.count_if(F.col(DST).isNull())}
