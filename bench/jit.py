"""Where the JIT compilers' time goes: gsprocessing against the Spark floor, by code package.

    python bench/jit.py [--scale 10] [--workdir bench_out/process]

On a 2-core machine the JVM's JIT compilers use as much CPU as the tasks do, and most of
gsprocessing's excess over the floor is compilation, not the work on the rows (design notes,
stop 18). This runs each command once with Java Flight Recorder's compilation events (every
compilation, no threshold), and prints the compilation time of C2 and C1 by the package of the
compiled method: Spark's generated classes, Janino (the compiler of those classes), Parquet,
Catalyst, ... Needs the JDK's ``jfr`` tool on the PATH. The recordings stay in the workdir.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import ROOT, measure  # noqa: E402  (bench/ is not a package)

SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<configuration version="2.0">
  <event name="jdk.Compilation"><setting name="enabled">true</setting>
    <setting name="threshold">0 ms</setting></event>
</configuration>
"""
# (prefix of the compiled method's class, group), first match wins
GROUPS = [("org/apache/spark/sql/catalyst/expressions/GeneratedClass", "Spark generated code"),
          ("org/codehaus/", "Janino"),
          ("org/apache/parquet/", "Parquet"), ("shaded/parquet/", "Parquet"),
          ("org/apache/spark/sql/execution/datasources/parquet/", "Parquet"),
          ("org/apache/spark/sql/catalyst/", "Catalyst"),
          ("org/apache/spark/sql/", "Spark SQL execution"), ("org/apache/spark/", "Spark core"),
          ("org/apache/hadoop/", "Hadoop"), ("scala/", "Scala library"),
          ("java/", "JDK"), ("jdk/", "JDK"), ("sun/", "JDK"),
          ("net/razorvine/", "py4j / pickling"), ("py4j/", "py4j / pickling")]


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--dump-to":
        return _run_and_dump(sys.argv[2], sys.argv[3:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=10.0, help="demo scale: 1.0 = 1M edges")
    p.add_argument("--workdir", default="bench_out/process")
    args = p.parse_args()
    if shutil.which("jfr") is None:
        sys.exit("bench/jit.py needs the JDK's jfr tool on the PATH")
    work = Path(args.workdir).resolve() / f"scale{args.scale:g}"
    py = sys.executable
    measure([py, "-m", "graphmill.demo", "data", "--out", f"{work}/data", "--scale",
             str(args.scale)])
    commands = {
        "floor": [str(ROOT / "bench/spark_floor.py"), "--input", f"{work}/data", "--output",
                  f"{work}/floor"],
        "ours": ["-m", "gsprocessing", "--config", str(ROOT / "configs/demo/marketplace.json"),
                 "--input-prefix", f"{work}/data", "--output", f"{work}/processed",
                 "--add-reverse-edges", "--overwrite"]}
    times = {}
    with tempfile.NamedTemporaryFile("w", suffix=".jfc", delete=False) as f:
        f.write(SETTINGS)
    try:
        for name, cmd in commands.items():
            recording = work / f"jit-{name}.jfr"
            recording.unlink(missing_ok=True)
            submit = (f"--driver-java-options -XX:StartFlightRecording=name=gm,"
                      f"settings={f.name} pyspark-shell")
            wall, _, cpu = measure([py, str(Path(__file__).resolve()), "--dump-to",
                                    str(recording), *cmd], {"PYSPARK_SUBMIT_ARGS": submit})
            times[name] = _compile_times(recording)
            tiers = collections.Counter()
            for (tier, _), seconds in times[name].items():
                tiers[tier] += seconds
            print(f"{name}: {wall:.1f} s, {cpu:.1f} CPU-s; compiling: C2 {tiers['C2']:.1f} s, "
                  f"C1 {tiers['C1']:.1f} s", flush=True)
    finally:
        os.unlink(f.name)
    _print_table(times["ours"], times["floor"])


def _run_and_dump(recording: str, cmd: list) -> None:
    """Run ``cmd`` (a script, or ``-m module``, with its arguments) in this process, then write
    the JVM's flight recording to ``recording`` (PySpark ends the JVM without letting it write
    the recording itself)."""
    sys.argv = cmd[1:] if cmd[0] == "-m" else cmd
    try:
        if cmd[0] == "-m":
            runpy.run_module(cmd[1], run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(cmd[0], run_name="__main__")
    except SystemExit as e:
        if e.code not in (0, None):
            raise
    from pyspark import SparkContext
    if SparkContext._active_spark_context is None:
        sys.exit("bench/jit.py: the command stopped its Spark session; nothing to record")
    jvm = SparkContext._active_spark_context._jvm
    (jvm.jdk.jfr.FlightRecorder.getFlightRecorder().getRecordings().get(0)
     .dump(jvm.java.io.File(recording).toPath()))


def _compile_times(recording: Path) -> collections.Counter:
    """(tier, group) → seconds of compilation, from a recording's jdk.Compilation events."""
    text = subprocess.run(["jfr", "print", "--json", "--events", "jdk.Compilation",
                           str(recording)], check=True, capture_output=True, text=True).stdout
    times: collections.Counter = collections.Counter()
    for event in json.loads(text)["recording"]["events"]:
        v = event["values"]
        tier = "C2" if v["compileLevel"] == 4 else "C1"
        times[(tier, _group(v["method"]["type"]["name"]))] += _seconds(v["duration"])
    return times


def _group(cls: str) -> str:
    return next((g for prefix, g in GROUPS if cls.startswith(prefix)), "other")


def _seconds(duration: str) -> float:
    """An ISO-8601 duration as jfr prints it ("PT0.012S", "PT1M2.5S")."""
    m = re.fullmatch(r"PT(?:(\d+)M)?(?:([\d.]+)S)?", duration)
    return 0.0 if m is None else int(m.group(1) or 0) * 60 + float(m.group(2) or 0)


def _print_table(ours: collections.Counter, floor: collections.Counter) -> None:
    keys = sorted(set(ours) | set(floor), key=lambda k: -(ours[k] - floor[k]))
    print(f"{'':4}{'compiled code':24}{'ours':>8}{'floor':>8}{'more':>8}   (seconds)")
    for tier, group in keys:
        print(f"{tier:4}{group:24}{ours[(tier, group)]:8.2f}{floor[(tier, group)]:8.2f}"
              f"{ours[(tier, group)] - floor[(tier, group)]:8.2f}")
    total_o, total_f = sum(ours.values()), sum(floor.values())
    print(f"{'':4}{'all':24}{total_o:8.2f}{total_f:8.2f}{total_o - total_f:8.2f}")


if __name__ == "__main__":
    main()
