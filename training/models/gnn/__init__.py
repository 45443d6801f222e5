"""GNN encoders, by name (``model.gnn`` in the job config)."""

from training.models.gnn.rgcn import RGCN
from training.models.gnn.sage import HeteroSAGE

GNNS = {
    "sage": HeteroSAGE,
    "rgcn": RGCN,
}
