"""Partitions: every node and edge lands in exactly one part, and the parts reassemble to the
processed graph."""

import json
from collections import Counter

import numpy as np
import pytest

from graphmill.errors import InputError
from partition import reader
from partition.writer import partition_graph
from tests.conftest import read_parquet


def node_maps(parts):
    meta = reader.read_meta(str(parts))
    return meta, {t: reader.read_node_map(str(parts), t).to_pydict() for t in meta.node_types}


def test_every_node_in_exactly_one_part_with_contiguous_ranges(tiny_parts, tiny_processed):
    meta, maps = node_maps(tiny_parts)
    manifest = json.loads((tiny_processed / "manifest.json").read_text())
    for ntype, m in meta.node_types.items():
        nm = maps[ntype]
        n = manifest["node_types"][ntype]["count"]
        assert sorted(nm["nid"]) == list(range(n)) and sorted(nm["gid"]) == list(range(n))
        assert m.offsets[0] == 0 and m.offsets[-1] == n
        for gid, part in zip(nm["gid"], nm["part"]):
            assert m.offsets[part] <= gid < m.offsets[part + 1]
        owners = reader.owner_of(np.array(m.offsets), np.array(nm["gid"]))
        assert owners.tolist() == nm["part"]
        seen = []
        for k in range(meta.num_parts):
            gids = reader.read_part_nodes(str(tiny_parts), k, ntype).column("gid").to_pylist()
            assert all(m.offsets[k] <= g < m.offsets[k + 1] for g in gids)
            seen += gids
        assert sorted(seen) == list(range(n))


def test_node_rows_reassemble(tiny_parts, tiny_processed):
    _, maps = node_maps(tiny_parts)
    nid_of = {g: i for g, i in zip(maps["item"]["gid"], maps["item"]["nid"])}
    original = {r.pop("nid"): r for r in read_parquet(tiny_processed / "nodes/item").to_pylist()}
    rebuilt = {}
    for k in range(2):
        for r in reader.read_part_nodes(str(tiny_parts), k, "item").to_pylist():
            rebuilt[nid_of[r.pop("gid")]] = r
    assert rebuilt == original


def test_every_edge_in_exactly_one_part_the_one_owning_its_dst(tiny_parts, tiny_processed):
    meta, maps = node_maps(tiny_parts)
    for name, m in meta.edge_types.items():
        src_nid = dict(zip(maps[m.src_type]["gid"], maps[m.src_type]["nid"]))
        dst_nid = dict(zip(maps[m.dst_type]["gid"], maps[m.dst_type]["nid"]))
        got = Counter()
        for k in range(meta.num_parts):
            rows = reader.read_part_edges(str(tiny_parts), k, name).to_pylist()
            assert len(rows) == m.part_counts[k]
            for r in rows:
                assert meta.node_types[m.dst_type].offsets[k] <= r["dst_gid"] < \
                    meta.node_types[m.dst_type].offsets[k + 1]
                got[(src_nid[r["src_gid"]], dst_nid[r["dst_gid"]], r["eid"])] += 1
        forward = m.reverse_of or name  # a reverse type is its forward table swapped
        rows = read_parquet(tiny_processed / "edges" / forward).to_pylist()
        expected = Counter((r["dst"], r["src"], r["eid"]) if m.reverse_of else
                           (r["src"], r["dst"], r["eid"]) for r in rows)
        assert got == expected, name
    assert any(m.reverse_of for m in meta.edge_types.values())


def test_node_map_carries_original_ids(tiny_parts):
    _, maps = node_maps(tiny_parts)
    assert sorted(maps["user"]["orig"]) == ["alice", "bob", "carol", "dave", "zoë"]


def test_meta_quality_and_determinism(spark, tiny_parts, tiny_processed, tmp_path):
    meta = reader.read_meta(str(tiny_parts))
    assert meta.num_parts == 2 and meta.algorithm == "random" and meta.seed == 3
    assert 0.0 <= meta.quality["edge_cut"] <= 1.0
    assert set(meta.quality["train_balance"]) == {"item"}
    again = tmp_path / "again"
    partition_graph(spark, str(tiny_processed), str(again), 2, "random", 3)
    for t in meta.node_types:
        a = reader.read_node_map(str(tiny_parts), t).sort_by("nid")
        b = reader.read_node_map(str(again), t).sort_by("nid")
        assert a.equals(b)


def test_one_part_and_more_parts_than_nodes(spark, tiny_processed, tmp_path):
    one = partition_graph(spark, str(tiny_processed), str(tmp_path / "one"), 1, "random", 0)
    assert one.node_types["store"].offsets == [0, 2]
    many = partition_graph(spark, str(tiny_processed), str(tmp_path / "many"), 4, "random", 0)
    assert many.node_types["store"].offsets[-1] == 2
    for k in range(4):  # empty parts still have their files
        assert reader.read_part_nodes(str(tmp_path / "many"), k, "store").num_rows >= 0


def test_bad_arguments(spark, tiny_processed, tmp_path):
    with pytest.raises(InputError, match="unknown partition algorithm 'metiss'; known: random"):
        partition_graph(spark, str(tiny_processed), str(tmp_path / "x"), 2, "metiss", 0)
    with pytest.raises(InputError, match="--num-parts must be at least 1"):
        partition_graph(spark, str(tiny_processed), str(tmp_path / "x"), 0, "random", 0)
    with pytest.raises(InputError, match="manifest.json: not found; is .* the output of "
                                         "gsprocessing"):
        partition_graph(spark, str(tmp_path), str(tmp_path / "x"), 2, "random", 0)


def test_vectors_reads_dense_and_indices_columns_as_the_same_matrix():
    import pyarrow as pa
    dense = [[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]
    table = pa.table({"d": dense, "i": pa.array([[1, 3], [], [0]], pa.list_(pa.int32()))})
    want = np.array(dense, dtype=np.float32)
    assert np.array_equal(reader.vectors(table, "d", 4), want)
    assert np.array_equal(reader.vectors(table, "i", 4, encoding="indices"), want)
    assert reader.vectors(table.slice(0, 0), "i", 4, encoding="indices").shape == (0, 4)
    with pytest.raises(InputError, match="position outside 0..2"):
        reader.vectors(table, "i", 3, encoding="indices")


def test_wide_features_written_as_indices_train_as_the_same_matrix(spark, tiny_spec,
                                                                   tiny_parts, tmp_path,
                                                                   monkeypatch):
    """With every categorical feature over the width limit, processed/ holds indices and
    parts/ says so; the training loader expands them to the matrix the vectors give."""
    import torch

    from gsprocessing.pipeline import ProcessOptions, process
    from tests.conftest import TINY
    from training.data.graph import LocalGraph, PartitionBook

    monkeypatch.setattr("gsprocessing.transforms.categorical.DENSE_WIDTH", 0)
    processed, parts = tmp_path / "processed", tmp_path / "parts"
    process(spark, tiny_spec, ProcessOptions(input_prefix=str(TINY), output=str(processed),
                                             seed=7, add_reverse_edges=True))
    partition_graph(spark, str(processed), str(parts), 2, "random", 3)
    meta = reader.read_meta(str(parts))
    assert meta.node_types["user"].features["city"]["encoding"] == "indices"
    assert meta.node_types["user"].features["age"]["encoding"] == "dense"
    cities = read_parquet(processed / "nodes/user").column("city").to_pylist()
    assert all(len(c) <= 1 for c in cities) and any(cities)   # one-hot: at most one position
    dense = reader.read_meta(str(tiny_parts))
    for ntype in ("user", "item"):
        a = LocalGraph.load(str(parts), meta, PartitionBook(meta, 1), 0).x[ntype]
        b = LocalGraph.load(str(tiny_parts), dense, PartitionBook(dense, 1), 0).x[ntype]
        assert torch.equal(a, b), ntype
