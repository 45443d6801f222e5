"""The distributed neighbour sampler: a PyG ``BaseSampler`` over the ranks' shares of the graph.

Per hop, the frontier of each node type is split by owner rank and exchanged (``all_to_all``);
each rank samples the in-edges of the nodes it was asked about from its own CSC and sends the
picked edges back. With one rank nothing is exchanged. The result is a ``HeteroSamplerOutput``
that PyG's ``NodeLoader`` turns into a ``HeteroData`` batch: per node type the seeds first, then
the nodes found at hop 1, hop 2, ... (``num_sampled_nodes``), edges ordered by hop, so PyG's
``trim_to_layer`` works on it.

Sampling is uniform without replacement (see :mod:`training.data.neighbors`), so the sampled
distribution is the same whatever the number of parts; the draws are seeded per rank.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import torch
from torch_geometric.sampler import BaseSampler, HeteroSamplerOutput, NodeSamplerInput

from training.data.exchange import Exchange
from training.data.graph import LocalGraph
from training.data.neighbors import Sample, sample_builtin

EdgeType = Tuple[str, str, str]


class CollectiveNeighborSampler(BaseSampler):
    """Samples ``fanouts[h]`` in-neighbours per edge type at hop h, across ranks.

    (Not named ``DistNeighborSampler``: PyG's NodeLoader recognises its deprecated distributed
    sampler by that class name and would take a different code path.)
    """

    def __init__(self, graph: LocalGraph, exchange: Exchange, fanouts: List[int], seed: int,
                 sample: Sample = sample_builtin) -> None:
        self.graph = graph
        self.ex = exchange
        self.fanouts = list(fanouts)
        self.sample = sample
        self.generator = torch.Generator().manual_seed(seed * 1_000_003 + exchange.rank)
        meta = graph.meta
        self.node_types = graph.node_types
        self.edge_types = graph.edge_types
        self.etype = {e: meta.edge_types[e].etype for e in self.edge_types}
        self.in_edges = {t: [e for e in self.edge_types if meta.edge_types[e].dst_type == t]
                         for t in self.node_types}

    def sample_from_nodes(self, inputs: NodeSamplerInput, **kwargs) -> HeteroSamplerOutput:
        seed_type = inputs.input_type
        nodes = {t: torch.zeros(0, dtype=torch.long) for t in self.node_types}
        nodes[seed_type] = inputs.node.to(torch.long)
        frontier = {seed_type: nodes[seed_type]}
        counts = {t: [nodes[t].numel()] for t in self.node_types}
        picked: Dict[str, List[torch.Tensor]] = {e: [] for e in self.edge_types}
        edge_counts: Dict[str, List[int]] = {e: [] for e in self.edge_types}
        for k in self.fanouts:
            hop = self._one_hop(frontier, k)
            found: Dict[str, List[torch.Tensor]] = {t: [] for t in self.node_types}
            for e, rows in hop.items():
                picked[e].append(rows)
                edge_counts[e].append(rows.shape[0])
                found[self.etype[e][0]].append(rows[:, 1])
            frontier = {}
            for t in self.node_types:
                cand = torch.cat(found[t]) if found[t] else torch.zeros(0, dtype=torch.long)
                new = torch.unique(cand[~torch.isin(cand, nodes[t])])
                nodes[t] = torch.cat([nodes[t], new])
                counts[t].append(new.numel())
                if new.numel():
                    frontier[t] = new
        return self._output(nodes, picked, counts, edge_counts, inputs)

    def sample_from_edges(self, index, neg_sampling=None):
        raise NotImplementedError("link prediction sampling comes with the link prediction task")

    @property
    def edge_permutation(self):
        return None

    def _one_hop(self, frontier: Dict[str, torch.Tensor], k: int) -> Dict[str, torch.Tensor]:
        """Ask each frontier node's owner for up to k in-neighbours per edge type.

        Returns per edge type name the picked edges as rows ``(dst_gid, src_gid, eid)``.
        """
        requests = self._route(frontier)
        answers = self._serve(self.ex.all_to_all(requests), k)
        rows = torch.cat(self.ex.all_to_all(answers))
        return {e: rows[rows[:, 0] == i][:, 1:] for i, e in enumerate(self.edge_types)}

    def _route(self, wanted: Dict[str, torch.Tensor]) -> List[torch.Tensor]:
        """Rows ``(node type index, gid)`` grouped by the rank that owns the gid."""
        parts, owners = [], []
        for i, t in enumerate(self.node_types):
            gids = wanted.get(t)
            if gids is None or gids.numel() == 0 or not self.in_edges[t]:
                continue
            parts.append(torch.stack([torch.full_like(gids, i), gids], dim=1))
            owners.append(self.graph.book.rank_of(t, gids))
        return split_by_rank(parts, owners, self.ex.world, width=2)

    def _serve(self, received: List[torch.Tensor], k: int) -> List[torch.Tensor]:
        """Sample for every request received; answer rows ``(etype index, dst, src, eid)``."""
        req = torch.cat(received)
        requester = torch.repeat_interleave(
            torch.arange(len(received)), torch.tensor([r.shape[0] for r in received]))
        out, owners = [], []
        for i, t in enumerate(self.node_types):
            sel = (req[:, 0] == i).nonzero().view(-1)
            if sel.numel() == 0:
                continue
            gids = req[sel, 1]
            local = self.graph.local_index(t, gids)
            for e in self.in_edges[t]:
                csc = self.graph.csc[e]
                which, pos = self.sample(csc.indptr, csc.src, local, k, self.generator)
                etype_idx = torch.full_like(which, self.edge_types.index(e))
                out.append(torch.stack([etype_idx, gids[which], csc.src[pos], csc.eid[pos]], 1))
                owners.append(requester[sel][which])
        return split_by_rank(out, owners, self.ex.world, width=4)

    def _output(self, nodes, picked, counts, edge_counts, inputs) -> HeteroSamplerOutput:
        sorters = {t: torch.sort(n) for t, n in nodes.items()}

        def position(t: str, gids: torch.Tensor) -> torch.Tensor:
            values, order = sorters[t]
            return order[torch.searchsorted(values, gids.contiguous())]

        row, col, edge = {}, {}, {}
        for e in self.edge_types:
            src_t, _, dst_t = key = self.etype[e]
            rows = torch.cat(picked[e]) if picked[e] else torch.zeros((0, 3), dtype=torch.long)
            row[key] = position(src_t, rows[:, 1])
            col[key] = position(dst_t, rows[:, 0])
            edge[key] = rows[:, 2]
        return HeteroSamplerOutput(
            node=nodes, row=row, col=col, edge=edge,
            num_sampled_nodes=counts,
            num_sampled_edges={self.etype[e]: c for e, c in edge_counts.items()},
            metadata=(inputs.input_id, inputs.time))


def split_by_rank(parts: List[torch.Tensor], owners: List[torch.Tensor], world: int,
                  width: int) -> List[torch.Tensor]:
    """Concatenate ``parts`` and cut them into one tensor per owning rank (order kept)."""
    if not parts:
        return [torch.zeros((0, width), dtype=torch.long) for _ in range(world)]
    rows, owner = torch.cat(parts), torch.cat(owners)
    if world == 1:
        return [rows]
    order = torch.sort(owner, stable=True).indices
    sizes = torch.bincount(owner, minlength=world).tolist()
    return list(rows[order].split(sizes))
