"""RGCN (Schlichtkrull et al. 2018): ``h_i' = W_0 h_i + sum_r mean_{j in N_r(i)} W_r h_j``."""

from __future__ import annotations

from torch import nn
from torch_geometric.nn import SAGEConv

from training.models.gnn.base import HeteroStack


class RGCN(HeteroStack):
    aggr = "sum"
    self_loop = True

    def conv(self, hidden: int) -> nn.Module:
        # SAGEConv without its root weight is exactly mean_{j in N_r(i)} W_r h_j.
        return SAGEConv(hidden, hidden, root_weight=False, bias=False)
