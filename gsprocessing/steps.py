"""State of one gsprocessing run, and the steps node and edge types share: features and labels.

Features and labels are fitted on the data in one pass over each table, or with
``--transforms-from`` taken from an earlier run's transforms.json so that rows seen before get
exactly the values they had. Labels likewise keep their classes from the earlier run; their split
is always made anew from the current rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import InputError
from graphmill.hadoopfs import HadoopFS
from graphmill.spark import STRING, Scratch
from gsprocessing import output as out
from gsprocessing.config.schema import FeatureSpec, GraphSpec, LabelSpec, label_name
from gsprocessing.features import FittedFeature, finish_features, plan_features
from gsprocessing.fitpass import FitPass
from gsprocessing.labels import (
    LabelState, SplitCounts, apply_label, custom_split_table, finish_label, plan_label,
    split_counts, split_paths, training_label_stats,
)
from gsprocessing.transforms.base import quote

log = logging.getLogger(__name__)
DANGLING_POLICIES = ("error", "drop", "add")
DUPLICATE_POLICIES = ("error", "first")
# node tables up to this many rows are finished by the local engine (gsprocessing.local)
DEFAULT_LOCAL_ROWS = 1_000_000


@dataclass
class ProcessOptions:
    """Command-line options of the job (everything that is not the graph config)."""

    input_prefix: str
    output: str
    seed: int = 42
    dangling: str = "error"
    duplicates: str = "error"
    add_reverse_edges: bool = False
    overwrite: bool = False
    transforms_from: Optional[str] = None   # an earlier run's transforms.json
    # node/edge types built at once (gsprocessing.scheduler); None: one per core, at most 4
    parallel: Optional[int] = None
    # node tables up to this many rows are finished by the local engine when Spark runs in
    # local mode (gsprocessing.local); 0: never
    local_rows: int = DEFAULT_LOCAL_ROWS


@dataclass
class Run:
    """State shared by the steps of one run."""

    spark: SparkSession
    fs: HadoopFS
    spec: GraphSpec
    options: ProcessOptions
    root: str
    id_types: Dict[str, T.DataType]
    id_maps: Dict[str, DataFrame] = field(default_factory=dict)
    report: out.Report = field(default_factory=out.Report)
    transforms: Dict[str, Dict] = field(default_factory=lambda: {"nodes": {}, "edges": {}})
    timings: Dict[str, float] = field(default_factory=dict)
    previous: Optional[Dict[str, Any]] = None   # transforms.json of --transforms-from
    scratch: Optional[Scratch] = None   # intermediate tables (deleted before the commit)
    # node type → a job that raises if its ids repeat, for types numbered before their ids were
    # grouped (gsprocessing.node_types): an edge type whose joins gained rows runs it
    id_checks: Dict[str, Callable[[], Any]] = field(default_factory=dict)

    def saved(self, kind: str, name: str) -> Optional[Dict[str, Any]]:
        """The earlier run's states of a node ("nodes") or edge ("edges") type, if re-applying."""
        if self.previous is None:
            return None
        states = self.previous.get(kind, {}).get(name)
        if states is None:
            raise InputError(f"--transforms-from {self.options.transforms_from}: it has no "
                             f"states for {kind[:-1]} type '{name}'; it was written for another "
                             "graph config")
        return states


@dataclass
class TableFit:
    """The fitted features and labels of a table, and its random splits' counts."""

    features: List[FittedFeature]
    labels: List[LabelState]
    splits: List[Optional[SplitCounts]]  # per label (labels.split_counts)
    # fit_table's ``unique`` column: its values on more than one row (as strings) → rows;
    # None when not asked, or when the pass brought too many values to count them
    repeated: Optional[Dict[str, int]] = None


REPEATED = "__gm_repeated"  # the FitPass name of fit_table's ``unique`` column


def fit_table(run: Run, kind: str, name: str, df: DataFrame, features: Sequence[FeatureSpec],
              labels: Sequence[LabelSpec], key: str, rows: int,
              unique: Optional[str] = None) -> TableFit:
    """Fit the features and labels of a table in one pass over it (:mod:`gsprocessing.fitpass`),
    counting the random splits of its labels (``key``: the row key they hash; ``rows``: the
    table's rows) in the same pass, and the values of column ``unique`` that are on more than
    one row (``TableFit.repeated``).

    With ``--transforms-from`` the earlier run's states are taken as they are: features keep
    their values and labels their classes; splits are always made anew from the current rows.
    """
    saved = run.saved(kind, name)
    fit = FitPass()
    if saved is None:
        planned = plan_features(df, features, fit)
    else:
        fitted = saved_features(run, saved, features, kind, name)
    old_labels = [saved_label(run, saved, i, spec, kind, name) for i, spec in enumerate(labels)]
    for i, (spec, old) in enumerate(zip(labels, old_labels)):
        plan_label(df, spec, old, fit, f"l{i}_", run.options.seed, key, rows)
    if unique is not None:
        fit.add_repeated(REPEATED, F.col(quote(unique)))
    result = fit.run(df)
    if saved is None:
        fitted = finish_features(df, planned, result)
    return TableFit(features=fitted,
                    labels=[finish_label(df, spec, old, result, f"l{i}_", run.report.warnings)
                            for i, (spec, old) in enumerate(zip(labels, old_labels))],
                    splits=[split_counts(result, f"l{i}_") for i in range(len(labels))],
                    repeated=result.counts(REPEATED) if unique is not None else None)


def saved_features(run: Run, saved: Dict[str, Any], specs: Sequence[FeatureSpec], kind: str,
                    name: str) -> List[FittedFeature]:
    fitted = []
    for spec in specs:
        state = saved.get("features", {}).get(spec.name)
        columns = spec.config_columns
        # (files written before source_columns show a renamed column by its inside name)
        if state is None or state.get("transform") != spec.transform or \
                list(state.get("columns", [])) not in (columns, list(spec.columns)):
            raise InputError(f"--transforms-from {run.options.transforms_from}: {spec.where}: no "
                             f"saved state for feature '{spec.name}' ({spec.transform} of "
                             f"{columns}) of {kind[:-1]} type '{name}'")
        fitted.append(FittedFeature.from_dict(spec, state))
    return fitted


def saved_label(run: Run, saved: Optional[Dict[str, Any]], i: int, spec: LabelSpec, kind: str,
                 name: str) -> Optional[LabelState]:
    """The earlier run's state of the ``i``-th label (None: not re-applying)."""
    if saved is None:
        return None
    old = saved.get("labels", [])[i] if i < len(saved.get("labels", [])) else None
    if old is None or old["column"] != spec.column:
        raise InputError(f"--transforms-from {run.options.transforms_from}: {spec.where}: no "
                         f"saved state for label '{spec.column}' of {kind[:-1]} type '{name}'")
    if old.get("task") != spec.task or bool(old.get("multilabel")) != bool(spec.separator):
        saved_as = "multi-label " * bool(old.get("multilabel")) + str(old.get("task"))
        config = "multi-label " * bool(spec.separator) + spec.task
        raise InputError(f"--transforms-from {run.options.transforms_from}: {spec.where}: label "
                         f"'{spec.column}' of {kind[:-1]} type '{name}' was saved as "
                         f"{saved_as}, the config makes it {config}; re-apply with the config "
                         "it was fitted with, or fit it anew (without --transforms-from)")
    return LabelState.from_dict(old)


def capped(fitted: Sequence[FittedFeature]) -> Dict[str, int]:
    """Feature → how many distinct values a categorical cap folded into OTHER (report.json)."""
    counts = {f.spec.name: sum(int(getattr(s, "capped", 0) or 0) for s in f.states)
              for f in fitted}
    return {k: v for k, v in counts.items() if v}


def add_label_stats(run: Run, path: str, states: Sequence[LabelState],
                    specs: Sequence[LabelSpec]) -> None:
    """``label_stats_type: frequency_cnt`` of classification labels: the training rows of each
    class, counted on the table just written at ``path`` (one job each)."""
    for spec, state in zip(specs, states):
        if state.stats_type == "frequency_cnt" and state.task == "classification":
            state.train_class_counts = training_label_stats(run.spark, path, state,
                                                            spec.column)


def attach_labels(run: Run, df: DataFrame, fit: TableFit, specs: Sequence[LabelSpec], key: str,
                  id_cols: Sequence[str], rep: out.TypeReport) -> Tuple[DataFrame, List[Column]]:
    """Encode every label of a table (fitted by :func:`fit_table`) and add its masks.

    ``key`` is the row key column (nid or eid) the random split hashes; ``id_cols`` hold the
    original id(s) that custom split files list. Returns the frame and the output columns
    (label, masks) to write.
    """
    columns: List[Column] = []
    for i, (spec, state) in enumerate(zip(specs, fit.labels)):
        if spec.custom_split is not None:
            df = _join_custom_split(run, df, spec, id_cols, rep)
        out_col = f"__gm_label{i}"
        df = apply_label(df, state, spec, run.options.seed, key, out_col, fit.splits[i])
        if state.task != "link_prediction":
            columns.append(F.col(out_col).alias(spec.column))
        columns.extend(F.col(quote(m)) for m in state.masks)
        rep.splits[label_name(spec.column, spec.task, spec.masks)] = dict(state.split)
    return df, columns


def _join_custom_split(run: Run, df: DataFrame, spec: LabelSpec, id_cols: Sequence[str],
                       rep: out.TypeReport) -> DataFrame:
    """``df`` with ``SPLIT_COLUMN`` from the custom split files (null: in no split)."""
    custom = spec.custom_split
    ids = custom_split_table(run.spark, run.fs, split_paths(custom, run.options.input_prefix),
                             custom.columns, len(id_cols), spec.where)
    keys = [f"__gm_k{j}" for j in range(len(id_cols))]
    mine = df.select(*[F.col(quote(c)).cast(STRING).alias(k) for c, k in zip(id_cols, keys)])
    unknown = ids.join(mine, keys, "left_anti").count()
    if unknown:
        rep.custom_split_unknown_ids[label_name(spec.column, spec.task, spec.masks)] = unknown
        log.warning("%s: %d id(s) in the custom split files are not in the table; ignored",
                    spec.where, unknown)
    cond = [F.col(quote(c)).cast(STRING) == F.col(k) for c, k in zip(id_cols, keys)]
    joined = df.join(ids, cond[0] if len(cond) == 1 else cond[0] & cond[1], "left")
    return joined.drop(*keys)


def dtype_name(dtype: T.DataType) -> str:
    return "long" if isinstance(dtype, T.LongType) else "string"

