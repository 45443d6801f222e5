"""The collective sampler and feature store with 1 and 2 processes (gloo, spawned here).

Same graph, partitioned into 1 part and into 2: each neighbour's inclusion frequency matches
k/deg in both, never more than k are picked, every neighbour is picked when deg <= k, and
features fetched from another rank are the right rows.
"""

import json
from collections import Counter
from pathlib import Path

import pytest
import torch

HUB_DEGREES = {"a0": 40, "a1": 12, "a2": 3}
FANOUT = 8
DRAWS = 400


@pytest.fixture(scope="module")
def hub_parts(spark, tmp_path_factory):
    """A star-ish graph: b nodes point at hubs a0 (40), a1 (12), a2 (3); a0..a5 form a chain."""
    from gsprocessing.config import parse_graph_config
    from gsprocessing.pipeline import ProcessOptions, process
    from partition.writer import partition_graph

    root = tmp_path_factory.mktemp("hub")
    data = root / "data"
    data.mkdir()
    (data / "a.csv").write_text("id,f\n" + "".join(f"a{i},{i}\n" for i in range(6)))
    edges = [f"b{j},a{h[1]}" for h, d in HUB_DEGREES.items() for j in range(d)]
    (data / "ba.csv").write_text("src,dst\n" + "\n".join(edges) + "\n")
    (data / "aa.csv").write_text("src,dst\n" + "".join(f"a{i},a{i + 1}\n" for i in range(5)))
    config = {"nodes": [{"node_type": "a", "format": {"name": "csv"}, "files": ["a.csv"],
                         "node_id_col": "id", "features": [{"feature_col": "f"}]}],
              "edges": [{"relation": ["b", "points", "a"], "format": {"name": "csv"},
                         "files": ["ba.csv"], "source_id_col": "src", "dest_id_col": "dst"},
                        {"relation": ["a", "next", "a"], "format": {"name": "csv"},
                         "files": ["aa.csv"], "source_id_col": "src", "dest_id_col": "dst"}]}
    spec = parse_graph_config(json.dumps(config), "hub.json")
    process(spark, spec, ProcessOptions(input_prefix=str(data), output=str(root / "processed")))
    out = {}
    for n in (1, 2):
        out[n] = root / f"parts{n}"
        partition_graph(spark, str(root / "processed"), str(out[n]), n, "random", 11)
    return out


def _worker(rank, world, init, parts_dir, out_dir):
    import torch.distributed as dist

    from partition import reader
    from torch_geometric.sampler import NodeSamplerInput
    from training.data.exchange import Exchange
    from training.data.graph import LocalGraph, PartitionBook
    from training.data.sampler import CollectiveNeighborSampler
    from training.data.stores import DistFeatureStore

    if world > 1:
        dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank,
                                world_size=world)
    meta = reader.read_meta(parts_dir)
    ex = Exchange()
    graph = LocalGraph.load(parts_dir, meta, PartitionBook(meta, world), rank)
    orig = {}
    for t in meta.node_types:
        nm = reader.read_node_map(parts_dir, t).to_pydict()
        orig[t] = dict(zip(nm["gid"], nm["orig"]))
    gid_of = {o: g for g, o in orig["a"].items()}
    sampler = CollectiveNeighborSampler(graph, ex, [FANOUT, 2], seed=5 + rank)
    # every rank asks for all three hubs, whoever owns them
    seeds = torch.tensor([gid_of[h] for h in HUB_DEGREES])
    counts, per_draw_max = Counter(), 0
    for _ in range(DRAWS):
        out = sampler.sample_from_nodes(NodeSamplerInput(input_id=None, node=seeds,
                                                         input_type="a"))
        key = ("b", "points", "a")
        first = out.num_sampled_edges[key][0]
        src = out.node["b"][out.row[key][:first]].tolist()
        dst = out.node["a"][out.col[key][:first]].tolist()
        picked = Counter(orig["a"][d] for d in dst)
        per_draw_max = max(per_draw_max, max(picked.values()))
        counts.update(f"{orig['b'][s]}>{orig['a'][d]}" for s, d in zip(src, dst))
    store = DistFeatureStore(graph, ex)
    all_a = torch.tensor(sorted(orig["a"]))
    feats = store.fetch({"a": all_a})["a"][:, 0].tolist()
    fetched = {orig["a"][int(g)]: v for g, v in zip(all_a.tolist(), feats)}
    Path(out_dir, f"{rank}.json").write_text(json.dumps(
        {"counts": counts, "max": per_draw_max, "features": fetched,
         "parts": graph.parts}))
    if world > 1:
        dist.destroy_process_group()


def run_world(world, parts_dir, tmp_path):
    out = tmp_path / f"w{world}"
    out.mkdir()
    if world == 1:
        _worker(0, 1, None, str(parts_dir), str(out))
    else:
        torch.multiprocessing.spawn(_worker, args=(world, str(tmp_path / "init"), str(parts_dir),
                                                   str(out)), nprocs=world)
    return [json.loads((out / f"{r}.json").read_text()) for r in range(world)]


def check_frequencies(results):
    counts = Counter()
    for r in results:
        counts.update(r["counts"])
    draws = DRAWS * len(results)
    for hub, deg in HUB_DEGREES.items():
        k = min(FANOUT, deg)
        p = k / deg
        freqs = [counts.get(f"b{j}>{hub}", 0) / draws for j in range(deg)]
        tol = 5 * (p * (1 - p) / draws) ** 0.5 + 1e-9
        assert all(abs(f - p) <= tol for f in freqs), (hub, freqs, p)
    assert all(r["max"] <= FANOUT for r in results)


def test_one_process(hub_parts, tmp_path):
    results = run_world(1, hub_parts[1], tmp_path)
    check_frequencies(results)
    assert results[0]["features"] == {f"a{i}": float(i) for i in range(6)}


def test_two_processes_same_distribution_and_remote_features(hub_parts, tmp_path):
    results = run_world(2, hub_parts[2], tmp_path)
    assert [r["parts"] for r in results] == [[0], [1]]
    check_frequencies(results)
    for r in results:  # each rank fetched every node's features, half of them remotely
        assert r["features"] == {f"a{i}": float(i) for i in range(6)}
