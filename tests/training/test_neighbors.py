"""The one-hop kernel: uniform without replacement, at most k, everything when deg <= k."""

import pytest
import torch

from training.data.neighbors import pick_sampler, sample_builtin


def csc(degrees):
    indptr = torch.zeros(len(degrees) + 1, dtype=torch.long)
    indptr[1:] = torch.cumsum(torch.tensor(degrees), 0)
    return indptr


def test_small_degrees_take_every_neighbour_once():
    indptr = csc([0, 1, 3, 5])
    which, pos = sample_builtin(indptr, None, torch.tensor([0, 1, 2, 3]), 5, torch.Generator())
    got = sorted(zip(which.tolist(), pos.tolist()))
    assert got == [(1, 0), (2, 1), (2, 2), (2, 3), (3, 4), (3, 5), (3, 6), (3, 7), (3, 8)]


def test_never_more_than_k_and_no_duplicates():
    degrees = [1, 7, 20, 1000]
    indptr = csc(degrees)
    nodes = torch.tensor([0, 1, 2, 3, 3])  # a node asked twice is sampled twice
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        which, pos = sample_builtin(indptr, None, nodes, 6, g)
        for i, node in enumerate(nodes.tolist()):
            mine = pos[which == i].tolist()
            assert len(mine) == min(degrees[node], 6)
            assert len(set(mine)) == len(mine)
            assert all(indptr[node] <= p < indptr[node + 1] for p in mine)


@pytest.mark.parametrize("deg, k", [(10, 3), (40, 15), (7, 6)])
def test_inclusion_frequency_is_k_over_deg(deg, k):
    indptr = csc([deg])
    g = torch.Generator().manual_seed(1)
    draws = 4000
    counts = torch.zeros(deg)
    for _ in range(draws):
        _, pos = sample_builtin(indptr, None, torch.tensor([0]), k, g)
        counts[pos] += 1
    freq = counts / draws
    p = k / deg
    tolerance = 5 * (p * (1 - p) / draws) ** 0.5  # 5 standard deviations
    assert (freq - p).abs().max().item() < tolerance


def test_all_neighbours_with_minus_one():
    which, pos = sample_builtin(csc([3, 0, 2]), None, torch.tensor([0, 1, 2]), -1, torch.Generator())
    assert sorted(pos.tolist()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("backend", ["builtin", "torch_sparse"])
def test_backends_agree_on_the_rules(backend):
    if backend == "torch_sparse":
        pytest.importorskip("torch_sparse")
    _, sample = pick_sampler(backend)
    degrees = [0, 2, 9, 30]
    indptr = csc(degrees)
    src = torch.arange(int(indptr[-1])) + 100
    which, pos = sample(indptr, src, torch.tensor([3, 2, 1, 0]), 4, torch.Generator())
    per_node = torch.bincount(which, minlength=4).tolist()
    assert per_node == [4, 4, 2, 0]
    for i, node in enumerate([3, 2, 1, 0]):
        mine = pos[which == i]
        assert ((mine >= indptr[node]) & (mine < indptr[node + 1])).all()
        assert mine.unique().numel() == mine.numel()


def test_pick_sampler():
    name, fn = pick_sampler("builtin")
    assert name == "builtin" and fn is sample_builtin
    name, _ = pick_sampler("auto")
    assert name in ("builtin", "torch_sparse")
