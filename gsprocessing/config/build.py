"""Checked construction of the typed spec, shared by the three dialect readers.

A dialect reader only maps its own key names onto these builders; every rule about values
(what a split is, which transforms exist, which names are reserved, how node and edge types
must relate) lives here once, so the dialects cannot drift apart. Each builder reports problems
to a :class:`~graphmill.errors.Problems` with the location in the user's file and returns None
when the piece cannot be built.
"""

from __future__ import annotations

import codecs
import dataclasses
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from graphmill.errors import Problems, did_you_mean
from gsprocessing.config.schema import (
    MASK_COLUMNS, TASKS, CustomSplit, EdgeSpec, FeatureSpec, GraphSpec, LabelSpec,
    NodeSpec, TableSource,
)
from gsprocessing.transforms import make_transform

# out_dtype → what processed/ holds (float32 or float64: the trainer's input). GConstruct's
# float16 and int8 (its masks given as features) are written as float32, with a warning.
OUT_DTYPES = {"float16": "float32", "int8": "float32", "float32": "float32", "float64": "float64"}
# Columns the stages add to processed/ and parts/ tables; "__gm_" names are used internally.
RESERVED_COLUMNS = {"nid", "src", "dst", "eid", "part", "gid", "src_gid", "dst_gid", "orig",
                    *MASK_COLUMNS}
LABEL_STATS = ("frequency_cnt",)
# Python's canonical codec name → the charset name Spark's CSV reader accepts.
SPARK_CHARSETS = {"utf-8": "utf-8", "iso8859-1": "iso-8859-1", "ascii": "us-ascii",
                  "utf-16": "utf-16", "utf-16-be": "utf-16be", "utf-16-le": "utf-16le",
                  "utf-32": "utf-32"}


def spark_charset(encoding: Any) -> Optional[str]:
    """``latin-1``, ``ISO-8859-1``, ``latin1`` ... → ``iso-8859-1``; None if Spark lacks it."""
    try:
        return SPARK_CHARSETS.get(codecs.lookup(str(encoding)).name)
    except LookupError:
        return None


def listed(block: dict, key: str, where: str, p: Problems, required: bool = True) -> list:
    """``block[key]`` as a list (a problem if it is missing and required, or not a list)."""
    value = block.get(key)
    loc = f"{where}.{key}" if where else key
    if value is None:
        if required:
            p.add(loc, "is required")
        return []
    if not isinstance(value, list):
        p.add(loc, f"must be a list, found {type(value).__name__}")
        return []
    return value


def text(block: dict, key: str, where: str, p: Problems, required: bool = True,
         allow_empty: bool = False) -> Optional[str]:
    """``block[key]`` as a string (a problem if it is missing and required, or not a string)."""
    value = block.get(key)
    if value is None:
        if required:
            p.add(f"{where}.{key}", "is required")
        return None
    if not isinstance(value, str) or (not value and not allow_empty):
        p.add(f"{where}.{key}", f"must be a non-empty string, found {value!r}")
        return None
    return value


def objects(block: dict, key: str, where: str, allowed: set,
            p: Problems) -> Iterator[Tuple[str, dict]]:
    """``(location, item)`` for each object of the optional list ``block[key]``, keys checked."""
    if key not in block:
        return
    for i, item in enumerate(listed(block, key, where, p)):
        loc = f"{where}.{key}[{i}]"
        if not isinstance(item, dict):
            p.add(loc, "must be an object")
            continue
        p.unknown_keys(loc, item, allowed)
        yield loc, item


def file_list(value: Any, where: str, p: Problems) -> Optional[Tuple[str, ...]]:
    """A path or a list of paths (wildcards and directories allowed)."""
    files = [value] if isinstance(value, str) else value
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f
                                                           for f in files):
        p.add(where, "is required: a file path or a list of them (wildcards and directories "
                     f"allowed); found {value!r}")
        return None
    return tuple(files)


def source(files: Optional[Tuple[str, ...]], fmt: Any, where: str, p: Problems,
           separator: Any = ",", header: Any = True, encoding: Any = "utf-8",
           csv_only: Sequence[str] = (), missing_values: Any = ()) -> Optional[TableSource]:
    """A table source. ``csv_only`` names the csv-only keys the user set (checked for parquet).
    ``missing_values``: a string or a list of them, each a CSV value read as missing."""
    name = str(fmt or "").lower()
    if name == "h5":
        name = "hdf5"
    if name not in ("csv", "parquet", "json", "hdf5"):
        p.add(where, f"format must be 'csv', 'parquet', 'json' (JSON lines) or 'hdf5', found "
                     f"{fmt!r}")
        return None
    if not isinstance(separator, str) or len(separator) == 0:
        p.add(where, f"separator must be a non-empty string, found {separator!r}")
    if not isinstance(header, bool):
        p.add(where, f"header must be true or false, found {header!r}")
    spark_encoding = spark_charset(encoding)
    if spark_encoding is None:
        p.add(where, f"encoding {encoding!r} is not one Spark's CSV reader supports; use one of "
                     f"{', '.join(sorted(set(SPARK_CHARSETS.values())))} (latin-1 = iso-8859-1)")
    marks = [missing_values] if isinstance(missing_values, str) else missing_values
    if not isinstance(marks, (list, tuple)) or not all(isinstance(m, str) for m in marks):
        p.add(where, "missing_values must be a string or a list of strings (CSV values read as "
                     f"missing, e.g. [\"NA\", \"null\"]), found {missing_values!r}")
        marks = ()
    if name != "csv" and csv_only:
        p.add(where, f"{', '.join(csv_only)} apply to csv only")
    if files is None:
        return None
    return TableSource(files=files, format=name, separator=str(separator), header=bool(header),
                       encoding=spark_encoding or "utf-8",
                       missing_values=tuple(dict.fromkeys(m.strip() for m in marks)))


def feature(name: Any, columns: Any, transform: Any, params: Any, out_dtype: Any, where: str,
            p: Problems, transform_where: str = "") -> Optional[FeatureSpec]:
    """One feature: ``transform`` with ``params`` over ``columns``, output named ``name``."""
    cols = [columns] if isinstance(columns, str) else columns
    if not isinstance(cols, list) or not cols or not all(isinstance(c, str) and c for c in cols):
        p.add(where, f"needs its input column(s): a column name or a list of them; found "
                     f"{columns!r}")
        return None
    if name is None and len(cols) > 1:
        p.add(where, "needs a feature name when it reads several columns")
        return None
    name = name if name is not None else cols[0]
    if not isinstance(name, str) or not name:
        p.add(where, f"feature name must be a non-empty string, found {name!r}")
        return None
    dtype = out_dtype if out_dtype is not None else "float32"
    if dtype not in OUT_DTYPES:
        p.add(where, f"out_dtype must be one of {sorted(OUT_DTYPES)}, found {dtype!r}")
    elif OUT_DTYPES[dtype] != dtype:
        p.warn(where, f"out_dtype {dtype} is written as {OUT_DTYPES[dtype]} (processed/ holds "
                      "float32 or float64 features)")
    if not isinstance(transform, str) or not isinstance(params, dict):
        p.add(transform_where or where, "the transform needs a name and a parameter object")
        return None
    try:
        made = make_transform(transform, params)
        for j in range(len(cols)):
            made.for_column(j, len(cols))
    except (ValueError, TypeError) as err:
        p.add(transform_where or where, str(err))
        return None
    return FeatureSpec(name=name, columns=tuple(cols), transform=transform, params=dict(params),
                       out_dtype=OUT_DTYPES.get(dtype, "float32"), where=where)


def split_fractions(value: Any, where: str, p: Problems) -> Optional[Tuple[float, float, float]]:
    """``[train, val, test]`` fractions, each ≥ 0, summing to at most 1."""
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0
                       for x in value)
            or sum(value) > 1 + 1e-9):
        p.add(where, "must be three fractions [train, val, test], each >= 0, summing to at most "
                     f"1; found {value!r}")
        return None
    return (float(value[0]), float(value[1]), float(value[2]))


def custom_split(value: Any, where: str, p: Problems) -> Optional[CustomSplit]:
    """``{train: files, val: files, test: files, column: [names]}`` (each key optional)."""
    if not isinstance(value, dict):
        p.add(where, "must be an object {train, valid|val, test, column}")
        return None
    p.unknown_keys(where, value, {"train", "valid", "val", "test", "column"})
    parts: Dict[str, Tuple[str, ...]] = {}
    for key in ("train", "valid", "val", "test"):
        if key in value:
            files = file_list(value[key], f"{where}.{key}", p)
            parts["val" if key == "valid" else key] = files or ()
    if not parts:
        p.add(where, "needs at least one of train, valid, test")
    columns = value.get("column", [])
    columns = [columns] if isinstance(columns, str) else columns
    if not isinstance(columns, list) or not all(isinstance(c, str) and c for c in columns) \
            or len(columns) > 2:
        p.add(f"{where}.column", f"must be one column name (nodes) or two (edges); found "
                                 f"{value.get('column')!r}")
        columns = []
    return CustomSplit(train=parts.get("train", ()), val=parts.get("val", ()),
                       test=parts.get("test", ()), columns=tuple(columns))


def label(column: Any, task: Any, split: Any, where: str, p: Problems, *,
          separator: Any = None, custom: Any = None, masks: Any = None,
          stats: Any = None, keys: Dict[str, str]) -> Optional[LabelSpec]:
    """One label. ``keys`` maps our argument names to the dialect's key names (for messages)."""
    ok = True
    if task not in TASKS:
        p.add(f"{where}.{keys['task']}", f"must be one of {list(TASKS)}, found {task!r}"
                                         f"{did_you_mean(str(task), TASKS)}")
        ok = False
    if task == "link_prediction":
        column = column or ""
    elif not isinstance(column, str) or not column:
        p.add(f"{where}.{keys['column']}", f"is required for {task} labels")
        ok = False
    fractions = (0.8, 0.1, 0.1) if split is None else \
        split_fractions(split, f"{where}.{keys['split']}", p)
    if separator is not None and (task != "classification" or not isinstance(separator, str)
                                  or not separator):
        p.add(f"{where}.separator", "a non-empty separator makes a classification label "
                                    "multi-label; it does not apply to " + str(task))
        ok = False
    custom_spec = None if custom is None else custom_split(custom, f"{where}.{keys['custom']}", p)
    if fractions == (0.0, 0.0, 0.0) and custom is None:  # GraphStorm accepts it; likely a slip
        p.warn(f"{where}.{keys['split']}", "every fraction is 0: no row is in the train, val or "
                                           "test mask (every mask is written false)")
    mask_names = MASK_COLUMNS if masks is None else masks
    if (not isinstance(mask_names, (list, tuple)) or len(mask_names) != 3
            or not all(isinstance(m, str) and m for m in mask_names)
            or len(set(mask_names)) != 3):
        p.add(f"{where}.{keys['masks']}", "must be three distinct column names for the train, "
                                          f"val and test masks; found {masks!r}")
        ok = False
    if stats is not None and stats not in LABEL_STATS:
        p.add(f"{where}.{keys['stats']}", f"must be one of {list(LABEL_STATS)}, found {stats!r}")
        ok = False
    if not ok or fractions is None:
        return None
    return LabelSpec(column=column, task=task, split=fractions, separator=separator,
                     custom_split=custom_spec, masks=tuple(mask_names), stats=stats, where=where)


def check_names(ntype: str, blocks: Sequence, p: Problems) -> None:
    """Feature, label and mask names of one node or edge type: unique and not reserved."""
    seen: Dict[str, str] = {}

    def claim(name: str, where: str, what: str) -> None:
        if name in RESERVED_COLUMNS - set(MASK_COLUMNS) or name.startswith("__gm_"):
            p.add(where, f"{what} '{name}' is reserved; choose another name")
        elif name in seen:
            p.add(where, f"{what} '{name}' of type '{ntype}' is also the name of {seen[name]}")
        seen[name] = f"{what} at {where}"

    for block in blocks:
        for f in block.features:
            if f.name in MASK_COLUMNS:
                p.add(f.where, f"feature name '{f.name}' is reserved; choose another name")
            claim(f.name, f.where, "feature")
        for lab in block.labels:
            if lab.column:
                claim(lab.column, lab.where, "label column")
            for m in lab.masks:
                claim(m, lab.where, "mask")


def _disambiguate(blocks: Sequence, taken: Dict[str, str], what: str, p: Problems) -> Dict:
    """The blocks of one type are combined (``what``: e.g. "of node type 'u'; blocks are joined
    on the id"), so a column name must mean one column. A feature input that an earlier block
    (or ``taken``: column → block) reads already is read under another name in this block
    (``schema.Renamed``); a label column, whose name is its output's, is a problem. Returns
    {block's where: the block, renamed where it needed it}."""
    owner = dict(taken)
    out = {}
    for b in blocks:
        labels = {lab.column for lab in b.labels if lab.column}
        inputs = {c for f in b.features for c in f.columns}
        for c in sorted(labels):
            if owner.get(c, b.where) != b.where:
                p.add(b.where, f"label column '{c}' is also read by {owner[c]}, another block "
                               f"{what}; a label's column names its output, so each must come "
                               "from one block (rename one)")
        mine = {c: f"{c}@{b.where}" for c in sorted(inputs - labels)
                if owner.get(c, b.where) != b.where}
        for c in sorted(inputs | labels):
            owner.setdefault(c, b.where)
        if mine:
            b = dataclasses.replace(b, renamed=tuple((new, c) for c, new in mine.items()),
                                    features=tuple(dataclasses.replace(
                                        f, columns=tuple(mine.get(c, c) for c in f.columns),
                                        source_columns=f.columns)
                                        if mine.keys() & set(f.columns) else f
                                        for f in b.features))
        out[b.where] = b
    return out


def _check_aligned(ntype: str, blocks: List[NodeSpec], p: Problems) -> None:
    """Blocks without ids (GConstruct's node blocks without node_id_col) take the ids of the
    type's one block that has them, row by row: there must be exactly one such block."""
    with_ids = [b.where for b in blocks if b.id_col is not None]
    for b in (b for b in blocks if b.id_col is None):
        if not with_ids:
            p.add(b.where, f"node type '{ntype}' has no block with its ids: name the id column "
                           "(node_id_col) of one of its blocks")
        elif len(with_ids) > 1:
            p.add(b.where, f"has no node_id_col, so its rows are matched row by row to the "
                           f"block of node type '{ntype}' that has the ids, and there are "
                           f"{len(with_ids)} ({', '.join(with_ids)}); name the id column here")


def finish(nodes: List[NodeSpec], edges: List[EdgeSpec], dialect: str, p: Problems,
           edge_blocks: int) -> GraphSpec:
    """Cross-checks over the whole graph; raises every problem at once, else the spec.

    ``edge_blocks`` is how many edge blocks the config has (valid or not)."""
    if not edge_blocks:
        p.add("edges", "at least one edge block is required")
    warnings: List[str] = list(p.warnings)
    by_type: Dict[str, List[NodeSpec]] = {}
    for n in nodes:
        by_type.setdefault(n.type, []).append(n)
    renamed: Dict[str, object] = {}
    for ntype, blocks in by_type.items():
        check_names(ntype, blocks, p)
        renamed.update(_disambiguate(blocks, {}, f"of node type '{ntype}'; blocks are joined "
                                                 "on the id", p))
        _check_aligned(ntype, blocks, p)
        for lab in (lab for b in blocks for lab in b.labels if lab.task == "link_prediction"):
            p.add(lab.where, "link_prediction is a task of edges (its masks select edges); "
                             "put it in an edge block")
    on_edges = {t for e in edges for t in (e.src_type, e.dst_type)}
    for ntype, blocks in by_type.items():
        if ntype not in on_edges and edges:
            warnings.append(f"{blocks[0].where}: node type '{ntype}' has no edges"
                            f"{did_you_mean(ntype, on_edges)}; it is kept as isolated nodes")
    # An edge's node type without a node block is inferred from the edges (featureless), as in
    # GraphStorm; a name close to a declared type is probably a typo, so it is said out loud.
    warned = set()
    for e in edges:
        for t in dict.fromkeys((e.src_type, e.dst_type)):
            hint = did_you_mean(t, by_type)
            if t not in by_type and hint and t not in warned:
                warned.add(t)
                warnings.append(f"{e.where}: node type '{t}' has no node block{hint}; it is "
                                "inferred from the edges, without features")
    for e in edges:  # (valid, as self-loops, but far more often a copied line not edited)
        if e.src_col is not None and e.src_col == e.dst_col:
            warnings.append(f"{e.where}: the source and destination ids are both column "
                            f"'{e.src_col}', so every edge is a self-loop")
    etypes: Dict[Tuple[str, str, str], str] = {}
    for e in (e for e in edges if e.src_col is not None):
        key = e.etype if e.relation_col is None else (e.src_type, f"<{e.relation_col}>",
                                                      e.dst_type)
        if key in etypes:
            p.add(e.where, f"edge type {list(e.etype)} is also defined by {etypes[key]}; "
                           "put all its files in one block")
        etypes.setdefault(key, e.where)
    aligned = [e for e in edges if e.src_col is None]
    with_ids = [e for e in edges if e.src_col is not None]
    for e in with_ids:
        blocks = [e] + [a for a in aligned if a.etype == e.etype]
        check_names(e.name, blocks, p)
        if len(blocks) > 1:  # (the ids stay beside the other blocks' columns)
            renamed.update(_disambiguate(blocks, {e.src_col: e.where, e.dst_col: e.where},
                                         f"of edge type {list(e.etype)}; its blocks are "
                                         "matched row by row", p))
        for lab in (lab for b in blocks for lab in b.labels):
            if lab.custom_split and lab.custom_split.columns and \
                    len(lab.custom_split.columns) != 2:
                p.add(lab.where, "custom split files of edges need two id columns: [src, dst]")
    for a in aligned:
        if a.etype not in etypes:
            p.add(a.where, f"edge type {list(a.etype)} has no block with its ids: name the id "
                           "columns (source_id_col and dest_id_col) of one of its blocks; a "
                           "block without them adds columns to that block's rows, row by row")
    p.raise_if_any()
    return GraphSpec(nodes=tuple(renamed.get(n.where, n) for n in nodes),
                     edges=tuple(renamed.get(e.where, e) for e in with_ids), dialect=dialect,
                     warnings=tuple(warnings),
                     aligned_edges=tuple(renamed.get(e.where, e) for e in aligned))


def bad_name(value: Any) -> bool:
    """Type and relation names: non-empty strings without '__' (the path separator)."""
    return not (isinstance(value, str) and value and "__" not in value)

