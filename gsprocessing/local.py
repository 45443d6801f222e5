"""The local engine: a small node table's features, labels and splits computed in this process.

Why: at the sizes a laptop or a single machine processes, a Spark query costs more than its
rows. Each node type with features needs two queries (its fit pass and its write), and in a
fresh JVM each costs seconds of planning, code generation and JIT compiling whatever its size
(design notes, stops 11-27): at 10M edges the two node types' four queries took about 15 s of
one core for 700K rows, against 3 s for the same work with numpy and pyarrow. So a node type
whose table is small (``--local-rows``, default
:data:`gsprocessing.steps.DEFAULT_LOCAL_ROWS`) and on the local
filesystem is finished here, when Spark runs in local mode.

What stays in Spark: reading and checking the input (a CSV table is still parsed once by Spark
into the scratch space, with its counts and errors; the local engine reads that copy), the id
map, and everything about edges. What runs here is :func:`gsprocessing.node_types.
finish_node_type`'s work: the fit pass, the features, the labels and their random split, the
duplicate-id check and the nodes/ table.

One semantics, two engines: each transform states the statistics it learns from under the same
names in both (``Transform.aggregates`` in Spark, ``Transform.local_stats`` here), and the
states are built from them by the same code (``fit_extra``, ``finish_label``), so a state fitted
here is the one Spark fits, and transforms.json re-applies either way. What only one engine can
do exactly raises :class:`Unsupported` before anything is written, and Spark runs the type
instead: a transform or label without a local form, a custom split, a column type the engine
does not read (a float column read as text, a string that is not a plain decimal number), or a
sum too large for the exact decimal sum. Tests compare the two engines' outputs table by table.
"""

from __future__ import annotations

import decimal
import os
import re
import urllib.parse
import uuid
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


class Unsupported(Exception):
    """The local engine cannot give exactly the Spark path's result here (the reason)."""


# -- columns ---------------------------------------------------------------------------------

_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"  # (plain decimals)
# Java's regex $ also matches before a line terminator that ends the text; RE2's does not
LINE_END = "[\r\n\u0085\u2028\u2029]"


class LocalColumn:
    """One input column in memory (a pyarrow array in node order), read as Spark reads it.
    Everything is done with pyarrow's compute functions and numpy, not row by row."""

    def __init__(self, name: str, array: pa.Array) -> None:
        self.name = name
        self.array = array
        t = array.type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            self.kind = "string"
        elif pa.types.is_integer(t) and t != pa.uint64():  # (Spark reads uint64 as decimal)
            self.kind = "integral"
        elif pa.types.is_floating(t):
            self.kind = "floating"
        elif (pa.types.is_list(t) or pa.types.is_large_list(t)) and (
                pa.types.is_string(t.value_type) or pa.types.is_integer(t.value_type)):
            self.kind = "array"
        else:
            self.kind = "other"

    def __len__(self) -> int:
        return len(self.array)

    def unsupported(self, what: str) -> Unsupported:
        return Unsupported(f"column '{self.name}' ({self.array.type}) {what}")

    def integers(self) -> Optional[np.ndarray]:
        """An integral column's values as int64 (missing: 0, see :meth:`doubles`), else None."""
        if self.kind != "integral":
            return None
        return self.array.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)

    def strings(self) -> pa.Array:
        """The column as Spark's cast to string gives it (null: missing)."""
        if self.kind == "string":
            return self.array.cast(pa.string())
        if self.kind == "integral":
            return pc.cast(self.array, pa.string())
        raise self.unsupported("is not read as text by the local engine")

    def doubles(self) -> np.ndarray:
        """The column as float64, NaN where a value is missing, NaN or infinite (as
        ``transforms.base.as_double``: missing, not a number to fit on). Strings: trimmed of
        spaces, empty is missing; only plain decimal numbers are read here (Java's parser takes
        forms Python's does not, and the reverse)."""
        if self.kind in ("integral", "floating"):
            # (unsafe: a long beyond 2^53 rounds to the nearest double, as Spark's cast does)
            x = pc.cast(self.array, pa.float64(), safe=False).fill_null(np.nan) \
                .to_numpy(zero_copy_only=False)
            return np.where(np.isfinite(x), x, np.nan)
        if self.kind != "string":
            raise self.unsupported("is not read as numbers by the local engine")
        text = pc.utf8_trim(self.strings(), " ")
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        plain = pc.match_substring_regex(text, _NUMBER).fill_null(True)
        if not pc.all(plain).as_py():
            bad = text.filter(pc.invert(plain))[0].as_py()
            raise self.unsupported(f"has a value that is not a plain number ({bad[:40]!r})")
        try:
            x = pc.cast(text, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid as err:
            raise self.unsupported(f"has a number pyarrow does not read ({err})") from None
        return np.where(np.isfinite(x), x, np.nan)

    def tokens(self, separator: Optional[str]) -> Tuple[np.ndarray, pa.Array]:
        """Each row's values as ``transforms.base.value_tokens`` gives them, as (row, value)
        pairs in row order: the elements of an array, the parts of a string between
        ``separator``s (and the spaces around it), else the one value; spaces trimmed, empty
        values dropped."""
        if self.kind == "array":
            values = pc.utf8_trim(pc.cast(pc.list_flatten(self.array), pa.string()), " ")
            rows = pc.list_parent_indices(self.array)
        else:
            text = pc.utf8_trim(self.strings(), " ")
            if separator is None:
                values, rows = text, pa.array(np.arange(len(text), dtype=np.int64))
            else:
                parts = pc.split_pattern(text, " ") if separator == " " else \
                    pc.split_pattern_regex(text, " *" + re.escape(separator) + " *")
                values, rows = pc.list_flatten(parts), pc.list_parent_indices(parts)
        keep = pc.and_(pc.is_valid(values), pc.not_equal(values, "").fill_null(False))
        return (rows.filter(keep).to_numpy(zero_copy_only=False).astype(np.int64),
                values.filter(keep))


# -- statistics as Spark's aggregates compute them -------------------------------------------

_EXACT = decimal.Decimal("1e-18")  # transforms.base.EXACT: decimal(38, 18)
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1


def as_exact(values: np.ndarray) -> List[decimal.Decimal]:
    """Each double as Spark's cast to decimal(38, 18) gives it: the shortest decimal that reads
    back as the double, rounded half up to 18 places. (Java 17's ``Double.toString`` is not
    always the shortest: for such a value with digits beyond the 18th place the two may differ
    by 1e-18 before rounding to a double.)"""
    with decimal.localcontext(decimal.Context(prec=80)):
        return [decimal.Decimal(repr(float(v))).quantize(_EXACT, decimal.ROUND_HALF_UP)
                for v in values.tolist()]


def exact_sum(x: np.ndarray, whole: Optional[np.ndarray] = None) -> Optional[float]:
    """``transforms.base.exact_sum`` of the present values ``x`` (``whole``: the same as int64
    when the column is integral). None when there is none."""
    if len(x) == 0:
        return None
    if whole is not None:
        total = sum(whole.tolist())
        if not _LONG_MIN <= total <= _LONG_MAX:
            raise Unsupported("an integer sum beyond the long range (Spark sums it as doubles)")
        return float(total)
    if max(abs(float(x.min())), abs(float(x.max()))) >= 1e20:
        raise Unsupported("values beyond 1e20 (Spark sums them as doubles, in its order)")
    uniques, counts = np.unique(x, return_counts=True)
    with decimal.localcontext(decimal.Context(prec=80)):
        total = sum((d * c for d, c in zip(as_exact(uniques), counts.tolist())),
                    decimal.Decimal(0))
    if abs(total) >= decimal.Decimal(10) ** 20:
        raise Unsupported("a sum beyond 1e20 (Spark sums it as doubles, in its order)")
    return float(total)


def exact_sums(x: np.ndarray) -> Dict[str, Any]:
    """``transforms.base.exact_sums`` (s1, s2, fit) of the present values ``x``."""
    if len(x) and float(np.abs(x).max()) >= 1e10:
        raise Unsupported("values whose squares leave decimal(38, 18) (Spark's mean and std "
                          "are then sums of doubles, in its order)")
    if not len(x):
        return {"s1": None, "s2": None, "fit": 0}
    with decimal.localcontext(decimal.Context(prec=80)):
        s1 = sum(as_exact(x), decimal.Decimal(0))
        s2 = sum(as_exact(x * x), decimal.Decimal(0))
    if abs(s2) >= decimal.Decimal(10) ** 20:
        raise Unsupported("a sum of squares beyond 1e20")
    return {"s1": s1, "s2": s2, "fit": len(x)}


def percentile(x: np.ndarray, p: float) -> Optional[float]:
    """Spark's exact ``percentile`` of the present values ``x``: linear between the two values
    around position p * (n - 1) of the sorted values."""
    if len(x) == 0:
        return None
    s = np.sort(x)
    position = p * (len(s) - 1)
    lower, higher = int(np.floor(position)), int(np.ceil(position))
    a, b = float(s[lower]), float(s[higher])
    if lower == higher or a == b:
        return a
    return (higher - position) * a + (position - lower) * b


def mode(x: np.ndarray) -> Optional[float]:
    """``transforms.base.most_frequent``: the most frequent present value, ties by the smallest."""
    if len(x) == 0:
        return None
    uniques, counts = np.unique(x, return_counts=True)
    # (np.unique sorts: the first max is the smallest; + 0.0: Spark's grouping makes -0.0 0.0)
    return float(uniques[int(np.argmax(counts))]) + 0.0


def value_counts(values: pa.Array) -> Dict[str, int]:
    """How often each value occurs, every occurrence counted (as ``FitPass.add_counted``)."""
    counted = pc.value_counts(values)
    return dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist()))


def fixed_lists(values: np.ndarray, n: int, width: int, dtype: pa.DataType,
                mask: Optional[np.ndarray] = None) -> pa.Array:
    """A list column of ``n`` rows of ``width`` values each (``values``: n * width, row by
    row; ``mask``: rows that are null)."""
    offsets = pa.array(np.arange(0, (n + 1) * width, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(values, type=dtype),
                                    mask=None if mask is None else pa.array(mask))


def positions_array(rows: np.ndarray, positions: np.ndarray, n: int) -> pa.Array:
    """``list<int32>`` of each row's ``positions`` (pairs sorted by row, then position)."""
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(positions.astype(np.int32)))


def distinct_pairs(rows: np.ndarray, positions: np.ndarray, width: int) -> Tuple[np.ndarray,
                                                                                  np.ndarray]:
    """The distinct (row, position) pairs, sorted by row, then position."""
    key = sorted_distinct(rows.astype(np.int64) * max(width, 1) + positions)
    return key // max(width, 1), key % max(width, 1)


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of a numeric array by sorting (numpy 2's hashing one is slower here)."""
    s = np.sort(values, kind="stable")
    keep = np.ones(len(s), dtype=bool)
    keep[1:] = s[1:] != s[:-1]
    return s[keep]


# -- the random split's order: Spark's xxhash64 ------------------------------------------------

_P1, _P2, _P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
_P4, _P5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5
_M = (1 << 64) - 1


def _fmix(h):
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(_P2)
    h = h ^ (h >> np.uint64(29))
    h = h * np.uint64(_P3)
    return h ^ (h >> np.uint64(32))


def _rotl(x, r: int):
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _seed_hash(seed: int) -> int:
    """xxhash64 of the literal ``seed`` from Spark's seed 42: an int literal when it fits 32
    bits (``F.lit``), else a long."""
    with np.errstate(over="ignore"):
        s = np.array([42], dtype=np.uint64)
        if -(1 << 31) <= seed < (1 << 31):
            h = s + np.uint64(_P5) + np.uint64(4)
            h = h ^ (np.uint64(seed & 0xFFFFFFFF) * np.uint64(_P1))
            h = _rotl(h, 23) * np.uint64(_P2) + np.uint64(_P3)
            return int(_fmix(h)[0])
        return int(_hash_longs(np.array([seed], dtype=np.int64), 42)[0]) & _M


def _hash_longs(values: np.ndarray, seed: int) -> np.ndarray:
    """Spark's ``XXH64.hashLong`` of each int64 with ``seed``, as int64."""
    with np.errstate(over="ignore"):
        v = values.astype(np.int64).view(np.uint64)
        h = np.full(len(v), np.uint64(seed & _M)) + np.uint64(_P5) + np.uint64(8)
        h = h ^ (_rotl(v * np.uint64(_P2), 31) * np.uint64(_P1))
        h = _rotl(h, 27) * np.uint64(_P1) + np.uint64(_P4)
        return _fmix(h).view(np.int64)


def row_hash(seed: int, keys: np.ndarray) -> np.ndarray:
    """``labels._row_hash``: Spark's ``xxhash64(lit(seed), key)`` of int64 keys."""
    return _hash_longs(keys, _seed_hash(seed))


# -- reading -----------------------------------------------------------------------------------

def local_path(uri: str) -> Optional[str]:
    """The filesystem path of a local URI (``file:``, percent-encoded as Hadoop writes URIs:
    ``file:/a%20b`` is ``/a b``; or a path without a scheme), else None."""
    if uri.startswith("file:"):
        path = uri[len("file:"):]
        if path.startswith("//"):
            path = path[2:]
            if not path.startswith("/"):  # (file://host/...)
                return None
        return urllib.parse.unquote(path)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri) and not re.match(r"^[A-Za-z]:[\\/]", uri):
        return None
    return uri


def read_parquet_dir(path: str, columns: Sequence[str]) -> pa.Table:
    """The Parquet files of a directory Spark wrote (``part-*``, not ``_SUCCESS`` or checksums),
    in name order."""
    names = sorted(f for f in os.listdir(path) if f.endswith(".parquet") and
                   not f.startswith(("_", ".")))
    tables = [pq.read_table(os.path.join(path, f), columns=list(columns)) for f in names]
    if not tables:
        raise Unsupported(f"{path}: no Parquet file")
    return pa.concat_tables(tables)


def write_parquet_dir(table: pa.Table, path: str) -> None:
    """``table`` as a directory of one Parquet file, as ``output.write_table`` writes (Parquet's
    version-2 encodings): written under a temporary name, then renamed."""
    if os.path.exists(path):
        raise FileExistsError(f"{path} exists")
    tmp = f"{path}.tmp-{uuid.uuid4().hex}"
    os.makedirs(tmp)
    pq.write_table(table, os.path.join(tmp, "part-00000-local.snappy.parquet"),
                   compression="snappy", data_page_version="2.0", version="2.6")
    open(os.path.join(tmp, "_SUCCESS"), "w").close()
    os.rename(tmp, path)


def split_masks(labelled: np.ndarray, keys: np.ndarray, seed: int,
                fractions: Sequence[float]) -> Tuple[List[np.ndarray], Tuple[int, int, int]]:
    """The three masks of a random split: the labelled rows ordered by (xxhash64(seed, key),
    key), the first of them train, then val, then test (``labels.apply_label``)."""
    from gsprocessing.labels import split_sizes

    rows = np.flatnonzero(labelled)
    sizes = split_sizes(len(rows), fractions)
    order = rows[np.lexsort((keys[rows], row_hash(seed, keys[rows])))]
    masks, start = [], 0
    for size in sizes:
        mask = np.zeros(len(keys), dtype=bool)
        mask[order[start:start + size]] = True
        masks.append(mask)
        start += size
    return masks, sizes
