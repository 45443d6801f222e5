"""Node classification: loader over labelled nodes of one type, a linear head, cross-entropy,
and accuracy (exact over ranks: sums of correct and counted seeds, all-reduced)."""

from __future__ import annotations

from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import HeteroData
from torch_geometric.loader import NodeLoader

from graphmill.errors import InputError
from training.config import TaskConfig
from training.data.batches import EpochBatches
from training.data.graph import LocalGraph
from training.models.decoders import Classifier


class NodeClassification:
    """Predict a node type's class label."""

    metric = "accuracy"

    def __init__(self, cfg: TaskConfig, graph: LocalGraph) -> None:
        types = graph.meta.node_types
        labelled = sorted(t for t, m in types.items() if m.label)
        if cfg.node_type not in types:
            raise InputError(f"task.node_type: '{cfg.node_type}' is not a node type of the graph;"
                             f" node types: {sorted(types)}")
        label = types[cfg.node_type].label
        if not label:
            raise InputError(f"task.node_type: '{cfg.node_type}' has no label; labelled node "
                             f"types: {labelled or 'none'} (add labels in the graph config)")
        if cfg.label is not None and cfg.label != label["column"]:
            raise InputError(f"task.label: '{cfg.label}' is not a label of '{cfg.node_type}'; "
                             f"its label is '{label['column']}'")
        if label["task"] != "classification":
            raise InputError(f"task.type node_classification needs a classification label; "
                             f"'{label['column']}' is {label['task']}")
        self.node_type = cfg.node_type
        self.classes: List[str] = list(label["classes"])
        self.graph = graph

    def seeds(self, split: str) -> torch.Tensor:
        """gids of this rank's nodes in ``split`` (train/val/test), or all of them (``all``)."""
        gids = self.graph.local_gids(self.node_type)
        if split == "all":
            return gids
        return gids[self.graph.masks[self.node_type][split]]

    def head(self, hidden: int) -> nn.Module:
        return Classifier(hidden, len(self.classes))

    def loader(self, seeds: torch.Tensor, batches: EpochBatches, sampler, stores) -> NodeLoader:
        return NodeLoader(stores, node_sampler=sampler, input_nodes=(self.node_type, seeds),
                          batch_sampler=batches, filter_per_worker=False)

    def targets(self, batch: HeteroData, count: int) -> torch.Tensor:
        gids = batch[self.node_type].n_id[:count]
        return self.graph.y[self.node_type][self.graph.local_index(self.node_type, gids)]

    def loss_sum(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out, target, reduction="sum")

    def metric_sums(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``[correct, counted]``: summed over batches and ranks, then divided."""
        correct = (out.argmax(dim=-1) == target).sum()
        return torch.stack([correct.double(), torch.tensor(float(target.numel()),
                                                           dtype=torch.float64)])

    def predictions(self, out: torch.Tensor) -> Dict[str, object]:
        """Columns of the predictions table for these outputs."""
        prob = torch.softmax(out, dim=-1)
        best = prob.argmax(dim=-1)
        return {"pred": [self.classes[i] for i in best.tolist()],
                "pred_index": best.numpy(),
                "score": prob.max(dim=-1).values.numpy()}
