"""The transform protocol: learn state from data, save it, re-apply it.

A transform turns an input column of a table into a vector column of type ``array<double>``
with a fixed width. Learning and applying are split, as in pyspark.ml: ``fit`` returns a
:class:`State` that ``to_dict``/``from_dict`` round-trip through transforms.json, and ``apply``
only needs that state, so new rows transformed later get exactly the values they would have had.

Statistics that are plain aggregates (min, max, sum, counts) are declared by ``aggregates``, and
values to count (a categorical column's) by ``counted``, so the pipeline can compute those of
every feature and label of a table in one pass (:mod:`gsprocessing.fitpass`); a transform that
needs more overrides ``fit_extra``.
"""

from __future__ import annotations

import decimal

import inspect
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, ClassVar, Dict, List, Mapping, Optional, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import InputError
from graphmill.spark import (  # noqa: F401  (quote is re-exported: transforms quote columns)
    DOUBLE, LONG, STRING, STRINGS, quote,
)


@dataclass
class State:
    """Fitted state of a transform for one input column. Subclasses add their fields."""

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "State":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


class Transform(ABC):
    """Base class. The constructor's keyword arguments are the transform's config schema."""

    name: ClassVar[str]
    state_cls: ClassVar[type] = State
    # True: reads its input column as one number per row, only through :func:`as_double` (and
    # :func:`bad_number_count`), so a CSV column that only such transforms read is parsed once,
    # when the table is copied (:func:`gsprocessing.tables.scan`), and reaches it as a double.
    numeric_input: ClassVar[bool] = False

    def params(self) -> Dict[str, Any]:
        """The constructor arguments, for transforms.json and the manifest."""
        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    def aggregates(self, df: DataFrame, column: str) -> Dict[str, Column]:
        """Aggregate expressions this transform needs for ``column`` (computed in one job)."""
        return {}

    def counted(self, df: DataFrame, column: str) -> Optional[Column]:
        """The values of ``column`` whose counts this transform learns from, as an
        ``array<string>`` per row (counted with the aggregates), or None."""
        return None

    def for_column(self, j: int, n: int) -> "Transform":
        """The transform that fits the ``j``-th of a feature's ``n`` input columns: this one,
        unless a parameter gives a value per column (``max_min_norm``'s ``max_val``).

        Raises:
            ValueError: a parameter's values do not fit ``n`` columns.
        """
        return self

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any], where: str) -> State:
        """Build the state from ``stats`` (the values of ``aggregates``, and under
        ``value_counts`` those of ``counted`` when the pass could count them: value → rows);
        may run its own job."""
        return self.state_cls()

    @abstractmethod
    def dim(self, state: State) -> int:
        """Width of the output vector for one input column."""

    def encoding(self, states: Sequence[State]) -> str:
        """How a feature with these states (one per input column) is written: ``dense`` (its
        vectors, from :meth:`apply`) or ``indices`` (the positions of the ones of 0/1 vectors,
        from ``apply_indices``, which such a transform defines)."""
        return "dense"

    def apply(self, df: DataFrame, column: str, state: State, out: str) -> DataFrame:
        """``df`` with a new column ``out``: an array of width ``dim(state)`` for every row."""
        return df.withColumn(out, self.expression(df, column, state))

    def expression(self, df: DataFrame, column: str, state: State) -> Column:
        """The output as a column expression, for transforms that are one (most are)."""
        raise NotImplementedError

    # The local engine (:mod:`gsprocessing.local`): the same statistics and outputs from a
    # column in memory (a :class:`gsprocessing.local.LocalColumn`), for transforms that have a
    # local form; the others raise ``Unsupported`` and their table runs in Spark.

    def local_stats(self, column) -> Dict[str, Any]:
        """What ``aggregates`` computes in Spark, under the same names (and ``value_counts``:
        the counts of ``counted``'s values), from ``column`` in memory."""
        from gsprocessing.local import Unsupported
        raise Unsupported(f"{self.name} has no local form")

    def apply_local(self, column, state: State):
        """:meth:`apply`'s vectors from ``column`` in memory: an (n, dim) float64 array."""
        from gsprocessing.local import Unsupported
        raise Unsupported(f"{self.name} has no local form")

    def elements(self, df: DataFrame, column: str, state: State) -> Optional[List[Column]]:
        """The output's elements as scalar columns, for a transform whose vector is
        ``F.array`` of them (and nothing else); None otherwise. A feature then builds its vector
        in the output type at once (:meth:`gsprocessing.features.FittedFeature.apply`), not as
        an array of doubles that a cast copies element by element (7M rows: about 1 CPU-s)."""
        return None


def column_kind(df: DataFrame, column: str) -> str:
    """``"string"``, ``"numeric"``, ``"array"`` or ``"other"``: how a transform must read it."""
    dtype = df.schema[column].dataType
    if isinstance(dtype, T.StringType):
        return "string"
    if isinstance(dtype, T.NumericType) or isinstance(dtype, T.BooleanType):
        return "numeric"
    if isinstance(dtype, T.ArrayType):
        return "array"
    return "other"


def as_double(df: DataFrame, column: str) -> Column:
    """The column as double. Strings that are not numbers (see ``bad_number_count``), NaN and
    infinities become null: missing, not poison for min/max/sum."""
    if isinstance(df.schema[column].dataType, (T.IntegralType, T.DecimalType, T.BooleanType)):
        return _parsed(df, column)  # never NaN or infinite: no test needed in every row's code
    return finite(_parsed(df, column))


def _parsed(df: DataFrame, column: str) -> Column:
    col = F.col(quote(column))
    if column_kind(df, column) == "string":
        return parse_number(col)
    return col.cast(DOUBLE)


def parse_number(text: Column) -> Column:
    """A string column as double: spaces trimmed; null where it is not a number (or missing)."""
    return F.trim(text).try_cast(DOUBLE)


def not_a_number(text: Column, parsed: Column) -> Column:
    """Per row: the string ``text`` is present but ``parsed`` (its :func:`parse_number`) is null."""
    return text.isNotNull() & (F.trim(text) != "") & parsed.isNull()


def finite(x: Column) -> Column:
    """``x`` with NaN and ±infinity replaced by null."""
    return F.when(~F.isnan(x) & (F.abs(x) != F.lit(float("inf"))), x)


EXACT = T.DecimalType(38, 18)


def exact_sum(x: Column, whole: Optional[Column] = None) -> Column:
    """Aggregate: the sum of a double column, independent of the order Spark adds it up in.

    Floating-point addition is not associative, and Spark merges partial sums in the order shuffle
    blocks arrive, so a plain ``sum`` can differ in its last bits between runs (and a mean fill
    value with it). Each value is taken as an exact decimal (18 places) and summed exactly; when a
    value or the sum does not fit ``decimal(38,18)`` (beyond 1e20) the plain sum is used.

    ``whole``: the same values as a long column, when the input column is integral
    (:func:`integral`). They are summed as longs instead, exactly and about four times faster
    than decimals (7M rows: 0.6 s against 2.4 s); the plain sum is used only if the sum leaves
    the long range (beyond 9.2e18).
    """
    if whole is not None:
        return F.coalesce(F.try_sum(whole).cast(DOUBLE), F.sum(x))
    exact = F.try_sum(x.try_cast(EXACT))
    # The largest |x| from min and max (aggregates the pass has anyway, not one more); false
    # with NaN or infinity (Spark orders NaN above all).
    fits = F.greatest(F.abs(F.min(x)), F.abs(F.max(x))) < 1e20
    return F.when(fits & exact.isNotNull(), exact.cast(DOUBLE)).otherwise(F.sum(x))


def integral(df: DataFrame, column: str) -> Optional[Column]:
    """The column as long if its type is integral (for :func:`exact_sum`), else None."""
    if isinstance(df.schema[column].dataType, T.IntegralType):
        return F.col(quote(column)).cast(LONG)
    return None


def exact_mean(x: Column, whole: Optional[Column] = None) -> Column:
    """Aggregate: the mean of the present values of ``x`` (null when none), as :func:`exact_sum`."""
    return F.when(F.count(x) > 0, exact_sum(x, whole) / F.count(x))


def exact_sums(x: Column) -> Dict[str, Column]:
    """Aggregates for :func:`mean_std`: exact decimal sums of ``x`` and ``x * x`` and how many
    values fit the decimal type."""
    return {k: e.alias(k) for k, e in (
        ("s1", F.try_sum(x.try_cast(EXACT))), ("s2", F.try_sum((x * x).try_cast(EXACT))),
        ("fit", F.count((x * x).try_cast(EXACT))))}


def mean_std(row) -> Dict[str, float]:
    """Mean and population std from a row with ``n``, :func:`exact_sums` and Spark's own
    ``mean``/``std`` (used only when the values do not fit the exact sums)."""
    if row.s1 is None or row.s2 is None or row.fit != row.n or not row.n:
        return {"mean": float(row.mean), "std": float(row.std)}
    with decimal.localcontext(decimal.Context(prec=80)):
        mean = row.s1 / row.n
        var = max(row.s2 / row.n - mean * mean, decimal.Decimal(0))
        return {"mean": float(mean), "std": float(var.sqrt())}


def bad_number_count(df: DataFrame, column: str) -> Column:
    """Aggregate: rows whose value is present but is not a number (only strings can have them)."""
    if column_kind(df, column) != "string":
        return F.lit(0)  # (a constant is a valid aggregate column, and costs no aggregate)
    bad = not_a_number(F.col(quote(column)), _parsed(df, column))
    return F.sum(F.when(bad, 1).otherwise(0))


def raise_bad_numbers(df: DataFrame, column: str, count: int, where: str) -> None:
    """Raise an error that names the column and shows a few of the values that are not numbers."""
    col = F.col(quote(column))
    examples = [r[0] for r in df.where(not_a_number(col, _parsed(df, column)))
                .select(col).limit(5).collect()]
    raise InputError(f"{where}: column '{column}' has {count} value(s) that are not numbers, "
                     f"e.g. {examples}; fix the data, use a categorical transform, or (a CSV "
                     "table) list the values that mean a missing one in its missing_values")


def batched_udf(fn: Callable, return_type: T.DataType, frame: bool = False) -> Callable:
    """``F.pandas_udf`` of ``fn``: one pandas Series per argument, a Series back (a DataFrame
    with ``frame``), over Arrow batches.

    pandas is imported here, when a transform builds one, not when a job starts (about 0.3 s of
    every start-up, before Spark's); ``fn`` imports what it uses itself. Spark tells the kind of
    UDF from the annotations: they are set here, to the pandas types.
    """
    import pandas as pd

    fn.__annotations__ = {**{name: pd.Series for name in inspect.signature(fn).parameters},
                          "return": pd.DataFrame if frame else pd.Series}
    return F.pandas_udf(fn, return_type)


_REGEX_SPECIAL = ".$|()[{^?*+\\"  # special to Java regexes: split's fast path takes them escaped


def split_literally(text: Column, separator: str) -> Column:
    """``text`` (a string column) split at each ``separator``, taken literally.

    ``F.split`` takes a regex, and Java compiles it again for every row, except for a one-
    character separator (one escaped with a backslash if it is special to regexes), which
    String.split matches without a regex: such a separator is given in that form. On the 200K
    titles of the 10M-edge demo, split on a space: 0.3 s against 0.55 s warm, and no regex
    compiled per row, whose code the JIT compiled too.
    """
    if _one_java_char(separator):
        return F.split(text, "\\" + separator if separator in _REGEX_SPECIAL else separator)
    return F.split(text, _quoted(separator))


def _one_java_char(text: str) -> bool:
    """Whether ``text`` is one Java char (one UTF-16 unit: not a surrogate pair)."""
    return len(text.encode("utf-16-le")) == 2


def _quoted(text: str) -> str:
    """A Java regex that matches ``text`` literally (as Java's ``Pattern.quote``)."""
    return "\\Q" + text.replace("\\E", "\\E\\\\E\\Q") + "\\E"


def value_tokens(df: DataFrame, column: str, separator: Optional[str]) -> Column:
    """array<string> of a row's values, spaces trimmed and empty ones dropped: the elements of
    an array column, the parts between ``separator``s of a string, else the one value.

    Strings need no per-value function: built-in expressions only, which Spark compiles (a
    lambda makes it interpret the whole projection it is in). The spaces around a separator
    are taken out with it: a space separator needs nothing more (the empty parts between
    spaces are dropped); another one-character separator first has the spaces around it
    removed (one regex, compiled once) so that it is split on as a character
    (:func:`split_literally`); a longer one is split on with the spaces as one regex.
    """
    col = F.col(quote(column))
    empty = F.array().cast(STRINGS)
    if column_kind(df, column) == "array":
        arr = F.transform(F.coalesce(col.cast(STRINGS), empty), lambda t: F.trim(t))
    elif separator is not None:
        text = F.trim(col.cast(STRING))
        spaced = " *" + _quoted(separator) + " *"  # (the separator and the spaces around it)
        if separator == " ":
            arr = split_literally(text, separator)
        elif _one_java_char(separator):
            # (in a replacement, $ and \ are special: escaped)
            plain = separator.replace("\\", "\\\\").replace("$", "\\$")
            arr = split_literally(F.regexp_replace(text, spaced, plain), separator)
        else:
            arr = F.split(text, spaced)
    else:
        arr = F.array(F.trim(col.cast(STRING)))
    return F.array_remove(F.array_compact(F.coalesce(arr, empty)), "")


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


IMPUTERS = ("none", "mean", "median", "most_frequent")


class Imputer:
    """How a numerical transform fills a missing value (null, empty string, NaN, ±infinity).

    ``none`` keeps it missing; ``mean``; ``median`` (exact: Spark's ``percentile`` aggregate, the
    mean of the two middle values for an even count); ``most_frequent`` (ties broken by the
    smallest value; its own small job, see :func:`most_frequent`). A column with no value at all
    is filled with 0.0. The fill value is saved in the state, so re-applying never recomputes it.
    """

    def __init__(self, strategy: str) -> None:
        check_choice("imputer", strategy, IMPUTERS)
        self.strategy = strategy

    def aggregates(self, x: Column, whole: Optional[Column] = None) -> Dict[str, Column]:
        """``count`` of present values and the statistic the fill value comes from (``whole``:
        see :func:`exact_sum`)."""
        out = {"count": F.count(x)}
        if self.strategy == "mean":
            out["mean"] = exact_mean(x, whole)
        elif self.strategy == "median":
            out["median"] = F.percentile(x, F.lit(0.5))
        return out

    def local_stats(self, values, total: Optional[float] = None) -> Dict[str, Any]:
        """:meth:`aggregates` (and ``mode`` for ``most_frequent``) of the present values in
        memory, a float64 array (``total``: their :func:`exact_sum`, when known)."""
        from gsprocessing import local

        out: Dict[str, Any] = {"count": len(values)}
        if self.strategy == "mean":
            if total is None:
                total = local.exact_sum(values)
            out["mean"] = total / len(values) if len(values) else None
        elif self.strategy == "median":
            out["median"] = local.percentile(values, 0.5)
        elif self.strategy == "most_frequent":
            out["mode"] = local.mode(values)
        return out

    def fill(self, stats: Mapping[str, Any]) -> float | None:
        """The fill value from ``stats`` (``mode`` must be there for ``most_frequent``)."""
        if self.strategy == "none":
            return None
        key = "mode" if self.strategy == "most_frequent" else self.strategy
        value = stats.get(key)
        return float(value) if value is not None else 0.0


def most_frequent(values: DataFrame, value: str, by: Sequence[str] = ()) -> DataFrame:
    """Per group of ``by`` (one row when empty): the most frequent non-null ``value`` as ``mode``,
    ties broken by the smallest value so the answer never depends on partitioning."""
    counts = values.where(F.col(value).isNotNull()).groupBy(*by, value).count()
    order = F.struct((-F.col("count")).alias("c"), F.col(value).alias("v"))
    return counts.groupBy(*by).agg(F.min_by(F.col(value), order).alias("mode"))


def check_number(name: str, value: Any, optional: bool = False) -> None:
    """A parameter that must be an int or float (not a bool, not a string of digits)."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(f"{name} must be a number, got {value!r}")


def check_separator(separator: Any) -> None:
    if separator is not None and (not isinstance(separator, str) or separator == ""):
        raise ValueError(f"separator must be a non-empty string, got {separator!r}")


def check_scalar_number_column(df: DataFrame, column: str) -> None:
    """Raise TypeError (the caller adds where) unless ``column`` holds numbers or their strings."""
    if column_kind(df, column) not in ("string", "numeric"):
        dtype = df.schema[column].dataType.simpleString()
        raise TypeError(f"column '{column}' has type {dtype}; numerical transforms accept "
                        "numbers or strings of numbers")
