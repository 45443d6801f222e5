"""Heterogeneous GraphSAGE: per edge type a SAGEConv (mean of neighbours + the node itself),
averaged over the edge types that reach a node type."""

from __future__ import annotations

from torch import nn
from torch_geometric.nn import SAGEConv

from training.models.gnn.base import HeteroStack


class HeteroSAGE(HeteroStack):
    aggr = "mean"

    def conv(self, hidden: int) -> nn.Module:
        return SAGEConv(hidden, hidden)
