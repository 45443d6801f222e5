"""Quality on Cora (../shared/data/cora): the default node-classification config, run through
the stage commands, reaches test accuracy >= 0.80 (published GNNs on a 60/20/20 split: ~0.87).

The Spark stages run their real ``main`` in this process (sharing the suite's SparkSession, to
save two JVM starts); training runs under torchrun with 2 processes."""

import json
import subprocess
import sys

import pytest

from gsprocessing.__main__ import main as process_main
from partition.__main__ import main as partition_main
from tests.conftest import ROOT, SHARED_DATA, env_with_repo

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not (SHARED_DATA / "cora").exists(), reason="../shared/data/cora missing")
def test_cora_default_config_reaches_080(spark, tmp_path):
    assert process_main(["--config", str(ROOT / "configs/cora/graph.json"), "--input-prefix",
                         str(SHARED_DATA / "cora"), "--output", str(tmp_path / "processed"),
                         "--add-reverse-edges"]) == 0
    assert partition_main(["--input", str(tmp_path / "processed"), "--output",
                           str(tmp_path / "parts"), "--num-parts", "2"]) == 0
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m",
           "training", "--config", str(ROOT / "configs/cora/train.yaml"),
           f"data.parts={tmp_path / 'parts'}", f"output.model_dir={tmp_path / 'model'}"]
    result = subprocess.run(cmd, env=env_with_repo(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-5000:]
    summary = json.loads((tmp_path / "model/summary.json").read_text())
    print("cora:", summary)
    assert summary["test_accuracy"] >= 0.80
