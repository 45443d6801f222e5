"""A stack of heterogeneous message-passing layers, trimmed layer by layer.

Subclasses say which convolution each edge type gets. Between layers: ReLU and dropout. With the
sampler's per-hop counts, layer i only computes the nodes and edges it still needs (PyG's
``trim_to_layer``).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
from torch import nn
from torch_geometric.nn import HeteroConv
from torch_geometric.utils import trim_to_layer

EdgeType = Tuple[str, str, str]


class HeteroStack(nn.Module):
    #: how the messages of several edge types into one node type are combined
    aggr = "mean"
    #: whether each layer adds a per-type linear transform of the node itself (RGCN's W_0)
    self_loop = False
    #: whether the model reads the sampled neighbourhood at all
    uses_edges = True

    def __init__(self, node_types: List[str], edge_types: List[EdgeType], hidden: int,
                 num_layers: int, dropout: float) -> None:
        super().__init__()
        self.node_types = node_types
        self.layers = nn.ModuleList(
            HeteroConv({e: self.conv(hidden) for e in edge_types}, aggr=self.aggr)
            for _ in range(num_layers))
        self.key = {t: f"t{i}" for i, t in enumerate(node_types)}
        self.self_loops = nn.ModuleList(
            nn.ModuleDict({self.key[t]: nn.Linear(hidden, hidden) for t in node_types})
            for _ in range(num_layers)) if self.self_loop else None
        self.dropout = nn.Dropout(dropout)

    def conv(self, hidden: int) -> nn.Module:
        raise NotImplementedError

    def forward(self, h: Dict[str, torch.Tensor], edge_index: Dict[EdgeType, torch.Tensor],
                num_sampled_nodes: Optional[Dict[str, List[int]]] = None,
                num_sampled_edges: Optional[Dict[EdgeType, List[int]]] = None,
                ) -> Dict[str, torch.Tensor]:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            if num_sampled_nodes is not None and num_sampled_edges is not None:
                h, edge_index, _ = trim_to_layer(i, num_sampled_nodes, num_sampled_edges, h,
                                                 edge_index)
            out = layer(h, edge_index)
            new = {}
            for t, v in h.items():
                msg = out.get(t)
                if self.self_loops is not None:
                    own = self.self_loops[i][self.key[t]](v)
                    msg = own if msg is None else msg + own
                new[t] = v if msg is None else msg
            if i < last:
                new = {t: self.dropout(torch.relu(v)) for t, v in new.items()}
            h = new
        return h
