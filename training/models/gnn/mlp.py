"""A features-only baseline: the same depth of per-type layers, no messages between nodes.

It is what a GNN has to beat: on a graph whose labels depend on the structure, it should lose.
"""

from __future__ import annotations

from training.models.gnn.base import HeteroStack


class MLP(HeteroStack):
    uses_edges = False   # no convolutions: each layer is the per-type linear self-transform
    self_loop = True
