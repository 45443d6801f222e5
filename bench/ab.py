"""Benchmark: gm-process from two (or more) source trees, in ABBA rounds, on the demo tables.

    python bench/ab.py --scale 10 --rounds 4 /path/to/old-worktree /path/to/this-checkout

Each tree is a checkout of GraphMill (``git worktree add ../base <commit>``); each run imports
gsprocessing and graphmill from its own tree (``sys.path.insert(0, tree)`` before anything is
imported: ``bench/pipeline.measure`` puts this checkout first on ``PYTHONPATH``, so setting
``PYTHONPATH`` to the tree would run this checkout every time). Rounds alternate the order
(A B, then B A, ...), since what runs second in a pair can be faster or slower for what the
first left behind. Printed: each run, then per tree the mean wall and CPU seconds and the
median wall time; the last line is each tree's mean against the first's. Uses the tables that
``bench/process.py`` writes (``bench_out/process/scale<S>/data``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import ROOT, measure  # noqa: E402  (bench/ is not a package)


def command(tree: Path, data: Path, output: Path) -> list:
    """gm-process on the demo config, importing the code of ``tree`` first."""
    boot = (f"import sys; sys.path.insert(0, {str(tree)!r}); import runpy; "
            "runpy.run_module('gsprocessing', run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", boot, "--config", str(tree / "configs/demo/marketplace.json"),
            "--input-prefix", str(data), "--output", str(output), "--add-reverse-edges",
            "--overwrite"]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("trees", nargs="+", type=Path)
    p.add_argument("--scale", default="10")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--workdir", default=str(ROOT / "bench_out" / "process"))
    args = p.parse_args()
    work = Path(args.workdir) / f"scale{args.scale}"
    if not (work / "data").exists():
        sys.exit(f"no tables in {work / 'data'}: run bench/process.py --scales {args.scale} "
                 "once, or python -m graphmill.demo data --out DIR --scale S")
    trees = [t.resolve() for t in args.trees]
    runs = {t: [] for t in trees}
    for r in range(args.rounds):
        for tree in (trees if r % 2 == 0 else trees[::-1]):
            wall, _, cpu = measure(command(tree, work / "data", work / "ab-out"))
            runs[tree].append((wall, cpu))
            print(f"round {r + 1} {tree}: {wall:6.1f} s {cpu:6.1f} CPU-s", flush=True)
    for tree, xs in runs.items():
        print(f"{tree}: mean {statistics.mean(w for w, _ in xs):.1f} s "
              f"{statistics.mean(c for _, c in xs):.1f} CPU-s, median "
              f"{statistics.median(w for w, _ in xs):.1f} s")
    base = statistics.mean(w for w, _ in runs[trees[0]])
    print("mean against the first tree: " + ", ".join(
        f"{t.name} {statistics.mean(w for w, _ in runs[t]) / base:.3f}" for t in trees))


if __name__ == "__main__":
    main()
