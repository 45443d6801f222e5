"""The gsprocessing job: composes readers, id mapping, transforms and labels; holds no rules.

Order of work: read and check every input table (all problems reported before any real job) →
per node type: ids, features, labels → per edge type: endpoints mapped through the id maps
(dangling-endpoint policy), features, edge ids → reverse edges → manifest, transforms, report.
Everything is written under a temporary directory that is renamed to the output at the end.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

import graphmill
from graphmill.errors import InputError, Problems
from graphmill.hadoopfs import HadoopFS, StagedOutput
from gsprocessing import output as out
from gsprocessing.config.schema import EdgeSpec, GraphSpec, NodeSpec, etype_name
from gsprocessing.features import FittedFeature, apply_features, fit_features, missing_counts
from gsprocessing.ids import (
    DST, NID, SRC, check_unique_ids, clean_ids, dangling_examples, dense_index, endpoint_counts,
    id_type, ids_from_endpoints, map_endpoint, number_nodes,
)
from gsprocessing.labels import apply_label, fit_label
from gsprocessing.tables import InputTable, check_columns, columns_of, find_files, read_table
from gsprocessing.transforms.base import quote

log = logging.getLogger(__name__)
DANGLING_POLICIES = ("error", "drop")
REVERSE_SUFFIX = "-rev"


@dataclass
class ProcessOptions:
    """Command-line options of the job (everything that is not the graph config)."""

    input_prefix: str
    output: str
    seed: int = 42
    dangling: str = "error"
    add_reverse_edges: bool = False
    overwrite: bool = False


@dataclass
class _Run:
    """State shared by the steps of one run."""

    spark: SparkSession
    spec: GraphSpec
    options: ProcessOptions
    root: str
    id_types: Dict[str, T.DataType]
    id_maps: Dict[str, DataFrame] = field(default_factory=dict)
    report: out.Report = field(default_factory=out.Report)
    transforms: Dict[str, Dict] = field(default_factory=lambda: {"nodes": {}, "edges": {}})
    timings: Dict[str, float] = field(default_factory=dict)


def process(spark: SparkSession, spec: GraphSpec, options: ProcessOptions) -> out.Manifest:
    """Run the whole job and commit ``options.output``; returns the manifest written."""
    if options.dangling not in DANGLING_POLICIES:
        raise InputError(f"dangling-endpoint policy must be one of {DANGLING_POLICIES}, "
                         f"got {options.dangling!r}")
    if options.add_reverse_edges:
        taken = {e.name for e in spec.edges}
        for e in spec.edges:
            rev = etype_name((e.dst_type, e.relation + REVERSE_SUFFIX, e.src_type))
            if rev in taken:
                raise InputError(f"{e.where}: --add-reverse-edges would add {rev}, which the "
                                 "config already defines; rename that relation")
    fs = HadoopFS(spark)
    staged = StagedOutput(fs, options.output, options.overwrite)
    staged.check()
    started = time.time()
    tables = load_tables(spark, fs, spec, options.input_prefix)
    run = _Run(spark=spark, spec=spec, options=options, root=staged.tmp,
               id_types=_id_types(spec, tables))
    run.report.policies = {"dangling": options.dangling, "duplicate_ids": "error"}
    try:
        manifest = _build(run, tables)
        manifest.timings["total_s"] = round(time.time() - started, 2)
        _write_json(fs, run, manifest)
        staged.commit()
    except BaseException:
        staged.abort()
        raise
    log.info("processed graph written to %s in %.1f s", options.output, time.time() - started)
    return manifest


def load_tables(spark: SparkSession, fs: HadoopFS, spec: GraphSpec,
                prefix: str) -> Dict[str, InputTable]:
    """Find and open every input table; report every missing file or column at once."""
    problems = Problems(f"input under {prefix}")
    tables: Dict[str, InputTable] = {}
    blocks: List[Tuple[object, Dict[str, str]]] = []
    for n in spec.nodes:
        extra = {n.id_col: "node id"}
        extra.update({lab.column: "label" for lab in n.labels})
        blocks.append((n, columns_of(n.features, extra)))
    for e in spec.edges:
        blocks.append((e, columns_of(e.features, {e.src_col: "source id",
                                                  e.dst_col: "destination id"})))
    for block, needed in blocks:
        files = find_files(fs, prefix, block.source, block.where, problems)
        if files:
            table = read_table(spark, block.source, files, block.where)
            check_columns(table, needed, problems)
            tables[block.where] = table
    problems.raise_if_any()
    return tables


def _id_types(spec: GraphSpec, tables: Dict[str, InputTable]) -> Dict[str, T.DataType]:
    """Per node type, one id type that every table naming it agrees on (long or string)."""
    seen: Dict[str, List[T.DataType]] = {t: [] for t in spec.node_types}
    for n in spec.nodes:
        seen[n.type].append(tables[n.where].df.schema[n.id_col].dataType)
    for e in spec.edges:
        schema = tables[e.where].df.schema
        seen[e.src_type].append(schema[e.src_col].dataType)
        seen[e.dst_type].append(schema[e.dst_col].dataType)
    return {t: id_type(types) for t, types in seen.items()}


def _build(run: _Run, tables: Dict[str, InputTable]) -> out.Manifest:
    nodes: Dict[str, out.NodeTypeInfo] = {}
    for ntype in run.spec.node_types:
        t0 = time.time()
        node_spec = run.spec.node_spec(ntype)
        if node_spec is not None:
            nodes[ntype] = _node_type(run, node_spec, tables[node_spec.where])
        else:
            nodes[ntype] = _inferred_node_type(run, ntype, tables)
        run.timings[f"nodes/{ntype}_s"] = round(time.time() - t0, 2)
        log.info("nodes/%s: %d nodes, features %s (%.1f s)", ntype, nodes[ntype].count,
                 {k: v.dim for k, v in nodes[ntype].features.items()} or "none",
                 time.time() - t0)
    edges: Dict[str, out.EdgeTypeInfo] = {}
    for edge_spec in run.spec.edges:
        t0 = time.time()
        edges[edge_spec.name] = _edge_type(run, edge_spec, tables[edge_spec.where])
        if run.options.add_reverse_edges:
            rev = _reverse(run, edge_spec, edges[edge_spec.name].count)
            edges[etype_name((edge_spec.dst_type, rev.relation, edge_spec.src_type))] = rev
        run.timings[f"edges/{edge_spec.name}_s"] = round(time.time() - t0, 2)
        log.info("edges/%s: %d edges (%.1f s)", edge_spec.name, edges[edge_spec.name].count,
                 time.time() - t0)
    versions = {"graphmill": graphmill.__version__, "pyspark": run.spark.version,
                "python": platform.python_version()}
    return out.Manifest(node_types=nodes, edge_types=edges, seed=run.options.seed,
                        config=run.spec.to_dict(), versions=versions, timings=run.timings)


def _node_type(run: _Run, spec: NodeSpec, table: InputTable) -> out.NodeTypeInfo:
    rep = out.TypeReport(files=table.files)
    run.report.nodes[spec.type] = rep
    id_col = quote(spec.id_col)
    df = table.df.withColumn(spec.id_col, clean_ids(F.col(id_col), run.id_types[spec.type]))
    counts = df.agg(F.count(F.lit(1)).alias("rows"), F.count(id_col).alias("ids")).first()
    rep.rows_read, rep.null_ids_dropped = int(counts.rows), int(counts.rows - counts.ids)
    df = df.where(F.col(id_col).isNotNull())
    check_unique_ids(df, spec.id_col, table.describe())
    df, count = number_nodes(df, spec.id_col)
    id_map = df.select(F.col(id_col).alias("orig"), F.col(NID).alias("nid"))
    out.write_table(id_map, out.id_map_path(run.root, spec.type))
    run.id_maps[spec.type] = run.spark.read.parquet(out.id_map_path(run.root, spec.type))

    fitted = fit_features(df, spec.features)
    rep.missing_values = missing_counts(fitted)
    df, features = apply_features(df, fitted)
    columns = [F.col(NID), *features]
    label_info = None
    if spec.labels:
        label = spec.labels[0]
        df = df.select(*columns, F.col(quote(label.column)))
        state = fit_label(df, label)
        df = apply_label(df, state, run.options.seed, NID)
        label_info = state.to_dict()
        rep.missing_values[label.column] = state.split["unlabeled"]
    else:
        df = df.select(*columns)
    out.write_table(df.withColumnRenamed(NID, "nid"), out.nodes_path(run.root, spec.type))
    rep.rows_written = count
    run.transforms["nodes"][spec.type] = _states(fitted, label_info)
    return out.NodeTypeInfo(count=count, id_dtype=_dtype_name(run.id_types[spec.type]),
                            features={f.spec.name: f.info() for f in fitted}, label=label_info)


def _inferred_node_type(run: _Run, ntype: str,
                        tables: Dict[str, InputTable]) -> out.NodeTypeInfo:
    """A node type with no node table: its ids are the distinct endpoints of its edges."""
    dtype = run.id_types[ntype]
    columns = []
    for e in run.spec.edges:
        for col, t in ((e.src_col, e.src_type), (e.dst_col, e.dst_type)):
            if t == ntype:
                columns.append(tables[e.where].df.select(
                    clean_ids(F.col(quote(col)), dtype).alias("orig")))
    ids, count = ids_from_endpoints(columns)
    out.write_table(ids.select("orig", "nid"), out.id_map_path(run.root, ntype))
    run.id_maps[ntype] = run.spark.read.parquet(out.id_map_path(run.root, ntype))
    out.write_table(run.id_maps[ntype].select("nid"), out.nodes_path(run.root, ntype))
    run.report.nodes[ntype] = out.TypeReport(rows_written=count)
    log.info("nodes/%s: no node table; %d ids taken from its edges", ntype, count)
    return out.NodeTypeInfo(count=count, id_dtype=_dtype_name(dtype))


def _edge_type(run: _Run, spec: EdgeSpec, table: InputTable) -> out.EdgeTypeInfo:
    rep = out.TypeReport(files=table.files)
    run.report.edges[spec.name] = rep
    df = table.df
    for col, ntype in ((spec.src_col, spec.src_type), (spec.dst_col, spec.dst_type)):
        df = df.withColumn(col, clean_ids(F.col(quote(col)), run.id_types[ntype]))
    df = map_endpoint(df, spec.src_col, run.id_maps[spec.src_type], SRC)
    df = map_endpoint(df, spec.dst_col, run.id_maps[spec.dst_type], DST).persist()
    try:
        counts = endpoint_counts(df, spec.src_col, spec.dst_col)
        rep.rows_read, rep.null_ids_dropped = counts["rows"], counts["null_ids"]
        _dangling(run, spec, table, df, counts, rep)
        df = df.where(F.col(SRC).isNotNull() & F.col(DST).isNotNull())
        fitted = fit_features(df, spec.features)
        rep.missing_values = missing_counts(fitted)
        # Ties in (src, dst) are ordered by the columns that reach the output: rows equal on
        # those are interchangeable. (Other columns may be unhashable, e.g. maps.)
        used = dict.fromkeys([spec.src_col, spec.dst_col] +
                             [c for f in spec.features for c in f.columns])
        row_hash = F.xxhash64(*[F.col(quote(c)) for c in used])
        keyed, features = apply_features(df.withColumn("__gm_hash", row_hash), fitted)
        keyed = keyed.select(F.col(SRC).alias("src"), F.col(DST).alias("dst"), "__gm_hash",
                             *features)
        keyed, count = dense_index(keyed, ["src", "dst", "__gm_hash"], "eid")
        names = [f.spec.name for f in fitted]
        out.write_table(keyed.select("src", "dst", "eid", *[F.col(quote(n)) for n in names]),
                        out.edges_path(run.root, spec.name))
    finally:
        df.unpersist()
    rep.rows_written = count
    run.transforms["edges"][spec.name] = _states(fitted, None)
    return out.EdgeTypeInfo(src_type=spec.src_type, relation=spec.relation,
                            dst_type=spec.dst_type, count=count,
                            features={f.spec.name: f.info() for f in fitted})


def _dangling(run: _Run, spec: EdgeSpec, table: InputTable, df: DataFrame,
              counts: Dict[str, int], rep: out.TypeReport) -> None:
    """Apply the dangling-endpoint policy: raise (``error``) or count and drop (``drop``)."""
    for end, col, ntype in (("src", spec.src_col, spec.src_type),
                            ("dst", spec.dst_col, spec.dst_type)):
        if not counts[end]:
            continue
        examples = dangling_examples(df, col, SRC if end == "src" else DST)
        if run.options.dangling == "error":
            raise InputError(
                f"{table.describe()}: {counts[end]} edge(s) have a {end} id in "
                f"column '{col}' that is not a '{ntype}' node, e.g. {examples}; fix the data, or "
                "pass --dangling drop to drop such edges (they are counted in report.json)")
        rep.dangling[end] = {"count": counts[end], "examples": examples}
        log.warning("%s: dropped %d edge(s) whose %s is not a '%s' node, e.g. %s",
                    spec.name, counts[end], end, ntype, examples)


def _reverse(run: _Run, spec: EdgeSpec, count: int) -> out.EdgeTypeInfo:
    """Write (dst, rel-rev, src) with src/dst swapped and the same eids; no features."""
    forward = run.spark.read.parquet(out.edges_path(run.root, spec.name))
    relation = spec.relation + REVERSE_SUFFIX
    name = etype_name((spec.dst_type, relation, spec.src_type))
    out.write_table(forward.select(F.col("dst").alias("src"), F.col("src").alias("dst"), "eid"),
                    out.edges_path(run.root, name))
    return out.EdgeTypeInfo(src_type=spec.dst_type, relation=relation, dst_type=spec.src_type,
                            count=count, reverse_of=spec.name)


def _states(fitted: List[FittedFeature], label: Optional[Dict]) -> Dict:
    return {"features": {f.spec.name: f.to_dict() for f in fitted}, "label": label}


def _dtype_name(dtype: T.DataType) -> str:
    return "long" if isinstance(dtype, T.LongType) else "string"


def _write_json(fs: HadoopFS, run: _Run, manifest: out.Manifest) -> None:
    fs.write_text(f"{run.root}/{out.TRANSFORMS}", json.dumps(run.transforms, indent=2,
                                                            sort_keys=True))
    fs.write_text(f"{run.root}/{out.REPORT}", run.report.to_json())
    fs.write_text(f"{run.root}/{out.MANIFEST}", manifest.to_json())
