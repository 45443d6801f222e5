"""The training loop: DDP, evaluation with metrics exact across ranks, early stopping and the
best checkpoint. It never branches on a model or task name; the task owns seeds, loader, loss
and metrics."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from typing import Dict, Tuple

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from training import checkpoint
from training.config import JobConfig
from training.data.batches import EpochBatches

log = logging.getLogger(__name__)


class Runtime:
    """What one rank needs to run batches: graph, task, sampler, stores, exchange, device."""

    def __init__(self, graph, task, sampler, stores, exchange, device: torch.device) -> None:
        self.graph, self.task, self.sampler = graph, task, sampler
        self.stores, self.ex, self.device = stores, exchange, device

    def loader(self, split: str, batch_size: int, seed: int, shuffle: bool):
        seeds = self.task.seeds(split)
        batches = EpochBatches(seeds.numel(), batch_size, self.ex, seed, shuffle)
        return self.task.loader(seeds, batches, self.sampler, self.stores), batches

    def forward(self, model, batch) -> Tuple[torch.Tensor, torch.Tensor]:
        target = self.task.node_type
        dev = self.device
        x = {t: batch[t].x.to(dev) for t in self.graph.x}
        num_nodes = {t: batch[t].n_id.numel() for t in self.graph.node_types}
        edge_index = {e: batch[e].edge_index.to(dev) for e in batch.edge_types}
        return model(x, num_nodes, edge_index, target, batch[target].batch_size,
                     batch.num_sampled_nodes_dict, batch.num_sampled_edges_dict)


class Trainer:
    def __init__(self, cfg: JobConfig, rt: Runtime, model: torch.nn.Module) -> None:
        self.cfg, self.rt = cfg, rt
        self.module = model.to(rt.device)
        self.model = (DistributedDataParallel(self.module, find_unused_parameters=True)
                      if rt.ex.world > 1 else self.module)
        t = cfg.train
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=t.lr,
                                          weight_decay=t.weight_decay)
        self.train_loader, self.train_batches = rt.loader("train", t.batch_size, t.seed, True)
        self.is_main = rt.ex.rank == 0

    def fit(self) -> Dict:
        """Train, keep the best epoch by validation metric, report test at that epoch."""
        t, model_dir = self.cfg.train, self.cfg.output.model_dir
        if self.is_main and os.path.exists(os.path.join(model_dir, "metrics.jsonl")):
            os.remove(os.path.join(model_dir, "metrics.jsonl"))
        best, best_epoch, waited, first_loss = -1.0, -1, 0, None
        started = time.time()
        for epoch in range(t.epochs):
            t0 = time.time()
            loss, first = self._train_epoch(epoch)
            first_loss = first if first_loss is None else first_loss
            row = {"epoch": epoch, "train_loss": round(loss, 6), "epoch_s": round(time.time() - t0, 3)}
            if (epoch + 1) % t.eval_every == 0 or epoch == t.epochs - 1:
                row[f"val_{self.rt.task.metric}"] = val = self.evaluate("val")
                if val > best:
                    best, best_epoch, waited = val, epoch, 0
                    self._save(epoch, val)
                else:
                    waited += 1
            log.info("epoch %d: %s", epoch, row)
            if self.is_main:
                checkpoint.append_metrics(model_dir, row)
            if t.patience and waited >= t.patience:
                log.info("early stop: no validation improvement in %d evaluations", waited)
                break
        self.rt.ex.barrier()
        checkpoint.load_model(model_dir, self.module)
        summary = {"best_epoch": best_epoch, f"val_{self.rt.task.metric}": best,
                   f"test_{self.rt.task.metric}": self.evaluate("test"),
                   "first_step_loss": first_loss, "train_s": round(time.time() - started, 2),
                   "world_size": self.rt.ex.world}
        if self.is_main:
            checkpoint.write_json(os.path.join(model_dir, "summary.json"), summary)
        return summary

    def _train_epoch(self, epoch: int) -> Tuple[float, float]:
        """Mean loss over the epoch's seeds (all ranks), and the first step's loss."""
        self.model.train()
        self.train_batches.set_epoch(epoch)
        task, ex = self.rt.task, self.rt.ex
        totals = torch.zeros(2, dtype=torch.float64)
        first = None
        bar = tqdm(self.train_loader, total=len(self.train_batches), desc=f"epoch {epoch}",
                   leave=False, disable=not (self.is_main and sys.stderr.isatty()))
        for batch in bar:
            out, _ = self.rt.forward(self.model, batch)
            count = out.shape[0]
            target = task.targets(batch, count).to(self.rt.device)
            loss_sum = task.loss_sum(out, target)
            global_count = ex.sum(torch.tensor([float(count)]))[0].item()
            # DDP averages gradients over ranks; scaling by world / global count makes the
            # step the exact mean over every seed of every rank.
            loss = loss_sum * (ex.world / max(global_count, 1.0))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            step = torch.tensor([loss_sum.item(), float(count)], dtype=torch.float64)
            if first is None:
                s = ex.sum(step)
                first = s[0].item() / max(s[1].item(), 1.0)
            totals += step
        totals = ex.sum(totals)
        return totals[0].item() / max(totals[1].item(), 1.0), first or 0.0

    @torch.no_grad()
    def evaluate(self, split: str) -> float:
        """The task's metric over every rank's ``split`` nodes (exact: sums, then one divide)."""
        self.module.eval()
        loader, batches = self.rt.loader(split, self.cfg.train.eval_batch_size,
                                         self.cfg.train.seed, False)
        sums = torch.zeros(2, dtype=torch.float64)
        for batch, real in zip(loader, batches.real):
            out, _ = self.rt.forward(self.module, batch)
            target = self.rt.task.targets(batch, real).to(self.rt.device)
            sums += self.rt.task.metric_sums(out[:real], target).cpu()
        sums = self.rt.ex.sum(sums)
        return round(sums[0].item() / max(sums[1].item(), 1.0), 6)

    def _save(self, epoch: int, metric: float) -> None:
        if self.is_main:
            checkpoint.save(self.cfg.output.model_dir, self.module, self.optimizer, {
                "epoch": epoch, f"val_{self.rt.task.metric}": metric,
                "model": dataclasses.asdict(self.cfg.model), "task": dataclasses.asdict(
                    self.cfg.task), "classes": getattr(self.rt.task, "classes", None)})
        self.rt.ex.barrier()
