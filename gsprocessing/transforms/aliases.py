"""GSProcessing's ``transformation`` objects ({``name``, ``kwargs``}) as GraphMill transforms.

:func:`from_gsprocessing` returns the name of a ``TRANSFORMS`` entry and its constructor
parameters. The caller removes ``out_dtype`` from the kwargs first (it is a feature setting here).

===========================  ==========================================================
GSProcessing name            GraphMill transform and parameters
===========================  ==========================================================
``no-op``                    ``no-op`` (``separator``, ``truncate_dim``)
``numerical``                ``numerical`` (``imputer``, ``normalizer``, ``epsilon``, ...)
``multi-numerical``          ``multi-numerical`` (``imputer``, ``normalizer``, ``separator``)
``bucket-numerical``         ``bucket-numerical`` (``range``, ``bucket_cnt``, ...)
``categorical``              ``categorical`` (GraphMill adds ``order``, ``max_categories``, ...)
``multi-categorical``        ``multi-categorical`` (``separator``, ...)
``huggingface``              ``tokenize_hf`` (action ``tokenize_hf``) or ``bert_hf`` (action
                             ``embedding_hf``), ``{bert_model: hf_model, max_seq_length}``
``edge_dst_hard_negative``   ``edge_dst_hard_negative`` (``separator``)
===========================  ==========================================================

The names that are the same transform here accept the kwargs of its constructor: those
GSProcessing documents and GraphMill's additions. Values are checked by the constructor.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Mapping, Tuple

from graphmill.errors import did_you_mean
from gsprocessing.transforms import TRANSFORMS

# GSProcessing names that are a GraphMill transform of the same name and parameters.
SAME = ("no-op", "numerical", "multi-numerical", "bucket-numerical", "categorical",
        "multi-categorical")
HF_ACTIONS = {"tokenize_hf": "tokenize_hf", "embedding_hf": "bert_hf"}


def from_gsprocessing(name: str, kwargs: Mapping[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """Translate a GSProcessing transformation into a ``TRANSFORMS`` name and its parameters.

    Args:
        name: the transformation's ``name``.
        kwargs: its ``kwargs``, without ``out_dtype``.

    Raises:
        ValueError: an unknown name or kwarg (with the known ones and the closest match), or a
            required kwarg missing.
    """
    translate = _TRANSLATORS.get(name)
    if translate is None:
        raise ValueError(f"unknown GSProcessing transformation '{name}'"
                         f"{did_you_mean(name, _TRANSLATORS)}; known: "
                         f"{', '.join(sorted(_TRANSLATORS))}")
    if not isinstance(kwargs, Mapping):
        raise ValueError(f"the kwargs of transformation '{name}' must be an object, got "
                         f"{type(kwargs).__name__}")
    return translate(name, dict(kwargs))


def _check_keys(name: str, kwargs: Mapping[str, Any], allowed: List[str],
                required: Tuple[str, ...] = ()) -> None:
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        hints = "".join(did_you_mean(k, allowed) for k in unknown)
        raise ValueError(f"transformation '{name}' has no kwarg(s) {unknown}{hints}; "
                         f"allowed: {', '.join(allowed) or 'none'}")
    absent = [k for k in required if k not in kwargs]
    if absent:
        raise ValueError(f"transformation '{name}' needs kwarg(s) {absent}")


def _same(name: str, kwargs: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    allowed = [p for p in inspect.signature(TRANSFORMS[name].__init__).parameters if p != "self"]
    _check_keys(name, kwargs, allowed)
    return name, kwargs


def _huggingface(name: str, kwargs: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    _check_keys(name, kwargs, ["action", "hf_model", "max_seq_length"],
                required=("action", "hf_model", "max_seq_length"))
    action = kwargs["action"]
    if action not in HF_ACTIONS:
        raise ValueError(f"transformation '{name}': action must be one of {sorted(HF_ACTIONS)}, "
                         f"got {action!r}{did_you_mean(str(action), HF_ACTIONS)}")
    return HF_ACTIONS[action], {"bert_model": kwargs["hf_model"],
                                "max_seq_length": kwargs["max_seq_length"]}


def _hard_negative(name: str, kwargs: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    _check_keys(name, kwargs, ["separator"])
    return name, dict(kwargs)


_TRANSLATORS: Dict[str, Callable[[str, Dict[str, Any]], Tuple[str, Dict[str, Any]]]] = {
    **{n: _same for n in SAME},
    "huggingface": _huggingface,
    "edge_dst_hard_negative": _hard_negative,
}
