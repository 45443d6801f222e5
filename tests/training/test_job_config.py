"""The job config schema: defaults, overrides, and every problem at once."""

import pytest
import yaml

from graphmill.errors import ConfigError
from training.config import load_job_config, parse_job_config
from tests.conftest import ROOT

MINIMAL = {"data": {"parts": "p"}, "task": {"node_type": "item"}, "output": {"model_dir": "m"}}


def test_defaults_live_in_the_schema():
    c = parse_job_config(MINIMAL, "job.yaml")
    assert c.mode == "train" and c.model.gnn == "sage" and c.model.fanout == [15, 10]
    assert c.train.epochs == 30 and c.train.lr == 0.005 and c.output.predict_on == "all"


def test_overrides_are_typed_and_checked():
    c = parse_job_config(MINIMAL, "job.yaml", ["train.epochs=3", "model.fanout=[5, 5]",
                                               "train.lr=1e-3", "mode=predict",
                                               "output.predictions=out"])
    assert (c.train.epochs, c.model.fanout, c.train.lr, c.mode) == (3, [5, 5], 0.001, "predict")
    with pytest.raises(ConfigError, match=r"train.epochs: must be int, found 'three'"):
        parse_job_config(MINIMAL, "job.yaml", ["train.epochs=three"])
    with pytest.raises(ConfigError, match=r"expected key.sub=value"):
        parse_job_config(MINIMAL, "job.yaml", ["train.epochs"])


def test_every_problem_at_once():
    raw = {"data": {"partz": "p"}, "task": {"node_type": 3}, "modle": {},
           "model": {"gnn": "gcnn", "fanout": [10], "dropout": 1.5},
           "train": {"lr": 0, "epochs": 0, "batch_size": True}, "output": {"model_dir": "m"}}
    with pytest.raises(ConfigError) as err:
        parse_job_config(raw, "job.yaml")
    problems = err.value.problems
    expected = [
        "config: unknown key 'modle'",
        "data: unknown key 'partz' (did you mean 'parts'?)",
        "data.parts: is required",
        "task.node_type: must be str, found 3",
        "model.gnn: must be one of ['sage', 'rgcn', 'mlp'], found 'gcnn'",
        "train.batch_size: must be int, found True",
        "model.fanout: needs one entry per layer: 2 layers, 1 fanouts [10]",
        "train.epochs: must be at least 1, found 0",
        "model.dropout: must be in [0, 1), found 1.5",
        "train.lr: must be positive, found 0.0",
    ]
    for e in expected:
        assert any(p.startswith(e) for p in problems), (e, problems)


def test_predict_needs_an_output():
    with pytest.raises(ConfigError, match="output.predictions: is required when mode is "
                                          "'predict'"):
        parse_job_config(MINIMAL, "job.yaml", ["mode=predict"])


def test_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_job_config(str(bad))
    from graphmill.errors import InputError
    with pytest.raises(InputError, match="cannot read the job config"):
        load_job_config(str(tmp_path / "missing.yaml"))


def test_example_job_configs_parse_and_start_with_their_command():
    for path in (ROOT / "configs").rglob("*.yaml"):
        text = path.read_text()
        assert text.startswith("# torchrun") or text.startswith("# gm-train"), path
        parse_job_config(yaml.safe_load(text), str(path))
