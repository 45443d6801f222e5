"""Benchmark: gsprocessing against the "Spark floor" on the demo tables, at 1M and 10M edges.

    python bench/process.py [--scales 1 10] [--workdir bench_out/process] [--repeat 1]

The demo config has numerical (max_min_norm), categorical, multi-categorical (a separator) and
label columns; with --add-reverse-edges as in the demo. In the same run and on the same tables,
bench/spark_floor.py reads the tables, numbers the ids, maps both endpoints with one join each and
writes Parquet: the least any processing job on them could cost. Both are real commands (each
pays Spark's start-up); wall time and peak resident memory of the whole process tree are printed
with the ratio ours / floor (target: at most 1.3).

With --repeat N the two run in turns (floor, ours, floor, ours, ...): the best time of each
gives the ratio, and the median of the N ratios of neighbouring runs is printed beside it. On a
shared 2-core machine single runs move by 10-20%; runs next to each other share the slow or
fast spell.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import ROOT, measure  # noqa: E402  (bench/ is not a package)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0],
                   help="demo scale: 1.0 = 1M edges")
    p.add_argument("--workdir", default="bench_out/process")
    p.add_argument("--repeat", type=int, default=1, help="runs of each command (best is kept)")
    args = p.parse_args()
    py = sys.executable
    for scale in args.scales:
        work = Path(args.workdir).resolve() / f"scale{scale:g}"
        measure([py, "-m", "graphmill.demo", "data", "--out", f"{work}/data", "--scale",
                 str(scale)])
        floor_cmd = [py, str(ROOT / "bench/spark_floor.py"), "--input", f"{work}/data",
                     "--output", f"{work}/floor"]
        ours_cmd = [py, "-m", "gsprocessing", "--config",
                    str(ROOT / "configs/demo/marketplace.json"), "--input-prefix",
                    f"{work}/data", "--output", f"{work}/processed", "--add-reverse-edges",
                    "--overwrite"]
        pairs = [(measure(floor_cmd), measure(ours_cmd)) for _ in range(args.repeat)]
        floor = min((f for f, _ in pairs), key=lambda r: r[0])
        ours = min((o for _, o in pairs), key=lambda r: r[0])
        line = (f"{int(scale * 1_000_000):>11,} edges  spark floor {floor[0]:7.1f} s "
                f"{floor[1] / 2**30:5.2f} GiB   gsprocessing {ours[0]:7.1f} s "
                f"{ours[1] / 2**30:5.2f} GiB   ours/floor {ours[0] / floor[0]:.2f}")
        if args.repeat > 1:
            ratios = [o[0] / f[0] for f, o in pairs]
            line += (f" (median of {len(ratios)} neighbouring pairs "
                     f"{statistics.median(ratios):.2f}: {' '.join(f'{r:.2f}' for r in ratios)})")
        print(line, flush=True)


if __name__ == "__main__":
    main()
