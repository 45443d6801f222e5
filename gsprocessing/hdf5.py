"""HDF5 input tables (GConstruct's ``format: {"name": "hdf5"}``), read by Python workers.

As GConstruct reads them (``read_data_hdf5``): a column is a dataset of the file's root, a row
is an index of its first axis. A 1-D dataset holds a value a row (numbers, booleans or
strings); a 2-D one a vector a row (one feature column, e.g. precomputed embeddings). The files
of a table follow one another in name order, like every table's.

Spark has no HDF5 reader: the datasets' names, types and lengths are read first (one job, each
file's metadata only), then :func:`rows` reads the columns a block uses, one task a local file,
a batch of rows at a time, with each row's file and position (as a CSV table's rows come), and
the scan copies them into the scratch space once (:func:`gsprocessing.tables.scan`). A local
file is opened where it is; a file on another file system (s3://, hdfs://, ...) reaches its
task through Spark's ``binaryFile`` reader, whole (small ones may share a task, and each is
read twice: for the datasets, then for the rows), so such a file must fit in a task's memory
(Spark's limit is 2 GiB a file). Needs the ``h5py`` package (``pip install h5py``), on the
workers too.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import unquote, urlparse

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.types import _parse_datatype_json_string

from graphmill.errors import InputError
from graphmill.hadoopfs import file_uris
from graphmill.spark import IN_FILE, IN_ROW

BATCH_BYTES = 32 << 20  # rows read and sent to Spark at a time, about this many bytes
# h5py dtype kind → the Spark type of a value (2-D datasets: an array of it)
# (uint64 values over 2^63-1 are an error when read: Spark has no unsigned 64-bit type)
_KINDS = {"i": T.LongType(), "u": T.LongType(), "b": T.BooleanType(), "S": T.StringType(),
          "O": T.StringType()}


def need_h5py(where: str):
    """The h5py module, or an error saying how to install it."""
    try:
        import h5py
    except ImportError:
        raise InputError(f"{where}: format hdf5 needs the h5py package: pip install h5py (on "
                         "the Spark workers too)") from None
    return h5py


def _is_local(uri: str) -> bool:
    return uri.startswith("file:")


def _open(h5py, uri: str, content: Optional[bytes]):
    """The HDF5 file at ``uri`` (local: by path), or made of its ``content`` (other file
    systems, through Spark's binaryFile reader)."""
    if content is None:
        return h5py.File(unquote(urlparse(uri).path), "r")
    import io
    return h5py.File(io.BytesIO(content), "r")


def _files(spark: SparkSession, files: Sequence[str], uris: Sequence[str]) -> DataFrame:
    """One row a file, one partition a file: ``uri`` and, for a file that is not local, its
    ``content`` (``files``: the paths, whose URIs are ``uris``)."""
    local = [u for u in uris if _is_local(u)]
    rows = spark.sparkContext.parallelize([(u, None) for u in local],
                                          max(1, len(local))).toDF(
        T.StructType([T.StructField("uri", T.StringType()),
                      T.StructField("content", T.BinaryType())]))
    # (by path, since binaryFile reads a URI's "%20" as those three characters, with the glob
    # characters of file names escaped, since it reads a path as a pattern)
    remote = [re.sub(r"([\[\]{}*?\\])", r"\\\1", f) for f, u in zip(files, uris)
              if not _is_local(u)]
    if remote:
        rows = rows.unionByName(spark.read.format("binaryFile").load(remote).select(
            F.col("path").alias("uri"), "content"))
    return rows


def _spark_type(dtype, ndim: int) -> Optional[T.DataType]:
    if dtype.kind == "f":
        element = None if dtype.itemsize > 8 else \
            T.DoubleType() if dtype.itemsize > 4 else T.FloatType()
    else:
        element = _KINDS.get(dtype.kind)
    if element is None or ndim not in (1, 2):
        return None
    return element if ndim == 1 else T.ArrayType(element)


def _each_file(batch, known: Dict[str, str]) -> Iterator[Tuple[str, Optional[bytes]]]:
    """(uri, content) of each file of a batch of :func:`_files`' rows. A file read through
    binaryFile comes with Spark's name for its path, which may encode characters otherwise
    than the URI the scan knows it by (``known``: decoded → that URI)."""
    uris, contents = batch.column("uri"), batch.column("content")
    for i in range(batch.num_rows):  # (one file's bytes at a time out of the batch)
        raw = uris[i].as_py()
        yield known.get(unquote(raw), raw), contents[i].as_py()


def _known(uris: Sequence[str]) -> Dict[str, str]:
    return {unquote(u): u for u in uris}


def _describe(batches: Iterator, known: Dict[str, str]) -> Iterator:
    """(mapInArrow) Each file's root datasets: name, Spark type (JSON; empty: not a column
    type), shape; a file that cannot be opened gives one row without a name, its error as the
    shape."""
    import pyarrow as pa
    h5py = need_h5py("hdf5")
    for batch in batches:
        for uri, content in _each_file(batch, known):
            out = _described(h5py, uri, content)
            yield pa.RecordBatch.from_arrays(
                [pa.array([o[i] for o in out], pa.string()) for i in range(4)],
                names=["uri", "name", "type", "shape"])


def _described(h5py, uri: str, content: Optional[bytes]) -> List[Tuple[str, str, str, str]]:
    out = []
    try:
        with _open(h5py, uri, content) as f:
            for name, item in f.items():
                if not isinstance(item, h5py.Dataset):
                    continue  # (groups: GConstruct reads datasets of the root)
                # (an object dtype is a column only when it holds strings)
                kind = None if item.dtype.kind == "O" and h5py.check_string_dtype(
                    item.dtype) is None else _spark_type(item.dtype, item.ndim)
                out.append((uri, name, kind.json() if kind else "", json.dumps(item.shape)))
    except Exception as err:  # noqa: BLE001  (not HDF5, unreadable, a broken link: the driver
        return [(uri, "", "", json.dumps(f"{type(err).__name__}: {err}"))]  # names the file)
    return out


def read_schema(spark: SparkSession, files: List[str], where: str, needed: Sequence[str]
                ) -> Tuple[T.StructType, List[str]]:
    """The table's schema (the first file's datasets, in the file's order) and the problems
    found in the files: a ``needed`` dataset that is not a column (3-D, compound, ...), that a
    file lacks or holds in another type or shape, or whose length differs from another needed
    one of its file."""
    need_h5py(where)
    uris = file_uris(spark, files)
    schema = T.StructType([T.StructField(n, T.StringType()) for n in ("uri", "name", "type",
                                                                       "shape")])
    found: Dict[str, List] = {u: [] for u in uris}
    problems: List[str] = []
    described = functools.partial(_describe, known=_known(uris))
    for r in _files(spark, files, uris).mapInArrow(described, schema).collect():
        if r.name:
            found[r.uri].append(r)
        else:
            problems.append(f"{files[uris.index(r.uri)]} cannot be read as HDF5: "
                            f"{json.loads(r.shape)}")
    if problems:
        return T.StructType([]), problems
    first = {r.name: r for r in found[uris[0]]}
    # (a dataset that is not a column's type is a column of nulls here, so that a config that
    # reads it is told why it cannot, below, rather than that it is missing)
    fields = [T.StructField(r.name, _parse_datatype_json_string(r.type) if r.type else
                            T.NullType()) for r in found[uris[0]]]
    for name in needed:
        r = first.get(name)
        if r is not None and not r.type:
            problems.append(f"dataset '{name}' of {files[0]} has shape {json.loads(r.shape)} "
                            "and a type that is not a column's: an HDF5 column is a 1-D dataset "
                            "(a number, boolean or string a row) or a 2-D one (a vector a row)")
    for path, uri in zip(files, uris):
        mine = {r.name: r for r in found[uri]}
        lengths = {}
        for name in (n for n in needed if n in first and first[n].type):
            r = mine.get(name)
            if r is None:
                problems.append(f"{path} has no dataset '{name}' (the first file, {files[0]}, "
                                "has it): every file of an HDF5 table holds the columns read")
            elif (r.type, json.loads(r.shape)[1:]) != (first[name].type,
                                                       json.loads(first[name].shape)[1:]):
                problems.append(f"dataset '{name}' of {path} is {_shown(r)}, not "
                                f"{_shown(first[name])} as in {files[0]}")
            else:
                lengths[name] = json.loads(r.shape)[0]
        if len(set(lengths.values())) > 1:
            problems.append(f"{path}: the datasets read have different lengths (rows), "
                            f"{lengths}: a row is an index of their first axis")
    return T.StructType(fields), problems


def _shown(r) -> str:
    """A described dataset's column type and shape, as a message shows it."""
    kind = _parse_datatype_json_string(r.type).simpleString() if r.type else "not a column"
    return f"{kind} (shape {json.loads(r.shape)})"


def rows(spark: SparkSession, files: List[str], schema: T.StructType, used: Sequence[str],
         bad_row: str) -> DataFrame:
    """The ``used`` columns of the files' rows, with ``IN_FILE`` (the file's URI) and
    ``IN_ROW`` (the row's index in its file); ``bad_row`` is a column of nulls (no HDF5 row is
    ragged)."""
    columns = [schema[c] for c in used]
    out = T.StructType(columns + [T.StructField(IN_FILE, T.StringType()),
                                  T.StructField(IN_ROW, T.LongType()),
                                  T.StructField(bad_row, T.StringType())])
    names = [c.name for c in columns]

    uris = file_uris(spark, files)
    read = functools.partial(_read, names=names, out=out, known=_known(uris),
                             batch_bytes=BATCH_BYTES)
    return _files(spark, files, uris).mapInArrow(read, out)


def _read(batches: Iterator, names: List[str], out: T.StructType, known: Dict[str, str],
          batch_bytes: int) -> Iterator:
    """(mapInArrow) The rows of each file, about ``batch_bytes`` at a time. An error names the
    file and the dataset."""
    import numpy as np
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_schema
    h5py = need_h5py("hdf5")
    arrow = to_arrow_schema(out)
    for batch in batches:
        for uri, content in _each_file(batch, known):
            with _open(h5py, uri, content) as f:
                datasets = [f[n] for n in names]
                n = datasets[0].shape[0] if datasets else _rows_of(f)
                for lo, hi, arrays in _slices(names, datasets, n, arrow, uri, batch_bytes, pa, np):
                    yield pa.RecordBatch.from_arrays(
                        arrays + [pa.array([uri] * (hi - lo), pa.string()),
                                  pa.array(np.arange(lo, hi, dtype=np.int64)),
                                  pa.nulls(hi - lo, pa.string())], schema=arrow)


VARYING_CHUNK = 1024  # at most this many rows of variable-length strings read at a time


def _slices(names, datasets, n: int, arrow, uri: str, batch_bytes: int, pa, np) -> Iterator:
    """(start, stop, Arrow arrays of the datasets) covering rows 0..n, about ``batch_bytes``
    each, counting the file name and row index each row carries.

    Fixed-width datasets size the batch from their widths. A variable-length string's size is
    known only once read: the string datasets are read in chunks (at most
    :data:`VARYING_CHUNK` rows, fewer when the rows seen so far are long: about a quarter of
    the batch size a chunk) until the batch is full, and the fixed-width ones then once for
    its rows. A batch exceeds the size by at most one chunk, whatever the first rows were like.
    """
    def read(lo: int, hi: int, which) -> Dict[str, Any]:
        arrays = {}
        for name, d, field in zip(names, datasets, arrow):
            if name not in which:
                continue
            try:
                arrays[name] = _arrow_column(d, lo, hi, field.type, pa, np)
            except Exception as err:  # noqa: BLE001  (said with file and dataset)
                raise ValueError(f"{uri}: dataset '{name}', rows {lo}-{hi}: "
                                 f"{type(err).__name__}: {err}") from err
        return arrays

    varying = {name for name, d in zip(names, datasets) if d.dtype.kind == "O"}
    fixed = set(names) - varying
    width = len(uri.encode()) + 12 + sum(  # (+ the row's file name and index)
        max(1, int(np.prod(d.shape[1:]))) * d.dtype.itemsize
        for name, d in zip(names, datasets) if name in fixed)
    if not varying:
        step = max(1, batch_bytes // width)
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            got = read(lo, hi, fixed)
            yield lo, hi, [got[name] for name in names]
        return
    lo, at, chunks, size, step = 0, 0, [], 0, VARYING_CHUNK
    while at < n:
        hi = min(n, at + step)
        chunk = read(at, hi, varying)
        chunks.append(chunk)
        got = sum(a.nbytes for a in chunk.values()) + width * (hi - at)
        size += got
        step = max(1, min(VARYING_CHUNK, int(batch_bytes / 4 / (got / (hi - at)))))
        at = hi
        if size >= batch_bytes or at == n:
            arrays = read(lo, at, fixed)
            for name in varying:
                arrays[name] = pa.concat_arrays([c[name] for c in chunks])
            yield lo, at, [arrays[name] for name in names]
            lo, chunks, size = at, [], 0


def _rows_of(f) -> int:
    """Rows of a file none of whose datasets is read: its first dataset's length."""
    for item in f.values():
        if hasattr(item, "shape") and item.shape:
            return int(item.shape[0])
    return 0


def _arrow_column(dataset, start: int, stop: int, arrow_type, pa, np):
    """Rows ``start:stop`` of a dataset as an Arrow array of ``arrow_type``. Bytes are UTF-8
    (h5py would decode those it tags ASCII strictly)."""
    string = pa.types.is_string(arrow_type) or (pa.types.is_list(arrow_type) and
                                                pa.types.is_string(arrow_type.value_type))
    source = dataset.asstr("utf-8") if string and dataset.dtype.kind in "SO" else dataset
    values = source[start:stop]
    if dataset.dtype.kind == "f" and dataset.dtype.itemsize < 4:  # (Arrow takes no float16)
        values = values.astype("float32")
    if dataset.dtype.kind == "u" and dataset.dtype.itemsize == 8 and values.size and \
            values.max() > np.iinfo(np.int64).max:
        raise ValueError(f"a value is {values.max()}, above 2^63-1, the largest integer Spark "
                         "holds; store such ids as strings")
    if dataset.ndim == 1:
        return pa.array(values.tolist() if string else values, type=arrow_type)
    flat = values.reshape(len(values), -1)
    items = pa.array(flat.ravel().tolist() if string else flat.ravel(),
                     type=arrow_type.value_type)
    offsets = pa.array(np.arange(len(flat) + 1, dtype=np.int32) * flat.shape[1])
    return pa.ListArray.from_arrays(offsets, items, type=arrow_type)
