"""Shared fixtures: one SparkSession for the whole suite, and the tiny graph processed and
partitioned once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "tests" / "resources"
TINY = RESOURCES / "tiny"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def spark():
    from graphmill.spark import make_spark

    # shuffle partitions > 1 on purpose: a single partition hides order-dependent bugs.
    session = make_spark("graphmill-tests", {
        "spark.master": "local[2]", "spark.sql.shuffle.partitions": "3",
        "spark.ui.enabled": "false", "spark.driver.memory": "3g"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def tiny_spec():
    from gsprocessing.config import parse_graph_config

    return parse_graph_config((TINY / "tiny.json").read_text(), "tiny.json")


@pytest.fixture(scope="session")
def tiny_processed(spark, tiny_spec, tmp_path_factory) -> Path:
    """The tiny graph through gsprocessing (reverse edges on)."""
    from gsprocessing.pipeline import ProcessOptions, process

    out = tmp_path_factory.mktemp("tiny") / "processed"
    process(spark, tiny_spec, ProcessOptions(input_prefix=str(TINY), output=str(out), seed=7,
                                             add_reverse_edges=True))
    return out


@pytest.fixture(scope="session")
def tiny_parts(spark, tiny_processed, tmp_path_factory) -> Path:
    """The processed tiny graph in 2 random parts."""
    from partition.writer import partition_graph

    out = tmp_path_factory.mktemp("tiny") / "parts"
    partition_graph(spark, str(tiny_processed), str(out), 2, "random", 3)
    return out


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def read_parquet(path) -> "pyarrow.Table":  # noqa: F821
    import pyarrow.parquet as pq

    return pq.read_table(str(path))


def env_with_repo() -> dict:
    """Environment for subprocesses: this repository importable, this Python and its Spark
    found first (``make test`` does not activate the virtualenv)."""
    import sys

    import pyspark

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("SPARK_HOME", str(Path(pyspark.__file__).parent))
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env
