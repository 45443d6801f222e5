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

from training.models.naming import module_keys

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
        self.num_layers = num_layers
        self.layers = nn.ModuleList(
            HeteroConv({e: self.conv(hidden) for e in edge_types}, aggr=self.aggr)
            for _ in range(num_layers)) if self.uses_edges else None
        self.key = module_keys(node_types)
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
        last = self.num_layers - 1
        trim = self.uses_edges and num_sampled_nodes is not None and num_sampled_edges is not None
        for i in range(self.num_layers):
            if trim:
                h, edge_index, _ = trim_to_layer(i, num_sampled_nodes, num_sampled_edges, h,
                                                 edge_index)
            out = self.layers[i](h, edge_index) if self.layers is not None else {}
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
