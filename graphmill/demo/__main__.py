"""gm-demo: the whole GraphMill path on the built-in marketplace data, with a summary.

    gm-demo                      data → gm-process → gm-partition (2 parts) →
                                 torchrun --nproc-per-node 2 train → predict, then a summary
    gm-demo data --out DIR       only write the demo tables (for your own experiments)

Every stage runs as its real command, exactly as a user would type it; the commands are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import pyarrow.parquet as pq

from graphmill.demo.marketplace import FORMATS, generate


def _configs_dir(given: Optional[str]) -> Path:
    path = Path(given) if given else Path(__file__).resolve().parents[2] / "configs" / "demo"
    if not (path / "marketplace.json").exists():
        sys.exit(f"gm-demo: error: demo configs not found in {path}; run from a GraphMill "
                 "checkout or pass --configs DIR")
    return path


def _run(cmd: List[str], timings: Dict[str, float], name: str) -> None:
    print(f"\n$ {' '.join(shlex.quote(c) for c in cmd)}", flush=True)
    t0 = time.time()
    result = subprocess.run(cmd)
    timings[name] = round(time.time() - t0, 1)
    if result.returncode != 0:
        sys.exit(f"gm-demo: error: step '{name}' failed (exit code {result.returncode})")


def run_demo(args: argparse.Namespace) -> int:
    work = Path(args.workdir).resolve()
    configs = _configs_dir(args.configs)
    timings: Dict[str, float] = {}
    py = sys.executable
    t0 = time.time()
    counts = generate(str(work / "data"), scale=args.scale, seed=args.seed)
    timings["data"] = round(time.time() - t0, 1)
    print(f"demo data: {counts} in {work / 'data'}")
    _run([py, "-m", "gsprocessing", "--config", str(configs / "marketplace.json"),
          "--input-prefix", str(work / "data"), "--output", str(work / "processed"),
          "--add-reverse-edges", "--overwrite"], timings, "process")
    _run([py, "-m", "partition", "--input", str(work / "processed"), "--output",
          str(work / "parts"), "--num-parts", str(args.nproc), "--overwrite"],
         timings, "partition")
    torchrun = [py, "-m", "torch.distributed.run", "--nproc-per-node", str(args.nproc),
                "-m", "training", "--config", str(configs / "train.yaml"),
                f"data.parts={work / 'parts'}", f"output.predictions={work / 'outputs'}"]
    _run(torchrun + [f"output.model_dir={work / 'model'}"], timings, "train")
    _run(torchrun + [f"output.model_dir={work / 'model'}", "mode=predict"], timings, "predict")
    if args.baseline:
        _run(torchrun + [f"output.model_dir={work / 'model_mlp'}", "model.gnn=mlp"], timings,
             "train_mlp")
    print(summary(work, timings, args.baseline))
    return 0


def summary(work: Path, timings: Dict[str, float], baseline: bool) -> str:
    """The closing report: graph size, partition quality, metrics, where the outputs are."""
    manifest = json.loads((work / "processed" / "manifest.json").read_text())
    meta = json.loads((work / "parts" / "META.json").read_text())
    result = json.loads((work / "model" / "summary.json").read_text())
    preds = pq.read_table(work / "outputs" / "predictions" / "item")
    lines = ["", "=" * 72, "GraphMill demo: predict a marketplace item's category", "=" * 72]
    lines.append("nodes: " + ", ".join(f"{t} {v['count']:,}"
                                       for t, v in manifest["node_types"].items()))
    lines.append("edges: " + ", ".join(f"{t} {v['count']:,}"
                                       for t, v in manifest["edge_types"].items()))
    lines.append(f"parts: {meta['num_parts']} ({meta['algorithm']}), edge cut "
                 f"{meta['quality']['edge_cut']:.3f}")
    lines.append(f"GNN ({result['world_size']} processes): best epoch {result['best_epoch']}, "
                 f"val accuracy {result['val_accuracy']:.3f}, test accuracy "
                 f"{result['test_accuracy']:.3f}")
    if baseline:
        mlp = json.loads((work / "model_mlp" / "summary.json").read_text())
        lines.append(f"features-only MLP baseline: test accuracy {mlp['test_accuracy']:.3f}")
    lines.append(f"predictions: {preds.num_rows:,} items in {work / 'outputs'}, keyed by item_id,"
                 f" e.g. {preds.slice(0, 1).to_pylist()[0]}")
    lines.append(f"model: {work / 'model'}")
    lines.append("seconds: " + ", ".join(f"{k} {v}" for k, v in timings.items())
                 + f"; total {sum(timings.values()):.0f}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gm-demo", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run every stage on the demo data (the default)")
    data = sub.add_parser("data", help="only write the demo tables")
    for q in (p, run):
        q.add_argument("--workdir", default="work/demo", help="where everything is written")
        q.add_argument("--scale", type=float, default=0.1,
                       help="size: 1.0 = 1M edges (default 0.1)")
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--nproc", type=int, default=2, help="training processes (and parts)")
        q.add_argument("--configs", default=None, help="folder with marketplace.json, train.yaml")
        q.add_argument("--no-baseline", dest="baseline", action="store_false",
                       help="skip the features-only MLP baseline")
    data.add_argument("--out", required=True)
    data.add_argument("--scale", type=float, default=0.1)
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--format", choices=FORMATS, default="mixed")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "data":
        counts = generate(args.out, scale=args.scale, seed=args.seed, fmt=args.format)
        print(f"gm-demo data: wrote {counts} to {args.out}")
        return 0
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    return run_demo(args)


if __name__ == "__main__":
    sys.exit(main())
