"""One node type: its blocks read and joined on the id, ids numbered, features and labels.

Ids are cleaned (cast to the type's id type; empty strings are missing), rows without an id are
dropped and counted, and duplicate ids follow the policy: ``error`` (default) or ``first`` (the
first row in file-name order, then in the order the file is read). Several blocks of one type
are joined on the id (a full outer join: a node in one block only has missing values for the
others' columns). With ``--dangling add``, edge endpoints that are not in the node table become
nodes with missing features.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from graphmill.errors import InputError
from graphmill.spark import IN_POS, dense_index, position_index, with_positions
from gsprocessing import output as out
from gsprocessing.config.schema import NodeSpec
from gsprocessing.features import apply_features, feature_infos, missing_counts
from gsprocessing.ids import NID, clean_ids, ids_from_endpoints
from gsprocessing.steps import Run, attach_labels, capped, dtype_name, features_for
from gsprocessing.tables import InputTable
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


def number_node_type(run: Run, ntype: str, tables: Dict[str, InputTable]) -> NumberedNodes:
    """Read and join the blocks of ``ntype``, number its ids and write its id_map."""
    blocks = run.spec.node_specs(ntype)
    rep = out.TypeReport()
    run.report.nodes[ntype] = rep
    if not blocks:
        info = _inferred(run, ntype, tables, rep)
        return NumberedNodes(ntype=ntype, count=info.count, rep=rep, info=info)
    frames = [_block(run, b, tables[b.where], rep) for b in blocks]
    if len(frames) == 1 and run.options.dangling != "add":
        df, kept = frames[0]
        df, count = position_index(df, NID, tables[blocks[0].where].file_rows, kept, run.scratch)
    else:
        # A node is placed where it first appears: positions continue from block to block.
        df, base = None, 0
        for i, ((frame, _), block) in enumerate(zip(frames, blocks)):
            frame = frame.withColumn(f"__gm_pos{i}", F.col(IN_POS) + base).drop(IN_POS)
            base += tables[block.where].file_rows
            df = frame if df is None else df.join(frame, ID, "full_outer")
        positions = [F.col(f"__gm_pos{i}") for i in range(len(frames))]
        df = df.withColumn(IN_POS, F.least(*positions) if len(positions) > 1 else positions[0]) \
            .drop(*[f"__gm_pos{i}" for i in range(len(frames))])
        if run.options.dangling == "add":
            df = _add_dangling(run, ntype, df, tables, rep)  # (no position: after the others)
        df, count = dense_index(df, [F.col(IN_POS).asc_nulls_last(), ID], NID, run.scratch)
        df = df.drop(IN_POS)
    id_map = df.select(F.col(ID).alias("orig"), F.col(NID).alias("nid"))
    out.write_table(id_map, out.id_map_path(run.root, ntype))
    run.id_maps[ntype] = run.spark.read.parquet(out.id_map_path(run.root, ntype))
    return NumberedNodes(ntype=ntype, count=count, rep=rep, df=df)


def finish_node_type(run: Run, numbered: NumberedNodes) -> out.NodeTypeInfo:
    """Fit and apply the features and labels of a numbered node type and write nodes/; return
    its manifest entry."""
    if numbered.info is not None:
        return numbered.info
    ntype, df, rep, count = numbered.ntype, numbered.df, numbered.rep, numbered.count
    blocks = run.spec.node_specs(ntype)
    specs = [f for b in blocks for f in b.features]
    fitted = features_for(run, "nodes", ntype, df, specs)
    rep.missing_values = missing_counts(fitted)
    rep.categories_capped = capped(fitted)
    df, features = apply_features(df, fitted)
    labels = [lab for b in blocks for lab in b.labels]
    df, states, label_cols = attach_labels(run, df, labels, NID, [ID], "nodes", ntype, rep)
    out.write_table(df.select(F.col(NID).alias("nid"), *features, *label_cols),
                    out.nodes_path(run.root, ntype))
    rep.rows_written = count
    label_dicts = [s.to_dict() for s in states]
    run.transforms["nodes"][ntype] = {"features": {f.spec.name: f.to_dict() for f in fitted},
                                      "labels": label_dicts}
    return out.NodeTypeInfo(count=count, id_dtype=dtype_name(run.id_types[ntype]),
                            features=feature_infos(fitted),
                            label=label_dicts[0] if label_dicts else None, labels=label_dicts)


def _block(run: Run, spec: NodeSpec, table: InputTable,
           rep: out.TypeReport) -> Tuple[DataFrame, int]:
    """One block's rows with a clean, unique id in ``ID``, their input position (``IN_POS``)
    and the columns it is read for; and how many rows that is."""
    rep.files.extend(table.files)
    rep.rows_per_file.update(table.rows_per_file)
    for column, n in table.nulls.items():
        rep.nulls[column] = rep.nulls.get(column, 0) + n
    rep.rows_read += table.rows
    used = list(dict.fromkeys([c for f in spec.features for c in f.columns]
                              + [lab.column for lab in spec.labels if lab.column]))
    df = with_positions(table.df, table.order)
    df = df.withColumn(ID, clean_ids(F.col(quote(spec.id_col)), run.id_types[spec.type]))
    keep = [ID, IN_POS, *[quote(c) for c in used]]
    groups = df.groupBy(ID).agg(F.count(F.lit(1)).alias("n"))
    stats = groups.agg(
        F.sum(F.when(F.col(ID).isNull(), F.col("n")).otherwise(0)).alias("null_rows"),
        F.sum(F.when(F.col(ID).isNotNull() & (F.col("n") > 1), F.col("n") - 1)
              .otherwise(0)).alias("extra"),
        F.sum(F.when(F.col(ID).isNotNull() & (F.col("n") > 1), 1).otherwise(0)).alias("ids"),
    ).first()
    null_rows, extra = int(stats.null_rows or 0), int(stats.extra or 0)
    rep.null_ids_dropped += null_rows
    df = df.where(F.col(ID).isNotNull())
    if stats.ids:
        examples = [(r[0], int(r.n)) for r in groups.where(F.col(ID).isNotNull() & (F.col("n") > 1))
                    .orderBy(ID).limit(5).collect()]
        shown = ", ".join(f"{v!r} ({n} rows)" for v, n in examples)
        if run.options.duplicates == "error":
            raise InputError(f"{table.describe()}: column '{spec.id_col}' has {stats.ids} "
                             f"duplicate id(s), e.g. {shown}; each node must appear once in its "
                             "node table, or pass --duplicates first to keep the first row of "
                             "each id (the others are counted in report.json)")
        rep.duplicate_ids = {"ids": int(stats.ids), "rows_dropped": extra,
                             "examples": [v for v, _ in examples]}
        log.warning("%s: %d duplicate id(s); kept the first row of each, dropped %d row(s)",
                    spec.where, stats.ids, extra)
        first = Window.partitionBy(ID).orderBy(IN_POS)
        df = df.withColumn("__gm_first", F.row_number().over(first)) \
            .where(F.col("__gm_first") == 1)
    return df.select(*keep), table.rows - null_rows - extra


def _endpoint_ids(run: Run, ntype: str, tables: Dict[str, InputTable]) -> List[DataFrame]:
    """The cleaned endpoint ids of every edge column that names ``ntype``, as ``orig``."""
    columns = []
    for e in run.spec.edges:
        for col, t in ((e.src_col, e.src_type), (e.dst_col, e.dst_type)):
            if t == ntype:
                columns.append(tables[e.where].df.select(
                    clean_ids(F.col(quote(col)), run.id_types[ntype]).alias("orig")))
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
        log.warning("nodes/%s: added %d node(s) that only appear on edges (--dangling add)",
                    ntype, rep.nodes_added)
    return df.unionByName(added, allowMissingColumns=True)


def _inferred(run: Run, ntype: str, tables: Dict[str, InputTable],
              rep: out.TypeReport) -> out.NodeTypeInfo:
    """A node type with no node table: its ids are the distinct endpoints of its edges."""
    ids, count = ids_from_endpoints(_endpoint_ids(run, ntype, tables), run.scratch)
    out.write_table(ids.select("orig", "nid"), out.id_map_path(run.root, ntype))
    run.id_maps[ntype] = run.spark.read.parquet(out.id_map_path(run.root, ntype))
    out.write_table(run.id_maps[ntype].select("nid"), out.nodes_path(run.root, ntype))
    rep.rows_written = count
    run.transforms["nodes"][ntype] = {"features": {}, "labels": []}
    log.info("nodes/%s: no node table; %d ids taken from its edges", ntype, count)
    return out.NodeTypeInfo(count=count, id_dtype=dtype_name(run.id_types[ntype]))
