"""One edge type: endpoints mapped through the id maps, features, edge ids, labels.

Endpoint ids that are missing are dropped and counted; ids that are not nodes follow the
dangling policy (``error`` default, ``drop`` counts and drops them, ``add`` has already made them
nodes). Edge ids are dense 0..M-1 in input order (files by path, then rows as they are in the
file; :class:`graphmill.spark.FileOrder`), whatever Spark's partitioning; features,
labels and masks sit on the same keyed row as the structure: nothing relies on row order lining
up between files.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Dict, List, Sequence, Tuple

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from graphmill.errors import GraphMillError, InputError
from graphmill.parquet_footers import written_rows
from graphmill.spark import IN_POS, position_index, with_positions
from gsprocessing import output as out
from gsprocessing.config.schema import EdgeSpec, FeatureSpec, read_columns
from gsprocessing.features import apply_features, feature_infos, missing_counts, output_names
from gsprocessing.ids import DST, SRC, clean_ids, dangling_examples, endpoint_metrics, map_endpoint
from gsprocessing.steps import Run, add_label_stats, attach_labels, capped, fit_table
from gsprocessing.tables import InputTable, check_aligned_rows
from gsprocessing.transforms import make_transform
from gsprocessing.transforms.hard_negative import MAPPED, EdgeDstHardNegative, map_hard_negatives
from gsprocessing.transforms.base import quote

log = logging.getLogger(__name__)
REVERSE_SUFFIX = "-rev"
EID = "__gm_eid"


def build_edge_type(run: Run, spec: EdgeSpec, table: InputTable,
                    aligned: Sequence[Tuple[EdgeSpec, InputTable]] = ()) -> out.EdgeTypeInfo:
    """Write edges/<src>__<rel>__<dst>; return its manifest entry.

    ``aligned``: the type's blocks without ids (GConstruct), whose rows are more columns of
    ``table``'s rows in the same input position; their features and labels are the type's too.

    Edges whose ids are missing are dropped first; the others keep their input position (see
    :func:`graphmill.spark.position_index`). Unless ``--dangling drop``, the join with the
    id maps can drop nothing (an unknown endpoint is an error), so it is left to the pass that
    writes the table: fitting, numbering and labels read only the input columns they need.
    That join is an inner join; the written table's footers say whether it dropped an edge, and
    only then does one job count the unknown endpoints (and raise). With
    ``--dangling drop``, the edges are joined first and the found ones written to the scratch
    space with only the columns later steps read; the steps read that copy, and when it has
    fewer rows than the input, one job counts the dangling ids.
    """
    rep = out.TypeReport()
    rep.add_input(table.files, table.rows_per_file, table.nulls)
    run.report.edges[spec.name] = rep
    src, dst = (F.col(quote(c)) for c in (spec.src_col, spec.dst_col))
    # Input positions are taken on the table as read: before the joins, which may shuffle.
    df = with_positions(table.df, table.order)
    for block, block_table in aligned:
        check_aligned_rows(block_table, table, f"columns '{spec.src_col}' and '{spec.dst_col}'",
                           "source_id_col and dest_id_col")
        rep.add_input(block_table.files, block_table.rows_per_file, block_table.nulls)
        used = read_columns(block)
        columns = with_positions(block_table.df, block_table.order) \
            .select(IN_POS, *[quote(c) for c in used])
        df = df.drop(*used).join(columns, IN_POS)
        spec = dataclasses.replace(spec, features=spec.features + block.features,
                                   labels=spec.labels + block.labels)
    # (When the scan found no missing id there is nothing to clean or drop, and steps that do
    # not read the ids, such as fitting the features, do not read them either.)
    complete = table.complete_ids
    df = df.withColumn(spec.src_col, clean_ids(src, run.id_types[spec.src_type], complete)) \
        .withColumn(spec.dst_col, clean_ids(dst, run.id_types[spec.dst_type], complete))
    if not complete:
        df = df.where(src.isNotNull() & dst.isNotNull())
    ids = [spec.src_col, spec.dst_col]
    carried = list(dict.fromkeys(read_columns(spec) + ids))  # the input columns later steps read
    join_first = run.options.dangling == "drop"
    if join_first:
        joined = _join_ids(run, spec, df)
        df = run.scratch.table(joined.where(F.col(SRC).isNotNull() & F.col(DST).isNotNull())
                               .select(SRC, DST, IN_POS, *[F.col(quote(c)) for c in carried]),
                               f"edges-{spec.name}")
    else:
        df = df.select(IN_POS, *[F.col(quote(c)) for c in carried])
    if table.complete_ids and not join_first:
        found = table.rows  # the scan found no missing id: every row is kept
    else:
        found = df.count()  # (of the scratch copy with --dangling drop: Parquet footers)
    rep.rows_read = table.rows
    rep.null_ids_dropped = table.rows - found  # (before the joins only missing ids are dropped)
    if join_first and found < table.rows:  # missing or dangling ids: count which (one job)
        counts = joined.agg(*[e.alias(k) for k, e in endpoint_metrics().items()]).first()
        rep.null_ids_dropped = table.rows - counts["rows"]
        _dangling(run, spec, table, joined, counts.asDict(), rep)
    df, feature_specs = _hard_negatives(run, spec, df, rep)
    keyed, count = position_index(df, EID, table.file_rows, found, run.scratch)
    fit = fit_table(run, "edges", spec.name, keyed, feature_specs, spec.labels, EID, count)
    fitted = fit.features
    rep.missing_values = missing_counts(fitted)
    rep.categories_capped = capped(fitted)
    keyed, features = apply_features(keyed, fitted)
    # Outputs under temporary names while the input columns that labels need are kept (users'
    # columns may be called src, dst or eid: the keys stay internal until written).
    tmp = [f"__gm_out{i}" for i in range(len(features))]
    keyed = keyed.select(*([SRC, DST] if join_first else []), EID,
                         *[c.alias(t) for c, t in zip(features, tmp)],
                         *[F.col(quote(c)) for c in carried])
    keyed, label_cols = attach_labels(run, keyed, fit, spec.labels, EID, ids, rep)
    if not join_first:
        keyed = _join_ids(run, spec, keyed, "inner")
    outputs = [F.col(t).alias(n) for t, n in zip(tmp, output_names(fitted))]
    path = out.edges_path(run.root, spec.name)
    out.write_table(keyed.select(F.col(SRC).alias("src"), F.col(DST).alias("dst"),
                                 F.col(EID).alias("eid"), *outputs, *label_cols), path)
    written = count if join_first else written_rows(run.spark, run.fs, path)
    if written != count:
        # An endpoint's id may be on two nodes (ids not yet checked, see node_types), which
        # multiplies its edges: that is the error to report, whatever else is wrong.
        for ntype in dict.fromkeys((spec.src_type, spec.dst_type)):
            if ntype in run.id_checks:
                run.id_checks[ntype]()
        # An endpoint is not a node (the inner join dropped its edges): count which (one job)
        # and raise. (The table is under the staged output, which is then not committed.)
        joined = _join_ids(run, spec, df)
        counts = joined.agg(*[e.alias(k) for k, e in endpoint_metrics().items()]).first()
        _dangling(run, spec, table, joined, counts.asDict(), rep)
        raise GraphMillError(f"internal: {path} has {written} rows, not the {count} edges, "
                             "though every endpoint is a node")
    rep.rows_written = count
    add_label_stats(run, path, fit.labels, spec.labels)
    label_dicts = [s.to_dict() for s in fit.labels]
    run.transforms["edges"][spec.name] = {"features": {f.spec.name: f.to_dict() for f in fitted},
                                          "labels": label_dicts}
    return out.EdgeTypeInfo(src_type=spec.src_type, relation=spec.relation,
                            dst_type=spec.dst_type, count=count,
                            features=feature_infos(fitted), labels=label_dicts)


def _join_ids(run: Run, spec: EdgeSpec, df: DataFrame, how: str = "left") -> DataFrame:
    """``df`` with the endpoints' nids in ``SRC`` and ``DST`` (``how="left"``: null for an id
    that is not a node; ``"inner"``: such edges dropped)."""
    df = map_endpoint(df, spec.src_col, run.id_maps[spec.src_type], SRC, how)
    return map_endpoint(df, spec.dst_col, run.id_maps[spec.dst_type], DST, how)


def _hard_negatives(run: Run, spec: EdgeSpec, df: DataFrame,
                    rep: out.TypeReport) -> Tuple[DataFrame, List[FeatureSpec]]:
    """Map the ids of ``edge_dst_hard_negative`` features through the destination id map; the
    feature then reads the mapped column (an array of nids). ``IN_POS`` keys the rows."""
    specs = []
    for i, f in enumerate(spec.features):
        if f.transform != EdgeDstHardNegative.name:
            specs.append(f)
            continue
        if len(f.columns) != 1:
            raise InputError(f"{f.where}: edge_dst_hard_negative reads one column, got "
                             f"{list(f.columns)}")
        mapped = f"{MAPPED}{i}"
        df = map_hard_negatives(df, make_transform(f.transform, f.params), f.columns[0],
                                run.id_maps[spec.dst_type], run.id_types[spec.dst_type], IN_POS,
                                mapped)
        unknown = df.agg(F.sum(F.size(F.filter(mapped, lambda x: x < 0)))).first()[0] or 0
        if unknown:
            rep.hard_negatives_unknown[f.name] = int(unknown)
            log.warning("%s: %d hard-negative id(s) are not '%s' nodes; written as -1",
                        f.where, unknown, spec.dst_type)
        specs.append(dataclasses.replace(f, columns=(mapped,)))
    return df, specs


def _dangling(run: Run, spec: EdgeSpec, table: InputTable, df: DataFrame,
              counts: Dict[str, int], rep: out.TypeReport) -> None:
    """Apply the dangling-endpoint policy: raise (``error``) or count and drop (``drop``)."""
    for end, col, ntype in (("src", spec.src_col, spec.src_type),
                            ("dst", spec.dst_col, spec.dst_type)):
        if not counts[end]:
            continue
        examples = dangling_examples(df, col, SRC if end == "src" else DST)
        if run.options.dangling != "drop":
            # ("add" has made every endpoint of a type with a node table a node already.)
            raise InputError(
                f"{table.describe()}: {counts[end]} edge(s) have a {end} id in "
                f"column '{col}' that is not a '{ntype}' node, e.g. {examples}; fix the data, or "
                "pass --dangling drop to drop such edges, or --dangling add to add such ids as "
                "nodes (either is counted in report.json)")
        rep.dangling[end] = {"count": counts[end], "examples": examples}
        log.warning("%s: dropped %d edge(s) whose %s is not a '%s' node, e.g. %s",
                    spec.name, counts[end], end, ntype, examples)


def reverse_info(spec: EdgeSpec, count: int) -> out.EdgeTypeInfo:
    """The manifest entry of (dst, rel-rev, src): no table is written, the partition stage reads
    the forward edges with src and dst swapped (:func:`gsprocessing.output.read_edges`)."""
    return out.EdgeTypeInfo(src_type=spec.dst_type, relation=spec.relation + REVERSE_SUFFIX,
                            dst_type=spec.src_type, count=count, reverse_of=spec.name)
