"""Names for per-node-type submodules."""

from typing import Dict, List


def module_keys(node_types: List[str]) -> Dict[str, str]:
    """``{type: "t<i>"}``: ModuleDict keys that are safe whatever the type is called
    (``nn.ModuleDict`` refuses names with dots)."""
    return {t: f"t{i}" for i, t in enumerate(sorted(node_types))}
