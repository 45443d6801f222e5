"""``bucket_numerical`` (GConstruct) and ``bucket-numerical`` (GSProcessing): numbers to buckets.

``range: [low, high]`` is cut into ``bucket_cnt`` buckets of equal size ``s = (high - low) /
bucket_cnt``, each left-closed: bucket ``i`` is ``[low + i*s, low + (i+1)*s)``. The output is a
multi-hot vector of width ``bucket_cnt``. A value ``v`` falls into every bucket that the window
``[v - w/2, v + w/2]`` (``w = slide_window_size``, default 0) covers once clipped to the range;
a value ``<= low`` is also in the first bucket and a value ``>= high`` also in the last, so a
value out of range goes to the bucket at its end (GraphStorm's example: range [10, 30], 2
buckets: 1 and 11 → first, 21 and 31 → second).

Missing values (null, empty string, NaN, ±infinity) are filled by ``imputer`` first; with
``none`` a missing value is in no bucket (all zeros). Default: ``mean`` for ``bucket_numerical``
(like GraphMill's other GConstruct-named numerical transforms; GConstruct itself has no imputer),
``none`` for ``bucket-numerical`` (GSProcessing's documented default, where a missing value
fails the job instead of giving zeros).

Where GraphStorm differs: GSProcessing puts a value ``>= high`` (``<= low``) in the last (first)
bucket only, ignoring the window; we follow GConstruct, where the window also applies there.
The bucket bounds come from the parameters; only the fill value is learned and saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from gsprocessing.transforms.base import (
    Imputer, State, Transform, as_double, bad_number_count, check_number,
    check_scalar_number_column, most_frequent, raise_bad_numbers,
)


@dataclass
class BucketState(State):
    fill: Optional[float] = None   # imputation value (None: a missing value is in no bucket)
    missing: int = 0               # rows imputed when fitted


class BucketNumerical(Transform):
    """GConstruct ``bucket_numerical``; see the module docstring."""

    name = "bucket_numerical"
    state_cls = BucketState
    numeric_input = True

    # ``range`` is the config key GraphStorm uses, so it is the parameter name here too.
    def __init__(self, range: Sequence[float], bucket_cnt: int,  # noqa: A002
                 slide_window_size: float = 0, imputer: str = "mean") -> None:
        if not isinstance(range, (list, tuple)) or len(range) != 2:
            raise ValueError(f"range must be [low, high], got {range!r}")
        for i, bound in enumerate(range):
            check_number(f"range[{i}]", bound)
        if not range[0] < range[1]:
            raise ValueError(f"range must be [low, high] with low < high, got {list(range)}")
        if isinstance(bucket_cnt, bool) or not isinstance(bucket_cnt, int) or bucket_cnt < 1:
            raise ValueError(f"bucket_cnt must be a positive integer, got {bucket_cnt!r}")
        check_number("slide_window_size", slide_window_size)
        if slide_window_size < 0:
            raise ValueError(f"slide_window_size must be >= 0, got {slide_window_size!r}")
        self._imputer = Imputer(imputer)
        self.range: List[float] = list(range)
        self.bucket_cnt, self.imputer = bucket_cnt, imputer
        self.slide_window_size = slide_window_size

    def aggregates(self, df: DataFrame, column: str) -> Dict[str, Column]:
        check_scalar_number_column(df, column)
        x = as_double(df, column)
        return {"rows": F.count(F.lit(1)), "bad": bad_number_count(df, column),
                **self._imputer.aggregates(x)}

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> BucketState:
        if stats["bad"]:
            raise_bad_numbers(df, column, stats["bad"], where)
        if self.imputer == "most_frequent" and "mode" not in stats:  # (local: in stats)
            values = df.select(as_double(df, column).alias("v"))
            stats = {**stats, "mode": most_frequent(values, "v").first()["mode"]}
        return BucketState(fill=self._imputer.fill(stats),
                           missing=int(stats["rows"] - stats["count"]))

    def dim(self, state: State) -> int:
        return self.bucket_cnt

    def expression(self, df: DataFrame, column: str, state: BucketState) -> Column:
        low, high = (float(b) for b in self.range)
        count, half = self.bucket_cnt, self.slide_window_size / 2.0
        size = (high - low) / count
        v = as_double(df, column)
        if state.fill is not None:
            v = F.coalesce(v, F.lit(float(state.fill)))
        # The window's ends clipped into the range, then to bucket numbers: [first, last).
        # least/greatest skip nulls, so a missing value must stay null by hand.
        start = F.when(v.isNotNull(), F.least(F.greatest(v - half, F.lit(low)), F.lit(high)))
        end = F.when(v.isNotNull(), F.greatest(F.least(v + half, F.lit(high)), F.lit(low)))
        first = F.floor((start - F.lit(low)) / F.lit(size))
        last = F.least(F.floor((end - F.lit(low)) / F.lit(size)) + 1, F.lit(count))

        def member(i: Column) -> Column:
            inside = (i >= first) & (i < last)
            ends = ((i == 0) & (v <= F.lit(low))) | ((i == count - 1) & (v >= F.lit(high)))
            # A missing value (v null) makes both null: coalesce puts it in no bucket.
            return F.when(F.coalesce(inside | ends, F.lit(False)), 1.0).otherwise(0.0)

        return F.transform(F.sequence(F.lit(0), F.lit(count - 1)), member)

    def local_stats(self, column) -> Dict[str, Any]:
        import numpy as np

        x = column.doubles()
        return {"rows": len(x), "bad": 0, **self._imputer.local_stats(x[~np.isnan(x)])}

    def apply_local(self, column, state: BucketState):
        """:meth:`expression` of the column in memory (the same operations, per bucket)."""
        import numpy as np

        low, high = (float(b) for b in self.range)
        count, half = self.bucket_cnt, self.slide_window_size / 2.0
        size = (high - low) / count
        v = column.doubles()
        if state.fill is not None:
            v = np.where(np.isnan(v), float(state.fill), v)
        with np.errstate(invalid="ignore"):
            start = np.minimum(np.maximum(v - half, low), high)
            end = np.maximum(np.minimum(v + half, high), low)
            first = np.floor((start - low) / size)[:, None]
            last = np.minimum(np.floor((end - low) / size) + 1, count)[:, None]
            i = np.arange(count)[None, :]
            ends = ((i == 0) & (v <= low)[:, None]) | ((i == count - 1) & (v >= high)[:, None])
            return np.where(((i >= first) & (i < last)) | ends, 1.0, 0.0)


class BucketNumericalGSP(BucketNumerical):
    """GSProcessing ``bucket-numerical``: the same, with GSProcessing's default imputer."""

    name = "bucket-numerical"

    def __init__(self, range: Sequence[float], bucket_cnt: int,  # noqa: A002
                 slide_window_size: float = 0, imputer: str = "none") -> None:
        super().__init__(range, bucket_cnt, slide_window_size, imputer)
