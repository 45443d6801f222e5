"""Collective exchange between ranks: the only way data moves between trainer processes.

Ranks run in lockstep (every rank makes the same sequence of calls), so an exchange is a pair of
``all_to_all`` collectives: first the sizes, then the rows. gloo (CPU) and nccl (GPU) both support
them. With one process nothing is exchanged and no process group is needed.
"""

from __future__ import annotations

from typing import List

import torch
import torch.distributed as dist


class Exchange:
    """all_to_all of variable-length tensors, plus the few reductions the trainer needs.

    Args:
        device: where the collectives run: ``cpu`` for gloo, the rank's GPU for nccl. Tensors are
            moved there for the exchange and returned on the device they came from.
    """

    def __init__(self, device: torch.device = torch.device("cpu")) -> None:
        self.distributed = dist.is_available() and dist.is_initialized()
        self.rank = dist.get_rank() if self.distributed else 0
        self.world = dist.get_world_size() if self.distributed else 1
        self.device = device

    def all_to_all(self, send: List[torch.Tensor]) -> List[torch.Tensor]:
        """``send[r]`` goes to rank r; returns ``recv[r]``, what rank r sent here.

        Tensors may have any number of rows and the same trailing shape and dtype.
        """
        assert len(send) == self.world, "one tensor per rank"
        if self.world == 1:
            return [send[0]]
        origin = send[0].device
        sizes = torch.tensor([t.shape[0] for t in send], dtype=torch.long, device=self.device)
        recv_sizes = torch.empty_like(sizes)
        dist.all_to_all_single(recv_sizes, sizes)
        flat = torch.cat(send).to(self.device)
        out = torch.empty((int(recv_sizes.sum()), *flat.shape[1:]), dtype=flat.dtype,
                          device=self.device)
        dist.all_to_all_single(out, flat, recv_sizes.tolist(), sizes.tolist())
        return list(out.to(origin).split(recv_sizes.tolist()))

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """Element-wise sum over ranks (a copy; the input is left alone)."""
        if self.world == 1:
            return values.clone()
        out = values.to(self.device, copy=True)
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out.to(values.device)

    def max_int(self, value: int) -> int:
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.long, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return int(t.item())

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()
