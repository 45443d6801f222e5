"""Golden files pin the on-disk formats of processed/ and parts/ (the contract between stages).

A change that alters a file name, a column, a type or a manifest field fails here. If the change
is deliberate, bump the format's FORMAT_VERSION and regenerate: ``UPDATE_GOLDEN=1 pytest
tests/test_golden_formats.py``.
"""

import json
import os
from pathlib import Path

import pyarrow.parquet as pq

GOLDEN = Path(__file__).parent / "golden"
VOLATILE = {"timings", "versions", "timings_s", "processed", "files", "rows_per_file"}  # machine-specific


def describe(root: Path) -> dict:
    """File tree (Spark part-file names collapsed), every table's schema, the JSON files."""
    tree, schemas, docs = set(), {}, {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or path.name.startswith((".", "_")):
            continue
        if path.suffix == ".json":
            docs[str(rel)] = _strip(json.loads(path.read_text()))
            tree.add(str(rel))
            continue
        table_dir = rel.parent if path.name.startswith("part-") else rel
        tree.add(str(table_dir) + ("/part-*.parquet" if path.name.startswith("part-") else ""))
        schema = pq.read_schema(path)
        schemas[str(table_dir)] = [f"{f.name}: {f.type}" for f in schema]
    return {"tree": sorted(tree), "schemas": schemas, "json": docs}


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def check(name: str, got: dict) -> None:
    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(got, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    expected = json.loads(path.read_text())
    assert got == expected, f"{name} format changed; see the module docstring"


def test_processed_format(tiny_processed):
    check("processed", describe(tiny_processed))


def test_parts_format(tiny_parts):
    check("parts", describe(tiny_parts))
