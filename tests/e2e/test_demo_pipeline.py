"""End to end through the real commands, as a user runs them: gm-process → partition (under
spark-submit) → torchrun --nproc-per-node 2 training → predict, on the demo marketplace."""

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from graphmill.demo.marketplace import generate
from tests.conftest import ROOT, env_with_repo

pytestmark = pytest.mark.slow


def run(cmd, **kw):
    result = subprocess.run(cmd, env=env_with_repo(), capture_output=True, text=True, **kw)
    assert result.returncode == 0, f"{cmd}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def torchrun(*args):
    return [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
            "-m", "training", *args]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo")
    generate(str(work / "data"), scale=0.03, seed=1)
    run([sys.executable, "-m", "gsprocessing", "--config",
         str(ROOT / "configs/demo/marketplace.json"), "--input-prefix", str(work / "data"),
         "--output", str(work / "processed"), "--add-reverse-edges"])
    spark_submit = Path(sys.executable).parent / "spark-submit"
    run([str(spark_submit), "--master", "local[2]", "--conf",
         f"spark.pyspark.python={sys.executable}", str(ROOT / "partition" / "__main__.py"),
         "--input", str(work / "processed"), "--output", str(work / "parts"),
         "--num-parts", "2"])
    return work


def job(work, model_dir, *extra):
    return ["--config", str(ROOT / "configs/demo/train.yaml"), f"data.parts={work / 'parts'}",
            f"output.model_dir={work / model_dir}", f"output.predictions={work / 'outputs'}",
            "train.epochs=10", *extra]


def test_train_then_predict_keyed_by_original_ids(demo):
    run(torchrun(*job(demo, "model")))
    metrics = [json.loads(line) for line in (demo / "model/metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["train_loss"] < 0.7 * metrics[0]["train_loss"]  # loss falls
    summary = json.loads((demo / "model/summary.json").read_text())
    assert summary["world_size"] == 2

    run(torchrun(*job(demo, "model", "mode=predict")))
    items = pacsv.read_csv(demo / "data/items.csv").column("item_id").to_pylist()
    preds = pq.read_table(demo / "outputs/predictions/item")
    embs = pq.read_table(demo / "outputs/embeddings/item")
    assert sorted(preds.column("id").to_pylist()) == sorted(items)  # one per node, none twice
    assert sorted(embs.column("id").to_pylist()) == sorted(items)
    assert set(preds.column("pred").to_pylist()) <= {
        "beauty", "books", "electronics", "fashion", "garden", "grocery", "sports", "toys"}
    manifest = json.loads((demo / "outputs/manifest.json").read_text())
    assert manifest["count"] == len(items)
    assert not (demo / "outputs.tmp").exists()


def test_gnn_clearly_beats_features_only_mlp(demo):
    run(torchrun(*job(demo, "model_sage2")))
    run(torchrun(*job(demo, "model_mlp", "model.gnn=mlp")))
    gnn = json.loads((demo / "model_sage2/summary.json").read_text())["test_accuracy"]
    mlp = json.loads((demo / "model_mlp/summary.json").read_text())["test_accuracy"]
    assert gnn >= mlp + 0.15, (gnn, mlp)


def test_parts_written_by_spark_submit(demo):
    meta = json.loads((demo / "parts/META.json").read_text())
    assert meta["num_parts"] == 2 and set(meta["node_types"]) == {"item", "user"}
