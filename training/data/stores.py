"""PyG ``FeatureStore`` and ``GraphStore`` over the ranks' shares of the graph.

Features are fetched collectively: the gids of a batch are split by owner, exchanged, and the
owners send back the rows (one request exchange and one row exchange for all node types).
Every rank must call the fetch in lockstep with the same node types, which PyG's loader does:
it asks for every attribute of every node type present in the sampler's output, and our sampler
always reports every node type.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
from torch_geometric.data import EdgeAttr, FeatureStore, GraphStore, TensorAttr
from torch_geometric.typing import EdgeTensorType

from training.data.exchange import Exchange
from training.data.graph import LocalGraph
from training.data.sampler import split_by_rank


class DistFeatureStore(FeatureStore):
    """Read-only store of node features (attribute ``x``), fetched from their owners."""

    def __init__(self, graph: LocalGraph, exchange: Exchange) -> None:
        super().__init__()
        self.graph = graph
        self.ex = exchange
        self.types = sorted(graph.x)  # node types that have features

    def get_all_tensor_attrs(self) -> List[TensorAttr]:
        return [TensorAttr(group_name=t, attr_name="x") for t in self.types]

    def _get_tensor(self, attr: TensorAttr) -> Optional[torch.Tensor]:
        return self.fetch({attr.group_name: _as_index(attr.index)})[attr.group_name]

    def _multi_get_tensor(self, attrs: List[TensorAttr]) -> List[Optional[torch.Tensor]]:
        rows = self.fetch({a.group_name: _as_index(a.index) for a in attrs})
        return [rows[a.group_name] for a in attrs]

    def fetch(self, wanted: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Feature rows of the given gids per node type, from whichever rank owns them."""
        g = self.graph
        empty = torch.zeros(0, dtype=torch.long)
        gids = {t: wanted.get(t, empty) for t in self.types}
        owners = {t: g.book.rank_of(t, gids[t]) for t in self.types}
        parts = [torch.stack([torch.full_like(gids[t], i), gids[t]], 1)
                 for i, t in enumerate(self.types)]
        received = self.ex.all_to_all(split_by_rank(parts, list(owners.values()), self.ex.world,
                                                    width=2))
        answers = []
        for req in received:
            blocks = [g.x[t][g.local_index(t, req[req[:, 0] == i, 1])].reshape(-1)
                      for i, t in enumerate(self.types)]
            answers.append(torch.cat(blocks) if blocks else torch.zeros(0))
        replies = self.ex.all_to_all(answers)
        out = {t: torch.empty((gids[t].numel(), g.x[t].shape[1])) for t in self.types}
        for r, reply in enumerate(replies):
            offset = 0
            for t in self.types:
                mask = owners[t] == r
                n, dim = int(mask.sum()), g.x[t].shape[1]
                out[t][mask] = reply[offset:offset + n * dim].view(n, dim)
                offset += n * dim
        return out

    def _put_tensor(self, tensor, attr) -> bool:
        raise NotImplementedError("the distributed feature store is read-only")

    def _remove_tensor(self, attr) -> bool:
        raise NotImplementedError("the distributed feature store is read-only")

    def _get_tensor_size(self, attr: TensorAttr) -> Tuple[int, ...]:
        t = attr.group_name
        return (self.graph.meta.node_types[t].count, self.graph.x[t].shape[1])


def _as_index(index) -> torch.Tensor:
    if index is None:
        raise ValueError("the distributed feature store needs explicit node ids")
    return index.to(torch.long)


class DistGraphStore(GraphStore):
    """Describes the edge types (the sampler walks the local CSC itself)."""

    def __init__(self, graph: LocalGraph) -> None:
        super().__init__()
        self.graph = graph

    def get_all_edge_attrs(self) -> List[EdgeAttr]:
        meta = self.graph.meta
        out = []
        for name in self.graph.edge_types:
            m = meta.edge_types[name]
            size = (meta.node_types[m.src_type].count, meta.node_types[m.dst_type].count)
            out.append(EdgeAttr(edge_type=m.etype, layout="csc", is_sorted=True, size=size))
        return out

    def _get_edge_index(self, edge_attr: EdgeAttr) -> Optional[EdgeTensorType]:
        for name in self.graph.edge_types:
            if self.graph.meta.edge_types[name].etype == tuple(edge_attr.edge_type):
                csc = self.graph.csc[name]
                return (csc.src, csc.indptr)  # local CSC: rows are gids, colptr is local
        return None

    def _put_edge_index(self, edge_index, edge_attr) -> bool:
        raise NotImplementedError("the distributed graph store is read-only")

    def _remove_edge_index(self, edge_attr) -> bool:
        raise NotImplementedError("the distributed graph store is read-only")
