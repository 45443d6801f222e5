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

With --pinned (two trees) each round runs both at once, each pinned to a core of its own
(swapped every round), so both see the same spell of this shared machine. Two runs of one
tree (an A/A test, stop 26) then differed by 0.975-1.027 at 10M (4 rounds) and 0.97-1.10 at 1M
(4 rounds), where 2-core runs minutes apart spread by 20% and more. It is each tree on one
core: a change that helps only when two cores share the work does not show.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import ROOT, measure, measure_together, pinned_cores  # noqa: E402  (bench/ is not a package)


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
    p.add_argument("--pinned", action="store_true",
                   help="two trees: run them at once, each on a core of its own")
    args = p.parse_args()
    if args.pinned and len(args.trees) != 2:
        sys.exit("--pinned compares two trees")
    work = Path(args.workdir) / f"scale{args.scale}"
    if not (work / "data").exists():
        sys.exit(f"no tables in {work / 'data'}: run bench/process.py --scales {args.scale} "
                 "once, or python -m graphmill.demo data --out DIR --scale S")
    trees = [t.resolve() for t in args.trees]
    runs = [[] for _ in trees]  # (wall, CPU) per run, per tree (the same tree twice: an A/A test)
    for r in range(args.rounds):
        if args.pinned:
            results = measure_together(
                [command(t, work / "data", work / f"ab-out{i}") for i, t in enumerate(trees)],
                cores=pinned_cores(r))
            for i, (wall, _, cpu) in enumerate(results):
                runs[i].append((wall, cpu))
                print(f"round {r + 1} #{i} {trees[i]}: {wall:6.1f} s {cpu:6.1f} CPU-s", flush=True)
            continue
        for i in (range(len(trees)) if r % 2 == 0 else reversed(range(len(trees)))):
            tree = trees[i]
            wall, _, cpu = measure(command(tree, work / "data", work / "ab-out"))
            runs[i].append((wall, cpu))
            print(f"round {r + 1} #{i} {tree}: {wall:6.1f} s {cpu:6.1f} CPU-s", flush=True)
    for i, (tree, xs) in enumerate(zip(trees, runs)):
        print(f"#{i} {tree}: mean {statistics.mean(w for w, _ in xs):.1f} s "
              f"{statistics.mean(c for _, c in xs):.1f} CPU-s, median "
              f"{statistics.median(w for w, _ in xs):.1f} s")
    base = statistics.mean(w for w, _ in runs[0])
    print("mean against the first tree: " + ", ".join(
        f"#{i} {t.name} {statistics.mean(w for w, _ in xs) / base:.3f}"
        for i, (t, xs) in enumerate(zip(trees, runs))))
    if args.pinned:  # the rounds' own ratios: both runs of a round shared its spell
        ratios = [b[0] / a[0] for a, b in zip(*runs)]
        print("rounds (second / first): " + " ".join(f"{x:.3f}" for x in ratios)
              + f"; median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
