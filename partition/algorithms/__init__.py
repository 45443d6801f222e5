"""Partition algorithms: pure functions ``(nodes, edges, num_parts, seed) -> {ntype: (nid, part)}``.

Adding an algorithm = one file + one line in ``ALGORITHMS``.
"""

from __future__ import annotations

from partition.algorithms import random as random_partition

ALGORITHMS = {
    "random": random_partition.assign,
}
