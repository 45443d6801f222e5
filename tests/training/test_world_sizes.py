"""One model, 1 or 2 processes: with every neighbour taken (fanout -1) nothing is random, so the
distributed path (routing, all_to_all sampling, remote feature fetch, exact metrics, per-rank
output files) must give exactly what one process gives."""

import json

import numpy as np
import pyarrow.parquet as pq
import torch

from training.__main__ import run
from training.config import parse_job_config


def job(parts, tmp_path, out, *overrides):
    raw = {"data": {"parts": str(parts)}, "task": {"node_type": "item"},
           "output": {"model_dir": str(tmp_path / "model"), "predictions": str(tmp_path / out)},
           "train": {"epochs": 2, "batch_size": 3, "eval_batch_size": 3},
           "model": {"hidden": 8, "fanout": [-1, -1]}}
    return parse_job_config(raw, "job.yaml", list(overrides))


def _worker(rank, world, init, parts, tmp_path):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank, world_size=world)
    info = run(job(parts, tmp_path, "two", "mode=predict"))
    if rank == 0:
        (tmp_path / "two.json").write_text(json.dumps(info))
    dist.destroy_process_group()


def table(path):
    t = pq.read_table(path).to_pydict()
    return {i: s for i, s in zip(t["id"], t["score"])}


def test_predictions_identical_for_one_and_two_processes(tiny_parts, tmp_path):
    run(job(tiny_parts, tmp_path, "one"))  # train in one process
    run(job(tiny_parts, tmp_path, "one", "mode=predict"))
    torch.multiprocessing.spawn(_worker, args=(2, str(tmp_path / "init"), tiny_parts, tmp_path),
                                nprocs=2)
    one = table(tmp_path / "one/predictions/item")
    two = table(tmp_path / "two/predictions/item")
    assert sorted(one) == sorted(two) == [f"i{i}" for i in range(1, 9)]
    assert np.allclose([one[k] for k in sorted(one)], [two[k] for k in sorted(one)], atol=1e-5)
    parts_written = sorted(p.name for p in (tmp_path / "two/predictions/item").iterdir())
    assert parts_written == ["part-00000.parquet", "part-00001.parquet"]
    assert json.loads((tmp_path / "two.json").read_text())["count"] == 8
