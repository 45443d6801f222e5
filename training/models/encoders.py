"""Input encoders: each node type's features projected to the hidden width.

Types with features get a linear projection. Featureless types (e.g. inferred from edges) get one
learnable vector per type: the GNN then describes such nodes by their neighbourhood. (Learnable
per-node embeddings need a distributed sparse table; they come with a later change.)
"""

from __future__ import annotations

from typing import Dict

import torch
from torch import nn

from training.models.naming import module_keys


class NodeEncoder(nn.Module):
    def __init__(self, in_dims: Dict[str, int], hidden: int) -> None:
        super().__init__()
        self.types = sorted(in_dims)
        self.key = module_keys(self.types)
        self.proj = nn.ModuleDict({self.key[t]: nn.Linear(d, hidden)
                                   for t, d in in_dims.items() if d > 0})
        self.type_emb = nn.ParameterDict({self.key[t]: nn.Parameter(torch.randn(hidden) * 0.1)
                                          for t, d in in_dims.items() if d == 0})

    def forward(self, x: Dict[str, torch.Tensor],
                num_nodes: Dict[str, int]) -> Dict[str, torch.Tensor]:
        out = {}
        for t in self.types:
            k = self.key[t]
            if k in self.proj:
                out[t] = self.proj[k](x[t])
            else:
                out[t] = self.type_emb[k].expand(num_nodes[t], -1)
        return out
