"""GNN encoders, by name (``model.gnn`` in the job config)."""

from training.models.gnn.mlp import MLP
from training.models.gnn.rgcn import RGCN
from training.models.gnn.sage import HeteroSAGE

GNNS = {
    "sage": HeteroSAGE,
    "rgcn": RGCN,
    "mlp": MLP,  # no message passing: the features-only baseline
}
