"""Command line of the partition stage.

    python -m partition --input processed/ --output parts/ --num-parts 2 --algorithm random --seed 0
    gm-partition ...                                  (the same, as a console script)
    spark-submit .../partition/__main__.py ...        (on a cluster; the package on --py-files)
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from graphmill.cli import run_main, setup_logging
from graphmill.spark import make_spark, parse_conf
from partition.algorithms import ALGORITHMS
from partition.writer import partition_graph


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gm-partition",
                                description="Split a processed graph into parts for training.")
    p.add_argument("--input", required=True, help="processed/ directory or URI (gsprocessing output)")
    p.add_argument("--output", required=True, help="parts/ directory or URI to write")
    p.add_argument("--num-parts", type=int, required=True, help="number of parts")
    p.add_argument("--algorithm", choices=sorted(ALGORITHMS), default="random")
    p.add_argument("--seed", type=int, default=0, help="seed of the assignment")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                   help="extra Spark setting, repeatable")
    p.add_argument("--log-level", default="INFO")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)

    def body() -> int:
        spark = make_spark("graphmill-partition", parse_conf(args.spark_conf))
        meta = partition_graph(spark, args.input, args.output, args.num_parts, args.algorithm,
                               args.seed, args.overwrite)
        print(f"gm-partition: wrote {args.num_parts} parts to {args.output}; "
              f"edge cut {meta.quality['edge_cut']:.3f}; node balance "
              f"{meta.quality['node_balance']}")
        return 0

    return run_main(body, "gm-partition")


if __name__ == "__main__":
    sys.exit(main())
