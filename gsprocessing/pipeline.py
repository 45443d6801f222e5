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
import functools
import itertools
import json
import logging
import platform
import re
import time
from typing import Dict, List, Optional, Tuple

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

import graphmill
from graphmill.errors import InputError, Problems
from graphmill.hadoopfs import HadoopFS, StagedOutput
from graphmill.spark import STRING, Scratch
from gsprocessing import output as out
from gsprocessing.config.build import bad_name
from gsprocessing.config.schema import EdgeSpec, GraphSpec, etype_name
from gsprocessing.edge_types import REVERSE_SUFFIX, build_edge_type, reverse_info
from gsprocessing.ids import id_type
from gsprocessing.labels import open_split_file, split_paths
from gsprocessing.node_types import finish_node_type, number_node_type
from gsprocessing.scheduler import TaskGroup, after, run_all
from gsprocessing.steps import DANGLING_POLICIES, DUPLICATE_POLICIES, ProcessOptions, Run
from gsprocessing.tables import (
    InputTable, check_columns, columns_of, find_files, number_columns, read_table, scan,
)
from gsprocessing.transforms.base import quote

log = logging.getLogger(__name__)
SCRATCH = "_scratch"  # intermediate tables, under the staged output until the commit
# Session settings the job sets unless the user has: a categorical feature looks its values up
# in a literal map (categorical.literal_map), which Spark scans key by key below 1,000 entries
# (SPARK-55959); hashed from 32 up, 1M titles against 390 words take 2.6 s instead of 8 s.
# (Spark versions without the setting ignore it.)
SESSION_DEFAULTS = {"spark.sql.optimizer.mapLookupHashThreshold": "32"}
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
    if options.parallel is None:
        # On 2 cores, 2 types at once beat 4 (10M-edge demo: 76 s against 82 s): more only
        # adds contention for the CPU. Many types are short and latency-bound: 4 at most.
        options = dataclasses.replace(
            options, parallel=min(4, max(1, spark.sparkContext.defaultParallelism)))
    for key, value in SESSION_DEFAULTS.items():
        if spark.conf.get(key, None) is None:
            spark.conf.set(key, value)
    fs = HadoopFS(spark)
    previous = _previous_transforms(fs, options.transforms_from)
    staged = StagedOutput(fs, options.output, options.overwrite)
    staged.check()
    started = time.time()
    scratch = Scratch(spark, f"{staged.tmp}/{SCRATCH}")  # (CSV inputs are parsed into it)
    try:
        tables = load_tables(spark, fs, spec, options.input_prefix, options.parallel, scratch)
        input_warnings = [f"{t.describe()}: its files have no rows" for t in tables.values()
                          if not t.file_rows]
        spec = expand_relations(spec, tables)
        _check_reverse_names(spec, options)
        id_types = _id_types(spec, tables, input_warnings)
        for warning in input_warnings:
            log.warning("%s", warning)
        run = Run(spark=spark, fs=fs, spec=spec, options=options, root=staged.tmp,
                  id_types=id_types, previous=previous, scratch=scratch)
        run.report.policies = {"dangling": options.dangling, "duplicates": options.duplicates}
        run.report.warnings = list(spec.warnings) + input_warnings
        known = len(run.report.warnings)
        manifest = _build(run, tables)
        run.report.warnings[known:] = in_stable_order(run.report.warnings[known:])
        manifest.timings["total_s"] = round(time.time() - started, 2)
        _write_json(fs, run, manifest)
        fs.delete(run.scratch.root)
        staged.commit()
    except BaseException:
        staged.abort()
        raise
    log.info("processed graph written to %s in %.1f s", options.output, time.time() - started)
    return manifest


def in_stable_order(warnings: List[str]) -> List[str]:
    """Warnings about the data, which types that run at once add in any order, sorted by the
    place they name with its numbers as numbers (``nodes[2]`` before ``nodes[10]``)."""
    def key(text: str):  # (split on a group: the numbers are the odd parts)
        return [int(part) if i % 2 else part
                for i, part in enumerate(re.split(r"([0-9]+)", text))]
    return sorted(warnings, key=key)


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


def load_tables(spark: SparkSession, fs: HadoopFS, spec: GraphSpec, prefix: str,
                parallel: int = 1, scratch: Optional[Scratch] = None) -> Dict[str, InputTable]:
    """Find, open and scan every input table; report every missing file or column at once.
    CSV tables are parsed once, into ``scratch`` (see :func:`gsprocessing.tables.scan`)."""
    problems = Problems(f"input under {prefix}", subject="the config or the input tables")
    tables: Dict[str, InputTable] = {}
    # (block, needed columns, numeric columns, id columns)
    blocks: List[Tuple[object, Dict[str, str], Dict[str, str], Tuple[str, ...]]] = []
    for n in spec.nodes:
        extra = {n.id_col: "node id"} if n.id_col else {}
        extra.update({lab.column: "label" for lab in n.labels if lab.column})
        blocks.append((n, *_table_columns(n, extra), (n.id_col,) if n.id_col else ()))
    for e in spec.edges + spec.aligned_edges:
        extra = {e.src_col: "source id", e.dst_col: "destination id"} if e.src_col else {}
        extra.update({lab.column: "label" for lab in e.labels if lab.column})
        if e.relation_col:
            extra[e.relation_col] = "relation"
        blocks.append((e, *_table_columns(e, extra), (e.src_col, e.dst_col) if e.src_col else ()))
    found = [(*block, find_files(fs, prefix, block[0].source, block[0].where, problems))
             for block in blocks]
    found = [f for f in found if f[4]]   # (a block without files is a problem already)
    # Reading a CSV header is a Spark job, and so is each scan: tables are independent.
    read = run_all(spark, parallel, [(f"read {block.where}", functools.partial(
        read_table, spark, block.source, files, block.where, fs, list(needed)))
        for block, needed, *_, files in found])
    for (block, needed, *_), table in zip(found, read):
        for message in table.problems:
            problems.add(block.where, message)
        check_columns(table, needed, problems)
        tables[block.where] = table
    _check_split_files(spark, fs, spec, prefix, problems)
    problems.raise_if_any()
    run_all(spark, parallel, [(f"scan {block.where}", functools.partial(
        scan, tables[block.where], list(needed), ids, scratch, numbers))
        for block, needed, numbers, ids, _ in found])
    for block, *_ in found:  # (the renamed inputs: a column of the block's name for them)
        if block.renamed:
            table = tables[block.where]
            table.df = table.df.withColumns({new: F.col(quote(column))
                                             for new, column in block.renamed})
    return tables


def _table_columns(block, extra: Dict[str, str]) -> Tuple[Dict[str, str], Dict[str, str]]:
    """:func:`columns_of` and :func:`number_columns` of a block, by the table's names (a
    renamed input by its column's: see ``schema.Renamed``)."""
    table_name = dict(block.renamed)

    def of_table(columns: Dict[str, str]) -> Dict[str, str]:
        out: Dict[str, str] = {}
        for c, what in columns.items():
            out.setdefault(table_name.get(c, c), what)
        return out

    return (of_table(columns_of(block.features, extra)),
            of_table(number_columns(block.features, extra)))


def _check_split_files(spark: SparkSession, fs: HadoopFS, spec: GraphSpec, prefix: str,
                       problems: Problems) -> None:
    """Every custom split file's existence and id columns, with the tables' problems (before
    any job; JSON files are read when the split is applied)."""
    blocks = [(n, 1) for n in spec.nodes] + [(e, 2) for e in spec.edges + spec.aligned_edges]
    for block, n_ids in blocks:
        for label in block.labels:
            custom = label.custom_split
            if custom is None:
                continue
            for path in itertools.chain.from_iterable(split_paths(custom, prefix).values()):
                open_split_file(spark, fs, path, custom.columns, n_ids, label.where, problems,
                                infer=False)


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
        rel = F.trim(F.col(quote(e.relation_col)).cast(STRING))
        # (with the missing values of each column that has some, per relation: each edge type's
        # report counts its own rows' missing values, not the whole file's)
        # (those the table has: a CSV or JSON table's copy holds only the columns read)
        holed = sorted(c for c in table.nulls if c in table.df.columns)
        present = [F.count(F.col(quote(c))).alias(f"__gm_c{i}") for i, c in enumerate(holed)]
        rows = table.df.groupBy(rel.alias("r")).agg(F.count(F.lit(1)).alias("count"),
                                                     *present).collect()
        values = sorted(r.r for r in rows if r.r)
        counts = {r.r: int(r["count"]) for r in rows}
        nulls = {r.r: {c: int(r["count"]) - int(r[f"__gm_c{i}"]) for i, c in enumerate(holed)}
                 for r in rows}
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
            tables[where] = dataclasses.replace(
                table, df=table.df.where(rel == value), where=where, selected=counts[value],
                complete_ids=False, nulls={c: n for c, n in nulls[value].items() if n})
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


def _id_types(spec: GraphSpec, tables: Dict[str, InputTable],
              warnings: List[str]) -> Dict[str, T.DataType]:
    """Per node type, one id type that every table naming it agrees on (long or string).

    When some tables hold a type's ids as integers and others as text, they are compared as
    text, where "03" is not "3": a warning in ``warnings`` says which are which."""
    seen: Dict[str, List[Tuple[str, T.DataType]]] = {t: [] for t in spec.node_types}
    for n in (n for n in spec.nodes if n.id_col):
        schema = tables[n.where].df.schema
        seen[n.type].append((f"{n.where}.{n.id_col}", schema[n.id_col].dataType))
    for e in spec.edges:
        schema = tables[e.where].df.schema
        seen[e.src_type].append((f"{e.where}.{e.src_col}", schema[e.src_col].dataType))
        seen[e.dst_type].append((f"{e.where}.{e.dst_col}", schema[e.dst_col].dataType))
    types = {t: id_type([d for _, d in cols]) for t, cols in seen.items()}
    for t, cols in seen.items():
        numbers = list(dict.fromkeys(w for w, d in cols if isinstance(d, T.IntegralType)))
        text = list(dict.fromkeys(w for w, d in cols if not isinstance(d, T.IntegralType)))
        if numbers and text:
            warnings.append(f"node type '{t}': ids are integers in {', '.join(numbers)} and text "
                            f"in {', '.join(text)}; all are compared as text, where '03' is not "
                            "'3' and '3.0' is not '3'")
    return types


def _build(run: Run, tables: Dict[str, InputTable]) -> out.Manifest:
    """Every node and edge type, independent ones at once (see :mod:`gsprocessing.scheduler`).

    Tasks are submitted as: node ids (per type), then edge types (each waits for the ids of its
    two endpoint types only), then the features and labels of node types.
    """
    group = TaskGroup(run.spark, run.options.parallel)
    numbered = {t: group.submit(f"nodes/{t} ids", _timed, run, f"nodes/{t}_ids_s",
                                number_node_type, run, t, tables)
                for t in run.spec.node_types}
    edge_tasks = {e.name: group.submit(f"edges/{e.name}", _timed, run, f"edges/{e.name}_s",
                                       _edge_type, run, e, tables, numbered[e.src_type],
                                       numbered[e.dst_type])
                  for e in run.spec.edges}
    node_tasks = {t: group.submit(f"nodes/{t}", _timed, run, f"nodes/{t}_s", _node_type, run,
                                  numbered[t])
                  for t in run.spec.node_types}
    group.wait()
    nodes = {t: task.result() for t, task in node_tasks.items()}
    edges: Dict[str, out.EdgeTypeInfo] = {}
    for task in edge_tasks.values():
        edges.update(task.result())
    versions = {"graphmill": graphmill.__version__, "pyspark": run.spark.version,
                "python": platform.python_version()}
    return out.Manifest(node_types=nodes, edge_types=edges, seed=run.options.seed,
                        config=run.spec.to_dict(), versions=versions, timings=run.timings)


def _timed(run: Run, key: str, fn, *args):
    t0 = time.time()
    result = fn(*args)
    run.timings[key] = round(time.time() - t0, 2)
    return result


def _node_type(run: Run, numbered_task) -> out.NodeTypeInfo:
    numbered = after(numbered_task)
    info = finish_node_type(run, numbered)
    log.info("nodes/%s: %d nodes, features %s", numbered.ntype, info.count,
             {k: v.dim for k, v in info.features.items()} or "none")
    return info


def _edge_type(run: Run, spec: EdgeSpec, tables: Dict[str, InputTable], src_ids,
               dst_ids) -> Dict[str, out.EdgeTypeInfo]:
    after(src_ids), after(dst_ids)
    aligned = [(a, tables[a.where]) for a in run.spec.aligned_with(spec)]
    info = build_edge_type(run, spec, tables[spec.where], aligned)
    edges = {spec.name: info}
    if run.options.add_reverse_edges:
        rev = reverse_info(spec, info.count)
        edges[etype_name((spec.dst_type, rev.relation, spec.src_type))] = rev
    log.info("edges/%s: %d edges", spec.name, info.count)
    return edges


def _write_json(fs: HadoopFS, run: Run, manifest: out.Manifest) -> None:
    fs.write_text(f"{run.root}/{out.TRANSFORMS}", json.dumps(run.transforms, indent=2,
                                                            sort_keys=True))
    fs.write_text(f"{run.root}/{out.REPORT}", run.report.to_json())
    fs.write_text(f"{run.root}/{out.MANIFEST}", manifest.to_json())
