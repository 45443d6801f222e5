"""Numerical transforms: imputers, ``numerical``, ``multi-numerical``, ``rank_gauss`` and the
bucket transforms; each one's saved state re-applies identically to old and new rows."""

import json
import math
import random

import numpy as np
import pytest

from pyspark.sql import functions as F

from graphmill.errors import InputError
from gsprocessing.config.schema import FeatureSpec
from gsprocessing.features import FittedFeature, apply_features, fit_features
from gsprocessing.transforms import make_transform
from gsprocessing.transforms.rank_gauss import erfinv
from tests.conftest import SHARED_DATA

SMALL = SHARED_DATA / "graphstorm_small"


def values(df, fitted):
    out, cols = apply_features(df, fitted)
    rows = out.select("k", *cols).collect()
    return {r.k: [list(r[i + 1]) for i in range(len(cols))] for r in rows}


def feature(name, cols, transform, **params):
    # float64 output: the values compared here are the transforms', not float32 roundings.
    return FeatureSpec(name=name, columns=tuple(cols), transform=transform, params=params,
                       out_dtype="float64", where=f"nodes[0].features[{name}]")


def first(got, key, i=0):
    return got[key][i][0]


@pytest.fixture
def table(spark):
    # s: present values 1, 4, 4, 10, 7 (mean 5.2, median 4, mode 4, sum 26); c and d missing.
    rows = [("a", "1", "1|2", 3.0), ("b", "4", "3|", 3.0), ("c", None, None, 1.0),
            ("d", "", "5|6", 1.0), ("e", " 4 ", "|8", 5.0), ("f", "10", "9|10", None),
            ("g", "7", "11|12", float("nan"))]
    return spark.createDataFrame(rows, "k string, s string, multi string, t double")


@pytest.mark.parametrize("imputer, fill", [("mean", 5.2), ("median", 4.0),
                                           ("most_frequent", 4.0), ("none", None)])
def test_imputers_fill_before_scaling(table, imputer, fill):
    fitted = fit_features(table, [feature("m", ["s"], "max_min_norm", imputer=imputer),
                                  feature("st", ["s"], "standard", imputer=imputer)])
    got = values(table, fitted)
    assert fitted[0].states[0].missing == 2
    if fill is None:
        assert fitted[0].states[0].fill is None
        assert math.isnan(first(got, "c")) and math.isnan(first(got, "d", 1))
        assert first(got, "a", 1) == pytest.approx(1 / 26)
        return
    assert fitted[0].states[0].fill == pytest.approx(fill)
    assert first(got, "c") == pytest.approx((fill - 1) / 9)
    assert first(got, "d", 1) == pytest.approx(fill / (26 + 2 * fill))   # sum includes fills


def test_integer_columns_sum_exactly_as_longs(spark):
    """Integral columns are summed as longs (exact, order-free); past the long range the plain
    double sum is used. Same mean either way as the decimal sum of the doubles."""
    rows = [(f"k{i}", v) for i, v in enumerate([3, None, 7, 2, 10**15, -10**15, 4])]
    df = spark.createDataFrame(rows, "k string, v long").repartition(3)
    longs = fit_features(df, [feature("m", ["v"], "max_min_norm")])[0].states[0]
    as_double = df.withColumn("v", F.col("v").cast("double"))
    doubles = fit_features(as_double, [feature("m", ["v"], "max_min_norm")])[0].states[0]
    assert longs.fill == doubles.fill == 16 / 6 and longs.missing == 1
    huge = spark.createDataFrame([("a", 2**62), ("b", 2**62), ("c", None)], "k string, v long")
    assert fit_features(huge, [feature("m", ["v"], "max_min_norm")])[0].states[0].fill == \
        pytest.approx(2.0**62)


def test_median_is_exact_and_mode_ties_take_the_smallest(spark):
    df = spark.createDataFrame([("a", 10.0), ("b", 2.0), ("c", 3.0), ("d", 1.0), ("e", None)],
                               "k string, v double").repartition(3)
    ties = spark.createDataFrame([("a", 3), ("b", 3), ("c", 1), ("d", 1), ("e", 5), ("f", None)],
                                 "k string, v long").repartition(3)
    median = fit_features(df, [feature("v", ["v"], "numerical", imputer="median")])
    mode = fit_features(ties, [feature("v", ["v"], "numerical", imputer="most_frequent")])
    assert median[0].states[0].fill == 2.5   # mean of the two middle values
    assert mode[0].states[0].fill == 1.0
    assert first(values(df, median), "e") == 2.5 and first(values(ties, mode), "f") == 1.0


def test_numerical_normalizers(table):
    fitted = fit_features(table, [
        feature("none", ["s"], "numerical"),
        feature("mm", ["s"], "numerical", imputer="mean", normalizer="min-max"),
        feature("st", ["s"], "numerical", imputer="mean", normalizer="standard"),
        feature("rg", ["s"], "numerical", imputer="mean", normalizer="rank-gauss")])
    got = values(table, fitted)
    assert got["f"][0] == [10.0] and math.isnan(first(got, "c"))   # GSProcessing defaults: none
    assert got["f"][1] == [1.0] and got["a"][1] == [0.0]
    assert first(got, "b", 2) == pytest.approx(4 / (26 + 2 * 5.2))
    ranked = sorted(got, key=lambda k: first(got, k, 3))
    assert ranked[0] == "a" and ranked[-1] == "f"
    assert fitted[3].states[0].values == sorted({1.0, 4.0, 5.2, 7.0, 10.0})


def rank_gauss_reference(xs, epsilon=1e-6, uniquify=False):
    """Average ranks for ties, then GraphStorm's scaling, with scipy."""
    rankdata = pytest.importorskip("scipy.stats").rankdata
    scipy_erfinv = pytest.importorskip("scipy.special").erfinv
    xs = np.asarray(xs, dtype=float)
    if uniquify:
        distinct, inverse = np.unique(xs, return_inverse=True)
        ranks, n = np.arange(len(distinct), dtype=float)[inverse], len(distinct)
    else:
        ranks, n = rankdata(xs, method="average") - 1, len(xs)
    return scipy_erfinv(np.clip((ranks / (n - 1) - 0.5) * 2, -1 + epsilon, 1 - epsilon))


def test_erfinv_matches_scipy():
    scipy_erfinv = pytest.importorskip("scipy.special").erfinv
    for y in (-0.999999, -0.5, 0.0, 1e-3, 0.3, 0.9999, 0.999999):
        assert erfinv(y) == pytest.approx(scipy_erfinv(y), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("uniquify", [False, True])
def test_rank_gauss_matches_reference_with_ties(spark, uniquify):
    xs = [5.0, 1.0, 3.0, 3.0, 3.0, -2.0, 8.0, 1.0, 0.5, 12.0]
    df = spark.createDataFrame([(str(i), x) for i, x in enumerate(xs)], "k string, v double")
    fitted = fit_features(df, [feature("v", ["v"], "rank_gauss", epsilon=1e-3, uniquify=uniquify)])
    got = values(df, fitted)
    expected = rank_gauss_reference(xs, 1e-3, uniquify)
    assert [first(got, str(i)) for i in range(len(xs))] == pytest.approx(list(expected), abs=1e-12)
    assert first(got, "2") == first(got, "3") == first(got, "4")   # ties share one output
    assert fitted[0].states[0].exact


def test_rank_gauss_without_ties_is_graphstorms_formula(spark):
    scipy_erfinv = pytest.importorskip("scipy.special").erfinv
    xs = np.array([0.3, -1.0, 7.5, 2.0, 2.5])
    df = spark.createDataFrame([(str(i), float(x)) for i, x in enumerate(xs)], "k string, v double")
    got = values(df, fit_features(df, [feature("v", ["v"], "rank_gauss")]))
    ranks = xs.argsort().argsort()   # GConstruct's ranking
    expected = scipy_erfinv(np.clip((ranks / (len(xs) - 1) - 0.5) * 2, -1 + 1e-6, 1 - 1e-6))
    assert [first(got, str(i)) for i in range(len(xs))] == pytest.approx(list(expected), abs=1e-12)


@pytest.mark.parametrize("max_knots", [100000, 8])
def test_rank_gauss_does_not_depend_on_partitioning(spark, max_knots):
    rng = random.Random(3)
    rows = [(f"r{i}", float(rng.randint(0, 60))) for i in range(300)]
    rng.shuffle(rows)
    df = spark.createDataFrame(rows, "k string, v double")
    spec = feature("v", ["v"], "rank_gauss", max_knots=max_knots)
    one, seven = df.repartition(1), df.repartition(7)
    fit_one, fit_seven = fit_features(one, [spec]), fit_features(seven, [spec])
    assert fit_one[0].states[0].to_dict() == fit_seven[0].states[0].to_dict()
    assert values(one, fit_one) == values(seven, fit_seven)
    assert fit_one[0].states[0].exact == (max_knots > 61)


def test_rank_gauss_sparse_knots_are_exact_at_the_knots(spark):
    rng = random.Random(5)
    df = spark.createDataFrame([(f"r{i}", float(rng.randint(0, 40)) + (i % 3) * 0.25)
                                for i in range(200)], "k string, v double")
    for uniquify in (False, True):
        exact = fit_features(df, [feature("v", ["v"], "rank_gauss", uniquify=uniquify)])[0]
        sparse = fit_features(df, [feature("v", ["v"], "rank_gauss", uniquify=uniquify,
                                           max_knots=10)])[0]
        state, full = sparse.states[0], exact.states[0]
        assert not state.exact and len(state.values) <= 10
        assert state.values[0] == full.values[0] and state.values[-1] == full.values[-1]
        table = dict(zip(full.values, full.outputs))
        assert state.outputs == pytest.approx([table[v] for v in state.values], abs=1e-12)
    got = values(df, [sparse])
    outputs = [first(got, r.k) for r in df.orderBy("v").collect()]
    assert outputs == sorted(outputs)   # interpolation keeps the order of the values
    spec = sparse.spec
    restored = FittedFeature.from_dict(spec, json.loads(json.dumps(sparse.to_dict())))
    assert values(df, [restored]) == got


def test_rank_gauss_constant_column_and_missing(spark):
    df = spark.createDataFrame([("a", 2.0), ("b", 2.0), ("c", None)], "k string, v double")
    fitted = fit_features(df, [feature("c", ["v"], "rank_gauss"),
                               feature("n", ["v"], "rank_gauss", imputer="none")])
    got = values(df, fitted)
    assert got["a"] == [[0.0], [0.0]] and got["c"][0] == [0.0]
    assert math.isnan(first(got, "c", 1)) and fitted[0].states[0].missing == 1


def test_multi_numerical_per_position(spark):
    users = spark.read.csv(str(SMALL / "nodes" / "user.csv"), header=True)
    users = users.withColumnRenamed("~id", "k")
    fitted = fit_features(users, [feature("multi", ["multi"], "multi-numerical",
                                          normalizer="standard", imputer="mean", separator="|")])
    assert fitted[0].dim == 2
    assert values(users, fitted)["mark"][0] == pytest.approx([1 / 25, 2 / 30])


def test_multi_numerical_imputes_each_position(table):
    fitted = fit_features(table, [
        feature("mean", ["multi"], "multi-numerical", imputer="mean", separator="|"),
        feature("mm", ["multi"], "multi-numerical", imputer="median", normalizer="min-max",
                separator="|")])
    got = values(table, fitted)
    # position 0: 1, 3, 5, 9, 11 (mean 5.8, median 5); position 1: 2, 6, 8, 10, 12 (mean 7.6)
    assert got["b"][0] == pytest.approx([3.0, 7.6]) and got["c"][0] == pytest.approx([5.8, 7.6])
    assert got["e"][0] == pytest.approx([5.8, 8.0])
    assert got["c"][1] == pytest.approx([0.4, 0.6]) and got["a"][1] == [0.0, 0.0]
    assert fitted[0].states[0].missing == 3


def test_multi_numerical_arrays(spark):
    df = spark.createDataFrame([("a", [1.0, 2.0]), ("b", [3.0, None]), ("c", None)],
                               "k string, v array<double>")
    got = values(df, fit_features(df, [feature("v", ["v"], "multi-numerical", imputer="mean",
                                               normalizer="min-max")]))
    assert got == {"a": [[0.0, 0.0]], "b": [[1.0, 0.0]], "c": [[0.5, 0.0]]}


def test_bucket_numerical_graphstorm_examples(spark):
    df = spark.createDataFrame([("a", 1.0), ("b", 11.0), ("c", 21.0), ("d", 31.0), ("e", 10.0),
                                ("f", 30.0), ("g", 20.0), ("h", 28.0), ("i", None)],
                               "k string, v double")
    fitted = fit_features(df, [
        feature("b", ["v"], "bucket_numerical", range=[10, 30], bucket_cnt=2),
        feature("w", ["v"], "bucket_numerical", range=[10, 50], bucket_cnt=2,
                slide_window_size=10),
        feature("g", ["v"], "bucket-numerical", range=[10, 30], bucket_cnt=2)])
    got = values(df, fitted)
    assert [got[k][0] for k in "abcdefg"] == [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0],
                                              [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]
    assert got["g"][1] == [1.0, 0.0] and got["h"][1] == [1.0, 1.0]   # window 23..33
    assert got["f"][1] == [1.0, 1.0]                                 # window 25..35
    assert got["i"][0] == [1.0, 0.0]                                 # mean 19 filled
    assert got["i"][2] == [0.0, 0.0] and fitted[2].dim == 2          # GSProcessing: none


def test_works_on_edge_tables(spark):
    edges = spark.read.csv(str(SMALL / "edges" / "user-rated-movie.csv"), header=True)
    edges = edges.withColumn("k", F.concat("~from", F.lit("->"), "~to"))
    fitted = fit_features(edges, [feature("r", ["rating"], "rank_gauss", uniquify=True),
                                  feature("b", ["rating"], "bucket_numerical", range=[1, 5],
                                          bucket_cnt=4)])
    got = values(edges, fitted)
    assert got["george->movie3"] == [[pytest.approx(erfinv(1 - 1e-6))], [0.0, 0.0, 0.0, 1.0]]
    assert got["kate->movie2"][1] == [1.0, 0.0, 0.0, 0.0]


NEW_ROWS = [("a", "1", "1|2", 3.0), ("z", "100", "0|40", -7.0), ("y", None, None, None),
            ("x", "4.5", "|", 2.5)]


@pytest.mark.parametrize("spec", [
    feature("f", ["s"], "max_min_norm", imputer="median"),
    feature("f", ["s"], "standard", imputer="most_frequent"),
    feature("f", ["s"], "numerical"),
    feature("f", ["s"], "numerical", imputer="median", normalizer="min-max"),
    feature("f", ["s"], "numerical", imputer="mean", normalizer="rank-gauss", uniquify=True),
    feature("f", ["s"], "rank_gauss"),
    feature("f", ["t"], "rank_gauss", imputer="none", max_knots=4),
    feature("f", ["multi"], "multi-numerical", imputer="mean", normalizer="min-max",
            separator="|"),
    feature("f", ["t"], "bucket_numerical", range=[0, 6], bucket_cnt=3, slide_window_size=1.5),
    feature("f", ["s"], "bucket-numerical", range=[0, 10], bucket_cnt=5, imputer="median"),
])
def test_saved_state_reapplies_identically_to_new_rows(spark, table, spec):
    fitted = fit_features(table, [spec])[0]
    restored = FittedFeature.from_dict(spec, json.loads(json.dumps(fitted.to_dict())))
    assert restored.to_dict() == fitted.to_dict()
    new = spark.createDataFrame(NEW_ROWS, table.schema)
    old, again = values(table, [fitted]), values(new.union(table), [restored])
    for key in old:   # rows seen before get exactly their first values (NaN included)
        assert json.dumps(again[key]) == json.dumps(old[key])
    assert all(len(v[0]) == fitted.dim for v in again.values())


def test_legacy_numeric_state_reads_its_fill():
    from gsprocessing.transforms.numerical import NumericState
    assert NumericState.from_dict({"mean": 3.5, "low": 0.0, "high": 1.0, "total": 1.0,
                                   "missing": 1}).fill == 3.5


@pytest.mark.parametrize("rows, transform, params, message", [
    ([("a", "1"), ("b", "x1")], "rank_gauss", {},
     r"nodes\[0\].features\[v\]: column 'v' has 1 value\(s\) that are not numbers, e.g. \['x1'\]"),
    ([("a", "1"), ("b", "ten")], "bucket_numerical", {"range": [0, 1], "bucket_cnt": 2},
     r"column 'v' has 1 value\(s\) that are not numbers, e.g. \['ten'\]"),
    ([("a", "1|2"), ("b", "3")], "multi-numerical", {"separator": "|"},
     r"column 'v' has vectors of different lengths \(1 to 2\); multi-numerical needs one width"),
    ([("a", "1|2"), ("b", "3|x")], "multi-numerical", {"separator": "|"},
     r"column 'v' has 1 element\(s\) that are not numbers, e.g. in \['3\|x'\]"),
    ([("a", "1|2")], "multi-numerical", {},
     r"column 'v' has type string; multi-numerical accepts an array of numbers, or a string"),
])
def test_bad_values_are_named(spark, rows, transform, params, message):
    df = spark.createDataFrame(rows, "k string, v string")
    with pytest.raises(InputError, match=message):
        fit_features(df, [feature("v", ["v"], transform, **params)])


@pytest.mark.parametrize("transform", ["rank_gauss", "numerical"])
def test_wrong_column_type_is_named(spark, transform):
    df = spark.createDataFrame([("a", [1.0])], "k string, v array<double>")
    with pytest.raises(InputError, match=r"column 'v' has type array<double>; numerical "
                                         "transforms accept numbers"):
        fit_features(df, [feature("v", ["v"], transform)])


def test_reapplying_to_rows_of_another_width_fails(spark):
    df = spark.createDataFrame([("a", "1|2")], "k string, v string")
    fitted = fit_features(df, [feature("v", ["v"], "multi-numerical", separator="|")])
    wider = spark.createDataFrame([("b", "1|2|3")], "k string, v string")
    with pytest.raises(Exception, match=r"column 'v' has a row of 3 values; its saved "
                                        "multi-numerical state expects 2"):
        values(wider, fitted)


@pytest.mark.parametrize("name, params, message", [
    ("rank_gauss", {"epsilon": 0}, r"epsilon must be a number in \(0, 1\), got 0; 0 would map"),
    ("rank_gauss", {"uniquify": "yes"}, "uniquify must be true or false, got 'yes'"),
    ("rank_gauss", {"max_knots": 2}, "max_knots must be an integer >= 4, got 2"),
    ("rank_gauss", {"imputer": "mode"}, "imputer must be one of"),
    ("numerical", {"normalizer": "z-score"}, r"normalizer must be one of \['none', 'min-max'"),
    ("numerical", {"normalizer": "min-max", "epsilon": 0.1},
     "epsilon, uniquify and max_knots apply only to normalizer 'rank-gauss', not 'min-max'"),
    ("multi-numerical", {"normalizer": "rank-gauss"},
     "multi-numerical does not support normalizer 'rank-gauss'"),
    ("multi-numerical", {"separator": ""}, "separator must be a non-empty string, got ''"),
    ("bucket_numerical", {"range": [1], "bucket_cnt": 2}, r"range must be \[low, high\], got"),
    ("bucket_numerical", {"range": [5, 1], "bucket_cnt": 2}, "with low < high, got"),
    ("bucket_numerical", {"range": [0, "9"], "bucket_cnt": 2},
     r"range\[1\] must be a number, got '9'"),
    ("bucket_numerical", {"range": [0, 1], "bucket_cnt": 0},
     "bucket_cnt must be a positive integer, got 0"),
    ("bucket-numerical", {"range": [0, 1], "bucket_cnt": 2, "slide_window_size": -1},
     "slide_window_size must be >= 0, got -1"),
    ("bucket-numerical", {"range": [0, 1]}, "missing 1 required positional argument"),
])
def test_bad_parameters(name, params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make_transform(name, params)
