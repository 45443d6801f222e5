"""Fitting and applying the features of one table (a node type or an edge type).

All aggregate statistics of a table's features are computed in a single Spark job; transforms that
need more (the distinct values of a categorical column) run their own small job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from graphmill.errors import InputError
from gsprocessing.config.schema import FeatureSpec
from gsprocessing.output import FeatureInfo
from gsprocessing.transforms import TRANSFORMS, State, Transform, make_transform


@dataclass
class FittedFeature:
    """A feature's transform and its fitted state, one :class:`State` per input column."""

    spec: FeatureSpec
    transform: Transform
    states: List[State]

    @property
    def dim(self) -> int:
        return sum(self.transform.dim(s) for s in self.states)

    def info(self) -> FeatureInfo:
        return FeatureInfo(dim=self.dim, dtype=self.spec.out_dtype)

    def to_dict(self) -> Dict[str, Any]:
        return {"transform": self.spec.transform, "params": self.transform.params(),
                "columns": list(self.spec.columns), "out_dtype": self.spec.out_dtype,
                "dim": self.dim, "states": [s.to_dict() for s in self.states]}

    @classmethod
    def from_dict(cls, spec: FeatureSpec, d: Dict[str, Any]) -> "FittedFeature":
        transform = make_transform(d["transform"], d["params"])
        state_cls = TRANSFORMS[d["transform"]].state_cls
        return cls(spec=spec, transform=transform,
                   states=[state_cls.from_dict(s) for s in d["states"]])

    def apply(self, df: DataFrame, out: str) -> DataFrame:
        """``df`` with the feature added as column ``out`` (array of ``out_dtype``)."""
        parts = []
        for j, (column, state) in enumerate(zip(self.spec.columns, self.states)):
            part = f"{out}__part{j}"
            df = self.transform.apply(df, column, state, part)
            parts.append(part)
        vec = F.col(parts[0]) if len(parts) == 1 else F.concat(*[F.col(p) for p in parts])
        element = "float" if self.spec.out_dtype == "float32" else "double"
        return df.withColumn(out, vec.cast(f"array<{element}>")).drop(*parts)


def apply_features(df: DataFrame, fitted: Sequence[FittedFeature]) -> Tuple[DataFrame, List[Column]]:
    """``df`` with every fitted feature added, and the columns that select them by name.

    Features are computed under temporary names so that a feature named like an input column
    (``words`` from ``words``) never shadows the input of another feature.
    """
    names = []
    for i, f in enumerate(fitted):
        df = f.apply(df, f"__feature{i}")
        names.append(F.col(f"__feature{i}").alias(f.spec.name))
    return df, names


def fit_features(df: DataFrame, specs: Sequence[FeatureSpec]) -> List[FittedFeature]:
    """Fit every feature of a table: one job for all aggregates, plus per-transform extras."""
    transforms = [make_transform(s.transform, s.params) for s in specs]
    exprs: List[Column] = []
    for i, (spec, t) in enumerate(zip(specs, transforms)):
        for j, column in enumerate(spec.columns):
            try:
                aggs = t.aggregates(df, column)
            except TypeError as err:
                raise InputError(f"{spec.where}: {err}") from None
            exprs.extend(e.alias(f"f{i}_{j}_{k}") for k, e in aggs.items())
    stats = df.agg(*exprs).first().asDict() if exprs else {}
    fitted = []
    for i, (spec, t) in enumerate(zip(specs, transforms)):
        states = []
        for j, column in enumerate(spec.columns):
            mine = {k[len(f"f{i}_{j}_"):]: v for k, v in stats.items()
                    if k.startswith(f"f{i}_{j}_")}
            states.append(t.fit_extra(df, column, mine, spec.where))
        fitted.append(FittedFeature(spec=spec, transform=t, states=states))
    return fitted


def missing_counts(fitted: Sequence[FittedFeature]) -> Dict[str, int]:
    """Rows imputed per input column (for report.json)."""
    out: Dict[str, int] = {}
    for f in fitted:
        for column, state in zip(f.spec.columns, f.states):
            missing = getattr(state, "missing", 0)
            if missing:
                out[column] = int(missing)
    return out
