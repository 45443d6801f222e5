"""The local engine (gsprocessing.local) gives what the Spark path gives: the same nodes/
tables, transforms.json, manifest and report, table by table, on awkward data; it hands what it
cannot do exactly to Spark; states re-apply across the two engines."""

import json
import math
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from gsprocessing import local
from gsprocessing.config import parse_graph_config
from gsprocessing.local_nodes import label_texts, label_tokens
from gsprocessing.pipeline import ProcessOptions, process
from gsprocessing.steps import DEFAULT_LOCAL_ROWS


def _csv_value(v):
    if v is None:
        return ""
    v = str(v)
    return f'"{v}"' if ("," in v or '"' in v) else v


def _write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(_csv_value(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Users in two CSV files, items in Parquet (arrays, integers with gaps), and edges."""
    root = tmp_path_factory.mktemp("local-engine")
    rnd = random.Random(5)
    cities = ["paris", "rome", " oslo ", "lima", "", "kyiv", "rome"]
    tags = ["a;b", "b ; c", "c;;d", "", "a", " e;a ;b", None, "f;g;h;a"]
    kinds = ["x", "y", "z", "", "NaN", "y", "3.0", None]
    header = ["uid", "age", "score", "city", "tags", "kind", "multi", "target", "code",
              "uid_n"]
    rows = []
    for i in range(1400):
        rows.append([
            f"u{i}",
            rnd.choice([None, rnd.randint(1, 99)]) if i % 7 == 0 else rnd.randint(1, 99),
            None if i % 11 == 0 else round(rnd.uniform(-50, 5000), rnd.choice([0, 2, 7, 15])),
            rnd.choice(cities), rnd.choice(tags), rnd.choice(kinds),
            rnd.choice(["p|q", "q", "", "r | p", "p|p", None]),
            None if i % 13 == 0 else round(rnd.gauss(3, 2), 5),
            rnd.choice(["1", "7", "007", "12", ""]), f"{i}.5",
        ])
    _write_csv(root / "users_b.csv", header, rows[:600])
    _write_csv(root / "users_a.csv", header, rows[600:])
    items = pa.table({
        "iid": pa.array([10 * i + 3 for i in range(500)], pa.int64()),
        "words": pa.array([None if i % 9 == 0 else
                           [rnd.choice(["red", "blue", " green", "", "teal"])
                            for _ in range(rnd.randint(0, 3))] for i in range(500)],
                          pa.list_(pa.string())),
        "count": pa.array([None if i % 5 == 0 else rnd.randint(-3, 40) for i in range(500)],
                          pa.int64()),
        "grade": pa.array([None if i % 4 == 0 else rnd.randint(0, 4) for i in range(500)],
                          pa.int64()),
        "level": pa.array([float("nan") if i % 6 == 0 else float(rnd.randint(0, 2))
                           for i in range(500)], pa.float64()),
        # longs beyond 2^53 (a double rounds them), floats of 32 bits
        "big": pa.array([(1 << 53) + rnd.randint(-999, 999) for _ in range(500)], pa.int64()),
        "ratio": pa.array([rnd.random() for _ in range(500)], pa.float32()),
    })
    (root / "my items").mkdir()  # (Hadoop writes this directory's URI as my%20items)
    pq.write_table(items, root / "my items" / "items.parquet")
    _write_csv(root / "buys.csv", ["u", "i"],
               [[f"u{rnd.randrange(1400)}", 10 * rnd.randrange(500) + 3] for _ in range(3000)])
    return root


def _config(user_features, user_labels, item_features=(), item_labels=()):
    return {
        "version": "gconstruct-v0.1",
        "nodes": [
            {"node_type": "user", "format": {"name": "csv"}, "files": ["users_*.csv"],
             "node_id_col": "uid", "features": list(user_features),
             "labels": list(user_labels)},
            {"node_type": "item", "format": {"name": "parquet"},
             "files": ["my items/items.parquet"],
             "node_id_col": "iid", "features": list(item_features),
             "labels": list(item_labels)},
        ],
        "edges": [{"relation": ["user", "buys", "item"], "format": {"name": "csv"},
                   "files": ["buys.csv"], "source_id_col": "u", "dest_id_col": "i"}],
    }


NUMERIC = [
    {"feature_col": "age", "transform": {"name": "max_min_norm"}},
    {"feature_col": ["age", "score"], "feature_name": "both",
     "transform": {"name": "max_min_norm", "max_bound": 80, "min_bound": 5}},
    {"feature_col": "score", "feature_name": "std", "transform": {"name": "standard"}},
    {"feature_col": "score", "feature_name": "med",
     "transform": {"name": "numerical", "imputer": "median", "normalizer": "min-max"}},
    {"feature_col": "age", "feature_name": "freq",
     "transform": {"name": "numerical", "imputer": "most_frequent"}},
    {"feature_col": "score", "feature_name": "raw", "out_dtype": "float64",
     "transform": {"name": "numerical"}},
    {"feature_col": "age", "feature_name": "fixed",
     "transform": {"name": "max_min_norm", "max_val": 50, "min_val": 10, "imputer": "none"}},
    {"feature_col": "score", "feature_name": "buckets",
     "transform": {"name": "bucket_numerical", "range": [0, 4000], "bucket_cnt": 7,
                   "slide_window_size": 900}},
    {"feature_col": "age", "feature_name": "age_buckets",
     "transform": {"name": "bucket-numerical", "range": [10, 60], "bucket_cnt": 5,
                   "imputer": "most_frequent"}},
    {"feature_col": "uid_n", "transform": {"name": "no-op"}},
]
CATEGORICAL = [
    {"feature_col": "city", "transform": {"name": "to_categorical"}},
    {"feature_col": "tags", "transform": {"name": "to_categorical", "separator": ";",
                                          "max_categories": 3, "order": "frequency",
                                          "missing": "category"}},
    {"feature_col": "tags", "feature_name": "tags_all",
     "transform": {"name": "multi-categorical", "separator": ";", "unseen": "other"}},
    {"feature_col": "city", "feature_name": "city_map",
     "transform": {"name": "to_categorical", "mapping": {"paris": 0, "rome": 1, "lima": 1}}},
    {"feature_col": "code", "transform": {"name": "categorical"}},
]
ITEM_FEATURES = [
    {"feature_col": "words", "transform": {"name": "multi-categorical"}},
    {"feature_col": "count", "transform": {"name": "max_min_norm", "imputer": "median"}},
    {"feature_col": "count", "feature_name": "count_std", "transform": {"name": "standard"}},
    {"feature_col": "iid", "feature_name": "wide",  # 500 positions: written as indices
     "transform": {"name": "to_categorical"}},
    {"feature_col": ["big", "ratio"], "feature_name": "big", "transform": {"name": "standard"}},
]

CASES = {
    "features_and_class_label": _config(
        NUMERIC + CATEGORICAL,
        [{"label_col": "kind", "task_type": "classification", "split_pct": [0.6, 0.2, 0.2],
          "label_stats_type": "frequency_cnt"}],
        ITEM_FEATURES,
        [{"label_col": "grade", "task_type": "classification", "split_pct": [0.5, 0.3, 0.1]}]),
    "multi_task_labels": _config(
        [],
        [{"label_col": "multi", "task_type": "classification", "separator": "|",
          "split_pct": [0.7, 0.1, 0.2], "label_stats_type": "frequency_cnt"},
         {"label_col": "target", "task_type": "regression", "split_pct": [0.8, 0.1, 0.1],
          "mask_field_names": ["rtr", "rva", "rte"]},
         {"label_col": "code", "task_type": "classification", "split_pct": [0.3, 0.3, 0.3],
          "mask_field_names": ["ctr", "cva", "cte"]}],
        [],
        [{"label_col": "level", "task_type": "classification", "split_pct": [0.6, 0.2, 0.2]},
         {"label_col": "count", "task_type": "regression", "split_pct": [0.5, 0.25, 0.25],
          "mask_field_names": ["ltr", "lva", "lte"]}]),
}


def _run(spark, config, out, local_rows, seed=11, transforms_from=None):
    spec = parse_graph_config(json.dumps(config), "local-engine.json")
    process(spark, spec, ProcessOptions(input_prefix=str(out.parent / "data"), output=str(out),
                                        seed=seed, local_rows=local_rows,
                                        transforms_from=transforms_from))
    return out


def _engines(path):
    """Node type → whether the local engine wrote its table."""
    return {t.name: any("-local" in f.name for f in t.iterdir())
            for t in (path / "nodes").iterdir()}


def _same_values(a, b):
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_values(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


def assert_same_output(a, b):
    """Two processed/ directories hold the same nodes tables (values, column names, types and
    whether a column may be null, not whether a list's elements may) and the same JSON files
    (timings aside)."""
    for t in sorted(p.name for p in (a / "nodes").iterdir()):
        ta = pq.read_table(a / "nodes" / t).sort_by("nid")
        tb = pq.read_table(b / "nodes" / t).sort_by("nid")
        assert ta.column_names == tb.column_names, t
        for name in ta.column_names:
            assert ta.schema.field(name).nullable == tb.schema.field(name).nullable, (t, name)
            fa, fb = ta.schema.field(name).type, tb.schema.field(name).type
            if pa.types.is_list(fa):
                fa, fb = fa.value_type, fb.value_type
            assert fa == fb, (t, name)
            x, y = ta.column(name).to_pylist(), tb.column(name).to_pylist()
            bad = [i for i, (u, v) in enumerate(zip(x, y)) if not _same_values(u, v)]
            assert not bad and len(x) == len(y), (t, name, [(x[i], y[i]) for i in bad[:3]])
    for name in ("transforms.json", "manifest.json", "report.json"):
        ja, jb = (json.loads((p / name).read_text()) for p in (a, b))
        for j in (ja, jb):
            j.pop("timings", None)
        assert ja == jb, name


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data):
    base = tmp_path_factory.mktemp("runs")
    (base / "data").symlink_to(data)
    return base


@pytest.mark.parametrize("case", sorted(CASES))
def test_local_engine_matches_spark(spark, runs, case):
    config = CASES[case]
    mine = _run(spark, config, runs / f"{case}-local", DEFAULT_LOCAL_ROWS)
    theirs = _run(spark, config, runs / f"{case}-spark", 0)
    assert _engines(mine) == {"user": True, "item": True}
    assert _engines(theirs) == {"user": False, "item": False}
    assert_same_output(mine, theirs)


def test_states_reapply_across_engines(spark, runs):
    """transforms.json of one engine re-applies in the other with the same result."""
    config = CASES["features_and_class_label"]
    fitted = runs / "features_and_class_label-spark"
    if not fitted.exists():
        _run(spark, config, fitted, 0)
    saved = str(fitted / "transforms.json")
    mine = _run(spark, config, runs / "reapply-local", DEFAULT_LOCAL_ROWS, seed=3,
                transforms_from=saved)
    theirs = _run(spark, config, runs / "reapply-spark", 0, seed=3, transforms_from=saved)
    assert _engines(mine)["user"] and not _engines(theirs)["user"]
    assert_same_output(mine, theirs)


def test_spark_runs_what_the_engine_cannot(spark, runs, data):
    """A transform without a local form, a custom split, or a table over --local-rows: the
    type is finished in Spark (with its usual errors and results), the others locally."""
    (data / "split.csv").write_text("iid\n3\n13\n")
    config = _config([{"feature_col": "score", "transform": {"name": "rank_gauss"}}], [],
                     [], [{"label_col": "grade", "task_type": "classification",
                           "custom_split_filenames": {"train": "split.csv"}}])
    out = _run(spark, config, runs / "fallback", DEFAULT_LOCAL_ROWS)
    assert _engines(out) == {"user": False, "item": False}
    # a float32 regression label: Spark writes it through its text (0.1, not 0.1000000015)
    floats = _config([], [], [], [{"label_col": "ratio", "task_type": "regression"}])
    mine = _run(spark, floats, runs / "float32-label", DEFAULT_LOCAL_ROWS)
    assert _engines(mine) == {"user": False, "item": False}
    small = _config([{"feature_col": "age", "transform": {"name": "max_min_norm"}}], [])
    out = _run(spark, small, runs / "over-limit", 1000)  # 1,400 users, 500 items
    assert _engines(out) == {"user": False, "item": False}
    out = _run(spark, small, runs / "under-limit", 1400)
    assert _engines(out) == {"user": True, "item": False}


def test_reapplying_a_label_as_another_task_is_an_error(spark, runs):
    from graphmill.errors import InputError
    first = _config([], [{"label_col": "code", "task_type": "classification"}])
    _run(spark, first, runs / "task-first", 0)
    again = _config([], [{"label_col": "code", "task_type": "regression"}])
    for rows in (0, DEFAULT_LOCAL_ROWS):
        with pytest.raises(InputError, match=r"label 'code' of node type 'user' was saved as "
                                             r"classification, the config makes it regression"):
            _run(spark, again, runs / f"task-again-{rows}", rows,
                 transforms_from=str(runs / "task-first" / "transforms.json"))


def test_row_hash_is_sparks_xxhash64(spark):
    keys = [0, 1, 2, -1, 7, 123456789012, -(1 << 63), (1 << 63) - 1, 1 << 40]
    df = spark.createDataFrame([(k,) for k in keys], "k long")
    for seed in (42, 0, -5, 1 << 40):
        want = [r[0] for r in df.select(F.xxhash64(F.lit(seed), F.col("k"))).collect()]
        got = local.row_hash(seed, np.array(keys, dtype=np.int64)).tolist()
        assert got == want, seed


def test_text_and_number_readings_match_spark(spark):
    """The column readings the engine's statistics rest on, against Spark's own on the same
    values: labels as text and tokens, categorical tokens, numbers and exact sums."""
    texts = [" a ", "", None, "NaN", "3.0", "-2.00", "007", "x | y|x", "|", "1.5", "a;b ; c"]
    df = spark.createDataFrame([(t,) for t in texts], "v string")
    from gsprocessing.labels import _as_text, _tokens
    from gsprocessing.transforms.base import parse_number, value_tokens
    col = local.LocalColumn("v", pa.array(texts, pa.string()))

    def per_row(pairs):
        rows = [[] for _ in texts]
        for r, v in zip(pairs[0].tolist(), pairs[1].to_pylist()):
            rows[r].append(v)
        return rows

    assert label_texts(col).to_pylist() == [r[0] for r in df.select(_as_text("v")).collect()]
    # (Spark's tokens of a missing label are null, the engine's none: both are no class)
    assert per_row(label_tokens(col, "|")) == \
        [r[0] or [] for r in df.select(_tokens("v", "|")).collect()]
    for sep in (None, "|", " ", " | ", ";"):
        want = [r[0] for r in df.select(value_tokens(df, "v", sep)).collect()]
        assert per_row(col.tokens(sep)) == want, sep
    numbers = [" 1.5 ", "-2e3", ".5", "7.", "+3", "", None, "0.30000000000000004"]
    x = local.LocalColumn("v", pa.array(numbers)).doubles()
    want = [r[0] for r in spark.createDataFrame([(t,) for t in numbers], "v string")
            .select(parse_number(F.col("v"))).collect()]
    assert [None if math.isnan(v) else v for v in x.tolist()] == want
    values = [0.1, 2.675, 1e-7, 123456.789012345, -3.3333333333333335, 5e19, 0.30000000000000004]
    nums = spark.createDataFrame([(v,) for v in values], "x double")
    from gsprocessing.transforms.base import exact_sum
    want = nums.agg(exact_sum(F.col("x"))).first()[0]
    assert local.exact_sum(np.array(values)) == want
    assert local.percentile(np.array([4.0, 1.0, 10.0, 7.0]), 0.5) == \
        nums.sparkSession.createDataFrame([(v,) for v in [4.0, 1.0, 10.0, 7.0]], "x double") \
        .agg(F.percentile("x", F.lit(0.5))).first()[0]
    with pytest.raises(local.Unsupported):
        local.LocalColumn("v", pa.array(["1.5d"])).doubles()
