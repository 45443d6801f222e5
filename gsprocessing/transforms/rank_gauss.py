"""``rank_gauss`` (GConstruct; GSProcessing's ``numerical`` with ``normalizer: rank-gauss``).

Each value is replaced by ``erfinv(u)`` where ``u`` is its rank scaled to ``[-1, 1]`` and clipped
to ``[-1 + epsilon, 1 - epsilon]`` (GraphStorm's formula: ``erfinv``, not the normal quantile, so
the outputs have a standard deviation near 1/sqrt(2)). The rank of a value is the average of the
0-based positions its copies take in the sorted column of ``n`` values, divided by ``n - 1``; ties
therefore share one output. With ``uniquify`` the rank is the value's position among the distinct values, over
``distinct - 1``. A column with a single distinct value maps to 0.

Missing values (null, empty string, NaN, ±infinity) are filled first by ``imputer`` (default
``mean``; ``none`` keeps them as NaN) and the filled rows take part in the ranking, as in
GSProcessing, which imputes before it normalizes.

The state is a table of knots, sorted values and their outputs, and applying is linear
interpolation in that table (``np.interp`` in a ``pandas_udf``), also on the first run, so a
re-applied state gives rows seen before exactly their first values:

- at most ``max_knots`` distinct values: every distinct value is a knot (exact rank-gauss);
- more: the knots are the minimum, the maximum, the fill value (when rows took it), the
  ``(max_knots - 3) // 2`` most frequent values and as many values picked by a hash of the value
  (ties in value order). The choice and the knots' outputs are exact and independent of
  partitioning; a value between two knots gets the linear interpolation of theirs.

A new value below the smallest (above the largest) knot gets the first (last) knot's output.

Where GraphStorm differs: GConstruct breaks ties by sort position (equal values can get different
outputs) and ranks in one process; GSProcessing ranks within partitions (wrong on more than one)
and defaults to ``epsilon`` 0 (infinite outputs at both ends); neither saves a rank-gauss state
that new rows could be transformed with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from graphmill.spark import DOUBLE, LONG
from gsprocessing.transforms.base import (
    Imputer, State, Transform, as_double, bad_number_count, batched_udf,
    check_scalar_number_column, most_frequent, raise_bad_numbers,
)

_NORMAL = NormalDist()


def erfinv(y: float) -> float:
    """The inverse error function, from the standard library's normal quantile function."""
    # Through the tail nearer to y: 1 - y is exact for y near 1, (1 + y) / 2 would round.
    if y > 0:
        return -_NORMAL.inv_cdf((1.0 - y) / 2.0) / math.sqrt(2.0)
    return _NORMAL.inv_cdf((1.0 + y) / 2.0) / math.sqrt(2.0)


def gauss(rank: float, denominator: float, epsilon: float) -> float:
    """GraphStorm's rank-gauss of a 0-based ``rank`` out of ``denominator + 1`` positions."""
    if denominator <= 0:
        return 0.0
    u = min(max(rank / denominator * 2.0 - 1.0, -1.0 + epsilon), 1.0 - epsilon)
    return erfinv(u)


@dataclass
class RankGaussState(State):
    fill: Optional[float] = None                         # imputation value (None: keep NaN)
    missing: int = 0                                     # rows imputed when fitted
    values: List[float] = field(default_factory=list)    # knots, strictly increasing
    outputs: List[float] = field(default_factory=list)   # output at each knot
    exact: bool = True                                   # every fitted distinct value is a knot


class RankGauss(Transform):
    """GConstruct ``rank_gauss``; see the module docstring for the exact semantics."""

    name = "rank_gauss"
    state_cls = RankGaussState
    numeric_input = True

    def __init__(self, epsilon: Optional[float] = 1e-6, uniquify: bool = False,
                 imputer: str = "mean", max_knots: int = 100000) -> None:
        epsilon = 1e-6 if epsilon is None else epsilon   # GConstruct's default for null
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) \
                or not 0 < epsilon < 1:
            raise ValueError(f"epsilon must be a number in (0, 1), got {epsilon!r}; 0 would "
                             "map the smallest and largest values to -inf and +inf")
        if not isinstance(uniquify, bool):
            raise ValueError(f"uniquify must be true or false, got {uniquify!r}")
        if isinstance(max_knots, bool) or not isinstance(max_knots, int) or max_knots < 4:
            raise ValueError(f"max_knots must be an integer >= 4, got {max_knots!r}")
        self._imputer = Imputer(imputer)
        self.epsilon, self.uniquify, self.imputer = float(epsilon), uniquify, imputer
        self.max_knots = max_knots

    def aggregates(self, df: DataFrame, column: str) -> Dict[str, Column]:
        check_scalar_number_column(df, column)
        x = as_double(df, column)
        return {"rows": F.count(F.lit(1)), "bad": bad_number_count(df, column),
                "min": F.min(x), "max": F.max(x), **self._imputer.aggregates(x)}

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> RankGaussState:
        if stats["bad"]:
            raise_bad_numbers(df, column, stats["bad"], where)
        values = df.select(as_double(df, column).alias("v"))
        if self.imputer == "most_frequent":
            stats = {**stats, "mode": most_frequent(values, "v").first()["mode"]}
        fill = self._imputer.fill(stats)
        if fill is not None:
            values = values.select(F.coalesce("v", F.lit(fill)).alias("v"))
        counts = values.where(F.col("v").isNotNull()).groupBy("v").count()
        state = RankGaussState(fill=fill, missing=int(stats["rows"] - stats["count"]))
        rows = counts.limit(self.max_knots + 1).collect()
        if len(rows) <= self.max_knots:
            state.values, state.outputs = self._exact_knots([(r.v, r["count"]) for r in rows])
            return state
        counts = counts.persist()  # three jobs read it; each would recompute the grouping
        try:
            # The fill is a knot only when rows took it: a knot must be a value of the data.
            ends = [v for v in (stats["min"], stats["max"],
                                fill if state.missing else None) if v is not None]
            state.values, state.outputs = self._sparse_knots(counts, ends)
        finally:
            counts.unpersist()
        state.exact = False
        return state

    def _exact_knots(self, counts: Sequence[Tuple[float, int]]) -> Tuple[List[float], List[float]]:
        """Every distinct value with its output, from (value, count) pairs."""
        counts = sorted(counts)
        total, below, ranks = sum(c for _, c in counts), 0, []
        for i, (_, c) in enumerate(counts):
            ranks.append(float(i) if self.uniquify else below + (c - 1) / 2.0)
            below += c
        denominator = (len(counts) if self.uniquify else total) - 1
        return ([float(v) for v, _ in counts],
                [gauss(r, denominator, self.epsilon) for r in ranks])

    def _sparse_knots(self, counts: DataFrame,
                      ends: Sequence[float]) -> Tuple[List[float], List[float]]:
        """Knots for a column with more than ``max_knots`` distinct values (see module doc)."""
        k = (self.max_knots - 3) // 2   # with the (up to) three ends: at most max_knots
        # Both picks order by a total order over the values, so partitioning cannot change them.
        picked = counts.orderBy(F.xxhash64("v"), "v").limit(k).collect()
        picked += counts.orderBy(F.desc("count"), "v").limit(k).collect()
        knots = sorted({float(r.v) for r in picked} | {float(v) for v in ends})
        own = {float(r.v): r["count"] for r in picked}
        bucket = _bucketer(knots)
        per = {int(r.b): r for r in counts.withColumn("b", bucket("v")).groupBy("b").agg(
            F.sum("count").alias("n"), F.count(F.lit(1)).alias("distinct"),
            F.min_by("count", "v").alias("first")).collect()}
        # Bucket j >= 1 starts at knot j - 1 (a value present in the data): its first value's
        # count is that knot's count; everything in the buckets before it ranks below the knot.
        total = sum(r.n for r in per.values())
        distinct = sum(r.distinct for r in per.values())
        denominator = (distinct if self.uniquify else total) - 1
        outputs, below, below_distinct = [], 0, 0
        for j, value in enumerate(knots):
            before = per.get(j)
            below += before.n if before else 0
            below_distinct += before.distinct if before else 0
            copies = own.get(value, per[j + 1].first)
            rank = below_distinct if self.uniquify else below + (copies - 1) / 2.0
            outputs.append(gauss(rank, denominator, self.epsilon))
        return knots, outputs

    def dim(self, state: State) -> int:
        return 1

    def apply(self, df: DataFrame, column: str, state: RankGaussState, out: str) -> DataFrame:
        return df.withColumn(out, F.array(self.scaled(as_double(df, column), state)))

    def scaled(self, x: Column, state: RankGaussState) -> Column:
        """The output for the double column ``x`` (missing: NaN, or the fill's output)."""
        if state.fill is not None:
            x = F.coalesce(x, F.lit(float(state.fill)))
        if not state.values:  # no value at all was present when fitted, and no fill
            return F.lit(math.nan).cast(DOUBLE)
        interpolate = _interpolator(state.values, state.outputs)
        # Arrow turns a NaN from pandas into null; missing stays NaN like the other transforms.
        return F.coalesce(interpolate(x), F.lit(math.nan).cast(DOUBLE))


def _bucketer(knots: Sequence[float]) -> Callable[[Column], Column]:
    """A pandas_udf: the number of knots <= x, so bucket j >= 1 is [knots[j-1], knots[j]).
    (Spark ML's Bucketizer stalled with 100,000 splits; a binary search per batch does not.)"""
    import numpy as np

    table = np.asarray(knots, dtype="float64")

    def bucket(x):
        import pandas as pd

        return pd.Series(np.searchsorted(table, x.to_numpy(dtype="float64"), side="right"))

    return batched_udf(bucket, LONG)


def _interpolator(knots: Sequence[float],
                  outputs: Sequence[float]) -> Callable[[Column], Column]:
    """A pandas_udf: linear interpolation in the knot table, over Arrow batches."""
    import numpy as np

    knots, outputs = (np.asarray(v, dtype="float64") for v in (knots, outputs))

    def interpolate(x):
        import pandas as pd

        values = x.to_numpy(dtype="float64", na_value=np.nan)
        # np.interp returns outputs[i] exactly at knots[i]: seen values re-apply bit for bit.
        # It maps NaN to the only output when there is a single knot: keep missing as NaN.
        return pd.Series(np.where(np.isnan(values), np.nan, np.interp(values, knots, outputs)))

    return batched_udf(interpolate, DOUBLE)
