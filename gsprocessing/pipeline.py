"""The gsprocessing job: composes readers, id mapping, transforms and labels; holds no rules.

Order of work: read and check every input table (missing files and columns reported together,
then one scan per table: rows per file, missing values, ragged CSV rows) → edge blocks whose
relation comes from a column are split into one edge type per value → per node type: ids,
features, labels (node_types.py) → per edge type: endpoints, features, edge ids, labels, reverse
edges (edge_types.py) → manifest, transforms, report. Everything is written under a temporary
directory that is renamed to the output at the end.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import platform
import time
from typing import Dict, List, Tuple

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

import graphmill
from graphmill.errors import InputError, Problems
from graphmill.hadoopfs import HadoopFS, StagedOutput
from gsprocessing import output as out
from gsprocessing.config.build import bad_name
from gsprocessing.config.schema import EdgeSpec, GraphSpec, etype_name
from gsprocessing.edge_types import REVERSE_SUFFIX, build_edge_type, build_reverse
from gsprocessing.ids import id_type
from gsprocessing.node_types import build_node_type
from gsprocessing.steps import DANGLING_POLICIES, DUPLICATE_POLICIES, ProcessOptions, Run
from gsprocessing.tables import InputTable, check_columns, columns_of, find_files, read_table, scan
from gsprocessing.transforms.base import quote

log = logging.getLogger(__name__)
__all__ = ["process", "ProcessOptions", "DANGLING_POLICIES", "DUPLICATE_POLICIES",
           "REVERSE_SUFFIX"]


def process(spark: SparkSession, spec: GraphSpec, options: ProcessOptions) -> out.Manifest:
    """Run the whole job and commit ``options.output``; returns the manifest written."""
    for name, value, allowed in (("dangling", options.dangling, DANGLING_POLICIES),
                                 ("duplicates", options.duplicates, DUPLICATE_POLICIES)):
        if value not in allowed:
            raise InputError(f"--{name} policy must be one of {allowed}, got {value!r}")
    for warning in spec.warnings:
        log.warning("%s", warning)
    fs = HadoopFS(spark)
    previous = _previous_transforms(fs, options.transforms_from)
    staged = StagedOutput(fs, options.output, options.overwrite)
    staged.check()
    started = time.time()
    tables = load_tables(spark, fs, spec, options.input_prefix)
    spec = expand_relations(spec, tables)
    _check_reverse_names(spec, options)
    run = Run(spark=spark, fs=fs, spec=spec, options=options, root=staged.tmp,
              id_types=_id_types(spec, tables), previous=previous)
    run.report.policies = {"dangling": options.dangling, "duplicates": options.duplicates}
    run.report.warnings = list(spec.warnings)
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


def _previous_transforms(fs: HadoopFS, path):
    if path is None:
        return None
    if not fs.exists(path):
        raise InputError(f"--transforms-from {path}: not found; give the transforms.json of an "
                         "earlier gsprocessing output")
    try:
        return json.loads(fs.read_text(path))
    except json.JSONDecodeError as err:
        raise InputError(f"--transforms-from {path}: not valid JSON: {err}") from None


def load_tables(spark: SparkSession, fs: HadoopFS, spec: GraphSpec,
                prefix: str) -> Dict[str, InputTable]:
    """Find, open and scan every input table; report every missing file or column at once."""
    problems = Problems(f"input under {prefix}")
    tables: Dict[str, InputTable] = {}
    blocks: List[Tuple[object, Dict[str, str]]] = []
    for n in spec.nodes:
        extra = {n.id_col: "node id"}
        extra.update({lab.column: "label" for lab in n.labels if lab.column})
        blocks.append((n, columns_of(n.features, extra)))
    for e in spec.edges:
        extra = {e.src_col: "source id", e.dst_col: "destination id"}
        extra.update({lab.column: "label" for lab in e.labels if lab.column})
        if e.relation_col:
            extra[e.relation_col] = "relation"
        blocks.append((e, columns_of(e.features, extra)))
    for block, needed in blocks:
        files = find_files(fs, prefix, block.source, block.where, problems)
        if files:
            table = read_table(spark, block.source, files, block.where)
            check_columns(table, needed, problems)
            tables[block.where] = table
    problems.raise_if_any()
    for block, needed in blocks:
        scan(tables[block.where], list(needed))
    return tables


def expand_relations(spec: GraphSpec, tables: Dict[str, InputTable]) -> GraphSpec:
    """Split each edge block whose relation is a column into one edge type per value."""
    if not any(e.relation_col for e in spec.edges):
        return spec
    edges: List[EdgeSpec] = []
    for e in spec.edges:
        if not e.relation_col:
            edges.append(e)
            continue
        table = tables[e.where]
        rel = F.trim(F.col(quote(e.relation_col)).cast("string"))
        rows = table.df.groupBy(rel.alias("r")).count().collect()
        values = sorted(r.r for r in rows if r.r)
        missing = sum(int(r["count"]) for r in rows if not r.r)
        if missing:
            raise InputError(f"{table.describe()}: {missing} row(s) have no relation in column "
                             f"'{e.relation_col}'; fill them or drop those rows")
        bad = [v for v in values if bad_name(v)]
        if bad:
            raise InputError(f"{table.describe()}: relation names may not contain '__': {bad[:5]}")
        for value in values:
            where = f"{e.where}[{e.relation_col}={value}]"
            edges.append(dataclasses.replace(e, relation=value, relation_col=None, where=where))
            tables[where] = dataclasses.replace(table, df=table.df.where(rel == value),
                                                where=where)
        log.info("%s: relations from column '%s': %s", e.where, e.relation_col, values)
    taken: Dict[str, str] = {}
    for e in edges:
        if e.name in taken:
            raise InputError(f"{e.where}: edge type {list(e.etype)} is also defined by "
                             f"{taken[e.name]}")
        taken[e.name] = e.where
    return dataclasses.replace(spec, edges=tuple(edges))


def _check_reverse_names(spec: GraphSpec, options: ProcessOptions) -> None:
    if not options.add_reverse_edges:
        return
    taken = {e.name for e in spec.edges}
    for e in spec.edges:
        rev = etype_name((e.dst_type, e.relation + REVERSE_SUFFIX, e.src_type))
        if rev in taken:
            raise InputError(f"{e.where}: --add-reverse-edges would add {rev}, which the "
                             "config already defines; rename that relation")


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


def _build(run: Run, tables: Dict[str, InputTable]) -> out.Manifest:
    nodes: Dict[str, out.NodeTypeInfo] = {}
    for ntype in run.spec.node_types:
        t0 = time.time()
        nodes[ntype] = build_node_type(run, ntype, tables)
        run.timings[f"nodes/{ntype}_s"] = round(time.time() - t0, 2)
        log.info("nodes/%s: %d nodes, features %s (%.1f s)", ntype, nodes[ntype].count,
                 {k: v.dim for k, v in nodes[ntype].features.items()} or "none",
                 time.time() - t0)
    edges: Dict[str, out.EdgeTypeInfo] = {}
    for edge_spec in run.spec.edges:
        t0 = time.time()
        edges[edge_spec.name] = build_edge_type(run, edge_spec, tables[edge_spec.where])
        if run.options.add_reverse_edges:
            rev = build_reverse(run, edge_spec, edges[edge_spec.name].count)
            edges[etype_name((edge_spec.dst_type, rev.relation, edge_spec.src_type))] = rev
        run.timings[f"edges/{edge_spec.name}_s"] = round(time.time() - t0, 2)
        log.info("edges/%s: %d edges (%.1f s)", edge_spec.name, edges[edge_spec.name].count,
                 time.time() - t0)
    versions = {"graphmill": graphmill.__version__, "pyspark": run.spark.version,
                "python": platform.python_version()}
    return out.Manifest(node_types=nodes, edge_types=edges, seed=run.options.seed,
                        config=run.spec.to_dict(), versions=versions, timings=run.timings)


def _write_json(fs: HadoopFS, run: Run, manifest: out.Manifest) -> None:
    fs.write_text(f"{run.root}/{out.TRANSFORMS}", json.dumps(run.transforms, indent=2,
                                                            sort_keys=True))
    fs.write_text(f"{run.root}/{out.REPORT}", run.report.to_json())
    fs.write_text(f"{run.root}/{out.MANIFEST}", manifest.to_json())
