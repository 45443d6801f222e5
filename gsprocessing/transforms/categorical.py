"""``to_categorical``: one-hot (or multi-hot with ``separator``) encoding of string values.

Categories are the distinct present values, sorted (as numbers when every value is an integer,
else as strings), numbered from 0; GConstruct's ``mapping`` (value → index) replaces the learned
order. A missing value, an empty string and a value not in the state encode as all zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from pyspark.ml.feature import CountVectorizerModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from gsprocessing.transforms.base import State, Transform, column_kind, quote, split_pattern


@dataclass
class CategoricalState(State):
    categories: List[str] = field(default_factory=list)   # index i ↔ categories[i]
    index: Dict[str, int] = field(default_factory=dict)   # only when ``mapping`` was given

    def lookup(self) -> Dict[str, int]:
        return dict(self.index) if self.index else {c: i for i, c in enumerate(self.categories)}

    def width(self) -> int:
        lookup = self.lookup()
        return (max(lookup.values()) + 1) if lookup else 0


def sort_values(values: List[str]) -> List[str]:
    """Integers in numeric order when every value is an integer, else plain string order."""
    try:  # ties ("1", "01") broken by the string, so the order never depends on Spark's
        return sorted(values, key=lambda v: (int(v), v))
    except ValueError:
        return sorted(values)


class ToCategorical(Transform):
    name = "to_categorical"
    state_cls = CategoricalState

    def __init__(self, separator: Optional[str] = None,
                 mapping: Optional[Mapping[str, int]] = None) -> None:
        if separator is not None and (not isinstance(separator, str) or separator == ""):
            raise ValueError(f"separator must be a non-empty string, got {separator!r}")
        if mapping is not None:
            if not isinstance(mapping, Mapping) or not all(
                    isinstance(v, int) and v >= 0 for v in mapping.values()):
                raise ValueError("mapping must map each value to a non-negative integer index")
        self.separator = separator
        self.mapping = dict(mapping) if mapping is not None else None

    def _tokens(self, df: DataFrame, column: str) -> Column:
        """array<string> of the non-empty values of each row."""
        kind = column_kind(df, column)
        col = F.col(quote(column))
        if kind == "array":
            arr = col.cast("array<string>")
        elif self.separator is not None:
            arr = F.split(col.cast("string"), split_pattern(self.separator))
        else:
            arr = F.array(col.cast("string"))
        arr = F.transform(F.coalesce(arr, F.array().cast("array<string>")), lambda t: F.trim(t))
        return F.filter(arr, lambda t: t.isNotNull() & (t != ""))

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> CategoricalState:
        if self.mapping is not None:
            return CategoricalState(index={str(k): v for k, v in self.mapping.items()})
        values = (df.select(F.explode(self._tokens(df, column)).alias("v")).distinct()
                  .collect())
        return CategoricalState(categories=sort_values([r.v for r in values]))

    def dim(self, state: CategoricalState) -> int:
        return state.width()

    def apply(self, df: DataFrame, column: str, state: CategoricalState, out: str) -> DataFrame:
        # CountVectorizerModel + vector_to_array run in the JVM; an equivalent SQL lambda over the
        # vector width is interpreted per element and was 6x slower on Cora (1,432 words).
        lookup = state.lookup()
        width = state.width()
        if width == 0:
            return df.withColumn(out, F.array().cast("array<double>"))
        vocabulary = [""] * width
        for value, index in lookup.items():
            vocabulary[index] = value
        # Unused indices (a sparse ``mapping``) get placeholders no token can equal.
        vocabulary = [v if v else f"\0unused{i}" for i, v in enumerate(vocabulary)]
        tokens = f"{out}__tokens"
        model = CountVectorizerModel.from_vocabulary(vocabulary, inputCol=tokens,
                                                     outputCol=f"{out}__vec", binary=True)
        df = model.transform(df.withColumn(tokens, self._tokens(df, column)))
        return (df.withColumn(out, vector_to_array(F.col(f"{out}__vec"), "float64"))
                .drop(tokens, f"{out}__vec"))
