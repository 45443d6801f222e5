"""The demo generator: seeded, sized by --scale, with the promised awkward values."""

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from graphmill.demo.marketplace import Sizes, generate


def test_same_seed_same_tables(tmp_path):
    a = generate(str(tmp_path / "a"), scale=0.01, seed=3)
    b = generate(str(tmp_path / "b"), scale=0.01, seed=3)
    assert a == b
    for name in ("users.csv", "items.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert pq.read_table(tmp_path / "a/purchases.parquet").equals(
        pq.read_table(tmp_path / "b/purchases.parquet"))


def test_sizes_and_missing_values(tmp_path):
    counts = generate(str(tmp_path / "d"), scale=0.02, seed=0, fmt="mixed")
    assert counts == {"users": 1000, "items": 400, "purchases": 14000, "also_bought": 6000}
    users = pacsv.read_csv(tmp_path / "d/users.csv",
                           convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    assert 0.05 < users.column("age").null_count / users.num_rows < 0.15
    assert users.column("region").null_count > 0
    items = pacsv.read_csv(tmp_path / "d/items.csv")
    assert len(set(items.column("category").to_pylist())) == 8


def test_scale_reaches_ten_million_edges():
    s = Sizes.at(10)
    assert s.purchases + s.also_bought >= 10_000_000


def test_formats(tmp_path):
    generate(str(tmp_path / "p"), scale=0.01, fmt="parquet")
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "also_bought.parquet", "items.parquet", "purchases.parquet", "users.parquet"]
    with pytest.raises(ValueError, match="format must be one of"):
        generate(str(tmp_path / "x"), fmt="xlsx")
