"""The processed/ directory: written by gsprocessing, read by partition. This module owns it.

::

    processed/
      manifest.json                  FORMAT_VERSION, node/edge types, counts, feature dims and
                                     dtypes, labels (classes, split sizes), seed, resolved config,
                                     package versions, timings
      transforms.json                fitted state of every transform (re-appliable)
      report.json                    data-quality counts (rows, missing values, dropped rows,
                                     dangling endpoints with example ids)
      id_map/<ntype>/part-*.parquet  orig (string or long), nid (long, dense 0..N-1)
      nodes/<ntype>/part-*.parquet   nid, one array<float|double|long> column per feature
                                     output (a wide one-hot or multi-hot feature, encoding
                                     "indices" in the manifest: array<int> of the positions
                                     of its ones, ascending), per label: <label> (classification: long, -1 =
                                     missing; multi-label: array<float> multi-hot, null =
                                     missing; regression: double, null = missing) and its three
                                     boolean masks (train_mask, val_mask, test_mask by default)
      edges/<src>__<rel>__<dst>/part-*.parquet
                                     src, dst (nids), eid (long, dense 0..M-1), edge features,
                                     labels and masks as for nodes (link prediction: masks only)

Every table carries its key (``nid``; ``src``/``dst``/``eid``): no file relies on row order.
Reverse edge types (``<rel>-rev``, ``reverse_of`` in the manifest) have no table of their own:
:func:`read_edges` derives them from the edges they reverse (src and dst swapped, the same eids,
no features), so they cost neither time nor space here.
Node types that only appear on edges have an id_map and a nodes/ table holding ``nid`` only.
``labels`` in the manifest lists every label of a type (``LabelState.to_dict()``: task, column,
mask names, classes, split sizes); ``label`` is the first of them (what single-task training
reads).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

from graphmill.errors import InputError

# 2: labels lists (tasks, masks), edge labels, report fields; 3: reverse edge types are not
# written (read_edges derives them); 4: features have an encoding (wide 0/1 vectors as indices)
FORMAT_VERSION = 4
MANIFEST = "manifest.json"
TRANSFORMS = "transforms.json"
REPORT = "report.json"


def id_map_path(root: str, ntype: str) -> str:
    return f"{root}/id_map/{ntype}"


def nodes_path(root: str, ntype: str) -> str:
    return f"{root}/nodes/{ntype}"


def edges_path(root: str, etype_name: str) -> str:
    return f"{root}/edges/{etype_name}"


def read_edges(spark, root: str, manifest: "Manifest", etype_name: str):
    """The edge table of ``etype_name`` (a DataFrame); a reverse type's is derived from the edges
    it reverses."""
    forward = manifest.edge_types[etype_name].reverse_of
    if forward is None:
        return spark.read.parquet(edges_path(root, etype_name))
    df = spark.read.parquet(edges_path(root, forward))
    return df.select(df["dst"].alias("src"), df["src"].alias("dst"), df["eid"])


@dataclass
class FeatureInfo:
    dim: int
    dtype: str  # "float32" | "float64" | "int64" (token ids and masks of tokenize_hf)
    # "dense": an array of ``dim`` values per row; "indices": the positions (ascending int32)
    # of the ones of a 0/1 vector of ``dim`` values (wide one-hot and multi-hot features)
    encoding: str = "dense"


@dataclass
class NodeTypeInfo:
    count: int
    id_dtype: str  # "string" | "long"
    features: Dict[str, FeatureInfo] = field(default_factory=dict)
    label: Optional[Dict[str, Any]] = None  # labels[0], or None
    labels: List[Dict[str, Any]] = field(default_factory=list)  # LabelState.to_dict() each


@dataclass
class EdgeTypeInfo:
    src_type: str
    relation: str
    dst_type: str
    count: int
    features: Dict[str, FeatureInfo] = field(default_factory=dict)
    reverse_of: Optional[str] = None
    labels: List[Dict[str, Any]] = field(default_factory=list)


@dataclass
class Manifest:
    node_types: Dict[str, NodeTypeInfo]
    edge_types: Dict[str, EdgeTypeInfo]
    seed: int
    config: Dict[str, Any]
    versions: Dict[str, str] = field(default_factory=dict)
    timings: Dict[str, float] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = MANIFEST) -> "Manifest":
        raw = json.loads(text)
        version = raw.get("format_version")
        if version != FORMAT_VERSION:
            raise InputError(f"{source}: processed/ format version {version}, this GraphMill "
                             f"reads version {FORMAT_VERSION}; re-run gsprocessing")
        feats = lambda d: {k: FeatureInfo(**v) for k, v in d.items()}  # noqa: E731
        nodes = {k: NodeTypeInfo(count=v["count"], id_dtype=v["id_dtype"],
                                 features=feats(v["features"]), label=v.get("label"),
                                 labels=v.get("labels", []))
                 for k, v in raw["node_types"].items()}
        edges = {k: EdgeTypeInfo(**{**v, "features": feats(v["features"])})
                 for k, v in raw["edge_types"].items()}
        return cls(node_types=nodes, edge_types=edges, seed=raw["seed"], config=raw["config"],
                   versions=raw.get("versions", {}), timings=raw.get("timings", {}),
                   format_version=version)


@dataclass
class TypeReport:
    """Data-quality counts of one node or edge type."""

    files: List[str] = field(default_factory=list)
    rows_per_file: Dict[str, int] = field(default_factory=dict)
    rows_read: int = 0
    rows_written: int = 0
    null_ids_dropped: int = 0
    nulls: Dict[str, int] = field(default_factory=dict)            # column → missing values read
    missing_values: Dict[str, int] = field(default_factory=dict)   # feature column → imputed
    duplicate_ids: Dict[str, Any] = field(default_factory=dict)    # count, dropped, examples
    dangling: Dict[str, Any] = field(default_factory=dict)         # endpoint → count, examples
    nodes_added: int = 0                                           # --dangling add
    nodes_added_examples: List[Any] = field(default_factory=list)  # up to 5 of their ids
    categories_capped: Dict[str, int] = field(default_factory=dict)  # feature → values in OTHER
    splits: Dict[str, Dict[str, int]] = field(default_factory=dict)  # label → rows per split
    custom_split_unknown_ids: Dict[str, int] = field(default_factory=dict)
    hard_negatives_unknown: Dict[str, int] = field(default_factory=dict)  # feature → ids not nodes

    def add_input(self, files: List[str], rows_per_file: Dict[str, int],
                  nulls: Dict[str, int]) -> None:
        """Count one more input table of the type (several blocks): its files, rows per file
        and missing values per column (summed by column)."""
        self.files.extend(files)
        self.rows_per_file.update(rows_per_file)
        for column, n in nulls.items():
            self.nulls[column] = self.nulls.get(column, 0) + n


@dataclass
class Report:
    nodes: Dict[str, TypeReport] = field(default_factory=dict)
    edges: Dict[str, TypeReport] = field(default_factory=dict)
    policies: Dict[str, str] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def write_table(df, path: str) -> None:
    """Write one keyed table as Parquet (the directory must not exist).

    With Parquet's version-2 encodings: integers are delta-encoded, so the dense keys (``nid``,
    ``eid``: consecutive within a file) take almost nothing and ``src``/``dst`` less; at 10M
    edges the purchases table is 38 MB instead of 89 MB, for the same time (design notes,
    stop 27). Spark (3.3 and later) and pyarrow read them."""
    df.write.mode("errorifexists").option("parquet.writer.version", "v2").parquet(path)


def read_manifest(fs, root: str) -> Manifest:
    """Read processed/manifest.json through a :class:`graphmill.hadoopfs.HadoopFS`."""
    path = f"{root}/{MANIFEST}"
    if not fs.exists(path):
        raise InputError(f"{path}: not found; is {root} the output of gsprocessing?")
    return Manifest.from_json(fs.read_text(path), path)
