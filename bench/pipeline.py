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
from typing import Dict, List, Optional, Sequence

import psutil

ROOT = Path(__file__).resolve().parents[1]


def measure(cmd, extra_env: Optional[Dict[str, str]] = None) -> tuple:
    """Run ``cmd`` (with ``extra_env`` added to the environment); return its wall seconds, the
    peak resident memory of its process tree (bytes) and the CPU seconds of that tree (each
    process's user + system time, sampled every 0.2 s while it runs: a process that lives less
    than that may be missed)."""
    return measure_together([cmd], [extra_env])[0]


def measure_together(cmds: Sequence[list], extra_envs: Optional[Sequence] = None,
                     cores: Optional[Sequence[int]] = None) -> List[tuple]:
    """Run ``cmds`` at once, each as :func:`measure` does; return (wall s, peak bytes, CPU s)
    per command. ``cores``: pin the i-th command's whole process tree to CPU ``cores[i]``
    (Spark's ``local[*]`` and the JVM's JIT then size themselves to that one core).

    Pinned pairs compare two commands under the same spell of the machine: on this shared
    2-core host the speed drifts by up to a factor of 2 within an hour, so two commands run
    minutes apart differ by more than most changes do (design notes, stop 26). Not shared:
    the one that ends first exits and flushes its files while the other runs (the kernel's
    flushing is not pinned), and the other then runs its end alone. A command that fails
    stops the others at once."""
    extra_envs = list(extra_envs or [None] * len(cmds))
    procs, start = [], time.perf_counter()
    for i, cmd in enumerate(cmds):
        env = dict(os.environ, OMP_NUM_THREADS="1",
                   PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
                   **(extra_envs[i] or {}))
        pin = None if cores is None else (lambda core=cores[i]: os.sched_setaffinity(0, {core}))
        procs.append(psutil.Popen(cmd, env=env, stdout=open(os.devnull, "w"),
                                  stderr=open(os.devnull, "w"), preexec_fn=pin))
    walls: List[Optional[float]] = [None] * len(cmds)
    peaks, cpus, trees = [0] * len(cmds), [{} for _ in cmds], [[p] for p in procs]
    while any(w is None for w in walls):
        for i, proc in enumerate(procs):
            if walls[i] is not None:
                continue
            if proc.poll() is not None:
                walls[i] = time.perf_counter() - start
                if proc.returncode != 0:
                    _stop([p for j, p in enumerate(procs) if walls[j] is None])
                    sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmds[i]))}")
                continue
            try:
                trees[i] = [proc] + proc.children(recursive=True)
            except psutil.Error:
                pass
            rss = 0
            for p in trees[i]:
                try:
                    rss += p.memory_info().rss
                    times = p.cpu_times()
                    cpus[i][p.pid] = times.user + times.system
                except psutil.Error:  # (it ended meanwhile)
                    pass
            peaks[i] = max(peaks[i], rss)
        time.sleep(0.2)
    for tree in trees:
        _settle(tree[1:])
    return [(w, peak, sum(cpu.values())) for w, peak, cpu in zip(walls, peaks, cpus)]


def pinned_cores(round_index: int) -> List[int]:
    """The two CPUs of a pinned pair (:func:`measure_together`), swapped every round, so that
    neither command always has the same one: the first two this process may use that are on
    different physical cores (two hyper-threads of one core would slow each other down); exits
    when there are not two such."""
    chosen, seen = [], set()
    for cpu in sorted(os.sched_getaffinity(0)):
        core = _physical_core(cpu)
        if core not in seen:
            seen.add(core)
            chosen.append(cpu)
    if len(chosen) < 2:
        sys.exit("pinned pairs need two physical cores")
    return [chosen[round_index % 2], chosen[1 - round_index % 2]]


def _physical_core(cpu: int) -> tuple:
    """(package, core) of a CPU as Linux reports it; the CPU itself where it does not."""
    topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
    try:
        return ((topology / "physical_package_id").read_text().strip(),
                (topology / "core_id").read_text().strip())
    except OSError:
        return ("cpu", str(cpu))


def _stop(procs) -> None:
    """End the process trees of ``procs`` (the commands still running when one failed)."""
    victims = []
    for proc in procs:
        try:
            victims += [proc] + proc.children(recursive=True)
        except psutil.Error:
            pass
    for p in victims:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(victims, timeout=10)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass


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
