"""The rank's share of the partitioned graph, and who owns every other node.

Rank r serves the parts ``k % world_size == r``. Its nodes of each type are numbered locally in
part order; its in-edges per edge type are kept as CSC (for each local destination node, the gids
of its source nodes and the edge ids), which is what the neighbour sampler walks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np
import torch

from partition import reader as parts

log = logging.getLogger(__name__)


class PartitionBook:
    """Owner lookup: per node type, part k owns gids ``[offsets[k], offsets[k+1])``."""

    def __init__(self, meta: parts.PartsMeta, world: int) -> None:
        self.num_parts = meta.num_parts
        self.world = world
        self.offsets = {t: torch.tensor(m.offsets, dtype=torch.long)
                        for t, m in meta.node_types.items()}

    def part_of(self, ntype: str, gids: torch.Tensor) -> torch.Tensor:
        return torch.searchsorted(self.offsets[ntype], gids, right=True) - 1

    def rank_of(self, ntype: str, gids: torch.Tensor) -> torch.Tensor:
        return self.part_of(ntype, gids) % self.world

    def parts_of_rank(self, rank: int) -> List[int]:
        return [k for k in range(self.num_parts) if k % self.world == rank]


@dataclass
class CSC:
    """In-edges of one edge type over the rank's local destination nodes."""

    indptr: torch.Tensor    # (num_local_dst + 1,)
    src: torch.Tensor       # source gids, grouped by destination
    eid: torch.Tensor       # edge ids, aligned with src


class LocalGraph:
    """Features, labels, masks and in-edges of the nodes one rank owns.

    Build it with :meth:`load` (from parts/); the constructor takes tensors (benchmarks and
    tests build small graphs in memory).
    """

    def __init__(self, meta: parts.PartsMeta, book: PartitionBook, rank: int) -> None:
        self.meta = meta
        self.book = book
        self.rank = rank
        self.parts = book.parts_of_rank(rank)
        self.node_types = sorted(meta.node_types)
        self.edge_types = sorted(meta.edge_types)
        self._base: Dict[str, torch.Tensor] = {}
        self.num_local: Dict[str, int] = {}
        for ntype, m in meta.node_types.items():
            base = torch.full((meta.num_parts,), -1, dtype=torch.long)
            running = 0
            for k in self.parts:
                base[k] = running
                running += m.offsets[k + 1] - m.offsets[k]
            self._base[ntype], self.num_local[ntype] = base, running
        self.x: Dict[str, torch.Tensor] = {}
        self.y: Dict[str, torch.Tensor] = {}
        self.masks: Dict[str, Dict[str, torch.Tensor]] = {}
        self.csc: Dict[str, CSC] = {}

    @classmethod
    def load(cls, root: str, meta: parts.PartsMeta, book: PartitionBook,
             rank: int) -> "LocalGraph":
        """Read the parts this rank serves from ``root`` (a parts/ directory)."""
        graph = cls(meta, book, rank)
        for ntype in graph.node_types:
            graph._load_nodes(root, ntype)
        skipped = {t: graph.token_feature_names(t) for t in graph.node_types
                   if graph.token_feature_names(t)}
        if skipped:
            log.warning("token features %s are not used: token ids need an LM encoder, which "
                        "training does not have yet (use bert_hf/embedding_hf for text)", skipped)
        for name in graph.edge_types:
            m = meta.edge_types[name]
            dst, src, eid = graph._read_edges(root, name)
            graph.csc[name] = graph.build_csc(m.dst_type, dst, src, eid)
        log.info("rank %d: parts %s, nodes %s, in-edges %s", rank, graph.parts, graph.num_local,
                 {e: int(c.src.numel()) for e, c in graph.csc.items()})
        return graph

    def feature_names(self, ntype: str) -> List[str]:
        """The float features of ``ntype``, fed to its input encoder (sorted by name).

        Integer features (token ids and masks of ``tokenize_hf``) are left out: they need an LM
        encoder, not a linear projection.
        """
        features = self.meta.node_types[ntype].features
        return sorted(f for f, m in features.items() if m.get("dtype") != "int64")

    def token_feature_names(self, ntype: str) -> List[str]:
        """The int64 features of ``ntype`` (token ids and masks), which no encoder reads yet."""
        features = self.meta.node_types[ntype].features
        return sorted(f for f, m in features.items() if m.get("dtype") == "int64")

    def feature_dim(self, ntype: str) -> int:
        m = self.meta.node_types[ntype]
        return sum(m.features[f]["dim"] for f in self.feature_names(ntype))

    def local_index(self, ntype: str, gids: torch.Tensor) -> torch.Tensor:
        """Local row of each gid; every gid must be owned by this rank."""
        part = self.book.part_of(ntype, gids)
        return gids - self.book.offsets[ntype][part] + self._base[ntype][part]

    def local_gids(self, ntype: str) -> torch.Tensor:
        """The gids this rank owns, in local order."""
        m = self.meta.node_types[ntype]
        ranges = [torch.arange(m.offsets[k], m.offsets[k + 1]) for k in self.parts]
        return torch.cat(ranges) if ranges else torch.zeros(0, dtype=torch.long)

    def label_name(self, ntype: str) -> Optional[str]:
        """The class label column training reads (single-label classification only; other
        label kinds belong to tasks that are not built yet)."""
        label = self.meta.node_types[ntype].label
        usable = label and label["task"] == "classification" and not label.get("multilabel")
        return label["column"] if usable else None

    def _load_nodes(self, root: str, ntype: str) -> None:
        n = self.num_local[ntype]
        names = self.feature_names(ntype)
        label = self.label_name(ntype)
        dims = {f: self.meta.node_types[ntype].features[f]["dim"] for f in names}
        x = torch.zeros((n, sum(dims.values())), dtype=torch.float32) if names else None
        y = torch.full((n,), -1, dtype=torch.long) if label else None
        masks = {s: torch.zeros(n, dtype=torch.bool) for s in ("train", "val", "test")}
        for k in self.parts:
            table = parts.read_part_nodes(root, k, ntype)
            gids = _longs(table, "gid")
            rows = self.local_index(ntype, gids)
            if x is not None:
                encodings = {f: m.get("encoding", "dense")
                             for f, m in self.meta.node_types[ntype].features.items()}
                x[rows] = torch.from_numpy(np.concatenate(
                    [parts.vectors(table, f, dims[f], encoding=encodings[f]) for f in names],
                    axis=1))
            if y is not None:
                y[rows] = _longs(table, label)
                mask_columns = self.meta.node_types[ntype].label.get("masks") or \
                    [f"{s}_mask" for s in masks]
                for s, column in zip(masks, mask_columns):
                    masks[s][rows] = torch.from_numpy(
                        table.column(column).to_numpy(zero_copy_only=False))
        if x is not None:
            self.x[ntype] = x
        if y is not None:
            self.y[ntype], self.masks[ntype] = y, masks

    def _read_edges(self, root: str, name: str):
        dst_gid, src, eid = [], [], []
        for k in self.parts:
            table = parts.read_part_edges(root, k, name, columns=["src_gid", "dst_gid", "eid"])
            dst_gid.append(_longs(table, "dst_gid"))
            src.append(_longs(table, "src_gid"))
            eid.append(_longs(table, "eid"))
        empty = torch.zeros(0, dtype=torch.long)
        return tuple(torch.cat(t) if t else empty for t in (dst_gid, src, eid))

    def build_csc(self, dst_type: str, dst_gid: torch.Tensor, src: torch.Tensor,
                  eid: torch.Tensor) -> CSC:
        """CSC over this rank's nodes of ``dst_type`` from in-edges given as gid arrays."""
        dst = self.local_index(dst_type, dst_gid)
        # Group by destination; ties by source gid so the CSC is the same for any file order.
        order = torch.from_numpy(np.lexsort((src.numpy(), dst.numpy())))
        counts = torch.bincount(dst, minlength=self.num_local[dst_type])
        indptr = torch.zeros(counts.numel() + 1, dtype=torch.long)
        indptr[1:] = torch.cumsum(counts, 0)
        return CSC(indptr=indptr, src=src[order], eid=eid[order])


def _longs(table, column: str) -> torch.Tensor:
    return torch.from_numpy(table.column(column).to_numpy().astype(np.int64))
