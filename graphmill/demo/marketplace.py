"""A seeded synthetic marketplace: users, items, purchases, also-bought pairs.

The item ``category`` label is built to need the graph: users buy mostly within one or two
favourite categories and also-bought pairs mostly share a category (structure carries most of the
signal), while only some title words are category-specific and prices overlap across categories
(features alone carry part of it). A GNN should clearly beat a features-only MLP.

Sizes grow with ``scale``: at 1.0 there are 50,000 users, 20,000 items, 700,000 purchases and
300,000 also-bought pairs (1M edges); degrees are heavy-tailed (a few users buy a lot, a few items
sell a lot). Tables (``format``): ``mixed`` (default) writes nodes as CSV and edges as Parquet;
``csv`` or ``parquet`` write everything in one format.

    users.csv         user_id, age (10% missing), income (15% missing), region (3% missing)
    items.csv         item_id, title, price, category
    purchases.*       user_id, item_id, quantity
    also_bought.*     item_id, also_item_id
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from typing import Dict, List

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CATEGORIES = ["books", "electronics", "fashion", "garden", "grocery", "sports", "toys", "beauty"]
REGIONS = ["north", "north-east", "east", "south-east", "south", "south-west", "west",
           "north-west", "central", "islands", "overseas", "capital"]
FORMATS = ("mixed", "csv", "parquet")
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "bra", "cle", "dro", "fi",
              "gu", "ha", "jo", "ke", "li", "mo", "pu", "qui", "ro", "su", "ta", "ul", "ve", "wy"]


@dataclass(frozen=True)
class Sizes:
    users: int
    items: int
    purchases: int
    also_bought: int

    @classmethod
    def at(cls, scale: float) -> "Sizes":
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        return cls(users=max(50, int(50_000 * scale)), items=max(40, int(20_000 * scale)),
                   purchases=max(200, int(700_000 * scale)),
                   also_bought=max(100, int(300_000 * scale)))


def _words(rng: np.random.Generator, count: int) -> List[str]:
    """``count`` distinct pronounceable pseudo-words."""
    out: List[str] = []
    seen = set()
    while len(out) < count:
        w = "".join(rng.choice(_SYLLABLES, size=rng.integers(2, 4)))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def _pick(rng: np.random.Generator, weights: np.ndarray, groups: np.ndarray, group: np.ndarray,
          num_groups: int) -> np.ndarray:
    """For each entry of ``group``, an index whose ``groups`` equals it, drawn ∝ ``weights``."""
    out = np.empty(group.size, dtype=np.int64)
    for g in range(num_groups):
        members = np.flatnonzero(groups == g)
        want = np.flatnonzero(group == g)
        if want.size:
            p = weights[members] / weights[members].sum()
            out[want] = rng.choice(members, size=want.size, p=p)
    return out


def _titles(rng: np.random.Generator, category: np.ndarray, num: int) -> List[str]:
    vocab = _words(rng, 150 + 30 * len(CATEGORIES))
    common, specific = vocab[:150], vocab[150:]
    per_cat = [specific[30 * c:30 * (c + 1)] for c in range(len(CATEGORIES))]
    # Neighbouring categories share a third of their words: titles alone stay ambiguous.
    shared = [per_cat[c] + per_cat[(c + 1) % len(CATEGORIES)][:10] for c in range(len(CATEGORIES))]
    lengths = rng.integers(4, 7, size=num)
    titles = []
    for i in range(num):
        n = lengths[i]
        signal = rng.random(n) < 0.2
        words = [shared[category[i]][rng.integers(len(shared[category[i]]))] if s
                 else common[rng.integers(len(common))] for s in signal]
        titles.append(" ".join(words))
    return titles


def generate(out_dir: str, scale: float = 0.1, seed: int = 0, fmt: str = "mixed") -> Dict[str, int]:
    """Write the marketplace tables under ``out_dir`` (replaced); returns the row counts."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    size = Sizes.at(scale)
    tables = _tables(size, np.random.default_rng(seed))
    tmp = f"{out_dir.rstrip('/')}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    node_fmt, edge_fmt = {"mixed": ("csv", "parquet")}.get(fmt, (fmt, fmt))
    for name, table in tables.items():
        kind = node_fmt if name in ("users", "items") else edge_fmt
        path = os.path.join(tmp, f"{name}.{kind}")
        if kind == "csv":
            pacsv.write_csv(table, path)
        else:
            pq.write_table(table, path)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return {"users": size.users, "items": size.items, "purchases": size.purchases,
            "also_bought": size.also_bought}


def _tables(size: Sizes, rng: np.random.Generator) -> Dict[str, pa.Table]:
    num_cat = len(CATEGORIES)
    cat_weight = 1.0 / (1.0 + 0.3 * np.arange(num_cat))
    cat_weight /= cat_weight.sum()

    item_cat = rng.choice(num_cat, size=size.items, p=cat_weight)
    popularity = rng.pareto(1.2, size.items) + 1.0
    price_mean = np.array([2.6, 4.2, 3.4, 3.1, 1.8, 3.6, 2.9, 2.7])
    price = np.round(np.exp(rng.normal(price_mean[item_cat], 0.7)), 2)
    item_ids = np.array([f"it-{n:07d}" for n in rng.permutation(size.items)])

    user_pref = rng.choice(num_cat, size=size.users, p=cat_weight)
    user_pref2 = rng.integers(0, num_cat, size.users)
    activity = rng.pareto(1.5, size.users) + 1.0
    user_ids = np.array([f"u{n:08d}" for n in rng.permutation(size.users)])

    buyer = rng.choice(size.users, size=size.purchases, p=activity / activity.sum())
    roll = rng.random(size.purchases)
    want = np.where(roll < 0.7, user_pref[buyer],
                    np.where(roll < 0.85, user_pref2[buyer], rng.integers(0, num_cat,
                                                                          size.purchases)))
    bought = _pick(rng, popularity, item_cat, want, num_cat)

    src_item = rng.choice(size.items, size=size.also_bought, p=popularity / popularity.sum())
    same = rng.random(size.also_bought) < 0.8
    dst_cat = np.where(same, item_cat[src_item], rng.integers(0, num_cat, size.also_bought))
    dst_item = _pick(rng, popularity, item_cat, dst_cat, num_cat)

    users = pa.table({
        "user_id": user_ids,
        "age": _with_missing(rng, np.clip(rng.normal(38, 12, size.users), 18, 80).round(), 0.10),
        "income": _with_missing(rng, np.round(np.exp(rng.normal(10.5, 0.6, size.users)), -2),
                                0.15),
        "region": pa.array([REGIONS[r] for r in rng.integers(0, len(REGIONS), size.users)],
                           mask=rng.random(size.users) < 0.03),
    })
    items = pa.table({"item_id": item_ids, "title": _titles(rng, item_cat, size.items),
                      "price": price, "category": [CATEGORIES[c] for c in item_cat]})
    purchases = pa.table({"user_id": pa.array(user_ids).take(pa.array(buyer)),
                          "item_id": pa.array(item_ids).take(pa.array(bought)),
                          "quantity": rng.integers(1, 6, size.purchases)})
    also = pa.table({"item_id": pa.array(item_ids).take(pa.array(src_item)),
                     "also_item_id": pa.array(item_ids).take(pa.array(dst_item))})

    return {"users": users, "items": items, "purchases": purchases, "also_bought": also}


def _with_missing(rng: np.random.Generator, values: np.ndarray, rate: float) -> pa.Array:
    return pa.array(values, mask=rng.random(values.size) < rate)
