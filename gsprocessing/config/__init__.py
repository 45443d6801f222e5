"""Graph configs: dialect readers that compile to the typed :class:`GraphSpec`."""

from __future__ import annotations

import json
from typing import Any

from graphmill.errors import ConfigError
from gsprocessing.config.gconstruct import read_gconstruct
from gsprocessing.config.schema import EdgeSpec, FeatureSpec, GraphSpec, LabelSpec, NodeSpec


def parse_graph_config(text: str, source: str) -> GraphSpec:
    """Parse a config file's text, detect its dialect and compile it.

    Raises:
        ConfigError: the text is not JSON, the dialect is not supported, or the config has problems.
    """
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(source, [f"not valid JSON: {err}"]) from None
    version = raw.get("version", "") if isinstance(raw, dict) else ""
    if isinstance(version, str) and version.startswith("gsprocessing"):
        raise ConfigError(source, ["the GSProcessing dialect is not supported yet "
                                   "(GraphMill issue #3 adds it); use the GConstruct dialect"])
    return read_gconstruct(raw, source)


__all__ = ["parse_graph_config", "GraphSpec", "NodeSpec", "EdgeSpec", "FeatureSpec", "LabelSpec"]
