"""State of one gsprocessing run, and the steps node and edge types share: features and labels.

Features are fitted on the data, or with ``--transforms-from`` taken from an earlier run's
transforms.json so that rows seen before get exactly the values they had. Labels likewise keep
their classes from the earlier run; their split is always made anew from the current rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import InputError
from graphmill.hadoopfs import HadoopFS
from graphmill.spark import Scratch
from gsprocessing import output as out
from gsprocessing.config.schema import FeatureSpec, GraphSpec, LabelSpec
from gsprocessing.features import FittedFeature, fit_features
from gsprocessing.labels import LabelState, apply_label, custom_split_table, fit_label
from gsprocessing.tables import resolve
from gsprocessing.transforms.base import quote

log = logging.getLogger(__name__)
DANGLING_POLICIES = ("error", "drop", "add")
DUPLICATE_POLICIES = ("error", "first")


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


def features_for(run: Run, kind: str, name: str, df: DataFrame,
                 specs: Sequence[FeatureSpec]) -> List[FittedFeature]:
    """Fit the features of a table, or take their states from ``--transforms-from``."""
    saved = run.saved(kind, name)
    if saved is None:
        return fit_features(df, specs)
    fitted = []
    for spec in specs:
        state = saved.get("features", {}).get(spec.name)
        if state is None or state.get("transform") != spec.transform or \
                list(state.get("columns", [])) != list(spec.columns):
            raise InputError(f"--transforms-from {run.options.transforms_from}: {spec.where}: no "
                             f"saved state for feature '{spec.name}' ({spec.transform} of "
                             f"{list(spec.columns)}) of {kind[:-1]} type '{name}'")
        fitted.append(FittedFeature.from_dict(spec, state))
    return fitted


def capped(fitted: Sequence[FittedFeature]) -> Dict[str, int]:
    """Feature → how many distinct values a categorical cap folded into OTHER (report.json)."""
    counts = {f.spec.name: sum(int(getattr(s, "capped", 0) or 0) for s in f.states)
              for f in fitted}
    return {k: v for k, v in counts.items() if v}


def attach_labels(run: Run, df: DataFrame, labels: Sequence[LabelSpec], key: str,
                  id_cols: Sequence[str], kind: str, name: str,
                  rep: out.TypeReport) -> Tuple[DataFrame, List[LabelState], List[Column]]:
    """Encode every label of a table and add its masks.

    ``key`` is the row key column (nid or eid) the random split hashes; ``id_cols`` hold the
    original id(s) that custom split files list. Returns the frame, the label states and the
    output columns (label, masks) to write.
    """
    states: List[LabelState] = []
    columns: List[Column] = []
    saved = run.saved(kind, name)
    for i, spec in enumerate(labels):
        old = saved.get("labels", [])[i] if saved and i < len(saved.get("labels", [])) else None
        if saved is not None and (old is None or old["column"] != spec.column):
            raise InputError(f"--transforms-from {run.options.transforms_from}: {spec.where}: no "
                             f"saved state for label '{spec.column}' of {kind[:-1]} type '{name}'")
        state = LabelState.from_dict(old) if old else fit_label(df, spec)
        if spec.custom_split is not None:
            df = _join_custom_split(run, df, spec, id_cols, rep)
        out_col = f"__gm_label{i}"
        df = apply_label(df, state, spec, run.options.seed, key, out_col)
        if state.task != "link_prediction":
            columns.append(F.col(out_col).alias(spec.column))
        columns.extend(F.col(quote(m)) for m in state.masks)
        rep.splits[spec.column or "link_prediction"] = dict(state.split)
        states.append(state)
    return df, states, columns


def _join_custom_split(run: Run, df: DataFrame, spec: LabelSpec, id_cols: Sequence[str],
                       rep: out.TypeReport) -> DataFrame:
    """``df`` with ``SPLIT_COLUMN`` from the custom split files (null: in no split)."""
    custom = spec.custom_split
    files = {s: [resolve(run.options.input_prefix, f) for f in getattr(custom, s)]
             for s in ("train", "val", "test")}
    ids = custom_split_table(run.spark, files, custom.columns, len(id_cols), spec.where)
    keys = [f"__gm_k{j}" for j in range(len(id_cols))]
    mine = df.select(*[F.col(quote(c)).cast("string").alias(k) for c, k in zip(id_cols, keys)])
    unknown = ids.join(mine, keys, "left_anti").count()
    if unknown:
        rep.custom_split_unknown_ids[spec.column or "link_prediction"] = unknown
        log.warning("%s: %d id(s) in the custom split files are not in the table; ignored",
                    spec.where, unknown)
    cond = [F.col(quote(c)).cast("string") == F.col(k) for c, k in zip(id_cols, keys)]
    joined = df.join(ids, cond[0] if len(cond) == 1 else cond[0] & cond[1], "left")
    return joined.drop(*keys)


def dtype_name(dtype: T.DataType) -> str:
    return "long" if isinstance(dtype, T.LongType) else "string"

