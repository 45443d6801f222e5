"""Reader of GraphStorm's GConstruct JSON dialect (``construct_graph.py --conf-file``).

Keys read (see GraphStorm's docs, "Configuration JSON Explanations"):
``version``; ``nodes[]``: ``node_type``, ``files`` (string or list, wildcards and directories
allowed), ``format`` {``name`` csv|parquet|json|hdf5, ``separator``, ``header``, ``encoding`` and
``missing_values`` (ours)},
``node_id_col``, ``features``, ``labels``; ``edges[]``: the same plus ``source_id_col``,
``dest_id_col`` (both, or neither in a block that adds columns to its edge type's block with
ids, row by row), ``relation`` (a triple). Features: ``feature_col`` (string or list),
``feature_name``, ``out_dtype``, ``transform`` {``name``, parameters...}. Labels: ``task_type``
classification|regression|link_prediction, ``label_col``, ``split_pct``,
``custom_split_filenames`` {train, valid, test, column}, ``separator`` (multi-label),
``label_stats_type``, ``mask_field_names``.

Every problem is collected with its location (``nodes[1].features[0].transform: ...``) and raised
at once as a :class:`~graphmill.errors.ConfigError`.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

from graphmill.errors import Problems
from gsprocessing.config import build
from gsprocessing.config.schema import EdgeSpec, FeatureSpec, GraphSpec, LabelSpec, NodeSpec

DIALECT = "gconstruct"
VERSIONS = ("gconstruct-v0.1",)
NODE_KEYS = {"node_type", "files", "format", "node_id_col", "features", "labels"}
EDGE_KEYS = {"files", "format", "source_id_col", "dest_id_col", "relation", "features", "labels"}
FORMAT_KEYS = {"name", "separator", "header", "encoding", "missing_values"}
FEATURE_KEYS = {"feature_col", "feature_name", "out_dtype", "transform", "truncate_dim"}
LABEL_KEYS = {"task_type", "label_col", "split_pct", "custom_split_filenames",
              "label_stats_type", "mask_field_names", "separator"}
LABEL_KEY_NAMES = {"task": "task_type", "column": "label_col", "split": "split_pct",
                   "custom": "custom_split_filenames", "masks": "mask_field_names",
                   "stats": "label_stats_type"}


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
    if not isinstance(fmt, dict):
        p.add(f"{where}.format", 'is required: e.g. {"name": "csv", "separator": ","}')
        return None
    p.unknown_keys(f"{where}.format", fmt, FORMAT_KEYS)
    return build.source(files, fmt.get("name"), f"{where}.format", p,
                        separator=fmt.get("separator", ","), header=fmt.get("header", True),
                        encoding=fmt.get("encoding", "utf-8"),
                        missing_values=fmt.get("missing_values", ()),
                        csv_only=[k for k in ("separator", "header", "encoding",
                                              "missing_values") if k in fmt])


def _features(block: dict, where: str, p: Problems) -> Tuple[FeatureSpec, ...]:
    out = []
    for loc, f in build.objects(block, "features", where, FEATURE_KEYS, p):
        # GConstruct: a feature without a transform is a no-op, which truncate_dim may cut.
        t = f.get("transform", {"name": "no-op", **(
            {"truncate_dim": f["truncate_dim"]} if "truncate_dim" in f else {})})
        if "truncate_dim" in f and "transform" in f:
            p.warn(loc, "truncate_dim applies to a feature without a transform (GConstruct "
                        "ignores it otherwise); ignored")
        if not isinstance(t, dict) or not isinstance(t.get("name"), str):
            p.add(f"{loc}.transform", 'must be an object with a "name", e.g. '
                                      '{"name": "max_min_norm"}')
            continue
        params = {k: v for k, v in t.items() if k != "name"}
        spec = build.feature(f.get("feature_name"), f.get("feature_col"), t["name"], params,
                             f.get("out_dtype"), loc, p, transform_where=f"{loc}.transform")
        if spec is not None:
            out.append(spec)
    return tuple(out)


def _labels(block: dict, where: str, p: Problems) -> Tuple[LabelSpec, ...]:
    out = []
    for loc, lab in build.objects(block, "labels", where, LABEL_KEYS, p):
        spec = build.label(lab.get("label_col"), lab.get("task_type"), lab.get("split_pct"),
                           loc, p, separator=lab.get("separator"),
                           custom=lab.get("custom_split_filenames"),
                           masks=lab.get("mask_field_names"), stats=lab.get("label_stats_type"),
                           keys=LABEL_KEY_NAMES)
        if spec is not None:
            out.append(spec)
    return tuple(out)


def _node(block: Any, where: str, p: Problems) -> Optional[NodeSpec]:
    if not isinstance(block, dict):
        p.add(where, "must be an object")
        return None
    p.unknown_keys(where, block, NODE_KEYS)
    ntype = build.text(block, "node_type", where, p)
    if ntype is not None and build.bad_name(ntype):
        p.add(f"{where}.node_type", f"must not contain '__'; found {ntype!r}")
    source = _source(block, where, p)
    # (optional: a block without it matches the type's block with the ids row by row)
    id_col = build.text(block, "node_id_col", where, p) if "node_id_col" in block else None
    features, labels = _features(block, where, p), _labels(block, where, p)
    if ntype is None or source is None or ("node_id_col" in block and id_col is None):
        return None
    return NodeSpec(type=ntype, source=source, id_col=id_col, features=features, labels=labels,
                    where=where)


def _edge(block: Any, where: str, p: Problems) -> Optional[EdgeSpec]:
    if not isinstance(block, dict):
        p.add(where, "must be an object")
        return None
    p.unknown_keys(where, block, EDGE_KEYS)
    source = _source(block, where, p)
    # (both or neither: a block without ids holds more columns of its type's block with them)
    ids = "source_id_col" in block or "dest_id_col" in block
    src_col = build.text(block, "source_id_col", where, p, required=ids)
    dst_col = build.text(block, "dest_id_col", where, p, required=ids)
    rel = block.get("relation")
    if not (isinstance(rel, list) and len(rel) == 3 and not any(build.bad_name(x) for x in rel)):
        p.add(f"{where}.relation", "must be [source type, relation, destination type], three "
                                   f"non-empty names without '__'; found {rel!r}")
        rel = None
    features, labels = _features(block, where, p), _labels(block, where, p)
    if source is None or rel is None or (ids and None in (src_col, dst_col)):
        return None
    return EdgeSpec(src_type=rel[0], relation=rel[1], dst_type=rel[2], source=source,
                    src_col=src_col, dst_col=dst_col, features=features, labels=labels,
                    where=where)
