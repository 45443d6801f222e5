"""One edge type: endpoints mapped through the id maps, features, edge ids, labels, reverse.

Endpoint ids that are missing are dropped and counted; ids that are not nodes follow the
dangling policy (``error`` default, ``drop`` counts and drops them, ``add`` has already made them
nodes). Edge ids are dense 0..M-1 in the order of (src, dst, a hash of the columns used), so
features, labels and masks sit on the same keyed row as the structure: nothing relies on row
order lining up between files.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Dict, List, Tuple

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from graphmill.errors import InputError
from graphmill.spark import dense_index, observe
from gsprocessing import output as out
from gsprocessing.config.schema import EdgeSpec, FeatureSpec, etype_name
from gsprocessing.features import apply_features, feature_infos, missing_counts, output_names
from gsprocessing.ids import DST, SRC, clean_ids, dangling_examples, endpoint_metrics, map_endpoint
from gsprocessing.steps import Run, attach_labels, capped, features_for
from gsprocessing.tables import InputTable
from gsprocessing.transforms import make_transform
from gsprocessing.transforms.hard_negative import MAPPED, EdgeDstHardNegative, map_hard_negatives
from gsprocessing.transforms.base import quote

log = logging.getLogger(__name__)
REVERSE_SUFFIX = "-rev"
EID = "__gm_eid"
ROW = "__gm_row"  # a row key of the edge table (hard negatives regroup by it)
HASH = "__gm_hash"  # orders edges with the same (src, dst)


def build_edge_type(run: Run, spec: EdgeSpec, table: InputTable) -> out.EdgeTypeInfo:
    """Write edges/<src>__<rel>__<dst>; return its manifest entry.

    The input is read and joined with the id maps once: the edges with both endpoints found are
    written to the scratch space with only the columns later steps read (the endpoint counts
    are taken while they are written), and fitting, numbering and labels read that copy.
    """
    rep = out.TypeReport(files=table.files, rows_per_file=dict(table.rows_per_file),
                         nulls=dict(table.nulls))
    run.report.edges[spec.name] = rep
    df = table.df
    for col, ntype in ((spec.src_col, spec.src_type), (spec.dst_col, spec.dst_type)):
        df = df.withColumn(col, clean_ids(F.col(quote(col)), run.id_types[ntype]))
    df = map_endpoint(df, spec.src_col, run.id_maps[spec.src_type], SRC)
    df = map_endpoint(df, spec.dst_col, run.id_maps[spec.dst_type], DST)
    # Ties in (src, dst) are ordered by the columns that reach the output: rows equal on those
    # are interchangeable. (Other columns may be unhashable, e.g. maps.)
    inputs = [c for f in spec.features for c in f.columns] + \
        [lab.column for lab in spec.labels if lab.column]
    used = list(dict.fromkeys([spec.src_col, spec.dst_col] + inputs))
    keep = [SRC, DST, HASH, *dict.fromkeys(inputs)]
    if any(lab.custom_split is not None for lab in spec.labels):
        keep += [c for c in (spec.src_col, spec.dst_col) if c not in keep]
    if any(f.transform == EdgeDstHardNegative.name for f in spec.features):
        keep.append(ROW)
    df = df.withColumn(HASH, F.xxhash64(*[F.col(quote(c)) for c in used])) \
        .withColumn(ROW, F.monotonically_increasing_id())
    observed, metrics = observe(df, endpoint_metrics(spec.src_col, spec.dst_col))
    found = observed.where(F.col(SRC).isNotNull() & F.col(DST).isNotNull())
    edges = run.scratch.table(found.select(*[F.col(quote(c)) for c in keep]),
                              f"edges-{spec.name}")
    counts = {k: int(v or 0) for k, v in metrics().items()}
    rep.rows_read, rep.null_ids_dropped = counts["rows"], counts["null_ids"]
    _dangling(run, spec, table, df, counts, rep)
    edges, feature_specs = _hard_negatives(run, spec, edges, rep)
    fitted = features_for(run, "edges", spec.name, edges, feature_specs)
    rep.missing_values = missing_counts(fitted)
    rep.categories_capped = capped(fitted)
    keyed, count = dense_index(edges, [SRC, DST, HASH], EID, run.scratch)
    keyed, features = apply_features(keyed, fitted)
    # Outputs under temporary names while the input columns that labels need are kept (users'
    # columns may be called src, dst or eid: the keys stay internal until written).
    tmp = [f"__gm_out{i}" for i in range(len(features))]
    keyed = keyed.select(SRC, DST, EID, *[c.alias(t) for c, t in zip(features, tmp)],
                         *[F.col(quote(c)) for c in keep if c not in (SRC, DST, HASH, ROW)])
    keyed, states, label_cols = attach_labels(
        run, keyed, spec.labels, EID, [spec.src_col, spec.dst_col], "edges", spec.name, rep)
    outputs = [F.col(t).alias(n) for t, n in zip(tmp, output_names(fitted))]
    out.write_table(keyed.select(F.col(SRC).alias("src"), F.col(DST).alias("dst"),
                                 F.col(EID).alias("eid"), *outputs, *label_cols),
                    out.edges_path(run.root, spec.name))
    rep.rows_written = count
    label_dicts = [s.to_dict() for s in states]
    run.transforms["edges"][spec.name] = {"features": {f.spec.name: f.to_dict() for f in fitted},
                                          "labels": label_dicts}
    return out.EdgeTypeInfo(src_type=spec.src_type, relation=spec.relation,
                            dst_type=spec.dst_type, count=count,
                            features=feature_infos(fitted), labels=label_dicts)


def _hard_negatives(run: Run, spec: EdgeSpec, df: DataFrame,
                    rep: out.TypeReport) -> Tuple[DataFrame, List[FeatureSpec]]:
    """Map the ids of ``edge_dst_hard_negative`` features through the destination id map; the
    feature then reads the mapped column (an array of nids)."""
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
                                run.id_maps[spec.dst_type], run.id_types[spec.dst_type], ROW,
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


def build_reverse(run: Run, spec: EdgeSpec, count: int) -> out.EdgeTypeInfo:
    """Write (dst, rel-rev, src) with src/dst swapped and the same eids; no features."""
    forward = run.spark.read.parquet(out.edges_path(run.root, spec.name))
    relation = spec.relation + REVERSE_SUFFIX
    name = etype_name((spec.dst_type, relation, spec.src_type))
    out.write_table(forward.select(F.col("dst").alias("src"), F.col("src").alias("dst"), "eid"),
                    out.edges_path(run.root, name))
    return out.EdgeTypeInfo(src_type=spec.dst_type, relation=relation, dst_type=spec.src_type,
                            count=count, reverse_of=spec.name)
