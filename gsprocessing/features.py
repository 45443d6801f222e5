"""Fitting and applying the features of one table (a node type or an edge type).

The statistics a table's features learn from (aggregates, and the value counts of categorical
columns) are computed in one pass over the table (:mod:`gsprocessing.fitpass`), with those of its
labels; transforms that need more (rank-gauss's quantiles, a most-frequent fill) run their own.

A feature writes one output column named after it (an array of its ``out_dtype``), unless its
transform declares several: such a transform defines ``output_names(feature) -> [name, ...]``
(known before fitting, checked for collisions before any job) and ``outputs(feature, state) ->
[(name, dim, dtype), ...]`` (``dtype`` None: the feature's ``out_dtype``), takes one input column,
and its ``apply`` adds a struct column with one array field per output (e.g. ``tokenize_hf``:
``input_ids``, ``attention_mask``, ``token_type_ids``, all int64).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Sequence, Tuple

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import InputError
from graphmill.spark import DOUBLE, FLOAT, LONG
from gsprocessing.config.schema import FeatureSpec
from gsprocessing.fitpass import FitPass, FitResult
from gsprocessing.output import FeatureInfo
from gsprocessing.transforms import TRANSFORMS, State, Transform, make_transform


ELEMENT_TYPES = {"float32": FLOAT, "float64": DOUBLE, "int64": LONG}


class Output(NamedTuple):
    """One column a feature writes: its name, width, element type and encoding."""

    name: str
    dim: int
    dtype: str  # "float32" | "float64" | "int64"
    encoding: str = "dense"  # or "indices": the positions of the ones (see FeatureInfo)


def output_names_of(spec: FeatureSpec, transform: Transform) -> List[str]:
    """The columns a feature will write (known before fitting)."""
    names = getattr(transform, "output_names", None)
    return list(names(spec.name)) if names is not None else [spec.name]


@dataclass
class FittedFeature:
    """A feature's transform and its fitted state, one :class:`State` per input column."""

    spec: FeatureSpec
    transform: Transform
    states: List[State]

    @property
    def dim(self) -> int:
        return sum(self.transform.dim(s) for s in self.states)

    def outputs(self) -> List[Output]:
        """The columns this feature writes, in order."""
        if not is_multi_output(self.transform):
            # A transform may fix its element type (hard negatives are node ids: int64).
            dtype = getattr(self.transform, "output_dtype", None) or self.spec.out_dtype
            return [Output(self.spec.name, self.dim, dtype, self.encoding)]
        return [Output(name, dim, dtype or self.spec.out_dtype)
                for name, dim, dtype in self.transform.outputs(self.spec.name, self.states[0])]

    @property
    def encoding(self) -> str:
        """``dense`` or ``indices`` (see :class:`gsprocessing.output.FeatureInfo`)."""
        return self.transform.encoding(self.states)

    def info(self) -> FeatureInfo:
        """Width, dtype and encoding of a feature with a single output (see :meth:`outputs`)."""
        (out,) = self.outputs()
        return FeatureInfo(dim=out.dim, dtype=out.dtype, encoding=out.encoding)

    def to_dict(self) -> Dict[str, Any]:
        return {"transform": self.spec.transform, "params": self.transform.params(),
                "columns": self.spec.config_columns,
                "out_dtype": self.spec.out_dtype,
                "dim": self.dim, "states": [s.to_dict() for s in self.states]}

    @classmethod
    def from_dict(cls, spec: FeatureSpec, d: Dict[str, Any]) -> "FittedFeature":
        transform = make_transform(d["transform"], d["params"])
        state_cls = TRANSFORMS[d["transform"]].state_cls
        return cls(spec=spec, transform=transform,
                   states=[state_cls.from_dict(s) for s in d["states"]])

    def apply(self, df: DataFrame, tmp: str) -> Tuple[DataFrame, List[Column]]:
        """``df`` with the feature computed under the temporary name ``tmp``, and the columns that
        select its outputs by name (arrays of each output's dtype)."""
        if is_multi_output(self.transform):
            df = self.transform.apply(df, self.spec.columns[0], self.states[0], tmp)
            return df, [F.col(tmp).getField(o.name).cast(T.ArrayType(ELEMENT_TYPES[o.dtype]))
                        .alias(o.name) for o in self.outputs()]
        if self.encoding == "indices":
            return self._apply_indices(df, tmp)
        element = ELEMENT_TYPES[self.outputs()[0].dtype]
        scalars = [self.transform.elements(df, column, state)
                   for column, state in zip(self.spec.columns, self.states)]
        if all(s is not None for s in scalars):  # (the vector built in its type at once)
            vec = F.array(*[e.cast(element) for part in scalars for e in part])
            return df.withColumn(tmp, vec), [F.col(tmp).alias(self.spec.name)]
        parts = []
        for j, (column, state) in enumerate(zip(self.spec.columns, self.states)):
            part = f"{tmp}__part{j}"
            df = self.transform.apply(df, column, state, part)
            parts.append(part)
        vec = F.col(parts[0]) if len(parts) == 1 else F.concat(*[F.col(p) for p in parts])
        df = df.withColumn(tmp, vec.cast(T.ArrayType(element))).drop(*parts)
        return df, [F.col(tmp).alias(self.spec.name)]

    def _apply_indices(self, df: DataFrame, tmp: str) -> Tuple[DataFrame, List[Column]]:
        """:meth:`apply` for ``indices``: each column's positions, shifted by the widths of the
        columns before it (the vector they stand for is the concatenation)."""
        parts, base = [], 0
        for j, (column, state) in enumerate(zip(self.spec.columns, self.states)):
            part = f"{tmp}__part{j}"
            df = self.transform.apply_indices(df, column, state, part)
            parts.append(F.col(part) if base == 0 else
                         F.transform(F.col(part), (lambda b: lambda i: i + b)(base)))
            base += self.transform.dim(state)
        idx = parts[0] if len(parts) == 1 else F.concat(*parts)
        df = df.withColumn(tmp, idx).drop(*[f"{tmp}__part{j}" for j in range(len(parts))])
        return df, [F.col(tmp).alias(self.spec.name)]


def apply_features(df: DataFrame, fitted: Sequence[FittedFeature]) -> Tuple[DataFrame, List[Column]]:
    """``df`` with every fitted feature added, and the columns that select them by name.

    Features are computed under temporary names so that a feature named like an input column
    (``words`` from ``words``) never shadows the input of another feature.
    """
    check_output_names([(f.spec, [o.name for o in f.outputs()]) for f in fitted])
    names: List[Column] = []
    for i, f in enumerate(fitted):
        df, columns = f.apply(df, f"__feature{i}")
        names.extend(columns)
    return df, names


def check_output_names(features: Sequence[Tuple[FeatureSpec, List[str]]]) -> None:
    """Raise if two features of one table write a column of the same name.

    Raises:
        InputError: naming both features of every clash and the columns they share.
    """
    owner: Dict[str, FeatureSpec] = {}
    clashes: Dict[Tuple[str, str], List[Any]] = {}  # (where, where) → [first, second, names]
    for spec, names in features:
        for name in names:
            first = owner.setdefault(name, spec)
            if first is not spec:
                clashes.setdefault((first.where, spec.where), [first, spec, []])[2].append(name)
    if not clashes:
        return
    lines = [f"{b.where} (feature '{b.name}', {b.transform}) and {a.where} (feature '{a.name}', "
             f"{a.transform}) both write the column(s) {names}" for a, b, names in clashes.values()]
    hint = "rename one of the features"
    if any("tokenize_hf" in (a.transform, b.transform) for a, b, _ in clashes.values()):
        hint += ("; tokenize_hf always writes input_ids, attention_mask and token_type_ids (the "
                 "names GraphStorm's LM encoders read), so tokenize one text column per type")
    raise InputError("; ".join(lines) + f": a table holds one column of each name; {hint}")


def is_multi_output(transform: Transform) -> bool:
    """Whether the transform declares its own outputs (see the module docstring)."""
    return hasattr(transform, "outputs")


def fit_features(df: DataFrame, specs: Sequence[FeatureSpec]) -> List[FittedFeature]:
    """Fit every feature of a table in one pass over it (see :mod:`gsprocessing.fitpass`),
    plus the jobs of transforms that need more (e.g. rank-gauss's quantiles)."""
    fit = FitPass()
    planned = plan_features(df, specs, fit)
    return finish_features(df, planned, fit.run(df))


Planned = List[Tuple[FeatureSpec, Transform]]


def plan_features(df: DataFrame, specs: Sequence[FeatureSpec], fit: FitPass,
                  prefix: str = "f") -> Planned:
    """Check the features of a table and add the statistics they learn from to ``fit``."""
    transforms = [make_transform(s.transform, s.params) for s in specs]
    check_output_names([(s, output_names_of(s, t)) for s, t in zip(specs, transforms)])
    for spec, t in zip(specs, transforms):
        if is_multi_output(t) and len(spec.columns) > 1:
            raise InputError(f"{spec.where}: {spec.transform} takes one column, got "
                             f"{list(spec.columns)}; use one feature per column")
    for i, (spec, t) in enumerate(zip(specs, transforms)):
        for j, column in enumerate(spec.columns):
            try:
                fit.add_aggregates(f"{prefix}{i}_{j}_", t.aggregates(df, column))
                values = t.counted(df, column)
            except TypeError as err:
                raise InputError(f"{spec.where}: {err}") from None
            if values is not None:
                fit.add_counted(f"{prefix}{i}_{j}", values)
    return list(zip(specs, transforms))


def finish_features(df: DataFrame, planned: Planned, result: FitResult,
                    prefix: str = "f") -> List[FittedFeature]:
    """The fitted features of :func:`plan_features`, from the statistics of the pass."""
    fitted = []
    for i, (spec, t) in enumerate(planned):
        states = []
        for j, column in enumerate(spec.columns):
            mine = result.of(f"{prefix}{i}_{j}_")
            counts = result.counts(f"{prefix}{i}_{j}")
            if counts is not None:
                mine["value_counts"] = counts
            states.append(t.for_column(j, len(spec.columns)).fit_extra(df, column, mine,
                                                                       spec.where))
        fitted.append(FittedFeature(spec=spec, transform=t, states=states))
    return fitted


def feature_infos(fitted: Sequence[FittedFeature]) -> Dict[str, FeatureInfo]:
    """Output column name → width and dtype, for the manifest."""
    return {o.name: FeatureInfo(dim=o.dim, dtype=o.dtype, encoding=o.encoding)
            for f in fitted for o in f.outputs()}


def output_names(fitted: Sequence[FittedFeature]) -> List[str]:
    """The output column names of the features, in order (the columns ``apply_features`` adds)."""
    return [o.name for f in fitted for o in f.outputs()]


def missing_counts(fitted: Sequence[FittedFeature]) -> Dict[str, int]:
    """Rows imputed per input column (for report.json)."""
    out: Dict[str, int] = {}
    for f in fitted:
        for column, state in zip(f.spec.columns, f.states):
            missing = getattr(state, "missing", 0)
            if missing:
                out[column] = int(missing)
    return out
