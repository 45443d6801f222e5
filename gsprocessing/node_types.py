"""One node type: its blocks read and joined on the id, ids numbered, features and labels.

Ids are cleaned (cast to the type's id type; empty strings are missing), rows without an id are
dropped and counted, and duplicate ids follow the policy: ``error`` (default) or ``first`` (the
first row in file-name order, then in the order the file is read).

In the usual case (one block, no id missing, duplicates an error, features or labels to fit) a
node's id is its position, and the id map is written straight from the rows: the ids are
grouped by the fit pass, which groups the table anyway (one grouping fewer per type; at 10M
edges about 5% of the demo's time), and a repeated id raises there. Edge types are written
meanwhile; one whose joins gained rows (an endpoint id on two nodes) checks the ids itself
(``Run.id_checks``), so that the duplicate is the error reported. Nothing is committed either
way.

Several blocks of one type are joined on the id (a full outer join: a node in one block only
has missing values for the others' columns). With ``--dangling add``, edge endpoints that are
not in the node table become nodes with missing features.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import InputError
from graphmill.spark import (
    IN_POS, dense_index, observe, position_index, read_written, with_positions,
)
from gsprocessing import output as out
from gsprocessing.config.schema import NodeSpec, read_columns
from gsprocessing.features import apply_features, feature_infos, missing_counts
from gsprocessing.ids import NID, clean_ids, ids_from_endpoints
from gsprocessing.steps import (
    Run, add_label_stats, attach_labels, capped, dtype_name, fit_table,
)
from gsprocessing.tables import InputTable, check_aligned_rows
from gsprocessing.transforms.base import quote

log = logging.getLogger(__name__)
ID = "__gm_id"  # the cleaned original id, whatever each block calls its id column


@dataclass
class NumberedNodes:
    """A node type after its ids are numbered (its id map is written): what the edge types need,
    and what :func:`finish_node_type` completes."""

    ntype: str
    count: int
    rep: out.TypeReport
    df: Optional[DataFrame] = None        # the joined blocks with NID (None: inferred type)
    info: Optional[out.NodeTypeInfo] = None  # complete already (inferred types)
    # the block whose ids were numbered before anything checked that they do not repeat
    unchecked: Optional[Tuple[NodeSpec, InputTable]] = None


def number_node_type(run: Run, ntype: str, tables: Dict[str, InputTable]) -> NumberedNodes:
    """Read and join the blocks of ``ntype``, number its ids and write its id_map."""
    blocks = run.spec.node_specs(ntype)
    rep = out.TypeReport()
    run.report.nodes[ntype] = rep
    if not blocks:
        info = _inferred(run, ntype, tables, rep)
        return NumberedNodes(ntype=ntype, count=info.count, rep=rep, info=info)
    path = out.id_map_path(run.root, ntype)
    unchecked = None
    if len(blocks) == 1 and run.options.dangling != "add":
        block, table = blocks[0], tables[blocks[0].where]
        if _in_place(run, block, table):
            df, count = _number_in_place(run, block, table, rep, path)
            unchecked = (block, table)
        else:
            df, count = _number_block(run, block, table, rep, path)
    else:
        df, count = _number_blocks(run, ntype, blocks, tables, rep, path)
    run.id_maps[ntype] = _read_id_map(run, ntype, path)
    return NumberedNodes(ntype=ntype, count=count, rep=rep, df=df, unchecked=unchecked)


def _in_place(run: Run, spec: NodeSpec, table: InputTable) -> bool:
    """Whether the block's ids can be numbered by position before they are grouped: no id is
    missing (the scan says), a repeated id is an error, and a fit pass will group the rows."""
    return run.options.duplicates == "error" and table.complete_ids and \
        bool(spec.features or spec.labels)


def _number_in_place(run: Run, spec: NodeSpec, table: InputTable, rep: out.TypeReport,
                     path: str) -> Tuple[DataFrame, int]:
    """The block numbered by input position, its id_map written as it is read; the ids are
    checked by the fit pass (:func:`finish_node_type`), or when an edge type's joins gain rows
    (``run.id_checks``)."""
    df = _positioned(run, spec, table, rep)
    out.write_table(df.select(F.col(ID).alias("orig"), F.col(IN_POS).alias("nid")), path)
    # (with --duplicates error, _grouped_clean raises for a repeated id)
    run.id_checks[spec.type] = functools.partial(_grouped_clean, run, spec, table, df, rep)
    return df.withColumnRenamed(IN_POS, NID), table.rows


def _grouped_clean(run: Run, spec: NodeSpec, table: InputTable, df: DataFrame,
                   rep: out.TypeReport) -> Tuple[DataFrame, int]:
    """:func:`_clean` of a block's rows, its ids grouped and counted first (one job)."""
    groups = df.groupBy(ID).agg(F.count(F.lit(1)).alias("n"))
    stats = groups.agg(*[e.alias(k) for k, e in _id_stats().items()]).first().asDict()
    return _clean(run, spec, table, df, groups, stats, rep)


def _number_block(run: Run, spec: NodeSpec, table: InputTable, rep: out.TypeReport,
                  path: str) -> Tuple[DataFrame, int]:
    """The one block of a type, numbered in input order, and its id_map written at ``path``.

    The id_map is written from the ids grouped (each with its first position), and the missing
    and duplicate ids are counted while that is written: when there are none, which is the
    usual case, a node's id is its position, and that one job is all numbering costs. Otherwise
    the policies apply (:func:`_clean`), the rows are numbered anew and the id_map rewritten.
    """
    df = _positioned(run, spec, table, rep)
    groups = df.groupBy(ID).agg(F.min(IN_POS).alias("nid"), F.count(F.lit(1)).alias("n"))
    groups, observed = observe(groups, _id_stats())
    out.write_table(groups.where(F.col(ID).isNotNull())
                    .select(F.col(ID).alias("orig"), F.col("nid")), path)
    stats = observed()
    if not stats["null_rows"] and not stats["ids"]:
        return df.withColumnRenamed(IN_POS, NID), table.rows
    df, kept = _clean(run, spec, table, df, groups, stats, rep)
    df, count = position_index(df, NID, table.file_rows, kept, run.scratch)
    run.fs.delete(path)
    _write_id_map(df, path)
    return df, count


def _number_blocks(run: Run, ntype: str, blocks: List[NodeSpec], tables: Dict[str, InputTable],
                   rep: out.TypeReport, path: str) -> Tuple[DataFrame, int]:
    """Several blocks of one type joined on the id (or ``--dangling add``), numbered, and the
    id_map written at ``path``. A node is placed where it first appears: positions continue
    from block to block; added endpoints come after all of them, sorted."""
    df, base = None, 0
    # Blocks without ids (GConstruct: one block names node_id_col) come last: their rows take
    # the ids of the id block's rows in the same input position, so the id block's row counts
    # (missing and duplicate ids) and places (positions) stand for them.
    blocks = sorted(blocks, key=lambda b: b.id_col is None)
    first_rows = None  # the rows of blocks[0], which has ids, before cleaning
    for i, block in enumerate(blocks):
        table = tables[block.where]
        if block.id_col is None:
            rows = _aligned(run, block, table, rep, blocks[0], tables[blocks[0].where],
                            first_rows)
            frame, _ = _grouped_clean(run, block, table, rows, out.TypeReport())
            frame = frame.withColumn(f"__gm_pos{i}", F.lit(None).cast(T.LongType()))
        else:
            rows = _positioned(run, block, table, rep)
            first_rows = rows if i == 0 else first_rows
            frame, _ = _grouped_clean(run, block, table, rows, rep)
            frame = frame.withColumn(f"__gm_pos{i}", F.col(IN_POS) + base)
            base += table.file_rows
        frame = frame.drop(IN_POS)
        df = frame if df is None else df.join(frame, ID, "full_outer")
    positions = [F.col(f"__gm_pos{i}") for i in range(len(blocks))]
    df = df.withColumn(IN_POS, F.least(*positions) if len(positions) > 1 else positions[0]) \
        .drop(*[f"__gm_pos{i}" for i in range(len(blocks))])
    if run.options.dangling == "add":
        df = _add_dangling(run, ntype, df, tables, rep)  # (no position: after the others)
    df, count = dense_index(df, [F.col(IN_POS).asc_nulls_last(), ID], NID, run.scratch)
    df = df.drop(IN_POS)
    _write_id_map(df, path)
    return df, count


def finish_node_type(run: Run, numbered: NumberedNodes) -> out.NodeTypeInfo:
    """Fit and apply the features and labels of a numbered node type and write nodes/; return
    its manifest entry."""
    if numbered.info is not None:
        return numbered.info
    from gsprocessing import local_nodes  # (imports numpy and pyarrow: not before the session)
    info = local_nodes.finish(run, numbered)
    if info is not None:
        return info
    ntype, df, rep, count = numbered.ntype, numbered.df, numbered.rep, numbered.count
    blocks = run.spec.node_specs(ntype)
    labels = [lab for b in blocks for lab in b.labels]
    fit = fit_table(run, "nodes", ntype, df, [f for b in blocks for f in b.features], labels,
                    NID, count, unique=ID if numbered.unchecked else None)
    if numbered.unchecked:
        _repeated(run, ntype, numbered.unchecked, fit.repeated)
    fitted = fit.features
    rep.missing_values = missing_counts(fitted)
    rep.categories_capped = capped(fitted)
    df, features = apply_features(df, fitted)
    df, label_cols = attach_labels(run, df, fit, labels, NID, [ID], rep)
    out.write_table(df.select(F.col(NID).alias("nid"), *features, *label_cols),
                    out.nodes_path(run.root, ntype))
    add_label_stats(run, out.nodes_path(run.root, ntype), fit.labels, labels)
    rep.rows_written = count
    label_dicts = [s.to_dict() for s in fit.labels]
    run.transforms["nodes"][ntype] = {"features": {f.spec.name: f.to_dict() for f in fitted},
                                      "labels": label_dicts}
    return out.NodeTypeInfo(count=count, id_dtype=dtype_name(run.id_types[ntype]),
                            features=feature_infos(fitted),
                            label=label_dicts[0] if label_dicts else None, labels=label_dicts)


def _write_id_map(df: DataFrame, path: str) -> None:
    """The id_map of numbered rows (``ID``, ``NID``): orig, nid."""
    out.write_table(df.select(F.col(ID).alias("orig"), F.col(NID).alias("nid")), path)


def _read_id_map(run: Run, ntype: str, path: str) -> DataFrame:
    """The id_map just written at ``path`` (orig, nid), read back with its known schema."""
    schema = T.StructType([T.StructField("orig", run.id_types[ntype]),
                           T.StructField("nid", T.LongType())])
    return read_written(run.spark, path, schema)


def _aligned(run: Run, spec: NodeSpec, table: InputTable, rep: out.TypeReport,
             id_block: NodeSpec, id_table: InputTable, id_rows: DataFrame) -> DataFrame:
    """:func:`_positioned` of a block without ids (GConstruct: only one block of a node type
    names node_id_col): each row takes the id of ``id_block``'s row in the same input position
    (files by name, then rows), as GConstruct matches them. ``id_rows``: ``id_block``'s
    :func:`_positioned` rows."""
    check_aligned_rows(table, id_table, f"column '{id_block.id_col}'", "node_id_col")
    return _positioned(run, spec, table, rep).drop(ID).join(id_rows.select(ID, IN_POS), IN_POS)


def _positioned(run: Run, spec: NodeSpec, table: InputTable, rep: out.TypeReport) -> DataFrame:
    """One block's rows: the cleaned id in ``ID`` (null: missing; a block without ids: null in
    every row, see :func:`_aligned`), the input position (``IN_POS``) and the columns the block
    is read for. Adds the table's figures to ``rep``."""
    rep.add_input(table.files, table.rows_per_file, table.nulls)
    rep.rows_read += table.rows
    used = read_columns(spec)
    df = with_positions(table.df, table.order)
    df = df.withColumn(ID, clean_ids(F.col(quote(spec.id_col)), run.id_types[spec.type],
                                     table.complete_ids) if spec.id_col else
                       F.lit(None).cast(run.id_types[spec.type]))
    return df.select(ID, IN_POS, *[quote(c) for c in used])


def _id_stats() -> Dict[str, Column]:
    """Aggregates over a block's ids grouped with their rows (``n``): rows without an id, ids
    on more than one row, and the rows beyond the first of those."""
    dup = F.col(ID).isNotNull() & (F.col("n") > 1)
    return {"null_rows": F.sum(F.when(F.col(ID).isNull(), F.col("n")).otherwise(0)),
            "extra": F.sum(F.when(dup, F.col("n") - 1).otherwise(0)),
            "ids": F.sum(F.when(dup, 1).otherwise(0))}


def _clean(run: Run, spec: NodeSpec, table: InputTable, df: DataFrame, groups: DataFrame,
           stats: Dict, rep: out.TypeReport) -> Tuple[DataFrame, int]:
    """Drop and count the rows without an id, and apply the duplicates policy (``error``
    raises; ``first`` keeps the first row in input order); return the rows and how many."""
    null_rows, extra, ids = (int(stats[k] or 0) for k in ("null_rows", "extra", "ids"))
    rep.null_ids_dropped += null_rows
    df = df.where(F.col(ID).isNotNull())
    if ids:
        dup = F.col(ID).isNotNull() & (F.col("n") > 1)
        examples = [(r[0], int(r.n)) for r in groups.where(dup).select(ID, "n").orderBy(ID)
                    .limit(5).collect()]
        if run.options.duplicates == "error":
            raise _duplicates_error(spec, table, ids, examples)
        # (summed over the blocks of a type: each block is cleaned on its own)
        before = rep.duplicate_ids or {"ids": 0, "rows_dropped": 0, "examples": []}
        rep.duplicate_ids = {"ids": before["ids"] + ids,
                             "rows_dropped": before["rows_dropped"] + extra,
                             "examples": (before["examples"] + [v for v, _ in examples])[:5]}
        log.warning("%s: %d duplicate id(s); kept the first row of each, dropped %d row(s)",
                    spec.where, ids, extra)
        first = Window.partitionBy(ID).orderBy(IN_POS)
        df = df.withColumn("__gm_first", F.row_number().over(first)) \
            .where(F.col("__gm_first") == 1).drop("__gm_first")
    return df, table.rows - null_rows - extra


def _repeated(run: Run, ntype: str, block: Tuple[NodeSpec, InputTable],
              found: Optional[Dict[str, int]]) -> None:
    """Raise for the ids the fit pass found on more than one row (``found``: id as a string →
    rows; None: the pass did not count them, so one job does)."""
    if found is None:
        run.id_checks[ntype]()
        return
    if found:
        spec, table = block
        typed = int if isinstance(run.id_types[ntype], T.IntegralType) else str
        examples = sorted((typed(v), n) for v, n in found.items())[:5]
        raise _duplicates_error(spec, table, len(found), examples)


def _duplicates_error(spec: NodeSpec, table: InputTable, ids: int,
                      examples: List[Tuple[object, int]]) -> InputError:
    shown = ", ".join(f"{v!r} ({n} rows)" for v, n in examples)
    return InputError(f"{table.describe()}: column '{spec.id_col}' has {ids} duplicate id(s), "
                      f"e.g. {shown}; each node must appear once in its node table, or pass "
                      "--duplicates first to keep the first row of each id (the others are "
                      "counted in report.json)")


def _endpoint_ids(run: Run, ntype: str, tables: Dict[str, InputTable]) -> List[DataFrame]:
    """The cleaned endpoint ids of every edge column that names ``ntype``, as ``orig``, of the
    edges that have both ids (an edge with a missing id is dropped, and its other end does not
    become a node for it)."""
    columns = []
    for e in run.spec.edges:
        ends = {"src": clean_ids(F.col(quote(e.src_col)), run.id_types[e.src_type]),
                "dst": clean_ids(F.col(quote(e.dst_col)), run.id_types[e.dst_type])}
        whole = tables[e.where].df.where(ends["src"].isNotNull() & ends["dst"].isNotNull())
        for end, t in (("src", e.src_type), ("dst", e.dst_type)):
            if t == ntype:
                columns.append(whole.select(ends[end].alias("orig")))
    return columns


def _add_dangling(run: Run, ntype: str, df: DataFrame, tables: Dict[str, InputTable],
                  rep: out.TypeReport) -> DataFrame:
    """``--dangling add``: endpoint ids missing from the node table become (featureless) rows."""
    columns = _endpoint_ids(run, ntype, tables)
    if not columns:
        return df
    ids = columns[0]
    for other in columns[1:]:
        ids = ids.union(other)
    added = ids.where(F.col("orig").isNotNull()).distinct() \
        .join(df.select(F.col(ID).alias("orig")), "orig", "left_anti") \
        .select(F.col("orig").alias(ID)).localCheckpoint()
    rep.nodes_added = added.count()
    if rep.nodes_added:
        rep.nodes_added_examples = [r[0] for r in added.orderBy(ID).limit(5).collect()]
        log.warning("nodes/%s: added %d node(s) that only appear on edges (--dangling add), "
                    "e.g. %s", ntype, rep.nodes_added, rep.nodes_added_examples)
    return df.unionByName(added, allowMissingColumns=True)


def _inferred(run: Run, ntype: str, tables: Dict[str, InputTable],
              rep: out.TypeReport) -> out.NodeTypeInfo:
    """A node type with no node table: its ids are the distinct endpoints of its edges."""
    ids, count = ids_from_endpoints(_endpoint_ids(run, ntype, tables), run.scratch)
    out.write_table(ids.select("orig", "nid"), out.id_map_path(run.root, ntype))
    run.id_maps[ntype] = _read_id_map(run, ntype, out.id_map_path(run.root, ntype))
    out.write_table(run.id_maps[ntype].select("nid"), out.nodes_path(run.root, ntype))
    rep.rows_written = count
    run.transforms["nodes"][ntype] = {"features": {}, "labels": []}
    log.info("nodes/%s: no node table; %d ids taken from its edges", ntype, count)
    return out.NodeTypeInfo(count=count, id_dtype=dtype_name(run.id_types[ntype]))
