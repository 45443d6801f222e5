"""Hugging Face text transforms: ``tokenize_hf`` and ``bert_hf`` (alias ``embedding_hf``).

- ``tokenize_hf`` (GConstruct): token ids, attention mask and token type ids of a text column,
  each an ``int64`` array of width ``max_seq_length`` (truncated, padded with the tokenizer's pad
  token). The three outputs are named ``input_ids``, ``attention_mask`` and ``token_type_ids``
  whatever the feature is called, as in GraphStorm (its LM encoders look them up by these names),
  so one table holds at most one tokenized text column. A tokenizer that makes no token type ids
  gives zeros (as in GraphStorm). GraphStorm stores the two masks as int8; here all three are int64.
- ``bert_hf`` (GConstruct) = ``embedding_hf`` (the GSProcessing action name): one float vector of
  the model's hidden size per row, from the last hidden layer, pooled by ``pooling``: ``mean``
  (default: the mean over the real tokens, what sentence-transformers models such as
  all-MiniLM-L6-v2 are trained for; no L2 normalization), ``cls`` (the first token's hidden state)
  or ``pooler`` (the model's pooler output: tanh of a dense layer over the first token). GraphStorm
  takes ``pooler_output`` in both GConstruct and GSProcessing: set ``pooling: pooler`` to match it.
  Rows are padded to a length that depends only on the row (its token count rounded up to a power
  of two, at least 16, at most ``max_seq_length``), so a row's vector does not depend on which rows
  share its batch or partition (bitwise on CPU, where the batch size does not change a row's
  result: tested), and re-applying a saved state gives rows seen before the same value.
  (Padding to the longest row of each batch would make values drift by ~1e-6 with the batching;
  padding every row to ``max_seq_length``, as GraphStorm does, costs several times the compute
  on short texts.)

Parameters: ``bert_model`` (required), ``max_seq_length`` (default 128; GraphStorm requires it;
at most what the model takes), and for embeddings ``infer_batch_size`` (rows per forward pass,
default 128; GConstruct's default is 1024) and ``pooling``. GSProcessing calls the model
``hf_model``; here both names of the embedding transform take ``bert_model``.

Missing text (null) is tokenized as the empty string, i.e. ``[CLS] [SEP]`` for BERT, so every row
gets a vector; rows that are null or blank are counted in report.json. (GraphStorm fails on a
value that is not a string.) Only string columns are accepted.

Models load from a local directory, or by name from the local Hugging Face cache only: nothing is
downloaded at run time. The model must be at the same path on every Spark executor. Each Python
worker loads a model once (module-level cache) and runs it with ``torch.no_grad`` on as many
threads as the task has CPUs (``spark.task.cpus``, 1 by default), so concurrent tasks do not
oversubscribe the cores. The fitted state records the model's path and a fingerprint (SHA-256 of
its config, tokenizer files and, for embeddings, weights); applying a state with a different
model is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import InputError
from gsprocessing.transforms.base import (
    State, Transform, batched_udf, check_choice, column_kind, quote,
)

if TYPE_CHECKING:  # (imported where they are used: a job that has no HF feature needs neither)
    import numpy as np
    import pandas as pd

TOKEN_OUTPUTS = ("input_ids", "attention_mask", "token_type_ids")
POOLINGS = ("mean", "cls", "pooler")
MIN_BUCKET = 16
# Files that decide token ids; weights matter only to embeddings.
TOKENIZER_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
                   "vocab.json", "merges.txt", "special_tokens_map.json", "added_tokens.json",
                   "spiece.model", "sentencepiece.bpe.model", "tokenizer.model")
WEIGHT_SUFFIXES = (".safetensors", ".bin")


# --- model resolution (driver side) ------------------------------------------------------------

def hf_cache_dir() -> str:
    """The Hugging Face hub cache this process reads (``HF_HUB_CACHE``/``HF_HOME`` respected)."""
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def resolve_model(bert_model: Any, transform: str) -> str:
    """The local directory of a model: ``bert_model`` itself, or its snapshot in the HF cache.

    Only the local file system is looked at (no network call, so it cannot hang on retries).

    Raises:
        ValueError: not a non-empty string, a directory without ``config.json``, or a name that is
            neither a directory nor in the local Hugging Face cache.
    """
    if not isinstance(bert_model, str) or not bert_model:
        raise ValueError(f"{transform}: bert_model must be a model directory or a model name, "
                         f"got {bert_model!r}")
    path = os.path.expanduser(bert_model)
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise ValueError(f"{transform}: bert_model '{bert_model}' is a directory without "
                             "config.json; expected a Hugging Face model directory (config.json, "
                             "tokenizer files, weights)")
        return os.path.abspath(path)
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(bert_model, "config.json")
    except ValueError:  # not a valid repo id (e.g. a path that does not exist)
        cached = None
    if isinstance(cached, str):
        return os.path.dirname(cached)
    raise ValueError(f"{transform}: model '{bert_model}' is not available locally (no such "
                     f"directory, not in the Hugging Face cache at {hf_cache_dir()}); nothing is "
                     "downloaded at run time: pass a local model directory as bert_model")


def model_fingerprint(path: str, weights: bool) -> str:
    """SHA-256 over the model's config and tokenizer files (and weight files if ``weights``)."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if not os.path.isfile(full):
            continue
        if name in TOKENIZER_FILES or (weights and name.endswith(WEIGHT_SUFFIXES)):
            digest.update(name.encode() + b"\0")
            with open(full, "rb") as f:
                for block in iter(lambda: f.read(1 << 22), b""):
                    digest.update(block)
    return digest.hexdigest()


def length_limit(path: str) -> Optional[int]:
    """The longest input the model takes: the tokenizer's ``model_max_length`` when it is set,
    else the config's ``max_position_embeddings``; None when neither says."""
    limits = []
    for name, key in (("tokenizer_config.json", "model_max_length"),
                      ("config.json", "max_position_embeddings")):
        try:
            with open(os.path.join(path, name), encoding="utf-8") as f:
                value = json.load(f).get(key)
        except (OSError, ValueError):
            continue
        if isinstance(value, int) and 0 < value < 1_000_000:  # tokenizers use 1e30 for "none"
            limits.append(value)
    return limits[0] if limits else None


# --- work done in the Python workers -----------------------------------------------------------

# (kind, path) → tokenizer, or (model, has a trained pooler): loaded once per Python worker.
_LOADED: Dict[Tuple[str, str], Any] = {}


def _load(kind: str, path: str) -> Any:
    """The tokenizer (``kind="tokenizer"``) or ``(model, has_pooler)`` (``"model"``) at ``path``."""
    if (kind, path) not in _LOADED:
        try:
            _LOADED[(kind, path)] = (_load_tokenizer(path) if kind == "tokenizer"
                                     else _load_model(path))
        except OSError as err:
            raise InputError(f"cannot load the Hugging Face {kind} at {path} in this Spark "
                             f"worker ({err}); the model directory must exist at the same "
                             "path on every executor") from None
    return _LOADED[(kind, path)]


def _load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path, local_files_only=True)


def _load_model(path: str) -> Tuple[Any, bool]:
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(_task_cpus())
    hf_logging.disable_progress_bar()  # one bar per worker would only clutter the executor logs
    model, info = AutoModel.from_pretrained(path, local_files_only=True,
                                            output_loading_info=True)
    # Randomly initialized weights would differ between workers; only an unused pooler may.
    missing = [k for k in info.get("missing_keys", ()) if not k.startswith("pooler.")]
    if missing:
        raise InputError(f"the model at {path} lacks trained weights for {sorted(missing)[:5]}; "
                         "use a checkpoint of the base model (AutoModel)")
    has_pooler = getattr(model, "pooler", None) is not None and not any(
        k.startswith("pooler.") for k in info.get("missing_keys", ()))
    return model.eval(), has_pooler


def _task_cpus() -> int:
    from pyspark import TaskContext

    context = TaskContext.get()
    return max(1, int(context.cpus())) if context is not None else 1


def texts_of(values: pd.Series) -> List[str]:
    """The strings of a batch, a missing value as the empty string."""
    return [v if isinstance(v, str) else "" for v in values]


def tokenize_batch(values: pd.Series, path: str, max_len: int) -> Dict[str, np.ndarray]:
    """``(n, max_len)`` int64 arrays ``input_ids``, ``attention_mask``, ``token_type_ids``."""
    import numpy as np

    if len(values) == 0:
        return {name: np.zeros((0, max_len), dtype=np.int64) for name in TOKEN_OUTPUTS}
    enc = _load("tokenizer", path)(texts_of(values), max_length=max_len, truncation=True,
                                   padding="max_length", return_tensors="np")
    ids = np.asarray(enc["input_ids"], dtype=np.int64)
    types = enc.get("token_type_ids")
    return {"input_ids": ids,
            "attention_mask": np.asarray(enc["attention_mask"], dtype=np.int64),
            "token_type_ids": (np.zeros_like(ids) if types is None
                               else np.asarray(types, dtype=np.int64))}


def bucket_length(tokens: int, max_len: int) -> int:
    """The padded length of a row of ``tokens`` tokens: a power of two >= 16, at most max_len."""
    length = MIN_BUCKET
    while length < tokens:
        length *= 2
    return min(length, max_len)


def embed_batch(values: pd.Series, path: str, max_len: int, batch_size: int,
                pooling: str) -> np.ndarray:
    """``(n, hidden)`` float32 embeddings; rows grouped by padded length (see the module doc)."""
    import numpy as np
    import torch

    tokenizer, (model, has_pooler) = _load("tokenizer", path), _load("model", path)
    if pooling == "pooler" and not has_pooler:
        raise InputError(f"pooling 'pooler': the model at {path} has no trained pooler weights; "
                         "use pooling 'mean' or 'cls'")
    out = np.zeros((len(values), model.config.hidden_size), dtype=np.float32)
    if len(values) == 0:
        return out
    enc = tokenizer(texts_of(values), max_length=max_len, truncation=True, padding=False)
    groups: Dict[int, List[int]] = {}
    for row, ids in enumerate(enc["input_ids"]):
        groups.setdefault(bucket_length(len(ids), max_len), []).append(row)
    names = [k for k in enc.keys() if k in ("input_ids", "attention_mask", "token_type_ids")]
    with torch.no_grad():
        for length, rows in sorted(groups.items()):
            for start in range(0, len(rows), batch_size):
                chunk = rows[start:start + batch_size]
                batch = tokenizer.pad({k: [enc[k][r] for r in chunk] for k in names},
                                      padding="max_length", max_length=length,
                                      return_tensors="pt")
                out[chunk] = _pool(model(**batch), batch["attention_mask"], pooling).numpy()
    return out


def _pool(output: Any, mask: Any, pooling: str) -> Any:
    if pooling == "pooler":
        return output.pooler_output.float()
    hidden = output.last_hidden_state.float()
    if pooling == "cls":
        return hidden[:, 0]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


# --- the transforms ----------------------------------------------------------------------------

@dataclass
class HFState(State):
    model: str = ""            # bert_model as configured
    path: str = ""             # the directory it resolved to when fitted
    fingerprint: str = ""      # model_fingerprint() of that directory
    max_seq_length: int = 128
    hidden_size: int = 0       # embedding width (embeddings only)
    pooling: str = ""          # embeddings only
    missing: int = 0           # null or blank rows when fitted (tokenized as "")


class _HFTransform(Transform):
    """What the Hugging Face transforms share: model resolution, checks and the fitted state."""

    state_cls = HFState
    uses_weights = False       # whether the weights decide the output (part of the fingerprint)

    def __init__(self, bert_model: str, max_seq_length: int = 128) -> None:
        if isinstance(max_seq_length, bool) or not isinstance(max_seq_length, int) \
                or max_seq_length < 2:
            raise ValueError(f"{self.name}: max_seq_length must be an integer >= 2, got "
                             f"{max_seq_length!r}")
        self.bert_model = bert_model
        self.max_seq_length = max_seq_length
        self.path = resolve_model(bert_model, self.name)
        limit = length_limit(self.path)
        if limit is not None and max_seq_length > limit:
            raise ValueError(f"{self.name}: max_seq_length {max_seq_length} is longer than model "
                             f"'{bert_model}' takes ({limit} tokens)")

    def aggregates(self, df: DataFrame, column: str) -> Dict[str, Column]:
        if column_kind(df, column) != "string":
            raise TypeError(f"column '{column}' has type "
                            f"{df.schema[column].dataType.simpleString()}; {self.name} accepts "
                            "strings (cast the column to string in the input)")
        col = F.col(quote(column))
        return {"missing": F.sum(F.when(col.isNull() | (F.trim(col) == ""), 1).otherwise(0))}

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> HFState:
        return HFState(model=self.bert_model, path=self.path,
                       fingerprint=model_fingerprint(self.path, self.uses_weights),
                       max_seq_length=self.max_seq_length, missing=int(stats["missing"] or 0))

    def checked_path(self, column: str, state: HFState) -> str:
        """The model directory, after checking that it is the model the state was fitted with.

        Raises:
            InputError: ``bert_model`` now resolves to a model with another fingerprint.
        """
        found = model_fingerprint(self.path, self.uses_weights)
        if found != state.fingerprint:
            raise InputError(
                f"{self.name} on column '{column}': the state was fitted with model "
                f"'{state.model}' at {state.path} (fingerprint {state.fingerprint[:12]}), but "
                f"bert_model '{self.bert_model}' is now {self.path} (fingerprint {found[:12]}); "
                "apply it with the model it was fitted with, or process the data again")
        return self.path


class TokenizeHF(_HFTransform):
    """GConstruct ``tokenize_hf``: three int64 outputs of width ``max_seq_length``."""

    name = "tokenize_hf"

    def output_names(self, feature: str) -> List[str]:
        """The columns written, whatever the feature is called (GraphStorm's names)."""
        return list(TOKEN_OUTPUTS)

    def outputs(self, feature: str, state: HFState) -> List[Tuple[str, int, Optional[str]]]:
        return [(name, state.max_seq_length, "int64") for name in TOKEN_OUTPUTS]

    def dim(self, state: HFState) -> int:
        return state.max_seq_length

    def apply(self, df: DataFrame, column: str, state: HFState, out: str) -> DataFrame:
        """``df`` with ``out``: a struct with one array<bigint> field per output."""
        path, max_len = self.checked_path(column, state), state.max_seq_length
        schema = T.StructType([T.StructField(n, T.ArrayType(T.LongType(), False))
                               for n in TOKEN_OUTPUTS])

        def tokenize(values):
            import pandas as pd

            arrays = tokenize_batch(values, path, max_len)
            return pd.DataFrame({n: list(arrays[n]) for n in TOKEN_OUTPUTS})

        tokenize = batched_udf(tokenize, schema, frame=True)
        return df.withColumn(out, tokenize(F.col(quote(column))))


class BertHF(_HFTransform):
    """GConstruct ``bert_hf``: the pooled last hidden layer, one vector of the hidden size."""

    name = "bert_hf"
    uses_weights = True

    def __init__(self, bert_model: str, max_seq_length: int = 128, infer_batch_size: int = 128,
                 pooling: str = "mean") -> None:
        super().__init__(bert_model, max_seq_length)
        if isinstance(infer_batch_size, bool) or not isinstance(infer_batch_size, int) \
                or infer_batch_size < 1:
            raise ValueError(f"{self.name}: infer_batch_size must be a positive integer, got "
                             f"{infer_batch_size!r}")
        check_choice("pooling", pooling, POOLINGS)
        self.infer_batch_size = infer_batch_size
        self.pooling = pooling

    def fit_extra(self, df: DataFrame, column: str, stats: Dict[str, Any],
                  where: str) -> HFState:
        from transformers import AutoConfig

        state = super().fit_extra(df, column, stats, where)
        state.hidden_size = int(AutoConfig.from_pretrained(self.path,
                                                           local_files_only=True).hidden_size)
        state.pooling = self.pooling
        return state

    def dim(self, state: HFState) -> int:
        return state.hidden_size

    def apply(self, df: DataFrame, column: str, state: HFState, out: str) -> DataFrame:
        path, max_len = self.checked_path(column, state), state.max_seq_length
        batch_size, pooling = self.infer_batch_size, state.pooling

        def embed(values):
            import pandas as pd

            return pd.Series(list(embed_batch(values, path, max_len, batch_size, pooling)))

        embed = batched_udf(embed, T.ArrayType(T.FloatType(), False))
        return df.withColumn(out, embed(F.col(quote(column))))


class EmbeddingHF(BertHF):
    """GSProcessing's ``embedding_hf`` action: the same transform as ``bert_hf``."""

    name = "embedding_hf"
