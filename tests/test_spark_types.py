"""Spark types are written as objects in the Spark jobs' code, never as strings."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _type_strings(path: Path):
    """(line, call) of every cast, try_cast, pandas_udf or createDataFrame given a type string:
    Spark parses those with its SQL parser, whose first use costs a fresh JVM about 0.6 CPU-s
    (graphmill.spark.STRING and friends instead)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        at = {"cast": 0, "try_cast": 0, "pandas_udf": 0, "createDataFrame": 1}.get(name)
        if at is not None and len(node.args) > at and isinstance(node.args[at], ast.Constant) \
                and isinstance(node.args[at].value, str):
            yield node.lineno, name


def test_spark_jobs_pass_types_as_objects():
    found = [f"{p.relative_to(ROOT)}:{line}: {name}"
             for package in ("graphmill", "gsprocessing", "partition")
             for p in sorted((ROOT / package).rglob("*.py"))
             for line, name in _type_strings(p)]
    assert not found, found
