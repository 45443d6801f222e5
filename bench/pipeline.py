"""Benchmark: wall time and peak memory of each stage on the demo data (default 1M edges).

    python bench/pipeline.py [--scale 1.0] [--workdir bench_out/pipeline] [--epochs 3]

Every stage runs as its real command. Peak memory is the largest resident set of the stage's
whole process tree (Python, the Spark JVM, torchrun's workers), sampled every 0.2 s. In the same
run, the "Spark floor" (bench/spark_floor.py: read, number ids, map endpoints, write) is the
baseline for gsprocessing: the ratio ours/floor is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Dict, Optional

import psutil

ROOT = Path(__file__).resolve().parents[1]


def measure(cmd, extra_env: Optional[Dict[str, str]] = None) -> tuple:
    """Run ``cmd`` (with ``extra_env`` added to the environment); return its wall seconds, the
    peak resident memory of its process tree (bytes) and the CPU seconds of that tree (each
    process's user + system time, sampled every 0.2 s while it runs: a process that lives less
    than that may be missed)."""
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               **(extra_env or {}))
    start = time.perf_counter()
    proc = psutil.Popen(cmd, env=env, stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    peak, cpu, procs = 0, {}, []
    while proc.poll() is None:
        try:
            procs = [proc] + proc.children(recursive=True)
        except psutil.Error:
            pass
        rss = 0
        for p in procs:
            try:
                rss += p.memory_info().rss
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
            except psutil.Error:  # (it ended meanwhile)
                pass
        peak = max(peak, rss)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    _settle(procs[1:])
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}")
    return wall, peak, sum(cpu.values())


def _settle(children) -> None:
    """Let a finished command's leftovers end before the next command starts (not timed):
    PySpark's JVM outlives the Python process by a second or two, and the files it wrote are
    still to be flushed to disk. Without this, bench/process.py's rounds in which gm-process
    ran first measured ratios 0.15-0.2 higher than the others (design notes, stop 18)."""
    psutil.wait_procs([c for c in children if c.is_running()], timeout=60)
    os.sync()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--workdir", default="bench_out/pipeline")
    p.add_argument("--epochs", type=int, default=3)
    args = p.parse_args()
    work = Path(args.workdir).resolve()
    py = sys.executable
    torchrun = [py, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m", "training",
                "--config", str(ROOT / "configs/demo/train.yaml"), f"data.parts={work}/parts",
                f"output.model_dir={work}/model", f"output.predictions={work}/outputs",
                f"train.epochs={args.epochs}", "train.patience=0"]
    stages = [
        ("data", [py, "-m", "graphmill.demo", "data", "--out", f"{work}/data",
                  "--scale", str(args.scale)]),
        ("spark floor", [py, str(ROOT / "bench/spark_floor.py"), "--input", f"{work}/data",
                         "--output", f"{work}/floor"]),
        ("process", [py, "-m", "gsprocessing", "--config",
                     str(ROOT / "configs/demo/marketplace.json"), "--input-prefix",
                     f"{work}/data", "--output", f"{work}/processed", "--add-reverse-edges",
                     "--overwrite"]),
        ("partition", [py, "-m", "partition", "--input", f"{work}/processed", "--output",
                       f"{work}/parts", "--num-parts", "2", "--overwrite"]),
        (f"train ({args.epochs} epochs, 2 procs)", torchrun),
        ("predict (2 procs)", torchrun + ["mode=predict"]),
    ]
    print(f"demo data at scale {args.scale} ({int(args.scale * 1_000_000):,} edges before "
          f"reverse edges), workdir {work}")
    results = {}
    for name, cmd in stages:
        wall, peak, _ = measure(cmd)
        results[name] = wall
        print(f"  {name:<28} {wall:7.1f} s   peak {peak / 2**30:5.2f} GiB", flush=True)
    print(f"gsprocessing / spark floor: {results['process'] / results['spark floor']:.2f} "
          "(both include Spark's start-up)")


if __name__ == "__main__":
    main()
