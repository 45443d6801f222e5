"""File-system operations for the Spark stages, through Hadoop's FileSystem API.

Going through the JVM means one code path for local disk, HDFS, S3 (s3a://, or s3:// on EMR) and GCS
(gs:// on Dataproc): whatever the cluster's Spark can read and write, these helpers can too.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Sequence, TypeVar

from graphmill.errors import InputError

# Files read at once on the driver (CSV headers, Parquet footers): one or two requests each on
# object stores, and calls into the JVM that wait on it.
FILE_THREADS = 8
_In, _Out = TypeVar("_In"), TypeVar("_Out")


def each_file(fn: Callable[[_In], _Out], items: Sequence[_In]) -> List[_Out]:
    """``[fn(item) for item in items]``, ``FILE_THREADS`` at a time (one item: no thread)."""
    if len(items) < 2:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(min(FILE_THREADS, len(items)), "gm-file") as pool:
        return list(pool.map(fn, items))


def file_uris(spark, paths: Sequence[str]) -> List[str]:
    """Each path as a URI, the way Spark's ``_metadata.file_path`` gives the file's rows (special
    characters percent-encoded: ``file:/a b`` → ``file:/a%20b``)."""
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path  # (looked up once: a call a package)
    return [str(path(p).toUri().toString()) for p in paths]


class HadoopFS:
    """Small wrapper over ``org.apache.hadoop.fs.FileSystem`` for one SparkSession."""

    def __init__(self, spark) -> None:
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        # JVM classes looked up once: a name written out costs a call into the JVM per package.
        self._path = self._jvm.org.apache.hadoop.fs.Path
        self._codecs = None  # a CompressionCodecFactory, made on first use

    def _resolve(self, path: str):
        jpath = self._path(path)
        return jpath.getFileSystem(self._conf), jpath

    def exists(self, path: str) -> bool:
        fs, p = self._resolve(path)
        return bool(fs.exists(p))

    def delete(self, path: str) -> None:
        fs, p = self._resolve(path)
        if fs.exists(p):
            fs.delete(p, True)

    def mkdirs(self, path: str) -> None:
        fs, p = self._resolve(path)
        fs.mkdirs(p)

    def rename(self, src: str, dst: str) -> None:
        fs, s = self._resolve(src)
        _, d = self._resolve(dst)
        fs.mkdirs(d.getParent())
        if not fs.rename(s, d):
            raise OSError(f"could not rename {src} to {dst}")

    def write_text(self, path: str, text: str) -> None:
        fs, p = self._resolve(path)
        out = fs.create(p, True)
        try:
            out.write(bytearray(text.encode("utf-8")))
        finally:
            out.close()

    def read_text(self, path: str) -> str:
        fs, p = self._resolve(path)
        if not fs.exists(p):
            raise InputError(f"{path}: file not found")
        stream = fs.open(p)
        try:
            # One call: a line at a time took a call into the JVM per line (0.3-1.5 ms each
            # here; a transforms.json of many categories has a line per category).
            data = bytes(stream.readAllBytes())
        finally:
            stream.close()
        try:
            return data.decode("utf-8-sig")  # (a byte-order mark, as editors write, is dropped)
        except UnicodeDecodeError as err:
            raise InputError(f"{path}: not UTF-8 text (byte {err.start} is "
                             f"{data[err.start]:#04x}); save it as UTF-8") from None

    def head(self, path: str, size: int) -> bytes:
        """Up to ``size`` bytes from the start of the file at ``path``; decompressed when its
        name says it is compressed (``.gz``, ``.bz2``, ...: as Spark's text readers do)."""
        fs, p = self._resolve(path)
        stream = fs.open(p)
        try:
            if self._codecs is None:
                self._codecs = self._jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(
                    self._conf)
            codec = self._codecs.getCodec(p)
            if codec is not None:
                stream = codec.createInputStream(stream)
            return bytes(stream.readNBytes(size))
        finally:
            stream.close()

    def glob(self, pattern: str) -> List[str]:
        """Paths matching ``pattern`` (Hadoop glob syntax: ``*``, ``?``, ``[ab]``, ``{a,b}``), sorted."""
        fs, p = self._resolve(pattern)
        statuses = fs.globStatus(p)
        if statuses is None:
            return []
        return sorted(str(s.getPath().toString()) for s in statuses)

    def list_files(self, directory: str) -> List[str]:
        """Data files directly under ``directory`` (names starting with ``_`` or ``.`` skipped)."""
        fs, p = self._resolve(directory)
        if not fs.exists(p):
            return []
        out = []
        for status in fs.listStatus(p):
            name = status.getPath().getName()
            if status.isFile() and not name.startswith(("_", ".")):
                out.append(str(status.getPath().toString()))
        return sorted(out)


class StagedOutput:
    """Write a whole output directory under a temporary sibling, then commit it by one rename.

    A failed job leaves only the temporary directory (named ``<output>.tmp-<random>``), never a
    directory at ``output`` that looks complete.
    """

    def __init__(self, fs: HadoopFS, output: str, overwrite: bool) -> None:
        self.fs = fs
        self.output = output.rstrip("/")
        self.overwrite = overwrite
        self.tmp = f"{self.output}.tmp-{uuid.uuid4().hex[:8]}"

    def check(self) -> None:
        """Fail before any work if the output exists and ``overwrite`` is off."""
        if self.fs.exists(self.output) and not self.overwrite:
            raise InputError(f"{self.output}: output directory already exists; "
                             "remove it or pass --overwrite")

    def commit(self) -> None:
        if self.fs.exists(self.output):
            if not self.overwrite:
                raise InputError(f"{self.output}: output directory appeared while the job ran; "
                                 "remove it or pass --overwrite")
            self.fs.delete(self.output)
        self.fs.rename(self.tmp, self.output)

    def abort(self) -> None:
        self.fs.delete(self.tmp)
