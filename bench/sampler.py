"""Benchmark: the built-in neighbour sampler against PyG's NeighborLoader.

    python bench/sampler.py [--nodes 1000000] [--edges 10000000] [--batches 30]

A power-law graph (in-degrees drawn from a Pareto distribution), fanout [15, 10], batch 1024.
Measures sampled edges per second of our sampler (one process, the built-in backend, and
torch-sparse's when installed) and, in the same run, of PyG's NeighborSampler (which needs
pyg-lib or torch-sparse: "not installed" otherwise). Prints the ratio ours / PyG.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from partition.reader import EdgeTypeMeta, NodeTypeMeta, PartsMeta
from torch_geometric.sampler import NodeSamplerInput
from training.data.exchange import Exchange
from training.data.graph import LocalGraph, PartitionBook
from training.data.neighbors import SAMPLERS, pick_sampler
from training.data.sampler import CollectiveNeighborSampler

FANOUT = [15, 10]
BATCH = 1024


def power_law_graph(nodes: int, edges: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    weight = rng.pareto(1.2, nodes) + 1.0
    dst = rng.choice(nodes, size=edges, p=weight / weight.sum())
    src = rng.integers(0, nodes, edges)
    return torch.from_numpy(src), torch.from_numpy(dst)


def ours(src, dst, nodes, seeds, backend):
    meta = PartsMeta(num_parts=1, algorithm="random", seed=0,
                     node_types={"n": NodeTypeMeta(count=nodes, offsets=[0, nodes],
                                                   id_dtype="long")},
                     edge_types={"n__to__n": EdgeTypeMeta("n", "to", "n", src.numel(),
                                                          [src.numel()])})
    graph = LocalGraph(meta, PartitionBook(meta, 1), 0)
    graph.csc["n__to__n"] = graph.build_csc("n", dst, src, torch.arange(src.numel()))
    sampler = CollectiveNeighborSampler(graph, Exchange(), FANOUT, seed=0,
                                        sample=SAMPLERS[backend])
    return lambda batch: sum(r.numel() for r in sampler.sample_from_nodes(
        NodeSamplerInput(input_id=None, node=batch, input_type="n")).row.values())


def pyg(src, dst, nodes):
    import torch_geometric.typing as pyg_typing
    from torch_geometric.data import Data
    from torch_geometric.sampler import NeighborSampler

    if not (pyg_typing.WITH_PYG_LIB or pyg_typing.WITH_TORCH_SPARSE):
        return None
    sampler = NeighborSampler(Data(edge_index=torch.stack([src, dst]), num_nodes=nodes),
                              num_neighbors=FANOUT)
    return lambda batch: sampler.sample_from_nodes(
        NodeSamplerInput(input_id=None, node=batch)).row.numel()


def rate(fn, seeds) -> float:
    fn(seeds[0])  # warm-up
    edges, start = 0, time.perf_counter()
    for batch in seeds[1:]:
        edges += fn(batch)
    return edges / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, default=1_000_000)
    p.add_argument("--edges", type=int, default=10_000_000)
    p.add_argument("--batches", type=int, default=30)
    args = p.parse_args()
    torch.manual_seed(0)
    t0 = time.perf_counter()
    src, dst = power_law_graph(args.nodes, args.edges)
    print(f"graph: {args.nodes:,} nodes, {args.edges:,} edges, max in-degree "
          f"{int(torch.bincount(dst).max()):,} ({time.perf_counter() - t0:.1f} s to build)")
    seeds = [torch.randint(0, args.nodes, (BATCH,)) for _ in range(args.batches + 1)]
    baseline_fn = pyg(src, dst, args.nodes)
    baseline = rate(baseline_fn, seeds) if baseline_fn else None
    print(f"fanout {FANOUT}, batch {BATCH}, {args.batches} batches, 1 process")
    for backend in ("builtin", "torch_sparse"):
        try:
            pick_sampler(backend)
        except RuntimeError:
            print(f"  ours ({backend}): not installed")
            continue
        r = rate(ours(src, dst, args.nodes, seeds, backend), seeds)
        ratio = f"{r / baseline:.2f}x PyG" if baseline else "PyG baseline: not installed"
        print(f"  ours ({backend}): {r / 1e6:.2f} M sampled edges/s  ({ratio})")
    if baseline:
        print(f"  PyG NeighborSampler: {baseline / 1e6:.2f} M sampled edges/s")
    else:
        print("  PyG NeighborSampler: not installed (needs pyg-lib or torch-sparse)")


if __name__ == "__main__":
    main()
