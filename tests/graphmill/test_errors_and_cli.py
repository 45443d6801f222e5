"""Small user-facing messages of the shared pieces and the command lines."""

import json

import pytest

from graphmill.errors import GraphMillError, InputError
from graphmill.spark import parse_conf
from gsprocessing.output import Manifest
from partition.reader import PartsMeta, read_meta


def test_spark_conf_items():
    assert parse_conf(["a.b=1", "c = x=y"]) == {"a.b": "1", "c": "x=y"}
    with pytest.raises(GraphMillError, match=r"--spark-conf 'oops': expected KEY=VALUE"):
        parse_conf(["oops"])


def test_format_versions_are_checked(tmp_path):
    with pytest.raises(InputError, match="processed/ format version 99, this GraphMill reads "
                                         "version 4; re-run gsprocessing"):
        Manifest.from_json(json.dumps({"format_version": 99}), "manifest.json")
    with pytest.raises(InputError, match="parts/ format version None, .* re-run partition"):
        PartsMeta.from_json("{}", "META.json")
    with pytest.raises(InputError, match="META.json: not found; is .* the output of partition"):
        read_meta(str(tmp_path))


def test_demo_needs_its_configs(tmp_path, capsys):
    from graphmill.demo.__main__ import main

    with pytest.raises(SystemExit, match="demo configs not found"):
        main(["run", "--workdir", str(tmp_path), "--configs", str(tmp_path)])
