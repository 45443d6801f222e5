"""Reader of GraphStorm's GSProcessing JSON dialect (``version: gsprocessing-v...``).

Keys read (GSProcessing's "Input Configuration" docs): ``graph.nodes[]``: ``data`` {``format``,
``files``, ``separator``, ``encoding`` and ``missing_values`` (ours)}, ``column`` (the id),
``type`` (default: the column name), ``features``, ``labels``; ``graph.edges[]``: ``data``,
``source`` and ``dest`` (or ``destination``) {``column``, ``type``}, ``relation`` {``type``} or
{``column``: the relation is read from that column of the edge table}, ``features``, ``labels``.
Features: ``column`` (or a list), ``name``, ``transformation`` {``name``, ``kwargs``}, and
``data``: a node feature kept in other files (holding the node id column), joined on the id.
Labels: ``column``, ``type``, ``separator``, ``split_rate`` {train, val, test},
``custom_split_filenames``, ``mask_field_names``, ``label_stats_type``.
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from graphmill.errors import Problems
from gsprocessing.config import build
from gsprocessing.config.schema import EdgeSpec, FeatureSpec, GraphSpec, LabelSpec, NodeSpec

DIALECT = "gsprocessing"
NODE_KEYS = {"data", "column", "type", "features", "labels"}
EDGE_KEYS = {"data", "source", "dest", "destination", "relation", "features", "labels"}
DATA_KEYS = {"format", "files", "separator", "header", "encoding", "missing_values"}
FEATURE_KEYS = {"column", "name", "transformation", "data"}
LABEL_KEYS = {"column", "type", "separator", "split_rate", "custom_split_filenames",
              "mask_field_names", "label_stats_type"}
LABEL_KEY_NAMES = {"task": "type", "column": "column", "split": "split_rate",
                   "custom": "custom_split_filenames", "masks": "mask_field_names",
                   "stats": "label_stats_type"}


def is_gsprocessing(raw: Any) -> bool:
    """Whether ``raw`` is a GSProcessing config: its version says so, or it has a ``graph``
    and neither GConstruct's ``nodes``/``edges`` nor another dialect's version (GSProcessing
    itself reads a config without a version, or with "v1.0" as its own docs write, by its
    ``graph``)."""
    if not isinstance(raw, dict):
        return False
    version = raw.get("version", "")
    if isinstance(version, str) and version.startswith("gsprocessing"):
        return True
    other = isinstance(version, str) and version.startswith(("gconstruct", "graphmill"))
    return "graph" in raw and not other and "nodes" not in raw and "edges" not in raw


def read_gsprocessing(raw: Any, source: str) -> GraphSpec:
    """Compile a parsed GSProcessing config into a :class:`GraphSpec`.

    Raises:
        ConfigError: every problem found, each with its location in the config.
    """
    p = Problems(source)
    p.unknown_keys("", [k for k in raw if not k.startswith("_")], {"version", "graph"})
    graph = raw.get("graph")
    if not isinstance(graph, dict):
        p.add("graph", "is required: an object with 'nodes' and 'edges'")
        p.raise_if_any()
    p.unknown_keys("graph", graph, {"nodes", "edges"})
    nodes: List[NodeSpec] = []
    for i, block in enumerate(build.listed(graph, "nodes", "graph", p, required=False)):
        nodes.extend(_node(block, f"graph.nodes[{i}]", p))
    edge_blocks = build.listed(graph, "edges", "graph", p)
    edges = [_edge(b, f"graph.edges[{i}]", p) for i, b in enumerate(edge_blocks)]
    return build.finish(nodes, [e for e in edges if e is not None], DIALECT, p,
                        len(edge_blocks))


def _data(block: Any, where: str, p: Problems):
    if not isinstance(block, dict):
        p.add(where, 'is required: e.g. {"format": "csv", "files": ["nodes/user.csv"]}')
        return None
    p.unknown_keys(where, block, DATA_KEYS)
    files = build.file_list(block.get("files"), f"{where}.files", p)
    return build.source(files, block.get("format"), where, p,
                        separator=block.get("separator", ","), header=block.get("header", True),
                        encoding=block.get("encoding", "utf-8"),
                        missing_values=block.get("missing_values", ()),
                        csv_only=[k for k in ("header", "encoding", "missing_values")
                                  if k in block])


def _transformation(t: Any, where: str, p: Problems) -> Optional[Tuple[str, dict, Any]]:
    """(our transform name, params, out_dtype) of a GSProcessing ``transformation``."""
    from gsprocessing.transforms.aliases import from_gsprocessing

    if t is None:
        return ("no-op", {}, None)
    if not isinstance(t, dict) or not isinstance(t.get("name"), str):
        p.add(where, 'must be an object with a "name", e.g. {"name": "numerical"}')
        return None
    p.unknown_keys(where, t, {"name", "kwargs"})
    kwargs = dict(t.get("kwargs") or {})
    out_dtype = kwargs.pop("out_dtype", None)
    try:
        name, params = from_gsprocessing(t["name"], kwargs)
    except (ValueError, TypeError) as err:
        p.add(where, str(err))
        return None
    return (name, params, out_dtype)


def _features(block: dict, where: str, p: Problems,
              with_data: bool) -> List[Tuple[FeatureSpec, Any, str]]:
    """Features with their own ``data`` (or None) and location."""
    out = []
    for loc, f in build.objects(block, "features", where, FEATURE_KEYS, p):
        if "data" in f and not with_data:
            p.add(f"{loc}.data", "edge features kept in separate files are not supported: "
                                 "join them into the edge table")
            continue
        t = _transformation(f.get("transformation"), f"{loc}.transformation", p)
        if t is None:
            continue
        spec = build.feature(f.get("name"), f.get("column"), t[0], t[1], t[2], loc, p,
                             transform_where=f"{loc}.transformation")
        if spec is not None:
            out.append((spec, f.get("data"), loc))
    return out


def _labels(block: dict, where: str, p: Problems) -> Tuple[LabelSpec, ...]:
    out = []
    for loc, lab in build.objects(block, "labels", where, LABEL_KEYS, p):
        rate = lab.get("split_rate")
        if isinstance(rate, dict):
            p.unknown_keys(f"{loc}.split_rate", rate, {"train", "val", "test"})
            rate = [rate.get("train", 0.0), rate.get("val", 0.0), rate.get("test", 0.0)]
        spec = build.label(lab.get("column"), lab.get("type"), rate, loc, p,
                           separator=lab.get("separator"),
                           custom=lab.get("custom_split_filenames"),
                           masks=lab.get("mask_field_names"), stats=lab.get("label_stats_type"),
                           keys=LABEL_KEY_NAMES)
        if spec is not None:
            out.append(spec)
    return tuple(out)


def _node(block: Any, where: str, p: Problems) -> List[NodeSpec]:
    """The node block, plus one block per feature that has its own ``data``."""
    if not isinstance(block, dict):
        p.add(where, "must be an object")
        return []
    p.unknown_keys(where, block, NODE_KEYS)
    source = _data(block.get("data"), f"{where}.data", p)
    id_col = build.text(block, "column", where, p)
    ntype = block.get("type", id_col)
    if build.bad_name(ntype):
        p.add(f"{where}.type", f"must be a non-empty name without '__'; found {ntype!r}")
        ntype = None
    features = _features(block, where, p, with_data=True)
    labels = _labels(block, where, p)
    if ntype is None or source is None or id_col is None:
        return []
    blocks = [NodeSpec(type=ntype, source=source, id_col=id_col, labels=labels, where=where,
                       features=tuple(f for f, data, _ in features if data is None))]
    for f, data, loc in features:
        if data is not None:
            own = _data(data, f"{loc}.data", p)
            if own is not None:
                blocks.append(NodeSpec(type=ntype, source=own, id_col=id_col, features=(f,),
                                       where=loc))
    return blocks


def _endpoint(block: dict, key: str, where: str, p: Problems) -> Tuple[Optional[str], Any]:
    end = block.get(key)
    if not isinstance(end, dict):
        p.add(f"{where}.{key}", 'is required: {"column": ..., "type": ...}')
        return None, None
    p.unknown_keys(f"{where}.{key}", end, {"column", "type"})
    column = build.text(end, "column", f"{where}.{key}", p)
    ntype = end.get("type", column)
    if build.bad_name(ntype):
        p.add(f"{where}.{key}.type", f"must be a non-empty name without '__'; found {ntype!r}")
        ntype = None
    return column, ntype


def _edge(block: Any, where: str, p: Problems) -> Optional[EdgeSpec]:
    if not isinstance(block, dict):
        p.add(where, "must be an object")
        return None
    p.unknown_keys(where, block, EDGE_KEYS)
    source = _data(block.get("data"), f"{where}.data", p)
    src_col, src_type = _endpoint(block, "source", where, p)
    dst_key = "destination" if "destination" in block and "dest" not in block else "dest"
    dst_col, dst_type = _endpoint(block, dst_key, where, p)
    rel = block.get("relation")
    relation, relation_col = None, None
    if isinstance(rel, dict) and set(rel) <= {"type", "column"} and len(rel) == 1:
        relation, relation_col = rel.get("type"), rel.get("column")
        value = relation if relation is not None else relation_col
        if build.bad_name(value):
            p.add(f"{where}.relation", f"must be a non-empty name without '__'; found {value!r}")
    else:
        p.add(f"{where}.relation", '''must be {"type": name} or {"column": column holding the '''
                                   f"relation}}; found {rel!r}")
    features = tuple(f for f, _, _ in _features(block, where, p, with_data=False))
    labels = _labels(block, where, p)
    if None in (source, src_col, src_type, dst_col, dst_type) or (relation, relation_col) == \
            (None, None):
        return None
    return EdgeSpec(src_type=src_type, relation=relation or "", dst_type=dst_type,
                    source=source, src_col=src_col, dst_col=dst_col, features=features,
                    labels=labels, where=where, relation_col=relation_col)
