"""Benchmark: an HDF5 node table against the same table as Parquet, through gm-process.

    python bench/hdf5.py [--rows 500000] [--dim 64] [--files 2] [--repeat 2]

One node type (an int id, a ``dim``-wide float32 embedding, a class label) in ``files`` files,
written once as HDF5 and once as Parquet, and one small edge table. Each round runs gm-process
on both, in alternating order (``bench/pipeline.measure``: wall, peak memory, CPU of the process
tree); printed: each run, and the ratio HDF5/Parquet of the medians. Parquet is Spark's native
input, read in splits with no Python worker: the baseline HDF5 (read by Python workers, then
copied once into the scratch space) is held against.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import ROOT, measure  # noqa: E402


def write_inputs(root: Path, rows: int, dim: int, files: int) -> None:
    import h5py

    rng = np.random.default_rng(0)
    (root / "h5").mkdir(parents=True, exist_ok=True)
    (root / "pq").mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, rows, files + 1).astype(int)
    for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        ids = np.arange(lo, hi, dtype=np.int64)
        emb = rng.standard_normal((hi - lo, dim)).astype(np.float32)
        y = rng.integers(0, 10, hi - lo)
        with h5py.File(root / "h5" / f"{k:03d}.h5", "w") as f:
            f["id"], f["emb"], f["y"] = ids, emb, y
        pq.write_table(pa.table({"id": ids, "emb": pa.FixedSizeListArray.from_arrays(
            pa.array(emb.ravel()), dim).cast(pa.list_(pa.float32())), "y": y}),
            root / "pq" / f"{k:03d}.parquet")
    n_edges = rows * 2
    pq.write_table(pa.table({"s": rng.integers(0, rows, n_edges),
                             "d": rng.integers(0, rows, n_edges)}), root / "edges.parquet")
    for fmt, folder in (("hdf5", "h5"), ("parquet", "pq")):
        (root / f"{fmt}.json").write_text(json.dumps({
            "nodes": [{"node_type": "n", "format": {"name": fmt}, "files": folder,
                       "node_id_col": "id", "features": [{"feature_col": "emb"}],
                       "labels": [{"label_col": "y", "task_type": "classification"}]}],
            "edges": [{"relation": ["n", "e", "n"], "format": {"name": "parquet"},
                       "files": "edges.parquet", "source_id_col": "s", "dest_id_col": "d"}]}))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=500_000)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--files", type=int, default=2)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--workdir", default=str(ROOT / "bench_out" / "hdf5"))
    args = p.parse_args()
    root = Path(args.workdir)
    write_inputs(root, args.rows, args.dim, args.files)
    times = {"hdf5": [], "parquet": []}
    for r in range(args.repeat):
        for fmt in (("hdf5", "parquet") if r % 2 == 0 else ("parquet", "hdf5")):
            cmd = [sys.executable, "-m", "gsprocessing", "--config", str(root / f"{fmt}.json"),
                   "--input-prefix", str(root), "--output", str(root / f"out-{fmt}"),
                   "--overwrite"]
            wall, peak, cpu = measure(cmd)
            times[fmt].append(wall)
            print(f"round {r + 1} {fmt:8s} {wall:6.1f} s  {cpu:6.1f} CPU-s  "
                  f"peak {peak / 2**30:.2f} GiB", flush=True)
    h5, base = statistics.median(times["hdf5"]), statistics.median(times["parquet"])
    print(f"{args.rows} rows x {args.dim} float32 in {args.files} files: HDF5 {h5:.1f} s, "
          f"Parquet {base:.1f} s (medians), ratio HDF5/Parquet {h5 / base:.2f}")


if __name__ == "__main__":
    main()
