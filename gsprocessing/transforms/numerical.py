"""Numerical transforms: GConstruct's ``max_min_norm`` and ``standard``, GSProcessing's
``numerical`` and ``multi-numerical``.

Every one first fills missing values (null, empty string, NaN, ±infinity) with ``imputer``
(:class:`~gsprocessing.transforms.base.Imputer`: ``none`` keeps them as NaN, ``mean``,
``median`` (exact), ``most_frequent`` (ties: smallest value)), then normalizes:

- ``max_min_norm``: ``(x - min) / (max - min)`` after clipping to ``[min_bound, max_bound]``;
  ``min = max(data min, min_bound)``, ``max = min(data max, max_bound)``; ``min_val``/``max_val``
  fix min/max instead of learning them. A constant column maps to 0 (GSProcessing's Spark
  MinMaxScaler gives 0.5). Imputer default ``mean``.
- ``standard``: ``x / sum(x)`` (GraphStorm's definition, not z-scoring), the sum including the
  filled values; a zero sum maps to 0. Imputer default ``mean``.
- ``numerical`` (GSProcessing): ``normalizer`` ``none`` (default) | ``min-max`` (as
  ``max_min_norm``) | ``standard`` | ``rank-gauss`` (:mod:`~gsprocessing.transforms.rank_gauss`,
  with ``epsilon``, ``uniquify``, ``max_knots``); imputer default ``none``, as GSProcessing
  documents.
- ``multi-numerical`` (GSProcessing): an array column, or a string column split on ``separator``,
  every row of the same width (rows with another width are an error, when fitting and when
  re-applying); the imputer and normalizer (not ``rank-gauss``, like GSProcessing) are fitted and
  applied per element position. An empty element is missing; a missing row has every element
  missing. Imputer and normalizer default ``none``.

The fill value and the normalization constants are the state; re-applying uses only them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import InputError
from graphmill.spark import DOUBLE, DOUBLES, STRING
from gsprocessing.transforms.base import (
    Imputer, State, Transform, as_double, bad_number_count, check_choice, check_number,
    check_scalar_number_column, check_separator, exact_sum, finite, integral, most_frequent, quote,
    raise_bad_numbers, split_literally,
)
from gsprocessing.transforms.rank_gauss import RankGauss


@dataclass
class NumericState(State):
    fill: Optional[float] = None    # imputation value (None: keep missing as NaN)
    low: float = 0.0                # value mapped to 0 (max_min_norm) or unused
    high: float = 1.0               # value mapped to 1 (max_min_norm)
    total: float = 1.0              # divisor (standard)
    missing: int = 0                # rows imputed when fitted (for report.json)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "NumericState":
        # transforms.json from before the median/most_frequent imputers named the fill "mean".
        if "fill" not in d and "mean" in d:
            d = {**d, "fill": d["mean"]}
        return super().from_dict(d)


class _Numeric(Transform):
    """Impute, then scale with constants learned from aggregates; subclasses define the scale."""

    state_cls = NumericState
    numeric_input = True

    def __init__(self, imputer: str = "mean") -> None:
        self._imputer = Imputer(imputer)
        self.imputer = imputer

    def aggregates(self, df: DataFrame, column: str) -> Dict[str, Column]:
        check_scalar_number_column(df, column)
        x, whole = as_double(df, column), integral(df, column)
        return {"min": F.min(x), "max": F.max(x), "sum": exact_sum(x, whole),
                "rows": F.count(F.lit(1)), "bad": bad_number_count(df, column),
                **self._imputer.aggregates(x, whole)}

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> NumericState:
        if stats["bad"]:
            raise_bad_numbers(df, column, stats["bad"], where)
        if self.imputer == "most_frequent" and "mode" not in stats:  # (local: in stats)
            values = df.select(as_double(df, column).alias("v"))
            stats = {**stats, "mode": most_frequent(values, "v").first()["mode"]}
        return self.state_from_stats(stats)

    def state_from_stats(self, stats: Mapping[str, Any]) -> NumericState:
        """The state from the aggregates of one column (or one position of a vector column)."""
        state = NumericState(fill=self._imputer.fill(stats),
                             missing=int(stats["rows"] - stats["count"]))
        self._fit_scale(state, stats)
        return state

    def _fit_scale(self, state: NumericState, stats: Mapping[str, Any]) -> None:
        """Set the normalization constants of ``state``."""

    def dim(self, state: State) -> int:
        return 1

    def _scale(self, x: Column, state: NumericState, present: bool = False) -> Column:
        """The normalization of the column ``x`` (``present``: ``x`` is never null, so a missing
        value needs no guard)."""
        return x

    def scaled(self, x: Column, state: NumericState) -> Column:
        """Scaled and filled value of the double column ``x``."""
        if state.fill is None:  # missing values stay missing (NaN)
            return F.coalesce(self._scale(x, state), F.lit(math.nan).cast(DOUBLE))
        # Filled first, then scaled: the same IEEE operations as scaling the fill value, and
        # ``x`` appears once in the row's code (Spark does not share an expression that sits
        # inside a condition, and ``x`` holds the NaN/infinity test of as_double).
        return self._scale(F.coalesce(x, F.lit(float(state.fill))), state, present=True)

    def elements(self, df: DataFrame, column: str, state: NumericState) -> List[Column]:
        return [self.scaled(as_double(df, column), state)]

    def expression(self, df: DataFrame, column: str, state: NumericState) -> Column:
        return F.array(*self.elements(df, column, state))

    def local_stats(self, column) -> Dict[str, Any]:
        from gsprocessing import local
        import numpy as np

        x = column.doubles()
        present = ~np.isnan(x)
        values = x[present]
        whole = column.integers()
        total = local.exact_sum(values, whole[present] if whole is not None else None)
        return {"min": float(values.min()) if len(values) else None,
                "max": float(values.max()) if len(values) else None, "sum": total,
                "rows": len(x), "bad": 0, **self._imputer.local_stats(values, total)}

    def apply_local(self, column, state: NumericState):
        """:meth:`scaled` of the column in memory, as an (n, 1) array: the same IEEE
        operations in the same order."""
        import numpy as np

        x = column.doubles()
        if state.fill is None:
            return self._scale_local(x, state).reshape(-1, 1)
        return self._scale_local(np.where(np.isnan(x), float(state.fill), x),
                                 state).reshape(-1, 1)

    def _scale_local(self, x, state: NumericState):
        """:meth:`_scale` of a float64 array (NaN: missing, stays NaN)."""
        return x


class Unscaled(_Numeric):
    """GSProcessing's ``normalizer: none``: imputation only."""

    name = "numerical"


class MaxMinNorm(_Numeric):
    """GConstruct ``max_min_norm``."""

    name = "max_min_norm"

    def __init__(self, imputer: str = "mean", max_bound: Optional[float] = None,
                 min_bound: Optional[float] = None,
                 max_val: Union[float, Sequence[float], None] = None,
                 min_val: Union[float, Sequence[float], None] = None) -> None:
        super().__init__(imputer)
        for name, value in (("max_bound", max_bound), ("min_bound", min_bound)):
            check_number(name, value, optional=True)
        # max_val / min_val: one number, or a list of one per input column, as GConstruct
        # writes them back into the config it saves for inference.
        for name, value in (("max_val", max_val), ("min_val", min_val)):
            if isinstance(value, (list, tuple)):
                if not value:
                    raise ValueError(f"{name} must be a number or a non-empty list of numbers, "
                                     "got []")
                for v in value:
                    check_number(name, v)
            else:
                check_number(name, value, optional=True)
        if max_bound is not None and min_bound is not None and max_bound < min_bound:
            raise ValueError(f"max_bound ({max_bound}) is below min_bound ({min_bound})")
        self.max_bound, self.min_bound = max_bound, min_bound
        self.max_val, self.min_val = max_val, min_val

    def for_column(self, j: int, n: int) -> "MaxMinNorm":
        picked = {}
        for name in ("max_val", "min_val"):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                if len(value) not in (1, n):
                    raise ValueError(f"{name} has {len(value)} values for {n} input column(s); "
                                     "give one number, or one per column")
                value = value[j if len(value) == n else 0]
            picked[name] = value
        if picked == {"max_val": self.max_val, "min_val": self.min_val}:
            return self
        return MaxMinNorm(imputer=self.imputer, max_bound=self.max_bound,
                          min_bound=self.min_bound, **picked)

    def _fit_scale(self, state: NumericState, stats: Mapping[str, Any]) -> None:
        low = self.min_val if self.min_val is not None else (stats["min"] or 0.0)
        high = self.max_val if self.max_val is not None else (stats["max"] or 0.0)
        if self.min_bound is not None and self.min_val is None:
            low = max(low, self.min_bound)
        if self.max_bound is not None and self.max_val is None:
            high = min(high, self.max_bound)
        state.low, state.high = float(low), float(high)

    def _scale(self, x: Column, state: NumericState, present: bool = False) -> Column:
        span = state.high - state.low
        clipped = F.least(F.greatest(x, F.lit(state.low)), F.lit(state.high))
        if not present:  # least/greatest skip nulls: keep a missing value missing
            clipped = F.when(x.isNotNull(), clipped)
        return (clipped - F.lit(state.low)) / F.lit(span) if span > 0 else x * F.lit(0.0)

    def _scale_local(self, x, state: NumericState):
        import numpy as np

        span = state.high - state.low
        if not span > 0:
            return x * 0.0
        with np.errstate(invalid="ignore"):
            return (np.minimum(np.maximum(x, state.low), state.high) - state.low) / span


class Standard(_Numeric):
    """GConstruct/GSProcessing ``standard``: divide by the column's sum."""

    name = "standard"

    def _fit_scale(self, state: NumericState, stats: Mapping[str, Any]) -> None:
        total = stats["sum"] or 0.0
        if state.fill is not None:
            total += state.missing * state.fill
        state.total = float(total)

    def _scale(self, x: Column, state: NumericState, present: bool = False) -> Column:
        return x / F.lit(state.total) if state.total != 0 else x * F.lit(0.0)

    def _scale_local(self, x, state: NumericState):
        return x / state.total if state.total != 0 else x * 0.0


NORMALIZERS = {"none": Unscaled, "min-max": MaxMinNorm, "standard": Standard}


@dataclass
class NumericalState(NumericState):
    """State of ``numerical``: the fields of its normalizer's state (rank-gauss adds knots)."""

    values: List[float] = field(default_factory=list)
    outputs: List[float] = field(default_factory=list)
    exact: bool = True


class Numerical(Transform):
    """GSProcessing ``numerical``: an imputer and a normalizer, delegated to the classes above."""

    name = "numerical"
    state_cls = NumericalState
    numeric_input = True

    def __init__(self, imputer: str = "none", normalizer: str = "none",
                 epsilon: Optional[float] = None, uniquify: bool = False,
                 max_knots: Optional[int] = None) -> None:
        check_choice("normalizer", normalizer, (*NORMALIZERS, "rank-gauss"))
        if normalizer == "rank-gauss":
            extra = {k: v for k, v in (("epsilon", epsilon), ("max_knots", max_knots))
                     if v is not None}
            self._inner: Transform = RankGauss(imputer=imputer, uniquify=uniquify, **extra)
        elif epsilon is not None or uniquify or max_knots is not None:
            raise ValueError("epsilon, uniquify and max_knots apply only to normalizer "
                             f"'rank-gauss', not '{normalizer}'")
        else:
            self._inner = NORMALIZERS[normalizer](imputer)
        self.imputer, self.normalizer = imputer, normalizer
        self.epsilon, self.uniquify, self.max_knots = epsilon, uniquify, max_knots

    def aggregates(self, df: DataFrame, column: str) -> Dict[str, Column]:
        return self._inner.aggregates(df, column)

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> NumericalState:
        return NumericalState(**self._inner.fit_extra(df, column, stats, where).to_dict())

    def dim(self, state: State) -> int:
        return 1

    def apply(self, df: DataFrame, column: str, state: NumericalState, out: str) -> DataFrame:
        return self._inner.apply(df, column, state, out)

    def elements(self, df: DataFrame, column: str,
                 state: NumericalState) -> Optional[List[Column]]:
        return self._inner.elements(df, column, state)

    def local_stats(self, column) -> Dict[str, Any]:
        return self._inner.local_stats(column)

    def apply_local(self, column, state: NumericalState):
        return self._inner.apply_local(column, state)


@dataclass
class MultiNumericState(State):
    width: int = 0
    positions: List[NumericState] = field(default_factory=list)  # one per element position
    missing: int = 0                                             # rows with an imputed element

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "MultiNumericState":
        positions = [NumericState.from_dict(p) for p in d.get("positions", [])]
        return cls(width=int(d.get("width", len(positions))), positions=positions,
                   missing=int(d.get("missing", 0)))


class MultiNumerical(Transform):
    """GSProcessing ``multi-numerical``: imputer and normalizer per element position."""

    name = "multi-numerical"
    state_cls = MultiNumericState

    def __init__(self, imputer: str = "none", normalizer: str = "none",
                 separator: Optional[str] = None) -> None:
        if normalizer == "rank-gauss":
            raise ValueError("multi-numerical does not support normalizer 'rank-gauss' (nor does "
                             "GSProcessing); use one numerical feature per column instead")
        check_choice("normalizer", normalizer, tuple(NORMALIZERS))
        check_separator(separator)
        self._inner: _Numeric = NORMALIZERS[normalizer](imputer)
        self._imputer = Imputer(imputer)
        self.imputer, self.normalizer, self.separator = imputer, normalizer, separator

    def _vector(self, df: DataFrame, column: str) -> Column:
        """array<double> of the row, null elements where a value is missing or not a number."""
        dtype = df.schema[column].dataType
        col = F.col(quote(column))
        if isinstance(dtype, T.ArrayType) and isinstance(dtype.elementType, T.StringType):
            return F.transform(col, lambda s: finite(F.trim(s).try_cast(DOUBLE)))
        if isinstance(dtype, T.ArrayType):
            return F.transform(col.cast(DOUBLES), finite)
        if isinstance(dtype, T.StringType) and self.separator is not None:
            parts = split_literally(col, self.separator)
            return F.when(F.trim(col) != "", F.transform(
                parts, lambda s: finite(F.trim(s).try_cast(DOUBLE))))
        raise TypeError(f"column '{column}' has type {dtype.simpleString()}; multi-numerical "
                        "accepts an array of numbers, or a string of numbers with a separator "
                        "(set 'separator')")

    def _bad(self, df: DataFrame, column: str) -> Column:
        """Per row: elements that are present but not numbers (strings only)."""
        dtype = df.schema[column].dataType
        if not (isinstance(dtype, T.StringType) or (isinstance(dtype, T.ArrayType) and
                                                    isinstance(dtype.elementType, T.StringType))):
            return F.lit(0)
        col = F.col(quote(column))
        parts = split_literally(col, self.separator) if isinstance(
            dtype, T.StringType) else col
        is_bad = lambda s: (F.trim(s) != "") & F.trim(s).try_cast(DOUBLE).isNull()  # noqa: E731
        return F.coalesce(F.size(F.filter(parts, is_bad)), F.lit(0))

    def aggregates(self, df: DataFrame, column: str) -> Dict[str, Column]:
        vec = self._vector(df, column)
        holes = vec.isNull() | F.exists(vec, lambda v: v.isNull())
        width = F.when(vec.isNotNull(), F.size(vec))  # a missing row has no width
        return {"rows": F.count(F.lit(1)), "bad": F.sum(self._bad(df, column)),
                "min_width": F.min(width), "max_width": F.max(width),
                "holes": F.sum(F.when(holes, 1).otherwise(0))}

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> MultiNumericState:
        if stats["bad"]:
            bad = df.where(self._bad(df, column) > 0).select(quote(column)).limit(5).collect()
            raise InputError(f"{where}: column '{column}' has {stats['bad']} element(s) that are "
                             f"not numbers, e.g. in {[r[0] for r in bad]}; fix the data or check "
                             f"the separator ({self.separator!r})")
        low, high = stats["min_width"], stats["max_width"]
        if low != high:
            raise InputError(f"{where}: column '{column}' has vectors of different lengths "
                             f"({low} to {high}); multi-numerical needs one width for every row")
        width = int(high or 0)
        per = self._position_stats(df, column, stats["rows"])
        # Every present row has all positions (null elements included), so each is in ``per``.
        positions = [self._inner.state_from_stats(per[i]) for i in range(width)]
        return MultiNumericState(width=width, positions=positions, missing=int(stats["holes"]))

    def _position_stats(self, df: DataFrame, column: str, rows: int) -> Dict[int, Dict]:
        """Aggregates of every element position, in one job (plus one for most_frequent)."""
        long = df.select(F.posexplode(self._vector(df, column)).alias("pos", "v"))
        v = F.col("v")
        aggs = {"min": F.min(v), "max": F.max(v), "sum": exact_sum(v),
                **self._imputer.aggregates(v)}
        per = {r.pos: {**r.asDict(), "rows": rows}
               for r in long.groupBy("pos").agg(*[e.alias(k) for k, e in aggs.items()]).collect()}
        if self.imputer == "most_frequent":
            for r in most_frequent(long, "v", ["pos"]).collect():
                per[r.pos]["mode"] = r["mode"]
        return per

    def dim(self, state: MultiNumericState) -> int:
        return state.width

    def expression(self, df: DataFrame, column: str, state: MultiNumericState) -> Column:
        vec = self._vector(df, column)
        message = F.concat(F.lit(f"column '{column}' has a row of "), F.size(vec).cast(STRING),
                           F.lit(f" values; its saved multi-numerical state expects {state.width}"))
        # A null vector (missing row) passes: every element is then filled.
        checked = F.when(vec.isNotNull() & (F.size(vec) != state.width),
                         F.raise_error(message)).otherwise(vec)
        return F.array(*[self._inner.scaled(checked[i], s) for i, s in enumerate(state.positions)]
                       ) if state.width else F.array().cast(DOUBLES)
