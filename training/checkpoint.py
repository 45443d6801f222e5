"""The model directory: checkpoints (safetensors + JSON), metrics.jsonl and summary.json.

::

    model_dir/
      model.safetensors     weights of the best epoch (by validation metric)
      optimizer.pt          optimizer state of that epoch (torch.save; loaded weights_only)
      checkpoint.json       epoch, metric, model config, classes: what is needed to rebuild
      metrics.jsonl         one line per epoch: loss, validation metric, seconds
      summary.json          best epoch, validation and test metrics, first-step loss, timings
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict

import torch
from safetensors.torch import load_file, save_file

from graphmill.errors import InputError

FORMAT_VERSION = 1


def _atomic_write(path: str, write) -> None:
    tmp = f"{path}.tmp"
    write(tmp)
    os.replace(tmp, path)


def write_json(path: str, data: Dict[str, Any]) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
    _atomic_write(path, write)


def save(model_dir: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
         info: Dict[str, Any]) -> None:
    os.makedirs(model_dir, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    _atomic_write(os.path.join(model_dir, "model.safetensors"), lambda p: save_file(state, p))
    _atomic_write(os.path.join(model_dir, "optimizer.pt"),
                  lambda p: torch.save(optimizer.state_dict(), p))
    write_json(os.path.join(model_dir, "checkpoint.json"),
               {**info, "format_version": FORMAT_VERSION})


def load_model(model_dir: str, model: torch.nn.Module) -> Dict[str, Any]:
    """Load the saved weights into ``model``; returns checkpoint.json."""
    path = os.path.join(model_dir, "model.safetensors")
    if not os.path.exists(path):
        raise InputError(f"{path}: no trained model; run with mode: train first")
    with open(os.path.join(model_dir, "checkpoint.json"), encoding="utf-8") as f:
        info = json.load(f)
    try:
        model.load_state_dict(load_file(path))
    except RuntimeError as err:
        raise InputError(f"{path}: the saved model does not fit this job's model config "
                         f"(saved with {info.get('model')}): {str(err).splitlines()[0]}") from None
    return info


def append_metrics(model_dir: str, row: Dict[str, Any]) -> None:
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "metrics.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
