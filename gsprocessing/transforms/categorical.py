"""Categorical transforms: GConstruct's ``to_categorical``, GSProcessing's ``categorical`` and
``multi-categorical``. One-hot, or multi-hot when a row holds several values.

Values: the whole trimmed string; with ``separator`` the trimmed pieces of the split string; for an
array column its elements. Empty values are dropped; a row with no value left is *missing*.

Positions, in this order (the state records them, so re-applying needs nothing else):

1. the categories: the distinct values of the data, or GConstruct's ``mapping`` (value → index,
   which then fixes everything else); ordered by ``order``: ``value`` (numbers in numeric order
   when every value is an integer, else string order) or ``frequency`` (most frequent first, ties
   in string order);
2. OTHER, when the state has one: for values that have no position of their own. It exists when
   ``unseen`` is ``other`` or when the data had more than ``max_categories`` distinct values:
   then the ``max_categories`` most frequent (ties in string order) keep a position and all the
   others share OTHER, one position after them. ``state.capped`` is how many distinct values
   were folded into OTHER (report.json's "categories capped");
3. MISSING, when ``missing`` is ``category``: the position of missing rows.

Applying: a known value sets its position. Any other value sets OTHER when the state has it: a
value folded into OTHER when fitted and a new one cannot be told apart, as only kept values are
saved. Without OTHER: ``unseen`` ``zeros`` ignores it, ``error`` raises (so it cannot be combined
with ``max_categories``). A missing row sets MISSING, or nothing with ``missing: zeros``. A state
re-applies as it is, whatever its size: it is never capped again.

Written form: a feature up to ``DENSE_WIDTH`` (64) positions wide is written as its vector; a
wider one as the indices of its ones, ascending (``encoding: indices`` in the manifest; the
training side expands them). A 390-wide multi-hot of 200K rows took 6.6 s to write as vectors,
even all zeros, against 2.0 s as indices.

Defaults: ``to_categorical`` order ``value``, no cap (GConstruct has none). ``categorical`` and
``multi-categorical`` order ``frequency`` and ``max_categories`` 99: GSProcessing keeps a column of
up to 100 values whole and otherwise its 99 most frequent plus OTHER, so 99 gives the same vectors
except for a column of exactly 100 values (here 99 + OTHER). Everywhere missing and unknown
values encode as all zeros by default, as in both GraphStorm tools. In multi-valued rows every
occurrence counts towards a value's frequency (as in GSProcessing).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Mapping, Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import InputError
from graphmill.spark import BOOL, FLOAT, FLOATS, STRING
from gsprocessing.transforms.base import (
    State, Transform, batched_udf, check_choice, check_separator, column_kind, quote,
    value_tokens,
)

ORDERS = ("value", "frequency")
DENSE_WIDTH = 64  # features up to this wide are written as vectors, wider as their ones' indices
UNSEEN = ("zeros", "other", "error")
MISSING = ("zeros", "category")


@dataclass
class CategoricalState(State):
    categories: List[str] = field(default_factory=list)   # index i ↔ categories[i]
    index: Dict[str, int] = field(default_factory=dict)   # only when ``mapping`` was given
    other_index: Optional[int] = None     # position of OTHER, if the state has one
    missing_index: Optional[int] = None   # position of missing rows, if they have one
    capped: int = 0                       # distinct values folded into OTHER when fitted

    def lookup(self) -> Dict[str, int]:
        return dict(self.index) if self.index else {c: i for i, c in enumerate(self.categories)}

    def named_width(self) -> int:
        lookup = self.lookup()
        return (max(lookup.values()) + 1) if lookup else 0

    def width(self) -> int:
        extra = [i for i in (self.other_index, self.missing_index) if i is not None]
        return max([self.named_width() - 1, *extra]) + 1


def sort_values(values: List[str]) -> List[str]:
    """Integers in numeric order when every value is an integer, else plain string order."""
    try:  # ties ("1", "01") broken by the string, so the order never depends on Spark's
        return sorted(values, key=lambda v: (int(v), v))
    except ValueError:
        return sorted(values)


class ToCategorical(Transform):
    """GConstruct ``to_categorical``; see the module docstring."""

    name = "to_categorical"
    state_cls = CategoricalState

    def __init__(self, separator: Optional[str] = None,
                 mapping: Optional[Mapping[str, int]] = None, order: str = "value",
                 max_categories: Optional[int] = None, unseen: str = "zeros",
                 missing: str = "zeros") -> None:
        check_separator(separator)
        check_choice("order", order, ORDERS)
        check_choice("unseen", unseen, UNSEEN)
        check_choice("missing", missing, MISSING)
        if max_categories is not None and (isinstance(max_categories, bool) or not isinstance(
                max_categories, int) or max_categories < 1):
            raise ValueError(f"max_categories must be a positive integer or null, got "
                             f"{max_categories!r}")
        if unseen == "error" and max_categories is not None:
            raise ValueError("unseen 'error' cannot be combined with max_categories: values "
                             "folded into OTHER are not saved, so a new value could not be told "
                             "from one of them; set max_categories to null or unseen to 'other'")
        if mapping is not None:
            self._check_mapping(mapping, order, max_categories)
        self.separator, self.order, self.max_categories = separator, order, max_categories
        self.mapping = {str(k): v for k, v in mapping.items()} if mapping is not None else None
        self.unseen, self.missing = unseen, missing

    @staticmethod
    def _check_mapping(mapping: Any, order: str, max_categories: Optional[int]) -> None:
        if not isinstance(mapping, Mapping) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0
                for v in mapping.values()):
            raise ValueError("mapping must map each value to a non-negative integer index")
        if order != "value" or max_categories is not None:
            raise ValueError("mapping fixes the categories and their positions; it cannot be "
                             "combined with order or max_categories")

    def _tokens(self, df: DataFrame, column: str) -> Column:
        """array<string> of the non-empty values of each row."""
        return value_tokens(df, column, self.separator)

    def counted(self, df: DataFrame, column: str) -> Optional[Column]:
        return self._tokens(df, column) if self.mapping is None else None

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> CategoricalState:
        if self.mapping is not None:
            state = CategoricalState(index=dict(self.mapping))
            if self.unseen == "error":
                self._check_known(df, column, state, where)
        else:
            state = self._learn(df, column, stats.get("value_counts"))
        named = state.named_width()
        if self.unseen == "other" or state.capped:
            state.other_index = named
        if self.missing == "category":
            state.missing_index = named + (state.other_index is not None)
        return state

    def _learn(self, df: DataFrame, column: str,
               value_counts: Optional[Dict[str, int]]) -> CategoricalState:
        """Categories (and how many were folded into OTHER) from the value counts of the pass,
        or, when it had too many values to bring them all, ranked here (one or two jobs)."""
        cap = self.max_categories
        if value_counts is not None:
            ranked = sorted(value_counts.items(), key=lambda vc: (-vc[1], vc[0]))
            values, n = [v for v, _ in ranked[:cap]], len(ranked)
        else:
            counts = df.select(F.explode(self._tokens(df, column)).alias("v")) \
                .groupBy("v").count()
            ranked = counts.orderBy(F.desc("count"), F.asc("v"))
            if cap is None:
                values = [r.v for r in ranked.collect()]
                n = len(values)
            else:  # only the top of the ranking reaches the driver
                rows = ranked.limit(cap + 1).collect()
                n = len(rows) if len(rows) <= cap else counts.count()
                values = [r.v for r in rows[:cap]]
        keep = n if cap is None else min(n, cap)
        kept = values[:keep]  # in frequency order
        if self.order == "value":
            kept = sort_values(kept)
        return CategoricalState(categories=kept, capped=n - keep)

    def _check_known(self, df: DataFrame, column: str, state: CategoricalState,
                     where: str) -> None:
        """With ``unseen: error``: raise if ``column`` has a value the state does not know."""
        unknown = _unknown_flag(frozenset(state.lookup()))
        examples = (df.select(quote(column), self._tokens(df, column).alias("t"))
                    .where(unknown(F.col("t"))).limit(5).collect())
        if examples:
            raise InputError(f"{where}: column '{column}' has values outside the "
                             f"{len(state.lookup())} known categories, e.g. "
                             f"{[r[0] for r in examples]}; add them to the mapping, or set "
                             "unseen to 'zeros' or 'other'")

    def dim(self, state: CategoricalState) -> int:
        return state.width()

    def apply(self, df: DataFrame, column: str, state: CategoricalState, out: str) -> DataFrame:
        width = state.width()
        if width == 0:
            return df.withColumn(out, F.array().cast(FLOATS))
        if self.unseen == "error" and state.other_index is None:
            self._check_known(df, column, state, "re-applying a saved state")
        return self._apply_dense(df, column, state, out)

    def encoding(self, states: List[CategoricalState]) -> str:
        """How a feature with these states is written: ``dense`` vectors up to
        :data:`DENSE_WIDTH` positions, else ``indices`` (:meth:`apply_indices`)."""
        return "dense" if sum(s.width() for s in states) <= DENSE_WIDTH else "indices"

    def apply_indices(self, df: DataFrame, column: str, state: CategoricalState,
                      out: str) -> DataFrame:
        """``df`` with ``out``: the positions of the ones of :meth:`apply`'s vector, ascending
        (``array<int>``; empty for all zeros). Values are looked up in a literal map, which Spark
        builds once (from two strings: :func:`literal_map`)."""
        if self.unseen == "error" and state.other_index is None:
            self._check_known(df, column, state, "re-applying a saved state")
        lookup, other = state.lookup(), state.other_index
        name = f"{out}__tokens"
        df = df.withColumn(name, self._tokens(df, column))
        tokens = F.col(name)
        ints = T.ArrayType(T.IntegerType())
        if lookup:
            table = literal_map(lookup)
            found = F.transform(tokens, lambda t: F.try_element_at(table, t))
            idx = (F.transform(found, lambda i: F.coalesce(i, F.lit(other))) if other is not None
                   else F.array_compact(found))
        elif other is not None:
            idx = F.transform(tokens, lambda t: F.lit(other))
        else:
            idx = F.array().cast(ints)
        if state.missing_index is not None:
            idx = F.when(F.size(tokens) == 0, F.array(F.lit(state.missing_index))).otherwise(idx)
        return df.withColumn(out, F.sort_array(F.array_distinct(idx)).cast(ints)).drop(name)

    def _apply_dense(self, df: DataFrame, column: str, state: CategoricalState,
                     out: str) -> DataFrame:
        """The vector: one comparison per position, in generated code (500K one-value rows, 12
        categories: 1.3 s against 2.6 s with CountVectorizer and ``vector_to_array``). Wide
        states are written as indices instead (:meth:`encoding`)."""
        lookup = state.lookup()
        known = [F.lit(v) for v in lookup]
        name = f"{out}__tokens"
        if column_kind(df, column) != "array" and self.separator is None:
            value = F.trim(F.col(quote(column)).cast(STRING))  # one value per row
            empty = value.isNull() | (value == "")
            slots = _slots(lookup, lambda v: value == F.lit(v))
            unknown = ~empty & ~value.isin(*known) if known else ~empty
        else:
            df = df.withColumn(name, self._tokens(df, column))
            tokens = F.col(name)
            empty = F.size(tokens) == 0
            slots = _slots(lookup, lambda v: F.array_contains(tokens, v))
            unknown = F.size(F.array_except(tokens, F.array(*known))) > 0 if known else ~empty
        if state.other_index is not None:
            slots[state.other_index] = unknown
        if state.missing_index is not None:
            slots[state.missing_index] = empty
        hot = [F.when(slots[i], F.lit(1.0)).otherwise(F.lit(0.0)).cast(FLOAT)
               if i in slots else F.lit(0.0).cast(FLOAT) for i in range(state.width())]
        return df.withColumn(out, F.array(*hot)).drop(name)


    def local_stats(self, column) -> Dict[str, Any]:
        if self.mapping is not None:
            return {}
        from gsprocessing.local import value_counts
        return {"value_counts": value_counts(column.tokens(self.separator)[1])}

    def local_positions(self, column, state: CategoricalState):
        """:meth:`apply_indices` of the column in memory, as the distinct (row, position) pairs
        of its ones, sorted."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc
        from gsprocessing.local import Unsupported, distinct_pairs

        rows, values = column.tokens(self.separator)
        lookup, other, missing = state.lookup(), state.other_index, state.missing_index
        if lookup:
            found = pc.index_in(values, value_set=pa.array(list(lookup), pa.string()))
            where = found.fill_null(-1).to_numpy(zero_copy_only=False)
            positions = np.where(where >= 0, np.array(list(lookup.values()))[where], -1)
        else:
            positions = np.full(len(rows), -1)
        unknown = positions < 0
        if unknown.any():
            if other is not None:
                positions = np.where(unknown, other, positions)
            elif self.unseen == "error":
                raise Unsupported("a value outside the categories (unseen: error)")
        empty = np.setdiff1d(np.arange(len(column)), rows) if missing is not None else []
        keep = positions >= 0
        rows = np.concatenate([rows[keep], empty]).astype(np.int64)
        positions = np.concatenate([positions[keep], np.full(len(empty), missing or 0)])
        return distinct_pairs(rows, positions.astype(np.int64), state.width())

    def apply_local(self, column, state: CategoricalState):
        import numpy as np

        rows, positions = self.local_positions(column, state)
        hot = np.zeros((len(column), state.width()))
        hot[rows, positions] = 1.0
        return hot


def _slots(lookup: Mapping[str, int], has: Callable[[str], Column]) -> Dict[int, Column]:
    """Position → whether a row has one of the values at that position (a ``mapping`` may put
    several values at one position: any of them sets it)."""
    slots: Dict[int, Column] = {}
    for value, i in lookup.items():
        slots[i] = has(value) if i not in slots else slots[i] | has(value)
    return slots


def literal_map(lookup: Mapping[str, int]) -> Column:
    """``lookup`` as a ``map<string,int>`` literal, made from two string literals that Spark
    splits and folds into one map when it plans the query: a few calls into the JVM whatever its
    size (a literal per entry costs three, 2.3 s for 400 entries)."""
    keys = list(lookup)
    candidates = itertools.chain((chr(c) for c in range(1, 32)),
                                 (chr(c) for c in range(0xE000, 0xF900)))
    sep = next(c for c in candidates if not any(c in k for k in keys))  # (a regex of itself)
    values = F.split(F.lit(",".join(str(lookup[k]) for k in keys)), ",")
    return F.map_from_arrays(F.split(F.lit(sep.join(keys)), sep),
                             values.cast(T.ArrayType(T.IntegerType())))


def _unknown_flag(known: FrozenSet[str]) -> Callable[[Column], Column]:
    """A pandas_udf: whether a row has a value not in ``known``."""

    def flag(tokens):
        return tokens.map(lambda ts: any(t not in known for t in ts)).astype(bool)

    return batched_udf(flag, BOOL)


class Categorical(ToCategorical):
    """GSProcessing ``categorical``: one value per row, GSProcessing's defaults."""

    name = "categorical"

    def __init__(self, order: str = "frequency", max_categories: Optional[int] = 99,
                 unseen: str = "zeros", missing: str = "zeros") -> None:
        super().__init__(order=order, max_categories=max_categories, unseen=unseen,
                         missing=missing)


class MultiCategorical(ToCategorical):
    """GSProcessing ``multi-categorical``: multi-hot of an array column or a split string."""

    name = "multi-categorical"

    def __init__(self, separator: Optional[str] = None, order: str = "frequency",
                 max_categories: Optional[int] = 99, unseen: str = "zeros",
                 missing: str = "zeros") -> None:
        super().__init__(separator=separator, order=order, max_categories=max_categories,
                         unseen=unseen, missing=missing)
