"""``no-op``: take numbers as they are.

Accepts a numeric column (width 1), an array column, or a string column holding ``separator``-
separated numbers (``"1|2|3"``). Every row must have the same width (``truncate_dim`` keeps the
first k values). Missing values are an error: no-op does not invent numbers; use a numerical
transform with an imputer for columns that have gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from graphmill.errors import InputError
from graphmill.spark import DOUBLE, DOUBLES
from gsprocessing.transforms.base import (
    State, Transform, as_double, bad_number_count, column_kind, finite, quote,
    raise_bad_numbers, split_literally,
)


@dataclass
class NoOpState(State):
    width: int = 1


class NoOp(Transform):
    name = "no-op"
    state_cls = NoOpState

    def __init__(self, separator: Optional[str] = None, truncate_dim: Optional[int] = None) -> None:
        if truncate_dim is not None and (not isinstance(truncate_dim, int) or truncate_dim < 1):
            raise ValueError(f"truncate_dim must be a positive integer, got {truncate_dim!r}")
        if separator is not None and (not isinstance(separator, str) or separator == ""):
            raise ValueError(f"separator must be a non-empty string, got {separator!r}")
        self.separator = separator
        self.truncate_dim = truncate_dim

    def _vector(self, df: DataFrame, column: str) -> Optional[Column]:
        """The column as array<double>, or None for a scalar numeric column."""
        kind = column_kind(df, column)
        col = F.col(quote(column))
        if kind == "array":
            return F.transform(col.cast(DOUBLES), finite)
        if kind == "string" and self.separator is not None:
            parts = split_literally(F.trim(col), self.separator)
            return F.transform(parts, lambda s: finite(F.trim(s).try_cast(DOUBLE)))
        if kind in ("string", "numeric"):
            return None
        raise TypeError(f"column '{column}' has type {df.schema[column].dataType.simpleString()}"
                        "; no-op accepts numbers, arrays of numbers or strings of numbers")

    def aggregates(self, df: DataFrame, column: str) -> Dict[str, Column]:
        vec = self._vector(df, column)
        rows = F.count(F.lit(1))
        if vec is None:
            return {"rows": rows, "present": F.count(as_double(df, column)),
                    "bad": bad_number_count(df, column)}
        present = F.col(quote(column)).isNotNull()
        holes = F.size(F.filter(vec, lambda v: v.isNull()))
        return {"rows": rows, "present": F.count(F.when(present, 1)),
                "min_width": F.min(F.when(present, F.size(vec))),
                "max_width": F.max(F.when(present, F.size(vec))),
                "bad": F.sum(F.when(present, holes).otherwise(0))}

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> NoOpState:
        vec = self._vector(df, column)
        if vec is None and stats["bad"]:
            raise_bad_numbers(df, column, stats["bad"], where)
        if stats["bad"]:
            raise InputError(f"{where}: column '{column}' has {stats['bad']} element(s) that are "
                             "not numbers (or are NaN/infinite) in its vectors; fix the data")
        missing = stats["rows"] - stats["present"]
        if missing:
            raise InputError(f"{where}: column '{column}' has {missing} missing value(s); no-op "
                             "does not impute: fill them, or use max_min_norm/standard (imputer)")
        if vec is None:
            return NoOpState(width=1)
        low, high = stats["min_width"] or 0, stats["max_width"] or 0
        if self.truncate_dim is not None:
            if low < self.truncate_dim:
                raise InputError(f"{where}: column '{column}' has rows with {low} values, fewer "
                                 f"than truncate_dim={self.truncate_dim}")
            return NoOpState(width=self.truncate_dim)
        if low != high:
            raise InputError(f"{where}: column '{column}' has vectors of different lengths "
                             f"({low} to {high}); make them equal or set truncate_dim")
        return NoOpState(width=int(high))

    def dim(self, state: NoOpState) -> int:
        return state.width

    def _local_scalars(self, column):
        """The column's numbers in memory: scalar columns only (numbers, or strings of one
        number); vectors go to Spark."""
        if column.kind == "array" or (column.kind == "string" and self.separator is not None):
            from gsprocessing.local import Unsupported
            raise Unsupported("no-op of vectors has no local form")
        return column.doubles()

    def local_stats(self, column) -> Dict[str, Any]:
        import numpy as np

        x = self._local_scalars(column)
        return {"rows": len(x), "present": int((~np.isnan(x)).sum()), "bad": 0}

    def apply_local(self, column, state: NoOpState):
        import numpy as np

        x = self._local_scalars(column)
        if np.isnan(x).any():  # (Spark writes a missing element as null, not NaN)
            from gsprocessing.local import Unsupported
            raise Unsupported("no-op of a missing value (re-applied)")
        return x.reshape(-1, 1)

    def expression(self, df: DataFrame, column: str, state: NoOpState) -> Column:
        vec = self._vector(df, column)
        if vec is None:
            return F.array(as_double(df, column))
        return F.slice(vec, 1, state.width)
