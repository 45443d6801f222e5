"""The job config: a typed schema where every default lives, and a strict YAML reader.

Unknown or misspelled keys are errors (with a suggestion), wrong types are errors, and every
problem of a file is reported at once. ``key.sub=value`` overrides from the command line are
applied before checking, so they get the same checks.

A job file looks like (see configs/ for complete ones)::

    data: {parts: work/parts}
    task: {type: node_classification, node_type: paper}
    model: {gnn: sage, hidden: 128, fanout: [15, 10]}
    train: {epochs: 20, batch_size: 512, lr: 0.005}
    output: {model_dir: work/model, predictions: work/outputs}
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import yaml

from graphmill.errors import ConfigError, InputError, Problems


def _choice(default: Any, choices: Sequence[Any], help: str = "") -> Any:
    return field(default=default, metadata={"choices": list(choices), "help": help})


@dataclass
class DataConfig:
    parts: str                                   # parts/ directory (gm-partition output)


@dataclass
class TaskConfig:
    node_type: str                               # the node type whose labels are learned
    type: str = _choice("node_classification", ["node_classification"])
    label: Optional[str] = None                  # label column; default: the type's only label


@dataclass
class ModelConfig:
    gnn: str = _choice("sage", ["sage", "rgcn", "mlp"])  # mlp: features only, no edges
    hidden: int = 128
    num_layers: int = 2
    dropout: float = 0.5
    fanout: List[int] = field(default_factory=lambda: [15, 10])  # neighbours per edge type/hop


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 512
    eval_batch_size: int = 2048
    lr: float = 0.005
    weight_decay: float = 0.0005
    patience: int = 10                           # epochs without val improvement; 0 = never stop
    eval_every: int = 1
    seed: int = 42
    sampler: str = _choice("auto", ["auto", "builtin", "torch_sparse"])
    device: str = _choice("auto", ["auto", "cpu", "cuda"])


@dataclass
class OutputConfig:
    model_dir: str                               # checkpoints, metrics.jsonl, summary.json
    predictions: Optional[str] = None            # predictions/ and embeddings/ (mode: predict)
    predict_on: str = _choice("all", ["all", "train", "val", "test"])


@dataclass
class JobConfig:
    data: DataConfig
    task: TaskConfig
    output: OutputConfig
    mode: str = _choice("train", ["train", "predict"])
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def load_job_config(path: str, overrides: Sequence[str] = ()) -> JobConfig:
    """Read a YAML job file, apply ``key.sub=value`` overrides, check everything at once."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f) or {}
    except OSError as err:
        raise InputError(f"{path}: cannot read the job config: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise ConfigError(path, [f"not valid YAML: {err}"]) from None
    return parse_job_config(raw, path, overrides)


def parse_job_config(raw: Any, source: str, overrides: Sequence[str] = ()) -> JobConfig:
    problems = Problems(source)
    if not isinstance(raw, dict):
        problems.add("", "the job config must be a mapping of sections")
        problems.raise_if_any()
    raw = copy.deepcopy(raw)
    for item in overrides:
        _override(raw, item, problems)
    config = _build(JobConfig, raw, "", problems)
    if config is not None:
        _cross_check(config, problems)
    problems.raise_if_any()
    return config


def _override(raw: Dict[str, Any], item: str, problems: Problems) -> None:
    if "=" not in item:
        problems.add(f"override {item!r}", "expected key.sub=value, e.g. train.epochs=3")
        return
    key, value = item.split("=", 1)
    node = raw
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            problems.add(f"override {item!r}", f"'{part}' is not a section")
            return
    node[parts[-1]] = yaml.safe_load(value) if value.strip() else None


def _build(cls: type, raw: Any, where: str, problems: Problems) -> Any:
    if not isinstance(raw, dict):
        problems.add(where or "config", f"must be a mapping, found {raw!r}")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    problems.unknown_keys(where or "config", raw, fields)
    values = {}
    for name, f in fields.items():
        loc = f"{where}.{name}" if where else name
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if name not in raw:
            if required:
                problems.add(loc, "is required")
            continue
        value = _check(hints[name], raw[name], loc, problems)
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            problems.add(loc, f"must be one of {choices}, found {raw[name]!r}")
        values[name] = value
    try:
        return cls(**values)
    except TypeError:  # a required field was missing: already reported
        return None


def _check(hint: Any, value: Any, where: str, problems: Problems) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where, problems)
    if origin is typing.Union:  # Optional[X]
        if value is None:
            return None
        return _check(next(a for a in args if a is not type(None)), value, where, problems)
    if origin in (list, List):
        if not isinstance(value, list):
            problems.add(where, f"must be a list, found {value!r}")
            return value
        return [_check(args[0], v, f"{where}[{i}]", problems) for i, v in enumerate(value)]
    if hint is float and isinstance(value, str):
        # YAML 1.1 reads "1e-3" (no dot) as a string; take it as the number it obviously is.
        try:
            return float(value)
        except ValueError:
            pass
    ok = {int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          str: lambda v: isinstance(v, str),
          bool: lambda v: isinstance(v, bool)}[hint](value)
    if not ok:
        problems.add(where, f"must be {hint.__name__}, found {value!r}")
        return value
    return float(value) if hint is float else value


def _cross_check(c: JobConfig, problems: Problems) -> None:
    """Checks across fields; values that already failed their type check are skipped."""
    if c.mode == "predict" and c.output is not None and not c.output.predictions:
        problems.add("output.predictions", "is required when mode is 'predict'")
    m, t = c.model, c.train
    if m is None or t is None:
        return
    layers = _int(m.num_layers)
    if layers is not None and isinstance(m.fanout, list) and len(m.fanout) != layers:
        problems.add("model.fanout", f"needs one entry per layer: {layers} layers, "
                                     f"{len(m.fanout)} fanouts {m.fanout}")
    if isinstance(m.fanout, list) and any(_int(k) is not None and (k == 0 or k < -1)
                                          for k in m.fanout):
        problems.add("model.fanout", "each entry must be a positive number of neighbours, "
                                     "or -1 for all of them")
    positive = {"model.hidden": m.hidden, "model.num_layers": m.num_layers,
                "train.epochs": t.epochs, "train.batch_size": t.batch_size,
                "train.eval_batch_size": t.eval_batch_size, "train.eval_every": t.eval_every}
    for loc, value in positive.items():
        if _int(value) is not None and value < 1:
            problems.add(loc, f"must be at least 1, found {value}")
    if _int(t.patience) is not None and t.patience < 0:
        problems.add("train.patience", f"must be 0 (never stop early) or more, found {t.patience}")
    if isinstance(m.dropout, float) and not 0 <= m.dropout < 1:
        problems.add("model.dropout", f"must be in [0, 1), found {m.dropout}")
    if isinstance(t.lr, float) and t.lr <= 0:
        problems.add("train.lr", f"must be positive, found {t.lr}")


def _int(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
