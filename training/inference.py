"""Inference: predictions and embeddings as Parquet keyed by the user's original ids.

::

    predictions/
      manifest.json                        node type, count, classes, model, columns
      predictions/<ntype>/part-<rank>.parquet   id, pred, pred_index, score
      embeddings/<ntype>/part-<rank>.parquet    id, embedding (list<float>)

Each rank writes the rows of the nodes it owns under ``<predictions>.tmp``; after a barrier rank 0
renames it into place, so a crash never leaves a complete-looking output. (Multi-node runs need
the output on a shared file system.)
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import Dict, List

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from partition import reader as parts
from training import checkpoint
from training.config import JobConfig
from training.trainer import Runtime

log = logging.getLogger(__name__)


@torch.no_grad()
def predict(cfg: JobConfig, rt: Runtime, model: torch.nn.Module) -> Dict:
    """Run the model on ``output.predict_on`` nodes of the task's type and write the results."""
    model = model.to(rt.device).eval()
    task, graph, ex = rt.task, rt.graph, rt.ex
    loader, batches = rt.loader(cfg.output.predict_on, cfg.train.eval_batch_size,
                                cfg.train.seed, False)
    gids: List[torch.Tensor] = []
    outs: List[torch.Tensor] = []
    embs: List[torch.Tensor] = []
    for batch, real in zip(loader, batches.real):
        out, emb = rt.forward(model, batch)
        gids.append(batch[task.node_type].n_id[:real])
        outs.append(out[:real].cpu())
        embs.append(emb[:real].cpu())
    gid = torch.cat(gids) if gids else torch.zeros(0, dtype=torch.long)
    out = torch.cat(outs) if outs else torch.zeros((0, len(task.classes)))
    emb = torch.cat(embs) if embs else torch.zeros((0, cfg.model.hidden))
    ids = original_ids(cfg.data.parts, task.node_type, graph.parts, gid.numpy())

    final = cfg.output.predictions.rstrip("/")
    tmp = f"{final}.tmp"
    if ex.rank == 0 and os.path.exists(tmp):
        shutil.rmtree(tmp)
    ex.barrier()
    _write(tmp, task.node_type, ex.rank, ids, task.predictions(out), emb.numpy())
    total = int(ex.sum(torch.tensor([float(gid.numel())]))[0].item())
    ex.barrier()
    info = {"node_type": task.node_type, "count": total, "predict_on": cfg.output.predict_on,
            "classes": task.classes, "model_dir": cfg.output.model_dir,
            "columns": {"predictions": ["id", "pred", "pred_index", "score"],
                        "embeddings": ["id", "embedding"]}}
    if ex.rank == 0:
        checkpoint.write_json(os.path.join(tmp, "manifest.json"), info)
        if os.path.exists(final):
            shutil.rmtree(final)
        os.replace(tmp, final)
        log.info("wrote %d predictions and embeddings to %s", total, final)
    ex.barrier()
    return info


def original_ids(root: str, ntype: str, owned_parts: List[int], gids: np.ndarray) -> pa.Array:
    """The users' ids of ``gids`` (which this rank owns), from parts/node_map."""
    table = parts.read_node_map(root, ntype, columns=["gid", "orig"], parts=owned_parts)
    order = np.argsort(table.column("gid").to_numpy())
    sorted_gids = table.column("gid").to_numpy()[order]
    pos = np.searchsorted(sorted_gids, gids)
    if gids.size and (pos.max() >= sorted_gids.size or (sorted_gids[pos] != gids).any()):
        raise RuntimeError("node_map does not cover every predicted node")
    return table.column("orig").take(pa.array(order[pos]))


def _write(root: str, ntype: str, rank: int, ids: pa.Array, columns: Dict,
           emb: np.ndarray) -> None:
    pred_dir = os.path.join(root, "predictions", ntype)
    emb_dir = os.path.join(root, "embeddings", ntype)
    os.makedirs(pred_dir, exist_ok=True)
    os.makedirs(emb_dir, exist_ok=True)
    pq.write_table(pa.table({"id": ids, **columns}),
                   os.path.join(pred_dir, f"part-{rank:05d}.parquet"))
    flat = pa.array(emb.reshape(-1).astype(np.float32))
    vectors = pa.FixedSizeListArray.from_arrays(flat, emb.shape[1])
    pq.write_table(pa.table({"id": ids, "embedding": vectors}),
                   os.path.join(emb_dir, f"part-{rank:05d}.parquet"))
