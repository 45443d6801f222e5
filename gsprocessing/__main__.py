"""Command line of the gsprocessing stage.

    python -m gsprocessing --config graph.json --input-prefix DIR --output DIR
    gm-process ...                                   (the same, as a console script)
    spark-submit .../gsprocessing/__main__.py ...    (on a cluster; the package on --py-files)
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

from graphmill.cli import run_main, setup_logging
from graphmill.errors import InputError
from graphmill.spark import make_spark, parse_conf
from gsprocessing.config import parse_graph_config
from gsprocessing.pipeline import DANGLING_POLICIES, ProcessOptions, process

log = logging.getLogger("gsprocessing")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gm-process", description=__doc__.split("\n\n")[0].strip()
                                or "Turn input tables into a processed graph.")
    p.add_argument("--config", required=True,
                   help="graph config (GraphStorm GConstruct JSON); local path or URI")
    p.add_argument("--input-prefix", required=True,
                   help="directory or URI (s3://, gs://, hdfs://) the config's file paths are under")
    p.add_argument("--output", required=True, help="output directory or URI (processed/)")
    p.add_argument("--seed", type=int, default=42, help="seed of the train/val/test split")
    p.add_argument("--dangling", choices=DANGLING_POLICIES, default="error",
                   help="edges whose endpoint is not in its node table: fail (error, default) "
                        "or drop them and count them in report.json")
    p.add_argument("--add-reverse-edges", action="store_true",
                   help="also write every edge type reversed, as (dst, <rel>-rev, src)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                   help="extra Spark setting, repeatable")
    p.add_argument("--log-level", default="INFO")
    return p


def _read_config(path: str, spark=None) -> str:
    if "://" in path:
        from graphmill.hadoopfs import HadoopFS
        return HadoopFS(spark).read_text(path)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as err:
        raise InputError(f"{path}: cannot read the config: {err.strerror}") from None


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)

    def body() -> int:
        conf = parse_conf(args.spark_conf)
        spec = None
        if "://" not in args.config:  # check a local config before paying for Spark's start
            spec = parse_graph_config(_read_config(args.config), args.config)
        spark = make_spark("graphmill-gsprocessing", conf)
        if spec is None:
            spec = parse_graph_config(_read_config(args.config, spark), args.config)
        options = ProcessOptions(input_prefix=args.input_prefix, output=args.output,
                                 seed=args.seed, dangling=args.dangling,
                                 add_reverse_edges=args.add_reverse_edges,
                                 overwrite=args.overwrite)
        manifest = process(spark, spec, options)
        nodes = ", ".join(f"{k} {v.count}" for k, v in manifest.node_types.items())
        edges = ", ".join(f"{k} {v.count}" for k, v in manifest.edge_types.items())
        print(f"gm-process: wrote {args.output} in {manifest.timings.get('total_s')} s; "
              f"nodes: {nodes}; edges: {edges}")
        return 0

    return run_main(body, "gm-process")


if __name__ == "__main__":
    sys.exit(main())
