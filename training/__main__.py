"""Command line of the training stage (train, or predict with a trained model).

    torchrun --nproc-per-node 2 -m training --config job.yaml [key.sub=value ...]
    gm-train --config job.yaml ...            (one process, no torchrun needed)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import List, Optional

import torch
import torch.distributed as dist

from graphmill.cli import run_main
from graphmill.errors import InputError
from partition.reader import read_meta
from training import checkpoint
from training.config import JobConfig, load_job_config
from training.data.exchange import Exchange
from training.data.graph import LocalGraph, PartitionBook
from training.data.neighbors import pick_sampler
from training.data.sampler import CollectiveNeighborSampler
from training.data.stores import DistFeatureStore, DistGraphStore
from training.inference import predict
from training.models import GraphModel
from training.models.gnn import GNNS
from training.tasks import TASKS
from training.trainer import Runtime, Trainer

log = logging.getLogger("training")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gm-train", description="Train a GNN on parts/, or predict.")
    p.add_argument("--config", required=True, help="job YAML")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="override config values, e.g. train.epochs=3 mode=predict")
    p.add_argument("--log-level", default="INFO")
    return p


def _setup_logging(level: str) -> int:
    """Per-rank logging (rank 0 at ``level``, the others warnings only); returns the rank."""
    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO) if rank == 0 else logging.WARNING,
        format=f"%(asctime)s [rank {rank}] %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S", stream=sys.stderr)
    return rank


def _join_process_group(device: torch.device) -> None:
    """Join torchrun's process group: nccl for GPUs, gloo for CPUs."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def _device(cfg: JobConfig) -> torch.device:
    want = cfg.train.device
    if want == "cuda" or (want == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise InputError("train.device: cuda was asked for but no GPU is visible")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def build_model(cfg: JobConfig, graph: LocalGraph, task) -> GraphModel:
    m = cfg.model
    edge_types = [graph.meta.edge_types[e].etype for e in graph.edge_types]
    in_dims = {t: graph.feature_dim(t) for t in graph.node_types}
    return GraphModel(in_dims, edge_types, m.gnn, m.hidden, m.num_layers, m.dropout,
                      task.head(m.hidden))


def run(cfg: JobConfig) -> dict:
    """Train or predict, as ``cfg.mode`` says, in this process (one rank of the job)."""
    device = _device(cfg)
    _join_process_group(device)
    nccl = dist.is_initialized() and dist.get_backend() == "nccl"
    ex = Exchange(device if nccl else torch.device("cpu"))
    meta = read_meta(cfg.data.parts)
    if ex.world > meta.num_parts:
        raise InputError(f"{cfg.data.parts} has {meta.num_parts} parts for {ex.world} processes;"
                         f" partition into at least {ex.world} parts (--num-parts)")
    graph = LocalGraph.load(cfg.data.parts, meta, PartitionBook(meta, ex.world), ex.rank)
    task = TASKS[cfg.task.type](cfg.task, graph)
    sampler_name, sample = pick_sampler(cfg.train.sampler)
    log.info("sampler backend: %s; device %s; %d process(es)", sampler_name, device, ex.world)
    fanout = cfg.model.fanout if GNNS[cfg.model.gnn].uses_edges else []
    sampler = CollectiveNeighborSampler(graph, ex, fanout, cfg.train.seed, sample)
    stores = (DistFeatureStore(graph, ex), DistGraphStore(graph))
    torch.manual_seed(cfg.train.seed)  # same initial weights on every rank
    model = build_model(cfg, graph, task)
    torch.manual_seed(cfg.train.seed * 7919 + ex.rank)  # dropout: reproducible, per rank
    rt = Runtime(graph, task, sampler, stores, ex, device)
    if cfg.mode == "train":
        return Trainer(cfg, rt, model).fit()
    saved = checkpoint.load_model(cfg.output.model_dir, model)
    if saved.get("classes") != task.classes:
        raise InputError(f"{cfg.output.model_dir}: the model was trained for classes "
                         f"{saved.get('classes')}, the graph in {cfg.data.parts} has "
                         f"{task.classes}; retrain on this graph")
    return predict(cfg, rt, model)


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    rank = _setup_logging(args.log_level)

    def body() -> int:
        cfg = load_job_config(args.config, args.overrides)
        result = run(cfg)
        if rank == 0:
            print(f"gm-train ({cfg.mode}): {json.dumps(result, sort_keys=True)}")
        return 0

    try:
        return run_main(body, "gm-train")
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
