"""Where gsprocessing's task time goes, query by query, against the Spark floor's.

    python bench/queries.py [--scale 10] [--workdir bench_out/process] [--parallel 1]

Runs each command once with Spark's event log on and prints, per SQL query: when it started
and ended (seconds from the application's start), the CPU seconds of its tasks, and its job
description (gsprocessing names each query's job group after the node or edge type). With
``--parallel 1`` (the default) gsprocessing runs one type at a time, so queries do not overlap
and each one's task CPU is its own: a change to one step shows in that step's figure instead
of being lost among the others' (it still moves between runs, 10-40% for the small ones).
The floor's queries are its CSV header read and its four writes. Queries under 0.05 task CPU-s and 0.3 s are left out.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import ROOT, measure  # noqa: E402  (bench/ is not a package)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=10.0, help="demo scale: 1.0 = 1M edges")
    p.add_argument("--workdir", default="bench_out/process")
    p.add_argument("--parallel", type=int, default=1, help="gsprocessing's --parallel")
    args = p.parse_args()
    work = Path(args.workdir).resolve() / f"scale{args.scale:g}"
    py = sys.executable
    measure([py, "-m", "graphmill.demo", "data", "--out", f"{work}/data", "--scale",
             str(args.scale)])
    commands = {
        "floor": [py, str(ROOT / "bench/spark_floor.py"), "--input", f"{work}/data", "--output",
                  f"{work}/floor"],
        "ours": [py, "-m", "gsprocessing", "--config", str(ROOT / "configs/demo/marketplace.json"),
                 "--input-prefix", f"{work}/data", "--output", f"{work}/processed",
                 "--add-reverse-edges", "--overwrite", "--parallel", str(args.parallel)]}
    for name, cmd in commands.items():
        with tempfile.TemporaryDirectory(prefix="gm-eventlog-") as logs:
            submit = (f"--conf spark.eventLog.enabled=true --conf spark.eventLog.dir={logs} "
                      "pyspark-shell")
            wall, _, cpu = measure(cmd, {"PYSPARK_SUBMIT_ARGS": submit})
            queries = _queries(_events(Path(logs)))
        total = sum(q[2] for q in queries)
        print(f"{name}: {wall:.1f} s, {cpu:.1f} CPU-s; task CPU of its queries {total:.1f} s")
        for start, end, task_cpu, what in queries:
            if task_cpu >= 0.05 or end - start >= 0.3:
                print(f"  {start:6.1f} {end:6.1f}  {task_cpu:6.2f} task CPU-s  {what}")


def _events(logs: Path):
    """The events of the one application logged under ``logs``: Spark 4 writes a directory of
    numbered, zstd-compressed files (``events_1_...``) beside a status marker."""
    def number(path: Path) -> int:
        parts = path.name.split("_")
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    files = [f for f in logs.rglob("events_*") if f.is_file()]
    for path in sorted(files, key=number):
        if path.suffix == ".zstd":
            text = subprocess.run(["zstd", "-dcq", str(path)], check=True,
                                  capture_output=True, text=True).stdout
        else:
            text = path.read_text()
        for line in text.splitlines():
            yield json.loads(line)


def _queries(events) -> list:
    """(start s, end s, task CPU s, description) per SQL query, in start order."""
    t0, starts, ends, what = None, {}, {}, {}
    stage_query, cpu = {}, collections.Counter()
    for e in events:
        kind = e["Event"]
        if kind == "SparkListenerApplicationStart":
            t0 = e["Timestamp"]
        elif kind.endswith("SQLExecutionStart"):
            starts[e["executionId"]] = e["time"]
            what[e["executionId"]] = (e.get("description") or "").split("\n")[0][:70]
        elif kind.endswith("SQLExecutionEnd"):
            ends[e["executionId"]] = e["time"]
        elif kind == "SparkListenerJobStart":
            query = e.get("Properties", {}).get("spark.sql.execution.id")
            for stage in e["Stage IDs"]:
                stage_query[stage] = None if query is None else int(query)
        elif kind == "SparkListenerTaskEnd":
            query = stage_query.get(e["Stage ID"])
            if query is not None:
                cpu[query] += (e.get("Task Metrics") or {}).get("Executor CPU Time", 0) / 1e9
    if t0 is None:
        sys.exit("bench/queries.py: the event log has no application start")
    return [((starts[q] - t0) / 1e3, (ends.get(q, starts[q]) - t0) / 1e3, cpu[q], what[q])
            for q in sorted(starts, key=starts.get)]


if __name__ == "__main__":
    main()
