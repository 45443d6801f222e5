"""Command line of the gsprocessing stage.

    python -m gsprocessing --config graph.json --input-prefix DIR --output DIR
    gm-process ...                                   (the same, as a console script)
    spark-submit .../gsprocessing/__main__.py ...    (on a cluster; the package on --py-files)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Dict, List, Optional

from graphmill.cli import run_main, setup_logging
from graphmill.errors import ConfigError, InputError
from graphmill.hadoopfs import HadoopFS
from graphmill.spark import make_spark, parse_conf
from gsprocessing.config import parse_graph_config
from gsprocessing.config.schema import label_name
from gsprocessing import output as out
from gsprocessing.pipeline import DANGLING_POLICIES, DUPLICATE_POLICIES, ProcessOptions, process
from gsprocessing.steps import DEFAULT_LOCAL_ROWS

log = logging.getLogger("gsprocessing")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gm-process", description=__doc__.split("\n\n")[0].strip()
                                or "Turn input tables into a processed graph.")
    p.add_argument("--config", required=True,
                   help="graph config: GraphStorm GConstruct or GSProcessing JSON, or GraphMill "
                        "YAML (version: graphmill-v1); local path or URI")
    p.add_argument("--input-prefix", required=True,
                   help="directory or URI (s3://, gs://, hdfs://) the config's file paths are under")
    p.add_argument("--output", required=True, help="output directory or URI (processed/)")
    p.add_argument("--seed", type=int, default=42, help="seed of the train/val/test split")
    p.add_argument("--dangling", choices=DANGLING_POLICIES, default="error",
                   help="edges whose endpoint is not in its node table: fail (error, default), "
                        "drop them, or add the missing ids as nodes; counted in report.json")
    p.add_argument("--duplicates", choices=DUPLICATE_POLICIES, default="error",
                   help="a node id listed twice in its node table: fail (error, default) or "
                        "keep the first row (file-name order, then row order); counted")
    p.add_argument("--transforms-from", metavar="TRANSFORMS_JSON",
                   help="re-apply the fitted transforms (and label classes) of an earlier run "
                        "instead of fitting them: rows seen before get the same values")
    p.add_argument("--strict", action="store_true",
                   help="treat config warnings (e.g. a node type with no edges) as errors")
    p.add_argument("--add-reverse-edges", action="store_true",
                   help="also write every edge type reversed, as (dst, <rel>-rev, src)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--parallel", type=_positive, default=None, metavar="N",
                   help="node and edge types (and input tables) worked on at once (default: one "
                        "per core, at most 4; 1: one after another); the output does not "
                        "depend on it")
    p.add_argument("--local-rows", type=_count, default=DEFAULT_LOCAL_ROWS, metavar="N",
                   help="node tables up to N rows are finished in this process, without Spark "
                        "queries, when Spark runs in local mode (default %(default)s; 0: never); "
                        "the values written are those Spark computes (see the README)")
    p.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                   help="extra Spark setting, repeatable")
    p.add_argument("--log-level", default="INFO")
    return p


def _positive(text: str) -> int:
    return _whole(text, 1)


def _count(text: str) -> int:
    return _whole(text, 0)


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {least}, got {text!r}")
    return value


def _read_config(path: str, spark=None) -> str:
    if "://" in path:
        from graphmill.hadoopfs import HadoopFS
        return HadoopFS(spark).read_text(path)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as err:
        raise InputError(f"{path}: cannot read the config: {err.strerror}") from None


def _checked(spec, args):
    if args.strict and spec.warnings:
        raise ConfigError(args.config, [f"{w} (--strict)" for w in spec.warnings])
    return spec


def summary(path: str, manifest: out.Manifest, report: Dict[str, Any]) -> List[str]:
    """The printed summary: counts per type, then every data-quality finding of report.json."""
    lines = [f"gm-process: wrote {path} in {manifest.timings.get('total_s')} s"]
    for kind, infos in (("nodes", manifest.node_types), ("edges", manifest.edge_types)):
        for name, info in infos.items():
            if getattr(info, "reverse_of", None):  # no table or report of its own
                lines.append(f"  {kind}/{name}: {info.count}, the edges of {info.reverse_of} "
                             "reversed (same eids; no features or labels)")
                continue
            rep = report[kind].get(name, {})
            feats = ", ".join(f"{k}[{v.dim}]" for k, v in info.features.items()) or "-"
            lines.append(f"  {kind}/{name}: {info.count} written of {rep.get('rows_read', '-')} "
                         f"rows read; features {feats}")
            lines.extend(f"      {line}" for line in _findings(rep, info))
    lines.extend(f"  warning: {w}" for w in report.get("warnings", []))
    return lines


def _findings(rep: Dict[str, Any], info) -> List[str]:
    found = [f"{f}: {n} rows" for f, n in rep.get("rows_per_file", {}).items()
             if len(rep.get("rows_per_file", {})) > 1]
    if rep.get("nulls"):
        found.append("missing values: " + ", ".join(f"{c} {n}" for c, n in rep["nulls"].items()))
    if rep.get("null_ids_dropped"):
        found.append(f"rows without an id dropped: {rep['null_ids_dropped']}")
    if rep.get("duplicate_ids"):
        d = rep["duplicate_ids"]
        found.append(f"duplicate ids: {d['ids']} ({d['rows_dropped']} rows dropped), e.g. "
                     f"{d['examples']}")
    for end, d in rep.get("dangling", {}).items():
        found.append(f"dangling {end} endpoints dropped: {d['count']}, e.g. {d['examples']}")
    if rep.get("nodes_added"):
        found.append(f"nodes added from edge endpoints: {rep['nodes_added']}, e.g. "
                     f"{rep.get('nodes_added_examples', [])}")
    imputed = {f: n for f, n in rep.get("missing_values", {}).items() if n}
    if imputed:
        found.append("values imputed: " + ", ".join(f"{f} {n}" for f, n in imputed.items()))
    for f, n in rep.get("categories_capped", {}).items():
        found.append(f"feature {f}: {n} categories folded into OTHER (cap)")
    for f, n in rep.get("hard_negatives_unknown", {}).items():
        found.append(f"feature {f}: {n} hard-negative ids are not nodes (written as -1)")
    for label, n in rep.get("custom_split_unknown_ids", {}).items():
        found.append(f"label {label}: {n} custom split ids are not in the table (ignored)")
    for label in info.labels:
        s = label["split"]
        listed = f", labelled but in no split file {s['not_listed']}" if s.get("not_listed") \
            else ""
        found.append(f"label {label_name(label['column'], label['task'], label['masks'])}: "
                     f"train {s['train']}, val "
                     f"{s['val']}, test {s['test']}, unlabeled {s['unlabeled']}{listed}")
    return found


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)

    def body() -> int:
        conf = parse_conf(args.spark_conf)
        spec = None
        if "://" not in args.config:  # check a local config before paying for Spark's start
            spec = _checked(parse_graph_config(_read_config(args.config), args.config), args)
        spark = make_spark("graphmill-gsprocessing", conf)
        if spec is None:
            spec = _checked(parse_graph_config(_read_config(args.config, spark), args.config),
                            args)
        options = ProcessOptions(input_prefix=args.input_prefix, output=args.output,
                                 seed=args.seed, dangling=args.dangling,
                                 duplicates=args.duplicates,
                                 add_reverse_edges=args.add_reverse_edges,
                                 overwrite=args.overwrite, transforms_from=args.transforms_from,
                                 parallel=args.parallel, local_rows=args.local_rows)
        manifest = process(spark, spec, options)
        report = json.loads(HadoopFS(spark).read_text(f"{args.output}/{out.REPORT}"))
        print("\n".join(summary(args.output, manifest, report)))
        return 0

    return run_main(body, "gm-process")


if __name__ == "__main__":
    sys.exit(main())
