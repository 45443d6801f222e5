"""The parts/ directory: written by :mod:`partition.writer`, read by training. This module owns it.

::

    parts/
      META.json                          FORMAT_VERSION, num_parts, algorithm, seed; per node type
                                         the gid range owned by each part (offsets), features
                                         (dim, dtype, encoding), label info; per edge type its
                                         counts; edge-cut and balance
      node_map/<ntype>/part-*.parquet    nid, orig, part, gid       (orig: the user's id)
      part_<k>/nodes/<ntype>.parquet     gid, features, label, masks        (nodes part k owns)
      part_<k>/edges/<src>__<rel>__<dst>.parquet
                                         src_gid, dst_gid, eid, edge features
                                         (every edge whose dst part k owns: its in-edges)

Per node type, part k owns gids ``offsets[k] <= gid < offsets[k+1]``: the owner of a gid is a
binary search (:func:`owner_of`). node_map carries the original ids, so parts/ alone is enough to
train and to write results keyed by the user's ids. Reading needs only pyarrow and numpy.
A feature's column holds ``dim`` values per row (encoding ``dense``) or, for a wide one-hot or
multi-hot feature (encoding ``indices``), the positions of its ones; :func:`vectors` reads both
as a matrix.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from graphmill.errors import InputError

FORMAT_VERSION = 2  # 2: features have an encoding (dense | indices)
META = "META.json"


def part_dir(root: str, k: int) -> str:
    return f"{root}/part_{k}"


def part_nodes_path(root: str, k: int, ntype: str) -> str:
    return f"{part_dir(root, k)}/nodes/{ntype}.parquet"


def part_edges_path(root: str, k: int, etype_name: str) -> str:
    return f"{part_dir(root, k)}/edges/{etype_name}.parquet"


def node_map_path(root: str, ntype: str) -> str:
    return f"{root}/node_map/{ntype}"


@dataclass
class NodeTypeMeta:
    count: int
    offsets: List[int]          # num_parts + 1 gid boundaries
    id_dtype: str
    features: Dict[str, Dict[str, Any]] = field(default_factory=dict)  # name → {dim, dtype}
    label: Optional[Dict[str, Any]] = None

    def part_range(self, k: int) -> range:
        return range(self.offsets[k], self.offsets[k + 1])


@dataclass
class EdgeTypeMeta:
    src_type: str
    relation: str
    dst_type: str
    count: int
    part_counts: List[int]
    features: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    reverse_of: Optional[str] = None

    @property
    def etype(self):
        return (self.src_type, self.relation, self.dst_type)


@dataclass
class PartsMeta:
    num_parts: int
    algorithm: str
    seed: int
    node_types: Dict[str, NodeTypeMeta]
    edge_types: Dict[str, EdgeTypeMeta]
    quality: Dict[str, Any] = field(default_factory=dict)
    source: Dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = META) -> "PartsMeta":
        raw = json.loads(text)
        if raw.get("format_version") != FORMAT_VERSION:
            raise InputError(f"{source}: parts/ format version {raw.get('format_version')}, this "
                             f"GraphMill reads version {FORMAT_VERSION}; re-run partition")
        raw["node_types"] = {k: NodeTypeMeta(**v) for k, v in raw["node_types"].items()}
        raw["edge_types"] = {k: EdgeTypeMeta(**v) for k, v in raw["edge_types"].items()}
        return cls(**raw)


def read_meta(root: str) -> PartsMeta:
    path = os.path.join(root, META)
    if not os.path.exists(path):
        raise InputError(f"{path}: not found; is {root} the output of partition?")
    with open(path, encoding="utf-8") as f:
        return PartsMeta.from_json(f.read(), path)


def owner_of(offsets: np.ndarray, gids: np.ndarray) -> np.ndarray:
    """The part owning each gid (``offsets``: the node type's num_parts + 1 boundaries)."""
    return np.searchsorted(offsets, gids, side="right") - 1


def read_part_nodes(root: str, k: int, ntype: str,
                    columns: Optional[List[str]] = None) -> pa.Table:
    return pq.read_table(part_nodes_path(root, k, ntype), columns=columns)


def read_part_edges(root: str, k: int, etype_name: str,
                    columns: Optional[List[str]] = None) -> pa.Table:
    return pq.read_table(part_edges_path(root, k, etype_name), columns=columns)


def read_node_map(root: str, ntype: str, columns: Optional[List[str]] = None,
                  parts: Optional[List[int]] = None) -> pa.Table:
    """node_map of a node type; ``parts`` keeps only the rows of those parts (pushed down)."""
    filters = [("part", "in", list(parts))] if parts is not None else None
    return pq.read_table(node_map_path(root, ntype), columns=columns, filters=filters)


def vectors(table: pa.Table, column: str, dim: int, dtype=np.float32,
            encoding: str = "dense") -> np.ndarray:
    """A feature column as an (n, dim) matrix, without a Python loop: a list column of ``dim``
    values per row, or (``encoding`` "indices") of the positions of each row's ones."""
    col = table.column(column).combine_chunks()
    if col.null_count:
        raise InputError(f"column '{column}' has {col.null_count} missing vectors")
    if encoding == "indices":
        out = np.zeros((len(col), dim), dtype=dtype)
        if len(col):
            lengths = col.value_lengths().to_numpy(zero_copy_only=False)
            positions = col.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
            if positions.size and (positions.min() < 0 or positions.max() >= dim):
                raise InputError(f"column '{column}' has a position outside 0..{dim - 1}")
            out[np.repeat(np.arange(len(col)), lengths), positions] = 1
        return out
    if len(col) == 0:
        return np.zeros((0, dim), dtype=dtype)
    values = col.flatten().to_numpy(zero_copy_only=False)
    return values.astype(dtype, copy=False).reshape(len(col), dim)
