"""A features-only baseline: the same depth of per-type layers, no messages between nodes.

It is what a GNN has to beat: on a graph whose labels depend on the structure, it should lose.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

EdgeType = Tuple[str, str, str]


class MLP(nn.Module):
    uses_edges = False

    def __init__(self, node_types: List[str], edge_types: List[EdgeType], hidden: int,
                 num_layers: int, dropout: float) -> None:
        super().__init__()
        self.key = {t: f"t{i}" for i, t in enumerate(node_types)}
        self.layers = nn.ModuleList(
            nn.ModuleDict({self.key[t]: nn.Linear(hidden, hidden) for t in node_types})
            for _ in range(num_layers))
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: Dict[str, torch.Tensor], edge_index: Dict[EdgeType, torch.Tensor],
                num_sampled_nodes: Optional[Dict] = None,
                num_sampled_edges: Optional[Dict] = None) -> Dict[str, torch.Tensor]:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            h = {t: layer[self.key[t]](v) for t, v in h.items()}
            if i < last:
                h = {t: self.dropout(torch.relu(v)) for t, v in h.items()}
        return h
