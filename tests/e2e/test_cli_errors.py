"""Bad input through the command lines: a clear message naming the file, column or id, exit
code 2, and no output directory that looks complete."""

import json
import subprocess
import sys

from gsprocessing.__main__ import main as process_main
from partition.__main__ import main as partition_main
from tests.conftest import TINY, env_with_repo


def tiny_config(tmp_path, edit):
    raw = json.loads((TINY / "tiny.json").read_text())
    edit(raw)
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(raw))
    return str(path)


def process(config, tmp_path, *extra):
    return process_main(["--config", config, "--input-prefix", str(TINY), "--output",
                         str(tmp_path / "out"), *extra])


def test_missing_column(spark, tmp_path, capsys):
    def edit(raw):
        raw["nodes"][1]["labels"][0]["label_col"] = "kind"
    assert process(tiny_config(tmp_path, edit), tmp_path) == 2
    err = capsys.readouterr().err
    assert "gm-process: error:" in err
    assert "column 'kind' (label) is not in nodes[1]" in err and "items.csv" in err
    assert not (tmp_path / "out").exists()


def test_edge_to_unknown_id(spark, tmp_path, capsys):
    def edit(raw):
        raw["edges"][0]["files"] = ["bad/purchases_unknown.csv"]
    assert process(tiny_config(tmp_path, edit), tmp_path) == 2
    err = capsys.readouterr().err
    assert "purchases_unknown.csv" in err and "column 'user_id'" in err and "'mallory'" in err
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob("out.tmp*"))


def test_strict_refuses_a_misspelled_node_type_before_spark_starts(tmp_path):
    """Without --strict a misspelled type is a warning (GraphStorm accepts it); with it, the
    config is refused before Spark starts."""
    def edit(raw):
        raw["edges"][0]["relation"] = ["usr", "bought", "item"]
    cmd = [sys.executable, "-m", "gsprocessing", "--config", tiny_config(tmp_path, edit),
           "--input-prefix", str(TINY), "--output", str(tmp_path / "out"), "--strict"]
    result = subprocess.run(cmd, env=env_with_repo(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert "edges[0]: node type 'usr' has no node block (did you mean 'user'?); it is inferred " \
           "from the edges, without features (--strict)" in result.stderr
    assert "nodes[0]: node type 'user' has no edges (did you mean 'usr'?)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_partition_of_a_directory_that_is_not_processed(spark, tmp_path, capsys):
    code = partition_main(["--input", str(tmp_path), "--output", str(tmp_path / "parts"),
                           "--num-parts", "2"])
    assert code == 2
    assert "manifest.json: not found" in capsys.readouterr().err


def test_training_config_errors_exit_2(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text("data: {parts: nowhere}\ntask: {node_type: item}\noutput: {model_dir: m}\n"
                   "model: {gnn: sagee}\n")
    cmd = [sys.executable, "-m", "training", "--config", str(job), "train.epochs=0"]
    result = subprocess.run(cmd, env=env_with_repo(), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2
    assert "model.gnn: must be one of ['sage', 'rgcn', 'mlp'], found 'sagee'" in result.stderr
    assert "train.epochs: must be at least 1, found 0" in result.stderr


def test_training_on_missing_parts(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(f"data: {{parts: {tmp_path / 'nope'}}}\ntask: {{node_type: item}}\n"
                   "output: {model_dir: m}\n")
    result = subprocess.run([sys.executable, "-m", "training", "--config", str(job)],
                            env=env_with_repo(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "META.json: not found" in result.stderr
