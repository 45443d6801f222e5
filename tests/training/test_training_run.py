"""Training in one process on the tiny graph: task checks, reproducibility, predictions."""

import pytest
import pyarrow.parquet as pq

from graphmill.errors import InputError
from training.__main__ import run
from training.config import parse_job_config


def job(parts, tmp_path, *overrides):
    raw = {"data": {"parts": str(parts)}, "task": {"node_type": "item"},
           "output": {"model_dir": str(tmp_path / "model"),
                      "predictions": str(tmp_path / "out")},
           "train": {"epochs": 3, "batch_size": 2}, "model": {"hidden": 16, "fanout": [3, 3]}}
    return parse_job_config(raw, "job.yaml", list(overrides))


def test_same_seed_same_first_step_loss(tiny_parts, tmp_path):
    first = run(job(tiny_parts, tmp_path / "a"))
    second = run(job(tiny_parts, tmp_path / "b"))
    assert first["first_step_loss"] == second["first_step_loss"]
    assert first["test_accuracy"] == second["test_accuracy"]
    other = run(job(tiny_parts, tmp_path / "c", "train.seed=1"))
    assert other["first_step_loss"] != first["first_step_loss"]


@pytest.mark.parametrize("gnn", ["rgcn", "mlp"])
def test_other_models_train(tiny_parts, tmp_path, gnn):
    summary = run(job(tiny_parts, tmp_path, f"model.gnn={gnn}"))
    assert 0.0 <= summary["test_accuracy"] <= 1.0


def test_predict_writes_every_requested_node(tiny_parts, tmp_path):
    run(job(tiny_parts, tmp_path))
    info = run(job(tiny_parts, tmp_path, "mode=predict", "output.predict_on=all"))
    table = pq.read_table(tmp_path / "out/predictions/item")
    assert sorted(table.column("id").to_pylist()) == [f"i{i}" for i in range(1, 9)]
    assert info["count"] == 8
    run(job(tiny_parts, tmp_path, "mode=predict", "output.predict_on=test"))
    assert pq.read_table(tmp_path / "out/predictions/item").num_rows == 2


def test_task_errors(tiny_parts, tmp_path):
    with pytest.raises(InputError, match=r"task.node_type: 'store' has no label; labelled node "
                                         r"types: \['item'\]"):
        run(job(tiny_parts, tmp_path, "task.node_type=store"))
    with pytest.raises(InputError, match=r"'shop' is not a node type of the graph"):
        run(job(tiny_parts, tmp_path, "task.node_type=shop"))
    with pytest.raises(InputError, match=r"task.label: 'kind' is not a label of 'item'"):
        run(job(tiny_parts, tmp_path, "task.label=kind"))
    with pytest.raises(InputError, match="no trained model; run with mode: train first"):
        run(job(tiny_parts, tmp_path / "fresh", "mode=predict"))


def test_saved_model_must_fit_the_config(tiny_parts, tmp_path):
    run(job(tiny_parts, tmp_path))
    with pytest.raises(InputError, match="does not fit this job's model config"):
        run(job(tiny_parts, tmp_path, "mode=predict", "model.hidden=8"))


def test_more_processes_than_parts_and_missing_backend(tiny_parts, tmp_path, monkeypatch):
    import training.__main__ as entry

    class FakeExchange:
        def __init__(self, device):
            self.rank, self.world = 0, 3
    monkeypatch.setattr(entry, "Exchange", FakeExchange)
    with pytest.raises(InputError, match=r"has 2 parts for 3 processes; partition into at least "
                                         r"3 parts"):
        run(job(tiny_parts, tmp_path))
    monkeypatch.undo()
    from training.data import neighbors
    monkeypatch.setattr(neighbors, "_torch_sparse_available", lambda: False)
    with pytest.raises(InputError, match="train.sampler is torch_sparse but torch-sparse is not "
                                         "installed"):
        run(job(tiny_parts, tmp_path, "train.sampler=torch_sparse"))


def test_cuda_requested_without_gpu(tiny_parts, tmp_path, monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InputError, match="train.device: cuda was asked for but no GPU"):
        run(job(tiny_parts, tmp_path, "train.device=cuda"))
