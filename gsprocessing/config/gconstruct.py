"""Reader of GraphStorm's GConstruct JSON dialect (``construct_graph.py --conf-file``).

Keys read (see GraphStorm's docs, "Configuration JSON Explanations"):
``version``; ``nodes[]``: ``node_type``, ``files`` (string or list, wildcards allowed),
``format`` {``name`` csv|parquet, ``separator``, ``header``}, ``node_id_col``, ``features``,
``labels``; ``edges[]``: the same plus ``source_id_col``, ``dest_id_col``, ``relation``.
Features: ``feature_col`` (string or list), ``feature_name``, ``out_dtype``, ``transform``
{``name``, parameters...}. Labels: ``task_type`` classification, ``label_col``, ``split_pct``.

Every problem is collected with its location (``nodes[1].features[0].transform: ...``) and raised
at once as a :class:`~graphmill.errors.ConfigError`.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

from graphmill.errors import Problems, did_you_mean
from gsprocessing.config.schema import (
    MASK_COLUMNS, EdgeSpec, FeatureSpec, GraphSpec, LabelSpec, NodeSpec, TableSource,
)
from gsprocessing.transforms import make_transform

DIALECT = "gconstruct"
VERSIONS = ("gconstruct-v0.1",)
NODE_KEYS = {"node_type", "files", "format", "node_id_col", "features", "labels"}
EDGE_KEYS = {"files", "format", "source_id_col", "dest_id_col", "relation", "features", "labels"}
FORMAT_KEYS = {"name", "separator", "header"}
FEATURE_KEYS = {"feature_col", "feature_name", "out_dtype", "transform"}
LABEL_KEYS = {"task_type", "label_col", "split_pct", "custom_split_filenames",
              "label_stats_type", "mask_field_names"}
OUT_DTYPES = {"float16": "float32", "float32": "float32", "float64": "float64"}
# Columns the stages add to processed/ and parts/ tables; "__gm_" names are used internally.
RESERVED_COLUMNS = {"nid", "src", "dst", "eid", "part", "gid", "src_gid", "dst_gid", "orig",
                    *MASK_COLUMNS}
NOT_YET = "is not supported yet (GraphMill issue #3 adds it)"


def read_gconstruct(raw: Any, source: str) -> GraphSpec:
    """Compile a parsed GConstruct config into a :class:`GraphSpec`.

    Raises:
        ConfigError: every problem found, each with its location in the config.
    """
    p = Problems(source)
    if not isinstance(raw, dict):
        p.add("", f"the config must be a JSON object, found {type(raw).__name__}")
        p.raise_if_any()
    # Top-level keys starting with "_" are comments (example configs keep their command there).
    p.unknown_keys("", [k for k in raw if not k.startswith("_")], {"version", "nodes", "edges"})
    version = raw.get("version", VERSIONS[0])
    if version not in VERSIONS:
        p.add("version", f"unsupported version {version!r}; expected one of {list(VERSIONS)}")
    nodes = [_node(b, f"nodes[{i}]", p) for i, b in enumerate(_list(raw, "nodes", "", p))]
    edges = [_edge(b, f"edges[{i}]", p) for i, b in enumerate(_list(raw, "edges", "", p))]
    if not edges and "edges" in raw:
        p.add("edges", "at least one edge block is required")
    nodes = [n for n in nodes if n is not None]
    edges = [e for e in edges if e is not None]
    _cross_check(nodes, edges, p)
    p.raise_if_any()
    return GraphSpec(nodes=tuple(nodes), edges=tuple(edges), dialect=DIALECT)


def _list(block: dict, key: str, where: str, p: Problems) -> list:
    value = block.get(key)
    loc = f"{where}.{key}" if where else key
    if value is None:
        p.add(loc, "is required")
        return []
    if not isinstance(value, list):
        p.add(loc, f"must be a list, found {type(value).__name__}")
        return []
    return value


def _str(block: dict, key: str, where: str, p: Problems, required: bool = True) -> Optional[str]:
    value = block.get(key)
    if value is None:
        if required:
            p.add(f"{where}.{key}", "is required")
        return None
    if not isinstance(value, str) or not value:
        p.add(f"{where}.{key}", f"must be a non-empty string, found {value!r}")
        return None
    return value


def _source(block: dict, where: str, p: Problems) -> Optional[TableSource]:
    files = block.get("files")
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
        p.add(f"{where}.files", "is required: a file path or a list of them (wildcards allowed)")
        files = None
    fmt = block.get("format")
    if not isinstance(fmt, dict):
        p.add(f"{where}.format", 'is required: e.g. {"name": "csv", "separator": ","}')
        return None
    p.unknown_keys(f"{where}.format", fmt, FORMAT_KEYS)
    name = str(fmt.get("name", "")).lower()
    if name not in ("csv", "parquet"):
        p.add(f"{where}.format.name", f"must be 'csv' or 'parquet', found {fmt.get('name')!r}")
        return None
    separator = fmt.get("separator", ",")
    if not isinstance(separator, str) or len(separator) == 0:
        p.add(f"{where}.format.separator", f"must be a non-empty string, found {separator!r}")
    header = fmt.get("header", True)
    if not isinstance(header, bool):
        p.add(f"{where}.format.header", f"must be true or false, found {header!r}")
    if name == "parquet" and ("separator" in fmt or "header" in fmt):
        p.add(f"{where}.format", "separator/header apply to csv only")
    if files is None:
        return None
    return TableSource(files=tuple(files), format=name, separator=str(separator),
                       header=bool(header))


def _objects(block: dict, key: str, where: str, allowed: set,
             p: Problems) -> Iterator[Tuple[str, dict]]:
    """``(location, item)`` for each object of the optional list ``block[key]``, keys checked."""
    if key not in block:
        return
    for i, item in enumerate(_list(block, key, where, p)):
        loc = f"{where}.{key}[{i}]"
        if not isinstance(item, dict):
            p.add(loc, "must be an object")
            continue
        p.unknown_keys(loc, item, allowed)
        yield loc, item


def _features(block: dict, where: str, p: Problems) -> Tuple[FeatureSpec, ...]:
    out = []
    for loc, f in _objects(block, "features", where, FEATURE_KEYS, p):
        cols = f.get("feature_col")
        cols = [cols] if isinstance(cols, str) else cols
        if not isinstance(cols, list) or not cols or not all(isinstance(c, str) and c for c in cols):
            p.add(f"{loc}.feature_col", "is required: a column name or a list of them")
            continue
        name = f.get("feature_name")
        if name is None and len(cols) > 1:
            p.add(f"{loc}.feature_name", "is required when feature_col lists several columns")
            continue
        name = name if name is not None else cols[0]
        if not isinstance(name, str) or not name:
            p.add(f"{loc}.feature_name", f"must be a non-empty string, found {name!r}")
            continue
        dtype = f.get("out_dtype", "float32")
        if dtype not in OUT_DTYPES:
            p.add(f"{loc}.out_dtype", f"must be one of {sorted(OUT_DTYPES)}, found {dtype!r}")
        spec = _transform(f.get("transform"), f"{loc}.transform", p)
        if spec is None:
            continue
        out.append(FeatureSpec(name=name, columns=tuple(cols), transform=spec[0],
                               params=spec[1], out_dtype=OUT_DTYPES.get(dtype, "float32"),
                               where=loc))
    return tuple(out)


def _transform(t: Any, where: str, p: Problems) -> Optional[Tuple[str, Dict[str, Any]]]:
    if t is None:
        return ("no-op", {})
    if not isinstance(t, dict) or not isinstance(t.get("name"), str):
        p.add(where, 'must be an object with a "name", e.g. {"name": "max_min_norm"}')
        return None
    params = {k: v for k, v in t.items() if k != "name"}
    try:
        make_transform(t["name"], params)
    except (ValueError, TypeError) as err:
        p.add(where, str(err))
        return None
    return (t["name"], params)


def _labels(block: dict, where: str, p: Problems) -> Tuple[LabelSpec, ...]:
    out = []
    for loc, lab in _objects(block, "labels", where, LABEL_KEYS, p):
        for key in ("custom_split_filenames", "label_stats_type", "mask_field_names"):
            if key in lab:
                p.add(f"{loc}.{key}", NOT_YET)
        task = lab.get("task_type")
        if task != "classification":
            hint = NOT_YET if task in ("regression", "link_prediction") else \
                f"must be 'classification'{did_you_mean(str(task), ['classification'])}"
            p.add(f"{loc}.task_type", f"{task!r} {hint}" if task else "is required")
            continue
        col = _str(lab, "label_col", loc, p)
        split = lab.get("split_pct", [0.8, 0.1, 0.1])
        if (not isinstance(split, list) or len(split) != 3
                or not all(isinstance(x, (int, float)) and x >= 0 for x in split)
                or sum(split) > 1 + 1e-9):
            p.add(f"{loc}.split_pct", "must be three fractions [train, val, test], each >= 0, "
                                      f"summing to at most 1; found {split!r}")
            continue
        if col is not None:
            out.append(LabelSpec(column=col, task=task,
                                 split=(float(split[0]), float(split[1]), float(split[2])),
                                 where=loc))
    if len(out) > 1:
        p.add(f"{where}.labels", f"several labels on one type {NOT_YET}")
    return tuple(out)


def _check_names(features: Tuple[FeatureSpec, ...], labels: Tuple[LabelSpec, ...],
                 where: str, p: Problems) -> None:
    seen: Dict[str, str] = {}
    for f in features:
        if f.name in RESERVED_COLUMNS or f.name.startswith("__gm_"):
            p.add(f"{f.where}.feature_name", f"'{f.name}' is reserved; choose another name")
        elif f.name in seen:
            p.add(f"{f.where}.feature_name", f"'{f.name}' is already the name of {seen[f.name]}")
        seen[f.name] = f.where
    for lab in labels:
        if lab.column in seen or lab.column in RESERVED_COLUMNS or lab.column.startswith("__gm_"):
            p.add(f"{lab.where}.label_col", f"'{lab.column}' clashes with a feature or reserved "
                                            "column name; rename the feature")


def _node(block: Any, where: str, p: Problems) -> Optional[NodeSpec]:
    if not isinstance(block, dict):
        p.add(where, "must be an object")
        return None
    p.unknown_keys(where, block, NODE_KEYS)
    ntype = _str(block, "node_type", where, p)
    source = _source(block, where, p)
    id_col = _str(block, "node_id_col", where, p)
    features, labels = _features(block, where, p), _labels(block, where, p)
    _check_names(features, labels, where, p)
    if ntype is None or source is None or id_col is None:
        return None
    return NodeSpec(type=ntype, source=source, id_col=id_col, features=features, labels=labels,
                    where=where)


def _edge(block: Any, where: str, p: Problems) -> Optional[EdgeSpec]:
    if not isinstance(block, dict):
        p.add(where, "must be an object")
        return None
    p.unknown_keys(where, block, EDGE_KEYS)
    source = _source(block, where, p)
    src_col = _str(block, "source_id_col", where, p)
    dst_col = _str(block, "dest_id_col", where, p)
    rel = block.get("relation")
    if not (isinstance(rel, list) and len(rel) == 3
            and all(isinstance(x, str) and x and "__" not in x for x in rel)):
        p.add(f"{where}.relation", "must be [source type, relation, destination type], three "
                                   f"non-empty names without '__'; found {rel!r}")
        rel = None
    features = _features(block, where, p)
    if "labels" in block:
        p.add(f"{where}.labels", f"edge labels {NOT_YET}")
    _check_names(features, (), where, p)
    if None in (source, src_col, dst_col, rel):
        return None
    return EdgeSpec(src_type=rel[0], relation=rel[1], dst_type=rel[2], source=source,
                    src_col=src_col, dst_col=dst_col, features=features, where=where)


def _cross_check(nodes: List[NodeSpec], edges: List[EdgeSpec], p: Problems) -> None:
    seen: Dict[str, str] = {}
    for n in nodes:
        if n.type in seen:
            p.add(f"{n.where}.node_type", f"'{n.type}' is also defined by {seen[n.type]}; "
                                          f"several blocks for one node type {NOT_YET}")
        seen.setdefault(n.type, n.where)
    on_edges = {t for e in edges for t in (e.src_type, e.dst_type)}
    for n in nodes:
        if n.type not in on_edges and edges:
            p.add(f"{n.where}.node_type", f"node type '{n.type}' has no edges"
                                          f"{did_you_mean(n.type, on_edges)}")
    # An edge's node type without a node block is inferred from the edges (featureless), as in
    # GConstruct, unless it looks like a misspelling of a declared one.
    declared = {n.type for n in nodes}
    for e in edges:
        for t in dict.fromkeys((e.src_type, e.dst_type)):
            hint = did_you_mean(t, declared)
            if t not in declared and hint:
                p.add(f"{e.where}.relation", f"node type '{t}' has no node block{hint}; a type "
                                             "meant to be featureless needs a distinct name")
    etypes: Dict[Tuple[str, str, str], str] = {}
    for e in edges:
        if e.etype in etypes:
            p.add(f"{e.where}.relation", f"edge type {list(e.etype)} is also defined by "
                                         f"{etypes[e.etype]}; several blocks {NOT_YET}")
        etypes.setdefault(e.etype, e.where)
