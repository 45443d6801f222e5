"""Numerical transforms: GConstruct's ``max_min_norm`` and ``standard``.

Both impute missing values first (``imputer``: ``mean`` of the present values, the default as in
GSProcessing, or ``none`` to keep them as NaN), then normalize:

- ``max_min_norm``: ``(x - min) / (max - min)`` after clipping to ``[min_bound, max_bound]``;
  ``min = max(data min, min_bound)``, ``max = min(data max, max_bound)``; ``min_val``/``max_val``
  fix min/max instead of learning them. A constant column maps to 0.
- ``standard``: ``x / sum(x)`` (GraphStorm's definition, not z-scoring). A zero sum maps to 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from gsprocessing.transforms.base import (
    State, Transform, as_double, bad_number_count, check_choice, column_kind, raise_bad_numbers,
)

IMPUTERS = ("mean", "none")


@dataclass
class NumericState(State):
    mean: Optional[float] = None    # imputation value (None: keep missing as NaN)
    low: float = 0.0                # value mapped to 0 (max_min_norm) or unused
    high: float = 1.0               # value mapped to 1 (max_min_norm)
    total: float = 1.0              # divisor (standard)
    missing: int = 0                # rows imputed when fitted (for report.json)


class _Numeric(Transform):
    state_cls = NumericState

    def __init__(self, imputer: str = "mean") -> None:
        check_choice("imputer", imputer, IMPUTERS)
        self.imputer = imputer

    def aggregates(self, df: DataFrame, column: str) -> Dict[str, Column]:
        if column_kind(df, column) not in ("string", "numeric"):
            raise TypeError(f"column '{column}' has type {df.schema[column].dataType.simpleString()}"
                            "; numerical transforms accept numbers or strings of numbers")
        x = as_double(df, column)
        return {"min": F.min(x), "max": F.max(x), "sum": F.sum(x), "count": F.count(x),
                "rows": F.count(F.lit(1)), "bad": bad_number_count(df, column),
                "mean": F.avg(x)}

    def _base_state(self, df: DataFrame, column: str, stats: Dict[str, Any],
                    where: str) -> NumericState:
        if stats["bad"]:
            raise_bad_numbers(df, column, stats["bad"], where)
        missing = int(stats["rows"] - stats["count"])
        mean = stats["mean"] if stats["mean"] is not None else 0.0
        return NumericState(mean=mean if self.imputer == "mean" else None, missing=missing)

    def dim(self, state: State) -> int:
        return 1

    def _scale(self, x, state: NumericState):
        """The normalization, of a column expression or of a Python float alike."""
        raise NotImplementedError

    def expression(self, df: DataFrame, column: str, state: NumericState) -> Column:
        # Missing values are filled after scaling, with the scaled fill value.
        fill = math.nan if state.mean is None else self._scale(float(state.mean), state)
        return F.array(F.coalesce(self._scale(as_double(df, column), state),
                                  F.lit(fill).cast("double")))


class MaxMinNorm(_Numeric):
    """GConstruct ``max_min_norm``."""

    name = "max_min_norm"

    def __init__(self, imputer: str = "mean", max_bound: Optional[float] = None,
                 min_bound: Optional[float] = None, max_val: Optional[float] = None,
                 min_val: Optional[float] = None) -> None:
        super().__init__(imputer)
        for name, value in (("max_bound", max_bound), ("min_bound", min_bound),
                            ("max_val", max_val), ("min_val", min_val)):
            if value is not None and (isinstance(value, bool) or
                                      not isinstance(value, (int, float))):
                raise ValueError(f"{name} must be a number, got {value!r}")
        if max_bound is not None and min_bound is not None and max_bound < min_bound:
            raise ValueError(f"max_bound ({max_bound}) is below min_bound ({min_bound})")
        self.max_bound, self.min_bound = max_bound, min_bound
        self.max_val, self.min_val = max_val, min_val

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> NumericState:
        state = self._base_state(df, column, stats, where)
        low = self.min_val if self.min_val is not None else (stats["min"] or 0.0)
        high = self.max_val if self.max_val is not None else (stats["max"] or 0.0)
        if self.min_bound is not None and self.min_val is None:
            low = max(low, self.min_bound)
        if self.max_bound is not None and self.max_val is None:
            high = min(high, self.max_bound)
        state.low, state.high = float(low), float(high)
        return state

    def _scale(self, x, state: NumericState):
        span = state.high - state.low
        if isinstance(x, float):
            clipped = min(max(x, state.low), state.high)
            return (clipped - state.low) / span if span > 0 else 0.0
        # least/greatest skip nulls: keep a missing value missing (it is filled afterwards).
        clipped = F.when(x.isNotNull(), F.least(F.greatest(x, F.lit(state.low)),
                                                F.lit(state.high)))
        return (clipped - F.lit(state.low)) / F.lit(span) if span > 0 else x * F.lit(0.0)


class Standard(_Numeric):
    """GConstruct/GSProcessing ``standard``: divide by the column's sum."""

    name = "standard"

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> NumericState:
        state = self._base_state(df, column, stats, where)
        total = stats["sum"] or 0.0
        if state.mean is not None:
            total += state.missing * state.mean
        state.total = float(total)
        return state

    def _scale(self, x, state: NumericState):
        if isinstance(x, float):
            return x / state.total if state.total != 0 else 0.0
        return x / F.lit(state.total) if state.total != 0 else x * F.lit(0.0)
