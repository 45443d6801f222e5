"""Graph configs: three dialect readers that compile to the one typed :class:`GraphSpec`.

- GraphStorm's GConstruct JSON (``nodes``/``edges`` with ``node_type``, ``files``, ...);
- GraphStorm's GSProcessing JSON (``version: gsprocessing-v...``, ``graph: {nodes, edges}``);
- GraphMill's own YAML/JSON (``version: graphmill-v1``), the clearest of the three.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from graphmill.errors import ConfigError
from gsprocessing.config.gconstruct import read_gconstruct
from gsprocessing.config.gsprocessing import is_gsprocessing, read_gsprocessing
from gsprocessing.config.native import is_native, read_native
from gsprocessing.config.schema import EdgeSpec, FeatureSpec, GraphSpec, LabelSpec, NodeSpec


def parse_graph_config(text: str, source: str) -> GraphSpec:
    """Parse a config file's text (JSON, or YAML for ``.yaml``/``.yml``), detect its dialect and
    compile it.

    Raises:
        ConfigError: the text does not parse, or the config has problems (all of them).
    """
    raw: Any
    if source.lower().endswith((".yaml", ".yml")):
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConfigError(source, [f"not valid YAML: {err}"]) from None
    else:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(source, [f"not valid JSON: {err}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError(source, [f"the config must be an object (mapping), found "
                                   f"{type(raw).__name__}"])
    if is_gsprocessing(raw):
        return read_gsprocessing(raw, source)
    if is_native(raw):
        return read_native(raw, source)
    return read_gconstruct(raw, source)


__all__ = ["parse_graph_config", "GraphSpec", "NodeSpec", "EdgeSpec", "FeatureSpec", "LabelSpec"]
