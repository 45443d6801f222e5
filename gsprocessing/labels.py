"""Labels and train/val/test splits.

Classification labels are mapped to 0..C-1 in the sorted order of their distinct values (numbers
in numeric order when all are integers); a missing label becomes -1 and its row is in no mask.

The split is exact and seeded: the labelled rows are ordered by ``xxhash64(seed, nid)`` (ties by
nid) and the first ``round(n * train)`` are train, the next ``round(n * (train + val))`` - that
are val, and so on. The result depends only on the seed and the set of labelled nids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from graphmill.errors import InputError
from gsprocessing.config.schema import MASK_COLUMNS, LabelSpec
from gsprocessing.ids import dense_index
from gsprocessing.transforms.base import quote
from gsprocessing.transforms.categorical import sort_values


@dataclass
class LabelState:
    """Fitted label: the class names in index order and the split sizes."""

    column: str
    task: str
    classes: List[str]
    split: Dict[str, int] = field(default_factory=dict)  # train/val/test/unlabeled row counts
    class_counts: Dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"column": self.column, "task": self.task, "num_classes": len(self.classes),
                "classes": self.classes, "split": self.split, "class_counts": self.class_counts}


def _as_label(column: str) -> "F.Column":
    value = F.trim(F.col(quote(column)).cast("string"))
    return F.when(value == "", F.lit(None)).otherwise(value)


def fit_label(df: DataFrame, spec: LabelSpec) -> LabelState:
    """Class names (sorted) and per-class counts, in one job."""
    rows = (df.groupBy(_as_label(spec.column).alias("v")).count().collect())
    counts = {r.v: int(r["count"]) for r in rows if r.v is not None}
    if not counts:
        raise InputError(f"{spec.where}: label column '{spec.column}' has no values")
    classes = sort_values(list(counts))
    total = sum(counts.values())
    tr, va, te = spec.split
    n_train = round(total * tr)
    n_val = min(round(total * (tr + va)), total) - n_train
    n_test = min(round(total * (tr + va + te)), total) - n_train - n_val
    unlabeled = sum(int(r["count"]) for r in rows if r.v is None)
    return LabelState(column=spec.column, task=spec.task, classes=classes,
                      split={"train": n_train, "val": n_val, "test": n_test,
                             "unlabeled": unlabeled},
                      class_counts={c: counts[c] for c in classes})


def apply_label(df: DataFrame, state: LabelState, seed: int, key: str) -> DataFrame:
    """Replace the label column by its class index and add the three mask columns.

    ``key`` is the column holding the nid.
    """
    table = F.create_map(*[x for i, c in enumerate(state.classes) for x in (F.lit(c), F.lit(i))])
    label = F.coalesce(table[_as_label(state.column)], F.lit(-1)).cast("long")
    df = df.withColumn("__gm_label", label)
    missing = (F.col("__gm_label") < 0).cast("int")
    ranked, _ = dense_index(df, [missing, F.xxhash64(F.lit(seed), F.col(key)), F.col(key)],
                         "__gm_pos")
    s = state.split
    bounds = (s["train"], s["train"] + s["val"], s["train"] + s["val"] + s["test"])
    pos, has = F.col("__gm_pos"), F.col("__gm_label") >= 0
    masks = {
        MASK_COLUMNS[0]: has & (pos < bounds[0]),
        MASK_COLUMNS[1]: has & (pos >= bounds[0]) & (pos < bounds[1]),
        MASK_COLUMNS[2]: has & (pos >= bounds[1]) & (pos < bounds[2]),
    }
    for name, expr in masks.items():
        ranked = ranked.withColumn(name, expr)
    return ranked.drop("__gm_pos", state.column).withColumnRenamed("__gm_label", state.column)
