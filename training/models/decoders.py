"""Decoders (task heads) over the GNN's embeddings."""

from __future__ import annotations

from torch import nn


class Classifier(nn.Linear):
    """Class logits from an embedding."""

    def __init__(self, hidden: int, num_classes: int) -> None:
        super().__init__(hidden, num_classes)
