"""Seed batches that keep ranks in lockstep.

Every rank must run the same number of batches (each batch is a series of collectives). The
number per epoch is the largest ``ceil(seeds / batch_size)`` over ranks; a rank with fewer seeds
spreads them over that many smaller batches, so every seed is used exactly once. Only a rank with
fewer seeds than batches repeats some (training) or adds padding that is ignored (evaluation);
``real[i]`` says how many leading seeds of batch i count.
"""

from __future__ import annotations

import math
from typing import Iterator, List

import torch

from training.data.exchange import Exchange


class EpochBatches:
    """A ``batch_sampler`` for PyG's loaders: lists of positions into the split's seeds."""

    def __init__(self, num_seeds: int, batch_size: int, exchange: Exchange, seed: int,
                 shuffle: bool) -> None:
        self.num_seeds = num_seeds
        self.batch_size = batch_size
        self.ex = exchange
        self.seed = seed
        self.shuffle = shuffle
        self.num_batches = exchange.max_int(math.ceil(num_seeds / batch_size))
        self.batches: List[List[int]] = []
        self.real: List[int] = []
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Plan the batches of an epoch (same on every call with the same epoch)."""
        g = torch.Generator().manual_seed(
            (self.seed * 1_000_003 + epoch) * 1_009 + self.ex.rank)
        n, b = self.num_seeds, self.num_batches
        order = torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)
        if b == 0:
            self.batches, self.real = [], []
        elif n >= b:
            self.batches = [c.tolist() for c in torch.tensor_split(order, b)]
            self.real = [len(c) for c in self.batches]
        else:
            extra = torch.randint(0, max(n, 1), (b - n,), generator=g).tolist() if n else []
            self.batches = [[i] for i in order.tolist()] + [[i] for i in extra]
            self.batches += [[] for _ in range(b - len(self.batches))]
            self.real = [1] * n + [0] * (b - n)

    def __iter__(self) -> Iterator[List[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return self.num_batches
