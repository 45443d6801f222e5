"""Feature transforms: one file per transform, one line per transform in ``TRANSFORMS``.

Names are those of GraphStorm's GConstruct dialect, so its configs work as they are, plus the
GSProcessing names that are a transform of their own (``numerical``, ``categorical``, ...);
:func:`gsprocessing.transforms.aliases.from_gsprocessing` translates the rest of that dialect.
"""

from __future__ import annotations

import inspect
from typing import Any, Dict, Mapping

from graphmill.errors import did_you_mean
from gsprocessing.transforms.base import State, Transform
from gsprocessing.transforms.bucket import BucketNumerical, BucketNumericalGSP
from gsprocessing.transforms.categorical import Categorical, MultiCategorical, ToCategorical
from gsprocessing.transforms.hf import BertHF, EmbeddingHF, TokenizeHF
from gsprocessing.transforms.hard_negative import EdgeDstHardNegative
from gsprocessing.transforms.noop import NoOp
from gsprocessing.transforms.numerical import MaxMinNorm, MultiNumerical, Numerical, Standard
from gsprocessing.transforms.rank_gauss import RankGauss

TRANSFORMS: Dict[str, type] = {
    "no-op": NoOp,
    "max_min_norm": MaxMinNorm,
    "standard": Standard,
    "rank_gauss": RankGauss,
    "bucket_numerical": BucketNumerical,
    "to_categorical": ToCategorical,
    "numerical": Numerical,                 # GSProcessing names from here
    "multi-numerical": MultiNumerical,
    "bucket-numerical": BucketNumericalGSP,
    "categorical": Categorical,
    "multi-categorical": MultiCategorical,
    "tokenize_hf": TokenizeHF,
    "bert_hf": BertHF,
    "embedding_hf": EmbeddingHF,
    "edge_dst_hard_negative": EdgeDstHardNegative,
}


def make_transform(name: str, params: Mapping[str, Any]) -> Transform:
    """Build a transform from its config name and parameters.

    Raises:
        ValueError: unknown name, unknown parameter or bad value, with what is allowed.
    """
    cls = TRANSFORMS.get(name)
    if cls is None:
        raise ValueError(f"unknown transform '{name}'{did_you_mean(name, TRANSFORMS)}; "
                         f"known: {', '.join(sorted(TRANSFORMS))}")
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = [k for k in params if k not in allowed]
    if unknown:
        hints = "".join(did_you_mean(k, allowed) for k in unknown)
        raise ValueError(f"transform '{name}' has no parameter(s) {unknown}{hints}; "
                         f"allowed: {', '.join(allowed) or 'none'}")
    return cls(**params)


__all__ = ["TRANSFORMS", "State", "Transform", "make_transform"]
