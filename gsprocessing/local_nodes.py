"""A node type finished by the local engine (:mod:`gsprocessing.local`): what
:func:`gsprocessing.node_types.finish_node_type` does in Spark, done in this process.

:func:`finish` returns None, having changed nothing, when the type is not one the engine takes
(see :func:`_why_not`) or when the engine meets something it cannot do exactly as Spark does
(:class:`~gsprocessing.local.Unsupported`); the Spark path then runs. Only a type whose ids
are numbered by input position (one block, no id missing, duplicates an error: the usual case)
is taken: its rows in input order are its nodes in nid order.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gsprocessing import output as out
from gsprocessing.config.schema import LabelSpec, label_name
from gsprocessing.features import (
    FittedFeature, check_output_names, feature_infos, finish_features,
    is_multi_output, missing_counts, output_names_of,
)
from gsprocessing.fitpass import FitResult
from gsprocessing.labels import LabelState, MAX_KEPT_CLASS, finish_label
from gsprocessing.local import (
    LINE_END, LocalColumn, Unsupported, distinct_pairs, exact_sums, fixed_lists, local_path,
    positions_array, read_parquet_dir, split_masks, value_counts, write_parquet_dir,
)
from gsprocessing.steps import saved_features, saved_label, capped, dtype_name
from gsprocessing.transforms import make_transform

log = logging.getLogger(__name__)

ARROW_ELEMENTS = {"float32": pa.float32(), "float64": pa.float64(), "int64": pa.int64()}
MAX_DENSE_VALUES = 100_000_000  # a dense feature's values in memory at once (800 MB as doubles)


def finish(run, numbered) -> Optional[out.NodeTypeInfo]:
    """Finish ``numbered`` (a :class:`gsprocessing.node_types.NumberedNodes`) locally; None when
    the Spark path must (nothing is changed then)."""
    why = _why_not(run, numbered)
    if why is None:
        started = time.time()
        try:
            info = _finish(run, numbered)
        except Unsupported as err:
            why = str(err)
        else:
            log.info("nodes/%s: %d rows finished by the local engine in %.1f s", numbered.ntype,
                     numbered.count, time.time() - started)
            return info
    log.info("nodes/%s: finished in Spark (local engine: %s)", numbered.ntype, why)
    return None


def _why_not(run, numbered) -> Optional[str]:
    """Why the local engine does not take this type (None: it does)."""
    limit = run.options.local_rows
    if not limit:
        return "off (--local-rows 0)"
    if numbered.unchecked is None:
        return "its ids are not numbered by input position (several blocks, missing ids, " \
               "--duplicates first or --dangling add)"
    if numbered.count > limit:
        return f"{numbered.count} rows, over --local-rows {limit}"
    if local_path(run.root) is None:
        return "the output is not on the local filesystem"
    if not run.spark.sparkContext.master.startswith("local"):
        return "Spark does not run in local mode"
    return None


def _finish(run, numbered) -> out.NodeTypeInfo:
    ntype, count, rep = numbered.ntype, numbered.count, numbered.rep
    block, table = numbered.unchecked
    features = list(block.features)
    labels = list(block.labels)
    for spec in labels:
        if spec.custom_split is not None:
            raise Unsupported("custom split files")
    columns, ids = _read(run, block, table, count)

    saved = run.saved("nodes", ntype)
    if saved is None:
        fitted = _fit_features(numbered.df, features, columns)
    else:
        fitted = saved_features(run, saved, features, "nodes", ntype)
    warnings: List[str] = []
    states = []
    for i, spec in enumerate(labels):
        old = saved_label(run, saved, i, spec, "nodes", ntype)
        states.append(old if old is not None else
                      _fit_label(numbered.df, spec, columns[spec.column], warnings))
    # (after the fits, as in Spark: a feature's or label's error is the one reported first)
    _check_ids(run, ntype, numbered.unchecked, ids)

    check_output_names([(f.spec, [o.name for o in f.outputs()]) for f in fitted])
    # Fields marked as Spark marks them: a feature, a class label and a mask are never null (a
    # missing class is -1); a regression or multi-label label may be; nid as Spark reads the
    # input's positions (from the CSV copy: nullable).
    arrays: Dict[str, pa.Array] = {"nid": pa.array(np.arange(count, dtype=np.int64))}
    required = {"nid": table.copy is None}

    def add(name: str, values: pa.Array, never_null: bool = True) -> None:
        if name in arrays:  # (Spark's write names the clash)
            raise Unsupported(f"two output columns are named '{name}'")
        arrays[name] = values
        required[name] = never_null

    for f in fitted:
        for name, values in _apply_feature(f, columns, count).items():
            add(name, values)
    nids = np.arange(count, dtype=np.int64)
    splits = {}
    for spec, state in zip(labels, states):
        encoded, present = _encode_label(state, columns.get(spec.column), count)
        masks, sizes = split_masks(present, nids, run.options.seed, spec.split)
        state.split = dict(zip(("train", "val", "test"), sizes),
                           unlabeled=int(count - present.sum()))
        if encoded is not None:
            add(spec.column, encoded, state.task == "classification" and not state.multilabel)
        for name, mask in zip(state.masks, masks):
            add(name, pa.array(mask))
        if state.stats_type == "frequency_cnt" and state.task == "classification":
            state.train_class_counts = _train_counts(state, encoded, masks[0])
        splits[label_name(spec.column, spec.task, spec.masks)] = dict(state.split)

    path = local_path(out.nodes_path(run.root, ntype))
    schema = pa.schema([pa.field(k, v.type, nullable=not required[k]) for k, v in arrays.items()])
    write_parquet_dir(pa.table(arrays, schema=schema), path)
    # (the report changes only now: the Spark path may still run until the table is written)
    run.report.warnings.extend(warnings)
    rep.missing_values = missing_counts(fitted)
    rep.categories_capped = capped(fitted)
    rep.splits.update(splits)
    rep.rows_written = count
    label_dicts = [s.to_dict() for s in states]
    run.transforms["nodes"][ntype] = {"features": {f.spec.name: f.to_dict() for f in fitted},
                                      "labels": label_dicts}
    return out.NodeTypeInfo(count=count, id_dtype=dtype_name(run.id_types[ntype]),
                            features=feature_infos(fitted),
                            label=label_dicts[0] if label_dicts else None, labels=label_dicts)


def _read(run, block, table, count: int) -> Tuple[Dict[str, LocalColumn], LocalColumn]:
    """The block's used columns and its id column, in input order (= nid order). A file
    pyarrow cannot read as Spark did is left to Spark."""
    try:
        return _read_columns(run, block, table, count)
    except (OSError, pa.ArrowException) as err:
        raise Unsupported(f"reading the table here: {err}") from None


def _read_columns(run, block, table,
                  count: int) -> Tuple[Dict[str, LocalColumn], LocalColumn]:
    from gsprocessing.config.schema import read_columns
    from graphmill.spark import IN_FILE, IN_ROW

    if table.selected is not None or table.order is None:
        raise Unsupported("a filtered table")
    used = list(dict.fromkeys([block.id_col, *read_columns(block)]))
    if table.copy is not None:  # a CSV (JSON, HDF5) table parsed into the scratch space
        where, names = table.copy
        path = local_path(where)
        if path is None or any(c not in names for c in used):
            raise Unsupported("the table's copy is not readable here")
        extra = [IN_ROW] + ([IN_FILE] if IN_FILE in names else [])
        stored = read_parquet_dir(path, [f"c{names.index(c)}" for c in used + extra])
        data = stored.rename_columns(used + extra)
        rows = data.column(IN_ROW).to_numpy().astype(np.int64)
        offsets = table.order.offsets
        if IN_FILE in names:
            files = data.column(IN_FILE).to_pylist()
            try:
                start = np.array([offsets[f] for f in files], dtype=np.int64)
            except KeyError as err:
                raise Unsupported(f"a row of an unknown file {err}") from None
        else:
            (start,) = offsets.values() if len(offsets) == 1 else (None,)
            if start is None:
                raise Unsupported("no file offset")
        positions = rows + start
        order = np.argsort(positions, kind="stable")
        if len(positions) != count or not np.array_equal(positions[order], np.arange(count)):
            raise Unsupported("the copy's rows are not positions 0..n-1")
        data = data.take(pa.array(order))
    elif table.source.format == "parquet":
        parts = []
        for uri, _ in sorted(table.order.offsets.items(), key=lambda kv: kv[1]):
            path = local_path(uri)
            if path is None:
                raise Unsupported("input files are not on the local filesystem")
            schema = pq.read_schema(path)
            if any(c not in schema.names for c in used):
                raise Unsupported("a used column is not in the file as named")
            parts.append(pq.read_table(path, columns=used))
        try:
            data = pa.concat_tables(parts) if parts else None
        except pa.ArrowInvalid as err:
            raise Unsupported(f"files of different schemas ({err})") from None
        if data is None or data.num_rows != count:
            raise Unsupported("row count")
    else:
        raise Unsupported(f"{table.source.format} input without a copy")
    columns = {c: LocalColumn(c, data.column(c).combine_chunks()) for c in used}
    return columns, columns[block.id_col]


def _check_ids(run, ntype: str, block, ids: LocalColumn) -> None:
    """Raise, as the Spark path does, for ids on more than one row (``--duplicates error``)."""
    from gsprocessing.node_types import _repeated
    from pyspark.sql import types as T

    if isinstance(run.id_types[ntype], T.StringType):
        values = ids.strings()
    elif ids.kind == "integral":
        values = ids.array
    else:
        raise ids.unsupported("ids as numbers")
    if values.null_count:
        raise Unsupported("a missing id")
    counted = pc.value_counts(values)
    repeated = pc.greater(counted.field("counts"), 1)
    found = dict(zip((str(v) for v in counted.field("values").filter(repeated).to_pylist()),
                     counted.field("counts").filter(repeated).to_pylist()))
    _repeated(run, ntype, block, found)


def _fit_features(df, specs, columns: Dict[str, LocalColumn]) -> List[FittedFeature]:
    """:func:`gsprocessing.features.plan_features` and ``fit.run`` in one, from the columns in
    memory: the statistics under the names the Spark pass gives them, then the same
    :func:`~gsprocessing.features.finish_features` (``df``: the Spark frame, for the errors
    that show examples)."""
    transforms = [make_transform(s.transform, s.params) for s in specs]
    check_output_names([(s, output_names_of(s, t)) for s, t in zip(specs, transforms)])
    stats: Dict[str, Any] = {}
    counts: Dict[str, Dict[str, int]] = {}
    for i, (spec, t) in enumerate(zip(specs, transforms)):
        if is_multi_output(t):
            raise Unsupported(f"{spec.transform} has several outputs")
        for j, column in enumerate(spec.columns):
            mine = t.for_column(j, len(spec.columns)).local_stats(columns[column])
            found = mine.pop("value_counts", None)
            if found is not None:
                counts[f"f{i}_{j}"] = found
            stats.update({f"f{i}_{j}_{k}": v for k, v in mine.items()})
    return finish_features(df, list(zip(specs, transforms)), FitResult(stats, counts))


def _apply_feature(f: FittedFeature, columns: Dict[str, LocalColumn],
                   n: int) -> Dict[str, pa.Array]:
    """A fitted feature's output column from the columns in memory."""
    if is_multi_output(f.transform):
        raise Unsupported(f"{f.spec.transform} has several outputs")
    (output,) = f.outputs()
    if f.encoding == "indices":
        pairs, base = [], 0
        for column, state in zip(f.spec.columns, f.states):
            rows, positions = f.transform.local_positions(columns[column], state)
            pairs.append((rows, positions + base))
            base += f.transform.dim(state)
        rows, positions = distinct_pairs(np.concatenate([r for r, _ in pairs]),
                                         np.concatenate([p for _, p in pairs]), base)
        return {output.name: positions_array(rows, positions, n)}
    if n * f.dim > MAX_DENSE_VALUES:
        raise Unsupported(f"feature '{f.spec.name}': {n} rows of {f.dim} values")
    parts = [f.transform.apply_local(columns[column], state)
             for column, state in zip(f.spec.columns, f.states)]
    matrix = parts[0] if len(parts) == 1 else np.hstack(parts)
    return {output.name: _vectors(matrix, output.dtype)}


def _vectors(matrix: np.ndarray, dtype: str) -> pa.Array:
    """An (n, width) float64 matrix as a list column of ``dtype`` (as Spark casts each value)."""
    if dtype not in ("float32", "float64"):
        raise Unsupported(f"out_dtype {dtype}")
    n, width = matrix.shape
    return fixed_lists(matrix.astype(dtype).reshape(-1), n, width, ARROW_ELEMENTS[dtype])


# -- labels ------------------------------------------------------------------------------------

_WHOLE = r"^(-?[0-9]+)\.0+$"


def label_texts(column: LocalColumn) -> pa.Array:
    """``labels._as_text``: trimmed; empty and NaN are missing; "3.0" is "3"."""
    if column.kind == "floating":
        x = column.array.to_numpy(zero_copy_only=False)
        valid = column.array.is_valid().to_numpy(zero_copy_only=False)
        finite = np.isfinite(x)
        odd = ~finite | (x != np.round(x)) | (np.abs(x) >= 1e7) | ((x == 0) & np.signbit(x))
        if np.any(valid & ~np.isnan(x) & odd):  # (Spark's text of -0.0 is "-0.0": class "-0")
            raise column.unsupported("has classes that are not whole numbers under 1e7, or -0.0")
        return pa.array([str(int(v)) if ok and f else None
                         for v, ok, f in zip(x.tolist(), valid, finite)], pa.string())
    text = pc.utf8_trim(column.strings(), " ")
    if pc.any(pc.match_substring_regex(text, LINE_END)).as_py():
        raise column.unsupported("has a label with a line break")
    missing = pc.or_(pc.equal(text, ""), pc.equal(text, "NaN"))
    text = pc.if_else(missing, pa.scalar(None, pa.string()), text)
    return pc.replace_substring_regex(text, _WHOLE, r"\1")


def label_tokens(column: LocalColumn, separator: str) -> Tuple[np.ndarray, pa.Array]:
    """``labels._tokens`` as (row, value) pairs: the distinct trimmed non-empty parts of each
    row's text, in order."""
    parts = pc.split_pattern(label_texts(column), separator)
    values = pc.utf8_trim(pc.list_flatten(parts), " ")
    rows = pc.list_parent_indices(parts).to_numpy(zero_copy_only=False).astype(np.int64)
    keep = pc.not_equal(values, "").to_numpy(zero_copy_only=False)
    rows, values = rows[keep], values.filter(pa.array(keep))
    codes = pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False)
    _, first = np.unique(rows * (int(codes.max()) + 1 if len(codes) else 1) + codes,
                         return_index=True)
    first = np.sort(first)
    return rows[first], values.take(pa.array(first))


def _fit_label(df, spec: LabelSpec, column: LocalColumn,
               warnings: List[str]) -> LabelState:
    """:func:`gsprocessing.labels.plan_label` and the pass, then the same ``finish_label``."""
    stats: Dict[str, Any] = {}
    counts: Dict[str, Dict[str, int]] = {}
    if spec.task == "regression":
        x = column.doubles()
        present = x[~np.isnan(x)]
        stats = {"n": len(present), "min": float(present.min()) if len(present) else None,
                 "max": float(present.max()) if len(present) else None, **exact_sums(present),
                 "mean": None, "std": None, "bad": 0}
        stats = {f"l_stat_{k}": v for k, v in stats.items()}
    elif spec.task == "classification":
        values = label_tokens(column, spec.separator)[1] if spec.separator else \
            label_texts(column).drop_null()
        counts["l_classes"] = value_counts(values)
    return finish_label(df, spec, None, FitResult(stats, counts), "l_", warnings)


def _class_codes(state: LabelState, tokens: pa.Array) -> np.ndarray:
    """Each token's class index, -1 for none (``labels.label_column``'s ``index``)."""
    if state.kept_as_given:
        whole = pc.match_substring_regex(tokens, r"^[0-9]{1,9}$").fill_null(False)
        numbers = pc.if_else(whole, tokens, pa.scalar(None, pa.string()))
        codes = pc.cast(numbers, pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False)
    else:
        found = pc.index_in(tokens, value_set=pa.array(state.classes, pa.string()))
        codes = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(codes < len(state.classes), codes, -1)


def _encode_label(state: LabelState, column: Optional[LocalColumn],
                  n: int) -> Tuple[Optional[pa.Array], np.ndarray]:
    """The encoded label column (None: link prediction) and which rows carry it."""
    if state.task == "link_prediction":
        return None, np.ones(n, dtype=bool)
    if state.task == "regression":
        if column.kind == "floating" and column.array.type != pa.float64():
            # (Spark writes it through Float.toString: float32 0.1 becomes 0.1, not 0.1000000015)
            raise column.unsupported("is a regression label of floats narrower than double")
        x = column.doubles()
        present = ~np.isnan(x)
        return pa.array(x, mask=~present, type=pa.float64()), present
    if not state.multilabel:
        codes = _class_codes(state, label_texts(column))
        return pa.array(codes), codes >= 0
    rows, tokens = label_tokens(column, state.separator)
    codes = _class_codes(state, tokens)
    width = len(state.classes)
    hot = np.zeros((n, width), dtype=np.float32)
    hot[rows[codes >= 0], codes[codes >= 0]] = 1.0
    present = hot.any(axis=1) if width else np.zeros(n, dtype=bool)
    return fixed_lists(hot.reshape(-1), n, width, pa.float32(), ~present), present


def _train_counts(state: LabelState, encoded: pa.Array, train: np.ndarray) -> Dict[str, int]:
    """``labels.training_label_stats`` from the encoded column in memory."""
    if state.multilabel:
        rows = [r for r, t in zip(encoded.to_pylist(), train) if t and r is not None]
        counts = {c: sum(1 for r in rows if r[c] > 0) for c in range(len(state.classes))}
        counts = {c: k for c, k in counts.items() if k}
    else:
        codes = encoded.to_numpy(zero_copy_only=False)[train]
        codes = codes[codes >= 0]
        values, k = np.unique(codes, return_counts=True)
        counts = dict(zip(values.tolist(), k.tolist()))
    return {state.classes[c]: counts[c] for c in sorted(counts)}


__all__ = ["finish", "label_texts", "label_tokens", "MAX_KEPT_CLASS"]
