"""GraphMill's own graph config dialect (YAML or JSON, ``version: graphmill-v1``).

It says the same as GraphStorm's two dialects with one spelling per idea::

    # gm-process --config graph.yaml --input-prefix data/ --output processed/
    version: graphmill-v1
    nodes:
      - type: user
        files: nodes/user.csv          # a path, a wildcard, a directory, or a list of them
        format: csv                    # csv | parquet | json | hdf5; default: from the extension
        csv: {separator: ",", header: true, encoding: utf-8, missing_values: [NA]}
        id: "~id"
        features:
          - column: age                # or columns: [a, b] (then name is required)
            name: age                  # default: the column
            transform: numerical       # default: no-op
            params: {normalizer: min-max, imputer: median}
            dtype: float32             # float32 | float64
        labels:
          - column: gender
            task: classification       # classification | regression | link_prediction
            split: {train: 0.8, val: 0.1, test: 0.1}
            # separator: "|"           (multi-label)   masks: [tm, vm, sm]   stats: frequency_cnt
            # custom_split: {train: [splits/train.parquet], val: [...], test: [...], column: [id]}
    edges:
      - source: {type: user, column: "~from"}
        dest: {type: movie, column: "~to"}
        relation: rated                # or {column: rel}: one edge type per value of that column
        files: edges/user-rated-movie.csv
        features: [...]                # as for nodes
        labels: [...]

Several blocks may name one node type: they are joined on the id.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple

from graphmill.errors import Problems
from gsprocessing.config import build
from gsprocessing.config.schema import EdgeSpec, FeatureSpec, GraphSpec, LabelSpec, NodeSpec

DIALECT = "graphmill"
VERSION = "graphmill-v1"
TABLE_KEYS = {"files", "format", "csv", "features", "labels"}
NODE_KEYS = TABLE_KEYS | {"type", "id"}
EDGE_KEYS = TABLE_KEYS | {"source", "dest", "relation"}
CSV_KEYS = {"separator", "header", "encoding", "missing_values"}
FEATURE_KEYS = {"column", "columns", "name", "transform", "params", "dtype"}
LABEL_KEYS = {"column", "task", "split", "separator", "custom_split", "masks", "stats"}
LABEL_KEY_NAMES = {"task": "task", "column": "column", "split": "split", "custom": "custom_split",
                   "masks": "masks", "stats": "stats"}


def is_native(raw: Any) -> bool:
    return isinstance(raw, dict) and str(raw.get("version", "")).startswith("graphmill")


def read_native(raw: Any, source: str) -> GraphSpec:
    """Compile a parsed ``graphmill-v1`` config into a :class:`GraphSpec`.

    Raises:
        ConfigError: every problem found, each with its location in the config.
    """
    p = Problems(source)
    p.unknown_keys("", [k for k in raw if not k.startswith("_")], {"version", "nodes", "edges"})
    if raw.get("version") != VERSION:
        p.add("version", f"unsupported version {raw.get('version')!r}; expected {VERSION!r}")
    nodes = [_node(b, f"nodes[{i}]", p)
             for i, b in enumerate(build.listed(raw, "nodes", "", p, required=False))]
    edge_blocks = build.listed(raw, "edges", "", p)
    edges = [_edge(b, f"edges[{i}]", p) for i, b in enumerate(edge_blocks)]
    return build.finish([n for n in nodes if n is not None], [e for e in edges if e is not None],
                        DIALECT, p,
                        len(edge_blocks))


def _source(block: dict, where: str, p: Problems):
    files = build.file_list(block.get("files"), f"{where}.files", p)
    fmt = block.get("format")
    if fmt is None and files:
        ext = os.path.splitext(files[0].rstrip("/*"))[1].lower()
        fmt = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet",
               ".json": "json", ".jsonl": "json", ".h5": "hdf5", ".hdf5": "hdf5"}.get(ext)
        if fmt is None:
            p.add(f"{where}.format", f"is required: the extension of {files[0]!r} does not say "
                                     "csv, parquet, json or hdf5")
            return None
    csv = block.get("csv", {})
    if not isinstance(csv, dict):
        p.add(f"{where}.csv", "must be an object {separator, header, encoding, "
                              "missing_values}")
        csv = {}
    p.unknown_keys(f"{where}.csv", csv, CSV_KEYS)
    separator = csv.get("separator", "\t" if str(files and files[0]).endswith(".tsv") else ",")
    return build.source(files, fmt, f"{where}.format", p, separator=separator,
                        header=csv.get("header", True), encoding=csv.get("encoding", "utf-8"),
                        missing_values=csv.get("missing_values", ()),
                        csv_only=["csv"] if "csv" in block else [])


def _features(block: dict, where: str, p: Problems) -> Tuple[FeatureSpec, ...]:
    out = []
    for loc, f in build.objects(block, "features", where, FEATURE_KEYS, p):
        if "column" in f and "columns" in f:
            p.add(loc, "give column or columns, not both")
            continue
        spec = build.feature(f.get("name"), f.get("columns", f.get("column")),
                             f.get("transform", "no-op"), f.get("params", {}), f.get("dtype"),
                             loc, p)
        if spec is not None:
            out.append(spec)
    return tuple(out)


def _labels(block: dict, where: str, p: Problems) -> Tuple[LabelSpec, ...]:
    out = []
    for loc, lab in build.objects(block, "labels", where, LABEL_KEYS, p):
        split = lab.get("split")
        if isinstance(split, dict):
            p.unknown_keys(f"{loc}.split", split, {"train", "val", "test"})
            split = [split.get("train", 0.0), split.get("val", 0.0), split.get("test", 0.0)]
        spec = build.label(lab.get("column"), lab.get("task"), split, loc, p,
                           separator=lab.get("separator"), custom=lab.get("custom_split"),
                           masks=lab.get("masks"), stats=lab.get("stats"), keys=LABEL_KEY_NAMES)
        if spec is not None:
            out.append(spec)
    return tuple(out)


def _node(block: Any, where: str, p: Problems) -> Optional[NodeSpec]:
    if not isinstance(block, dict):
        p.add(where, "must be an object")
        return None
    p.unknown_keys(where, block, NODE_KEYS)
    ntype = build.text(block, "type", where, p)
    if ntype is not None and build.bad_name(ntype):
        p.add(f"{where}.type", f"must not contain '__'; found {ntype!r}")
    source = _source(block, where, p)
    id_col = build.text(block, "id", where, p)
    features, labels = _features(block, where, p), _labels(block, where, p)
    if ntype is None or source is None or id_col is None:
        return None
    return NodeSpec(type=ntype, source=source, id_col=id_col, features=features, labels=labels,
                    where=where)


def _endpoint(block: dict, key: str, where: str, p: Problems) -> Tuple[Any, Any]:
    end = block.get(key)
    if not isinstance(end, dict):
        p.add(f"{where}.{key}", "is required: {type: <node type>, column: <id column>}")
        return None, None
    p.unknown_keys(f"{where}.{key}", end, {"type", "column"})
    ntype = build.text(end, "type", f"{where}.{key}", p)
    if ntype is not None and build.bad_name(ntype):
        p.add(f"{where}.{key}.type", f"must not contain '__'; found {ntype!r}")
    return build.text(end, "column", f"{where}.{key}", p), ntype


def _edge(block: Any, where: str, p: Problems) -> Optional[EdgeSpec]:
    if not isinstance(block, dict):
        p.add(where, "must be an object")
        return None
    p.unknown_keys(where, block, EDGE_KEYS)
    source = _source(block, where, p)
    src_col, src_type = _endpoint(block, "source", where, p)
    dst_col, dst_type = _endpoint(block, "dest", where, p)
    rel = block.get("relation")
    relation, relation_col = (rel, None) if isinstance(rel, str) else (None, None)
    if isinstance(rel, dict) and set(rel) == {"column"} and isinstance(rel["column"], str):
        relation_col = rel["column"]
    if (relation is None and relation_col is None) or (relation and build.bad_name(relation)):
        p.add(f"{where}.relation", "must be a relation name (without '__') or {column: <column "
                                   f"holding the relation>}}; found {rel!r}")
        return None
    features, labels = _features(block, where, p), _labels(block, where, p)
    if None in (source, src_col, src_type, dst_col, dst_type):
        return None
    return EdgeSpec(src_type=src_type, relation=relation or "", dst_type=dst_type, source=source,
                    src_col=src_col, dst_col=dst_col, features=features, labels=labels,
                    where=where, relation_col=relation_col)
