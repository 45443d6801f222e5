"""HDF5 input tables (GConstruct's ``format: {"name": "hdf5"}``)."""

import json
import shutil
import sys

import numpy as np
import pytest

from graphmill.errors import ConfigError, InputError
from gsprocessing import hdf5
from gsprocessing.config import parse_graph_config
from gsprocessing.pipeline import ProcessOptions, process
from tests.gsprocessing.test_inputs_and_labels import ids_of, rows_of

h5py = pytest.importorskip("h5py")


def _write(path, **datasets):
    with h5py.File(path, "w") as f:
        for name, value in datasets.items():
            f[name] = value


def _graph(node_files="n", extra_features=()):
    return parse_graph_config(json.dumps({
        "nodes": [{"node_type": "n", "format": {"name": "hdf5"}, "files": node_files,
                   "node_id_col": "id",
                   "features": [{"feature_col": "emb"}, {"feature_col": "age",
                                                          "transform": {"name": "max_min_norm"}},
                                *extra_features],
                   "labels": [{"label_col": "y", "task_type": "classification",
                               "split_pct": [1.0, 0.0, 0.0]}]}],
        "edges": [{"relation": ["n", "e", "n"], "format": {"name": "hdf5"}, "files": "e.h5",
                   "source_id_col": "s", "dest_id_col": "d",
                   "features": [{"feature_col": "w"}]},
                  {"relation": ["n", "e", "n"], "format": {"name": "hdf5"}, "files": "ew.h5",
                   "features": [{"feature_col": "v"}]}]}), "g.json")


@pytest.fixture
def h5data(tmp_path):
    data = tmp_path / "data"
    (data / "n").mkdir(parents=True)
    # Two files, read in name order; ids as fixed-length bytes in one, variable-length
    # strings in the other; a 2-D float32 dataset is one vector column; groups are skipped.
    # (UTF-8 bytes, which h5py tags ASCII; ages as float16, which Arrow does not take)
    _write(data / "n" / "0.h5", id=np.array(["c".encode(), "zoë".encode()]),
           emb=np.array([[1, 2], [3, 4]], dtype="float32"),
           age=np.array([30, 10], dtype="float16"), y=np.array([0, 1]))
    with h5py.File(data / "n" / "0.h5", "a") as f:
        f["group/inner"] = np.arange(2)
    with h5py.File(data / "n" / "1.h5", "w") as f:
        f.create_dataset("id", data=["b"], dtype=h5py.string_dtype())
        f["emb"] = np.array([[5, 6]], dtype="float32")
        f["age"] = np.array([20], dtype="float16")
        f["y"] = np.array([1])
    _write(data / "e.h5", s=np.array(["zoë".encode(), b"b", b"c"]),
           d=np.array([b"b", b"c", "zoë".encode()]),
           w=np.array([0.5, 1.5, 2.5]))
    _write(data / "ew.h5", v=np.array([[1, 1], [2, 2], [3, 3]], dtype="int64"))
    return data


def _check(out, m):
    ids = ids_of(out, "n")
    assert sorted(ids, key=ids.get) == ["c", "zoë", "b"] and m.node_types["n"].count == 3
    rows = rows_of(out, "nodes/n")
    assert {k: (rows[n]["emb"], rows[n]["age"], rows[n]["y"]) for k, n in ids.items()} == {
        "c": ([1.0, 2.0], [1.0], 0), "zoë": ([3.0, 4.0], [0.0], 1),
        "b": ([5.0, 6.0], [0.5], 1)}
    edges = sorted(rows_of(out, "edges/n__e__n", "eid").values(), key=lambda e: e["eid"])
    assert [(e["src"], e["dst"], e["w"], e["v"]) for e in edges] == [
        (ids["zoë"], ids["b"], [0.5], [1.0, 1.0]), (ids["b"], ids["c"], [1.5], [2.0, 2.0]),
        (ids["c"], ids["zoë"], [2.5], [3.0, 3.0])]
    report = json.loads((out / "report.json").read_text())
    assert sorted(report["nodes"]["n"]["rows_per_file"].values()) == [1, 2]


def test_hdf5_tables_as_gconstruct_reads_them(spark, h5data, tmp_path):
    """GConstruct reads HDF5 files (datasets at the root are columns, a 2-D dataset a vector
    column); such configs were refused here (format must be csv, parquet or json). Now they
    are read by Python workers, rows in file-name order, ids (bytes or strings) included, for
    nodes and edges, and for a block without ids matched row by row."""
    out = tmp_path / "out"
    m = process(spark, _graph(), ProcessOptions(input_prefix=str(h5data), output=str(out)))
    _check(out, m)
    assert m.node_types["n"].features["emb"].dim == 2


def test_hdf5_files_on_other_file_systems_come_whole(spark, h5data, tmp_path, monkeypatch):
    """A file that is not local reaches its task through Spark's binaryFile reader: the same
    rows (forced here for local files; in a folder whose name Spark's binaryFile writes
    otherwise than the URI, "a%20b", and a file name that looks like a pattern), also when a
    file is read in several batches."""
    monkeypatch.setattr(hdf5, "_is_local", lambda uri: False)
    monkeypatch.setattr(hdf5, "BATCH_BYTES", 1)  # (a row a batch)
    spaced = tmp_path / "my data"
    shutil.copytree(h5data, spaced)
    (spaced / "n" / "1.h5").rename(spaced / "n" / "1[x].h5")  # (not a pattern to binaryFile)
    out = tmp_path / "out"
    m = process(spark, _graph(), ProcessOptions(input_prefix=str(spaced), output=str(out)))
    _check(out, m)


def test_hdf5_problems_name_the_file_and_dataset(spark, h5data, tmp_path):
    """A file without a dataset the first has, a needed dataset of another type, datasets of
    one file with different lengths and a 3-D dataset: all reported at once, before any
    feature work, naming file and dataset; a missing dataset lists the columns. A file that
    is not HDF5 is named, alone; so is a first file without datasets at its root."""
    _write(h5data / "n" / "1.h5", id=np.array([b"b", b"d"]), emb=np.array([[5, 6]]),
           y=np.array([1, 0]))
    _write(h5data / "n" / "2.h5", id=np.array([b"e"]), age=np.array([1.0], dtype="float16"),
           emb=np.array([[5, 6, 7]], dtype="float32"), y=np.array([1]))
    with h5py.File(h5data / "n" / "0.h5", "a") as f:
        f["cube"] = np.zeros((2, 2, 2))
    graph = _graph(extra_features=[{"feature_col": "cube"}, {"feature_col": "nope"}])
    with pytest.raises(ConfigError) as err:
        process(spark, graph, ProcessOptions(input_prefix=str(h5data), output=str(tmp_path / "o")))
    text = str(err.value)
    assert "1.h5 has no dataset 'age' (the first file, " in text
    assert "dataset 'emb' of " in text and "1.h5 is array<bigint> (shape [1, 2]), not " \
        "array<float> (shape [2, 2]) as in " in text
    assert "dataset 'emb' of " in text and "2.h5 is array<float> (shape [1, 3]), not " \
        "array<float> (shape [2, 2])" in text  # (vectors of another width)
    assert "dataset 'cube' of " in text and "has shape [2, 2, 2]" in text
    assert "column 'cube'" not in text  # (said once, with the reason)
    assert "column 'nope' (input of feature 'nope') is not in nodes[0]" in text
    assert not (tmp_path / "o").exists()
    _write(h5data / "n" / "1.h5", id=np.array([b"b", b"d"]), emb=np.array([[5, 6]],
                                                                        dtype="float32"),
           age=np.array([20, 40]), y=np.array([1, 0]))
    with pytest.raises(ConfigError, match=r"1\.h5: the datasets read have different lengths "
                                         r"\(rows\), \{.*'emb': 1"):
        process(spark, _graph(), ProcessOptions(input_prefix=str(h5data),
                                                output=str(tmp_path / "o")))
    (h5data / "n" / "2.h5").unlink()
    (h5data / "n" / "1.h5").write_text("id,emb\n")
    with pytest.raises(ConfigError, match=r"1 problem\(s\).*\n.*n/1\.h5 cannot be read as HDF5: "
                                          r".*signature not found"):
        process(spark, _graph(), ProcessOptions(input_prefix=str(h5data),
                                                output=str(tmp_path / "o")))
    (h5data / "n" / "1.h5").unlink()
    with h5py.File(h5data / "n" / "0.h5", "w") as f:
        f["group/id"] = np.array([b"a"])  # (a group's datasets are not the table's columns)
    with pytest.raises(ConfigError, match=r"the first file of .*n/0\.h5 has no dataset at its "
                                          r"root, so the table has no columns"):
        process(spark, _graph(), ProcessOptions(input_prefix=str(h5data),
                                                output=str(tmp_path / "o")))


def test_hdf5_without_h5py_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)  # (import h5py raises ImportError)
    with pytest.raises(InputError, match=r"nodes\[0\]: format hdf5 needs the h5py package: pip "
                                         r"install h5py \(on the Spark workers too\)"):
        hdf5.need_h5py("nodes[0]")


def test_hdf5_values_spark_cannot_hold_name_file_and_dataset(spark, h5data, tmp_path):
    """uint64 ids above 2^63-1 (hashed ids) have no Spark type: the task's error names the
    file, the dataset and what to do, rather than Arrow's overflow alone."""
    _write(h5data / "e.h5", s=np.array([2**63 + 5, 1, 2], dtype="uint64"),
           d=np.array([1, 2, 3], dtype="uint64"), w=np.array([0.5, 1.5, 2.5]))
    with pytest.raises(Exception, match=r"e\.h5: dataset 's', rows 0-3: ValueError: a value is "
                                        r"9223372036854775813, above 2\^63-1"):
        process(spark, _graph(), ProcessOptions(input_prefix=str(h5data),
                                                output=str(tmp_path / "o")))


def test_hdf5_batches_of_long_strings_stay_near_the_batch_size(tmp_path):
    """A variable-length string's size is not in the file's metadata: such a table is read
    in chunks of rows put together up to the batch size, so short first rows do not make a
    huge batch of the long ones after them (sized at 64 bytes a string, all 6,500 rows were
    one 11 MB batch). The fixed-width column comes with its rows. Every row once, in order,
    with its position."""
    from pyspark.sql import types as T
    import pyarrow as pa
    texts = [f"short {i}" for i in range(1500)] + ["x" * 2000 + str(i) for i in range(5000)]
    path = tmp_path / "t.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("text", data=texts, dtype=h5py.string_dtype())
        f["num"] = np.arange(len(texts), dtype=np.int32) * 3
    out = T.StructType([T.StructField(n, t) for n, t in (
        ("num", T.IntegerType()), ("text", T.StringType()), ("file", T.StringType()),
        ("row", T.LongType()), ("bad", T.StringType()))])
    files = pa.RecordBatch.from_pydict({"uri": [str(path)], "content": [None]},
                                       schema=pa.schema([("uri", pa.string()),
                                                         ("content", pa.binary())]))
    budget = 3_000_000
    batches = list(hdf5._read(iter([files]), ["num", "text"], out, {}, batch_bytes=budget))
    assert [t for b in batches for t in b.column(1).to_pylist()] == texts
    assert [x for b in batches for x in b.column(0).to_pylist()] == \
        [3 * i for i in range(len(texts))]
    assert [r for b in batches for r in b.column(3).to_pylist()] == list(range(len(texts)))
    sizes = [sum(c.nbytes for c in b.columns) for b in batches]
    assert len(batches) >= 3 and max(sizes) < 1.5 * budget, sizes
    assert batches[0].num_rows > 1500  # (the short rows are not a batch of their own)


@pytest.mark.parametrize("names", [["num"], []])
def test_hdf5_fixed_width_batches_count_the_file_name_and_row(tmp_path, names):
    """Fixed-width tables: a batch's rows from the columns' widths plus each row's file name
    and index (a table of which no column is read is still read in bounded batches)."""
    from pyspark.sql import types as T
    import pyarrow as pa
    path = tmp_path / "n.h5"
    with h5py.File(path, "w") as f:
        f["num"] = np.arange(1000, dtype=np.int64)
    fields = [("num", T.LongType())] if names else []
    out = T.StructType([T.StructField(n, t) for n, t in fields + [
        ("file", T.StringType()), ("row", T.LongType()), ("bad", T.StringType())]])
    files = pa.RecordBatch.from_pydict({"uri": [str(path)], "content": [None]},
                                       schema=pa.schema([("uri", pa.string()),
                                                         ("content", pa.binary())]))
    per_row = len(str(path).encode()) + 12 + (8 if names else 0)
    batches = list(hdf5._read(iter([files]), names, out, {}, batch_bytes=100 * per_row))
    assert [b.num_rows for b in batches] == [100] * 10
    assert [r for b in batches for r in b.column(len(names) + 1).to_pylist()] == list(range(1000))
