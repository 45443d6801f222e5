"""Models: per-type input encoders, a heterogeneous GNN, and task heads, put together."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

from training.models.encoders import NodeEncoder
from training.models.gnn import GNNS

EdgeType = Tuple[str, str, str]


class GraphModel(nn.Module):
    """encoder → GNN → head. Takes sizes and metadata, not config objects.

    Args:
        in_dims: feature width per node type (0 for featureless types).
        edge_types: every (src, rel, dst) of the graph.
        gnn: a name in :data:`training.models.gnn.GNNS`.
        head: maps the target type's final embeddings to the task's outputs.
    """

    def __init__(self, in_dims: Dict[str, int], edge_types: List[EdgeType], gnn: str,
                 hidden: int, num_layers: int, dropout: float, head: nn.Module) -> None:
        super().__init__()
        self.encoder = NodeEncoder(in_dims, hidden)
        self.gnn = GNNS[gnn](sorted(in_dims), edge_types, hidden, num_layers, dropout)
        self.head = head
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Dict[str, torch.Tensor], num_nodes: Dict[str, int],
                edge_index: Dict[EdgeType, torch.Tensor], target: str, batch_size: int,
                num_sampled_nodes: Optional[Dict[str, List[int]]] = None,
                num_sampled_edges: Optional[Dict[EdgeType, List[int]]] = None,
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(head output, embedding)`` of the first ``batch_size`` target nodes."""
        h = {t: self.dropout(v) for t, v in self.encoder(x, num_nodes).items()}
        h = self.gnn(h, edge_index, num_sampled_nodes, num_sampled_edges)
        emb = h[target][:batch_size]
        return self.head(emb), emb
