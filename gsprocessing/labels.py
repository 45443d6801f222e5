"""Labels and train/val/test splits, for node and edge tables alike.

Label values (``LabelState`` records them in the manifest):

- classification: when every present value is a non-negative integer, the integers are kept as
  given (class index = value, ``num_classes`` = max + 1, as GraphStorm does); otherwise the
  distinct values are sorted (as strings) and numbered 0..C-1. A missing value (empty, null,
  NaN) becomes -1; a whole number written as a float (3.0) is that integer.
- multi-label classification (``separator``): the distinct tokens, sorted the same way, and a
  multi-hot ``array<float>`` per row; a row with no token is missing (null).
- regression: the value as a double; a value that is not a number is an error; missing is null.
  Mean, std, min and max go to the manifest.
- link_prediction: no label column; every edge is labelled (masks only).

Splits are exact and seeded: the labelled rows are ordered by ``xxhash64(seed, key)`` (ties by
the key: nid for nodes, eid for edges) and the first ``round(n * train)`` are train, the next
``round(n * (train + val)) - train`` are val, and so on; the result depends only on the seed and
the set of labelled keys. Custom splits list the original ids (nodes) or (src, dst) pairs
(edges) of each split in Parquet, CSV or JSON-lines files; an id listed in two splits is an
error (overlapping splits leak test data into training); ids that are not in the table are
counted. Rows with a missing label are in no mask, whatever the split.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import operator
import re
from dataclasses import asdict, dataclass, field
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from pyspark.sql import Column, DataFrame, Row
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import InputError, Problems
from graphmill.hadoopfs import HadoopFS
from graphmill.spark import DOUBLE, FLOATS, INT, LONG, STRING, STRINGS
from gsprocessing.config.schema import CustomSplit, LabelSpec, TableSource
from gsprocessing.fitpass import FitPass, FitResult
from gsprocessing.tables import BAD_ROW, check_columns, expand, read_table, resolve
from gsprocessing.transforms.base import (
    as_double, bad_number_count, exact_sums, finite, mean_std, quote, raise_bad_numbers,
    split_literally,
)
from gsprocessing.transforms.categorical import literal_map, sort_values

log = logging.getLogger(__name__)

SPLIT_COLUMN = "__gm_split"  # 0 train, 1 val, 2 test: the custom split of a row, from its files


@dataclass
class LabelState:
    """A fitted label: what its values mean and how its rows were split."""

    column: str
    task: str
    masks: List[str]
    classes: List[str] = field(default_factory=list)     # classification: index i ↔ classes[i]
    multilabel: bool = False
    separator: Optional[str] = None
    kept_as_given: bool = False                          # integer classes used as indices
    class_counts: Dict[str, int] = field(default_factory=dict)
    stats: Dict[str, float] = field(default_factory=dict)  # regression: mean, std, min, max
    stats_type: Optional[str] = None
    # label_stats_type frequency_cnt: rows of each class among the training rows (GraphStorm's
    # training_label_stats; class_counts are of every labelled row)
    train_class_counts: Dict[str, int] = field(default_factory=dict)
    split: Dict[str, int] = field(default_factory=dict)  # train/val/test/unlabeled rows
    split_source: str = "random"                         # random | custom

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["num_classes"] = self.num_classes
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "LabelState":
        return cls(**{k: v for k, v in d.items() if k != "num_classes"})


def _as_text(column: str) -> Column:
    """A class label as text: trimmed; empty and NaN are missing; a whole number written as a
    float ("3.0", a float column's 3.0) is that integer ("3"). pandas stores an integer column
    that has missing values as floats with NaN, and GraphStorm takes those NaN as unlabelled
    and 3.0 as class 3; read as text, NaN was a class and "3.0" made every class a string."""
    value = F.trim(F.col(quote(column)).cast(STRING))
    whole = F.when(value.rlike(r"^-?[0-9]+\.0+$"), F.substring_index(value, ".", 1))
    return F.when((value == "") | (value == "NaN"), F.lit(None)).otherwise(
        F.coalesce(whole, value))


def _tokens(column: str, separator: str) -> Column:
    parts = F.transform(split_literally(_as_text(column), separator), lambda t: F.trim(t))
    return F.array_distinct(F.filter(parts, lambda t: t.isNotNull() & (t != "")))


def plan_label(df: DataFrame, spec: LabelSpec, state: Optional[LabelState], fit: FitPass,
               prefix: str, seed: Optional[int] = None, key: Optional[str] = None,
               rows: Optional[int] = None) -> None:
    """Add to ``fit`` what the label learns from (unless ``state`` is given: saved) and, with
    ``key``, what its random split counts (see :func:`_split_bounds`; ``rows``: the table's
    rows, which set how fine its hash buckets are, :func:`split_bits`; unknown: the finest)."""
    if state is None and spec.task == "regression":
        x = as_double(df, spec.column)
        fit.add_aggregates(prefix + "stat_", {
            "n": F.count(x), "min": F.min(x), "max": F.max(x), **exact_sums(x),
            "mean": F.avg(x), "std": F.stddev_pop(x), "bad": bad_number_count(df, spec.column)})
    elif state is None and spec.task == "classification":
        fit.add_counted(prefix + "classes", _tokens(spec.column, spec.separator)
                        if spec.separator else F.array(_as_text(spec.column)))
    if key is not None and spec.custom_split is None:
        has = _presence(spec, state)
        bits = split_bits(rows) if rows is not None else _MAX_BUCKET_BITS
        bucket = _bucket(seed, key, bits)
        fit.add_counted(prefix + "buckets", F.when(has, F.array(bucket.cast(STRING))))
        fit.add_aggregates(prefix + "split_", {"unlabeled": F.sum(F.when(has, 0).otherwise(1)),
                                               "bits": F.lit(bits)})
        windows = _cut_windows(spec.split, bits, rows)
        if windows:  # the rows a cut is likely to fall among, as "hash:key" values
            near = functools.reduce(operator.or_, [bucket.between(lo, hi) for lo, hi in windows])
            row = F.concat_ws(":", _row_hash(seed, key).cast(STRING), F.col(key).cast(STRING))
            fit.add_counted(prefix + "near", F.when(has & near, F.array(row)))


def finish_label(df: DataFrame, spec: LabelSpec, state: Optional[LabelState],
                 result: FitResult, prefix: str,
                 warnings: Optional[List[str]] = None) -> LabelState:
    """The label's state from the pass of :func:`plan_label` (``state``, if given, as it is).

    A reading of the values that may not be what the user meant (integer classes renumbered,
    negative integer classes) is logged and appended to ``warnings`` (report.json's)."""
    if state is not None:
        return state
    state = LabelState(column=spec.column, task=spec.task, masks=list(spec.masks),
                       separator=spec.separator, multilabel=spec.separator is not None,
                       stats_type=spec.stats)
    if spec.task == "link_prediction":
        return state
    if spec.task == "regression":
        row = Row(**result.of(prefix + "stat_"))
        if row.bad:
            raise_bad_numbers(df, spec.column, row.bad, f"{spec.where} (regression label)")
        if not row.n:
            raise _no_values(spec)
        state.stats = {k: float(row[k]) for k in ("min", "max")}
        state.stats.update(mean_std(row))
        return state
    counts = result.counts(prefix + "classes")
    if counts is None:  # too many distinct values for the pass to bring them all
        values = (F.explode(_tokens(spec.column, spec.separator)) if spec.separator
                  else _as_text(spec.column))
        rows = df.select(values.alias("v")).where(F.col("v").isNotNull()).groupBy("v") \
            .count().collect()
        counts = {r.v: int(r["count"]) for r in rows}
    if not counts:
        raise _no_values(spec)
    whole = all(v.isascii() and v.isdigit() and len(v) < 10 for v in counts)
    top = max(int(v) for v in counts) if whole else None
    if top is not None and top < max(MAX_KEPT_CLASS, 2 * len(counts)):
        state.kept_as_given = True
        state.classes = [str(i) for i in range(top + 1)]
        merged: Dict[str, int] = {}
        for v, c in counts.items():  # "007" is class 7, counted with "7"
            merged[str(int(v))] = merged.get(str(int(v)), 0) + c
        counts = merged
    else:
        if top is not None:
            _warn(warnings, f"{spec.where}: label '{spec.column}' has {len(counts)} integer "
                  f"classes up to {top}; they are numbered 0..{len(counts) - 1} in numeric "
                  f"order, not kept as given (that would make {top + 1} classes)")
        state.classes = sort_values(list(counts))
        negative = [v for v in state.classes if re.fullmatch(r"-[0-9]+", v)]
        if negative and all(re.fullmatch(r"[+-]?[0-9]+", v) for v in state.classes):
            _warn(warnings, f"{spec.where}: label '{spec.column}' has negative integer values "
                  f"({', '.join(negative[:5])}); they are classes, and the values are numbered "
                  f"0..{len(state.classes) - 1} in numeric order ({state.classes[0]} is class "
                  f"0). If {negative[0]} marks a row without a label, leave it empty instead")
    state.class_counts = {c: counts[c] for c in state.classes if c in counts}
    return state


def _warn(warnings: Optional[List[str]], message: str) -> None:
    log.warning("%s", message)
    if warnings is not None:
        warnings.append(message)


def training_label_stats(spark, path: str, state: LabelState, column: str) -> Dict[str, int]:
    """Rows of each class among the training rows of the table just written at ``path``
    (label in ``column``, training mask ``state.masks[0]``): one job. Multi-label: the rows
    that have the class."""
    df = spark.read.parquet(path)
    train = df.where(F.col(quote(state.masks[0])))
    if state.multilabel:
        hot = train.select(F.posexplode(quote(column)).alias("c", "v")).where(F.col("v") > 0)
        rows = hot.groupBy("c").count().collect()
    else:
        rows = train.where(F.col(quote(column)) >= 0).groupBy(
            F.col(quote(column)).alias("c")).count().collect()
    counts = {int(r.c): int(r["count"]) for r in rows}
    return {state.classes[c]: counts[c] for c in sorted(counts)}


def _no_values(spec: LabelSpec) -> InputError:
    return InputError(f"{spec.where}: label column '{spec.column}' has no values (every row's "
                      "label is missing, or the table has no rows)")


class SplitCounts(NamedTuple):
    """What the fit pass counted for a random split (:func:`plan_label`)."""

    buckets: Dict[int, int]   # labelled rows per hash bucket
    unlabeled: int
    bits: int                 # the buckets' bits (:func:`split_bits`)
    near: Dict[int, List[Tuple[int, int]]]  # bucket → (hash, key) of its labelled rows, for the
    #                           buckets around the expected cuts (:func:`_cut_windows`)


def split_counts(result: FitResult, prefix: str) -> Optional[SplitCounts]:
    """The random split's counts from the pass (None: not counted)."""
    buckets = result.counts(prefix + "buckets")
    if buckets is None:
        return None
    split = result.of(prefix + "split_")
    bits = int(split["bits"])
    near: Dict[int, List[Tuple[int, int]]] = {}
    for value in result.counts(prefix + "near") or {}:
        h, k = (int(x) for x in value.split(":"))
        near.setdefault(h >> (64 - bits), []).append((h, k))  # (>>: arithmetic, as Spark's)
    return SplitCounts({int(b): n for b, n in buckets.items()}, int(split["unlabeled"] or 0),
                       bits, near)


def _presence(spec: LabelSpec, state: Optional[LabelState]) -> Column:
    """Whether a row carries the label: :func:`present` of the encoded label. Without a state
    (it is being fitted on these very rows, so every value present is a class) it is read from
    the raw column."""
    if spec.task == "link_prediction":
        return F.lit(True)
    if state is not None:
        encoded = label_column(state)
        return encoded >= 0 if spec.task == "classification" and not state.multilabel \
            else encoded.isNotNull()
    if spec.task == "regression":
        return finite(F.trim(F.col(quote(spec.column)).cast(STRING)).try_cast(DOUBLE)) \
            .isNotNull()
    if spec.separator:
        return F.size(_tokens(spec.column, spec.separator)) > 0
    return _as_text(spec.column).isNotNull()


def label_column(state: LabelState) -> Optional[Column]:
    """The encoded label (see the module docstring), or None for link prediction."""
    if state.task == "link_prediction":
        return None
    if state.task == "regression":
        return finite(F.trim(F.col(quote(state.column)).cast(STRING)).try_cast(DOUBLE))
    lookup = None if state.kept_as_given else \
        literal_map({c: i for i, c in enumerate(state.classes)})

    def index(token: Column) -> Column:
        # Unknown values (only possible when a saved state is re-applied) are missing.
        value = (F.when(token.rlike("^[0-9]{1,9}$"), token.cast(INT)) if state.kept_as_given
                 else lookup[token])
        return F.when(value < len(state.classes), value)

    if not state.multilabel:
        return F.coalesce(index(_as_text(state.column)), F.lit(-1)).cast(LONG)
    # Multi-hot: 1.0 at the index of every known token; no known token → missing (null).
    idx = F.filter(F.transform(_tokens(state.column, state.separator), index),
                   lambda i: i.isNotNull())
    hot = F.transform(F.sequence(F.lit(0), F.lit(len(state.classes) - 1)),
                      lambda j: F.when(F.array_contains(idx, j), 1.0).otherwise(0.0))
    return F.when(F.size(idx) > 0, hot.cast(FLOATS))


def present(state: LabelState, out: str) -> Column:
    """Rows that carry the label (link prediction: all)."""
    if state.task == "link_prediction":
        return F.lit(True)
    if state.task == "classification" and not state.multilabel:
        return F.col(out) >= 0
    return F.col(out).isNotNull()


def apply_label(df: DataFrame, state: LabelState, spec: LabelSpec, seed: int, key: str,
                out: str, counted: Optional[SplitCounts] = None) -> DataFrame:
    """``df`` with the encoded label in ``out`` (unless link prediction) and the three masks.

    ``key`` is the row key (nid or eid); a custom split needs ``SPLIT_COLUMN`` in ``df``
    (see :func:`custom_split_table`). ``counted``: the random split's counts from the fit pass
    (:func:`split_counts`), else they are counted here. Fills ``state.split`` with the row
    counts.
    """
    encoded = label_column(state)
    flag = "__gm_has"
    if encoded is not None:
        df = df.withColumn(out, encoded)
    df = df.withColumn(flag, present(state, out))
    if spec.custom_split is not None:
        which = F.col(SPLIT_COLUMN)
        conds = [F.col(flag) & (which == i) for i in range(3)]
        state.split_source = "custom"
        for name, cond in zip(state.masks, conds):
            df = df.withColumn(name, F.coalesce(cond, F.lit(False)))
        counts = df.agg(*[F.sum(F.col(m).cast(INT)).alias(m) for m in state.masks],
                        F.sum((~F.col(flag)).cast(INT)).alias("u"),
                        F.sum((F.col(flag) & which.isNull()).cast(INT)).alias("n")).first()
        state.split = {s: int(counts[m] or 0) for s, m in zip(("train", "val", "test"),
                                                               state.masks)}
        state.split["unlabeled"] = int(counts["u"] or 0)
        # labelled rows that no split file lists: in no mask either
        state.split["not_listed"] = int(counts["n"] or 0)
        return df.drop(flag, SPLIT_COLUMN)
    sizes, unlabeled, bounds = _split_bounds(df, spec.split, seed, key, flag, counted)

    def as_row(hash_key: Tuple[int, int]) -> Column:
        return F.struct(*[F.lit(v).cast(LONG).alias(n) for n, v in zip("hk", hash_key)])

    row = F.struct(_row_hash(seed, key).alias("h"),
                   F.col(key).cast(LONG).alias("k"))
    for i, name in enumerate(state.masks):
        low, high = bounds[i], bounds[i + 1]
        inside = F.col(flag) if low is not _END else F.lit(False)
        if low not in (None, _END):
            inside = inside & (row >= as_row(low))
        if high is not _END:
            inside = inside & (row < as_row(high))
        df = df.withColumn(name, inside)
    state.split = dict(zip(("train", "val", "test"), sizes), unlabeled=unlabeled)
    return df.drop(flag)


_END = "end"
# Integer classes are kept as given (class = value) up to this value, or twice their number:
# beyond, a few large ids ("1", "50000000") would make millions of classes.
MAX_KEPT_CLASS = 10_000
_MAX_BUCKET_BITS = 16  # the split's boundary search: at most 2^16 buckets of the 64-bit row hash
_ROWS_PER_BUCKET = 64


_WINDOW_SIGMAS = 6  # how far around each expected cut the fit pass keeps the rows
_MAX_NEAR_ROWS = 100_000  # more than this expected in the windows: a query finds the cuts' rows


def _cut_windows(fractions: Sequence[float], bits: int,
                 rows: Optional[int]) -> List[Tuple[int, int]]:
    """Bucket ranges (inclusive) around where each cut of the random split is expected.

    The hash is uniform and independent of which rows are labelled, so the cut after a fraction
    ``c`` of the labelled rows lies near the quantile ``c`` of the hash, whatever their number;
    its spread is binomial, sqrt(c (1 - c) / n) of the range for ``n`` labelled rows. The windows
    span ``_WINDOW_SIGMAS`` of it for n = ``rows`` (every row labelled): the fit pass keeps their
    rows (about 6 sqrt(n) a cut: 900 for 20K rows, 17K for 10M; none when that would be over
    ``_MAX_NEAR_ROWS`` in all), and a cut outside them (far fewer rows labelled, or chance)
    costs one more query, not a wrong split.
    """
    if not rows or rows <= 0:
        return []
    size = 1 << bits
    windows, cum = [], 0.0
    for fraction in fractions:
        cum += fraction
        if not 0 <= cum < 1:  # (a cut after the last row needs no row)
            continue
        half = math.ceil(_WINDOW_SIGMAS * size * math.sqrt(cum * (1 - cum) / rows)) + 1
        center = int(cum * size) - size // 2   # buckets are signed: -size/2 .. size/2 - 1
        windows.append((max(center - half, -(size // 2)), min(center + half, size // 2 - 1)))
    if sum(hi - lo + 1 for lo, hi in windows) * rows / size > _MAX_NEAR_ROWS:
        return []
    return windows


def split_bits(rows: int) -> int:
    """Bits of the split's hash buckets for a table of ``rows`` rows: about
    ``_ROWS_PER_BUCKET`` rows a bucket, so that few values are counted and brought to the
    driver (20K rows: 512 buckets, not 2^16), and few rows are in the buckets a cut falls
    in. The split itself does not depend on them."""
    return min(_MAX_BUCKET_BITS, max(1, (rows // _ROWS_PER_BUCKET).bit_length()))


def _row_hash(seed: int, key: str) -> Column:
    """The hash that orders a table's rows for the random split."""
    return F.xxhash64(F.lit(seed), F.col(key))


def _bucket(seed: int, key: str, bits: int) -> Column:
    """A row's split bucket: the top ``bits`` bits of its hash (their order is the hash's)."""
    return F.shiftright(_row_hash(seed, key), 64 - bits)


def _split_bounds(df: DataFrame, fractions, seed: int, key: str, flag: str,
                  counted: Optional[SplitCounts] = None):
    """Where the random split cuts the labelled rows ordered by (xxhash64(seed, key), key).

    Returns the rows per split, the unlabelled rows, and four bounds (None: from the first row;
    ``_END``: after the last; else the (hash, key) of the first row of the next split): split i
    is bounds[i] <= (hash, key) < bounds[i + 1]. Nothing is sorted:
    the rows per bucket of the hash's top bits (order-preserving) are counted (by the fit pass,
    ``counted``, or here), and the few rows of the buckets a cut falls in are ordered on the
    driver. The pass keeps the rows of the buckets around the expected cuts (``counted.near``);
    only a cut outside them costs a job, which collects its bucket's rows.
    """
    h = _row_hash(seed, key)
    bits = counted.bits if counted is not None else _MAX_BUCKET_BITS
    bucket = F.when(F.col(flag), _bucket(seed, key, bits))
    near: Dict[int, List[Tuple[int, int]]] = {}
    if counted is None:
        counts = {r.b: int(r["count"]) for r in df.groupBy(bucket.alias("b")).count().collect()}
        unlabeled = counts.pop(None, 0)
    else:
        counts, unlabeled, near = dict(counted.buckets), counted.unlabeled, counted.near
    n_train, n_val, n_test = split_sizes(sum(counts.values()), fractions)
    cuts = [n_train, n_train + n_val, n_train + n_val + n_test]
    where: Dict[int, Tuple[int, int]] = {}   # cut → (bucket, position within the bucket)
    before = 0
    for b in sorted(counts):
        for cut in cuts:
            if before <= cut < before + counts[b]:
                where[cut] = (b, cut - before)
        before += counts[b]
    # A bucket's rows from the pass are all of them when there are as many as it counted.
    rows = {b: near[b] for b, _ in where.values() if len(near.get(b, ())) == counts[b]}
    missing = sorted({b for b, _ in where.values()} - set(rows))
    if missing:
        rows.update(_bucket_rows(df, bucket, h, key, missing))
    bounds: List[object] = [None]   # None: from the first row; _END: after the last
    for cut in cuts:
        if cut in where:
            b, pos = where[cut]
            bounds.append(sorted(rows[b])[pos])
        else:
            bounds.append(_END)
    return (n_train, n_val, n_test), unlabeled, bounds


def split_sizes(n: int, fractions: Sequence[float]) -> Tuple[int, int, int]:
    """Rows of train, val and test among ``n`` labelled rows (see the module docstring)."""
    tr, va, te = fractions
    n_train = round(n * tr)
    n_val = min(round(n * (tr + va)), n) - n_train
    n_test = min(round(n * (tr + va + te)), n) - n_train - n_val
    return n_train, n_val, n_test


def _bucket_rows(df: DataFrame, bucket: Column, h: Column, key: str,
                 buckets: Sequence[int]) -> Dict[int, List[Tuple[int, int]]]:
    """Bucket → (hash, key) of its labelled rows, for ``buckets``: one job."""
    rows: Dict[int, List[Tuple[int, int]]] = {}
    for r in (df.where(bucket.isin(list(buckets))).select(
            bucket.alias("b"), h.alias("h"), F.col(key).alias("k")).collect()):
        rows.setdefault(r.b, []).append((r.h, r.k))
    return rows


def split_paths(custom: CustomSplit, prefix: str) -> Dict[str, List[str]]:
    """Each split's custom split paths ("train", "val", "test"), resolved against ``prefix``."""
    return {s: [resolve(prefix, f) for f in getattr(custom, s)] for s in ("train", "val", "test")}


def custom_split_table(spark, fs: HadoopFS, files: Dict[str, Sequence[str]],
                       columns: Sequence[str], n_ids: int, where: str) -> DataFrame:
    """The custom split files as one table: id column(s) ``__gm_k0`` (and ``__gm_k1``) as
    strings, and ``SPLIT_COLUMN``. Raises if an id is listed in two splits, for a file without
    the id column(s) (:func:`_read_split_file`), and for rows without an id."""
    parts, part_names = [], []  # (the id columns of each part, for messages)
    for i, split in enumerate(("train", "val", "test")):
        for path in files.get(split, ()):
            table, names = _read_split_file(spark, fs, path, columns, n_ids, where)
            # (a CSV row with more or fewer fields than the header: Spark's corrupt-record column)
            ragged = F.col(BAD_ROW).isNotNull() if BAD_ROW in table.columns else F.lit(False)
            parts.append(table.select(*[F.trim(F.col(quote(c)).cast(STRING)).alias(
                f"__gm_k{j}") for j, c in enumerate(names)], F.lit(i).alias(SPLIT_COLUMN),
                F.lit(len(part_names)).alias("__gm_part"), ragged.alias("__gm_ragged"),
                F.col("_metadata.file_path").alias("__gm_file")))
            part_names.append(names)
    ids = parts[0]
    for other in parts[1:]:
        ids = ids.unionByName(other)
    keys = [f"__gm_k{j}" for j in range(n_ids)]
    # A ragged CSV row, or a row without an id, assigns nothing, or not what the file meant:
    # name the files that have such rows (one job).
    missing = functools.reduce(operator.or_, [F.col(k).isNull() | (F.col(k) == "")
                                              for k in keys])
    ragged = F.col("__gm_ragged")
    bad = ids.where(missing | ragged).groupBy("__gm_file", "__gm_part").agg(
        F.count_if(ragged).alias("ragged"), F.count_if(~ragged).alias("missing")) \
        .orderBy("__gm_file").collect()
    for kind, problem in (("ragged", "do not have the fields of their file's header"),
                          ("missing", "have no id in column(s) {named}")):
        found = [r for r in bad if r[kind]]
        if not found:
            continue
        shown = "; ".join(f"{r['__gm_file']}: {r[kind]} row(s)" for r in found[:5]) + \
            (f"; +{len(found) - 5} more file(s)" if len(found) > 5 else "")
        named = ", ".join(part_names[found[0]["__gm_part"]])
        fix = ("fix the rows, or quote fields that hold the separator" if kind == "ragged" else
               "every row of a split file must name an id (a JSON record without the field, a "
               "null or an empty value do not)")
        raise InputError(f"{where}: {sum(r[kind] for r in found)} row(s) of the custom split "
                         f"files {problem.format(named=named)} ({shown}); {fix}")
    ids = ids.drop("__gm_file", "__gm_part", "__gm_ragged").dropDuplicates()
    dups = ids.groupBy(*keys).agg(F.collect_set(SPLIT_COLUMN).alias("s")).where(F.size("s") > 1)
    examples = dups.limit(5).collect()
    if examples:
        names = ("train", "val", "test")
        shown = "; ".join(f"{tuple(r[k] for k in keys) if n_ids > 1 else r[keys[0]]!r} in "
                          f"{'/'.join(names[s] for s in sorted(r.s))}" for r in examples)
        raise InputError(f"{where}: {dups.count()} id(s) are listed in more than one custom "
                         f"split, e.g. {shown}; each id may be in one split only")
    return ids


def _first_json_line(fs: HadoopFS, path: str) -> Optional[str]:
    """The first line of a JSON-lines file that is not blank (None: there is none), from its
    first 64 KiB."""
    text = fs.head(path, 1 << 16).decode("utf-8", errors="replace").lstrip("\ufeff")
    return next((line.strip() for line in text.splitlines() if line.strip()), None)


def _record_fields(line: str) -> List[str]:
    """The fields of a JSON record (one line of a split file) in the order the record has them
    (Spark's JSON reader sorts the fields it infers by name: ``{"src", "dst"}`` would be read
    as (dst, src)); empty if the line is not a record."""
    try:
        record = json.loads(line)
    except ValueError:
        return []
    return list(record) if isinstance(record, dict) else []


def _bare_json_ids(spark, files: Sequence[str], n_ids: int) -> Tuple[DataFrame, List[str]]:
    """JSON-lines split files of bare ids (``"n1"``, ``5``) or, for edges, ``[src, dst]``
    pairs, one a line (blank lines skipped): their ids as text (``5`` is "5"). A line that is
    not one such value (not JSON, an object, a list for a node id, a list of another length
    for an edge) has no id, which :func:`custom_split_table` reports with its file."""
    line = F.regexp_replace(F.col("value"), r"^\s+|\s+$", "")  # (trim: spaces only)
    wrapped = F.concat(F.lit('{"v":'), line, F.lit("}"))
    if n_ids == 1:
        value = F.from_json(wrapped, T.StructType([T.StructField("v", STRING)]))["v"]
        names = ["id (the line's value)"]
        ids = [F.when(~line.startswith("[") & ~line.startswith("{"), value)]
    else:
        value = F.from_json(wrapped, T.StructType([T.StructField("v", STRINGS)]))["v"]
        names = [f"{end} of a [src, dst] line" for end in ("src", "dst")][:n_ids]
        ids = [F.when(F.size(value) == n_ids, value[j]) for j in range(n_ids)]
    table = spark.read.text(list(files)).where(line != "")
    for name, col in zip(names, ids):
        table = table.withColumn(name, col)
    return table.drop("value"), names


def _read_split_file(spark, fs: HadoopFS, path: str, columns: Sequence[str], n_ids: int,
                     where: str) -> Tuple[DataFrame, List[str]]:
    """:func:`open_split_file`, raising its problems."""
    problems = Problems(where)
    opened = open_split_file(spark, fs, path, columns, n_ids, where, problems)
    if opened is None or problems.items:
        raise InputError("; ".join(problems.items))
    return opened


def open_split_file(spark, fs: HadoopFS, path: str, columns: Sequence[str], n_ids: int,
                    where: str, problems: Problems,
                    infer: bool = True) -> Optional[Tuple[DataFrame, List[str]]]:
    """One custom split path (a file, directory or glob; CSV or JSON when every file has that
    extension, else Parquet) and its id column(s) (``columns``, else its first ``n_ids``),
    checked; None, with ``problems`` added, if it cannot be read so (or, for JSON with
    ``infer=False``, not read at all). CSV and Parquet are opened as input tables are
    (:func:`gsprocessing.tables.read_table`: headers and footers, no Spark job), so that each
    file is checked: a CSV file whose header differs from the first's, or a Parquet file
    without an id column, is a problem (Spark would read the ids of such a file as missing, or
    from the wrong column). JSON files are read with every file's fields (Spark's JSON reader,
    a job: not with ``infer=False``): a file without the id field gives rows without an id,
    which :func:`custom_split_table` names."""
    files = expand(fs, path)
    if not files:
        problems.add(where, f"no custom split file matches {path}")
        return None
    lower = [f.lower() for f in files]
    if all(f.endswith((".json", ".jsonl", ".json.gz", ".jsonl.gz")) for f in lower):
        if not infer:
            return None
        # Each file's first line tells how it lists its ids: records (objects with id fields)
        # or bare values (an id or [src, dst] a line, as GConstruct writes and reads them).
        firsts = {f: line for f in files if (line := _first_json_line(fs, f)) is not None}
        records = [f for f, line in firsts.items() if line.startswith("{")]
        values = [f for f in firsts if f not in records]
        if records and values:
            problems.add(where, f"custom split files {path} mix JSON records ({records[0]}) and "
                                f"lines of bare ids ({values[0]}); use one kind")
            return None
        if values:
            return _bare_json_ids(spark, files, n_ids)
        table = spark.read.json(files)
        names = list(columns) or (_record_fields(firsts[records[0]])[:n_ids] if records else [])
        if len(names) != n_ids or any(c not in table.columns for c in names):
            problems.add(where, f"custom split file {path} needs {n_ids} id column(s) "
                                f"{names or ''}; its columns are {table.columns}")
            return None
        return table, names
    csv = all(f.endswith((".csv", ".csv.gz")) for f in lower)
    source = TableSource(files=(path,), format="csv" if csv else "parquet")
    table = read_table(spark, source, files, where, fs)
    have = [c for c in table.df.columns if c != BAD_ROW]
    names = list(columns) or have[:n_ids]
    if len(names) != n_ids:
        problems.add(where, f"custom split file {path} needs {n_ids} id column(s); its columns "
                            f"are {have}")
        return None
    before = len(problems.items)
    for message in table.problems:
        problems.add(where, message)
    check_columns(table, {c: "custom split id" for c in names}, problems)
    return (table.df, names) if len(problems.items) == before else None
