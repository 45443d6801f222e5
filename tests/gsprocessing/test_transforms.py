"""Each transform's values, and rule 3: a saved state re-applied to new data gives the same."""

import json
import math

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from graphmill.errors import InputError
from gsprocessing.config.schema import FeatureSpec
from gsprocessing.features import FittedFeature, apply_features, fit_features
from gsprocessing.transforms import make_transform


def values(spark_df, fitted):
    df, cols = apply_features(spark_df, fitted)
    rows = df.select("k", *cols).orderBy("k").collect()
    return {r.k: [list(r[i + 1]) for i in range(len(cols))] for r in rows}


def feature(name, cols, transform, **params):
    return FeatureSpec(name=name, columns=tuple(cols), transform=transform, params=params,
                       where=f"nodes[0].features[{name}]")


@pytest.fixture
def table(spark):
    rows = [("a", "1.0", 10, "x|y", "red"), ("b", None, 20, "y", "blue"),
            ("c", "4.0", 30, "", None), ("d", " 7 ", 40, "z|x|x", "red")]
    schema = "k string, s string, n long, multi string, color string"
    return spark.createDataFrame(rows, schema)


def test_max_min_norm_imputes_mean_then_scales(table):
    fitted = fit_features(table, [feature("f", ["s"], "max_min_norm")])
    got = values(table, fitted)
    assert got["a"] == [[0.0]] and got["d"] == [[1.0]]
    assert got["b"][0][0] == pytest.approx((4.0 - 1.0) / 6.0)  # mean of 1, 4, 7
    assert fitted[0].states[0].missing == 1


def test_max_min_norm_bounds_clip(table):
    fitted = fit_features(table, [feature("f", ["n"], "max_min_norm", max_bound=30,
                                          min_bound=15)])
    got = values(table, fitted)
    assert [got[k][0][0] for k in "abcd"] == pytest.approx([0.0, 1 / 3, 1.0, 1.0])


def test_max_min_norm_fixed_min_max_and_multiple_columns(table):
    fitted = fit_features(table, [feature("f", ["n", "n"], "max_min_norm", min_val=0,
                                          max_val=100)])
    assert values(table, fitted)["c"] == [[pytest.approx(0.3), pytest.approx(0.3)]]
    assert fitted[0].dim == 2


def test_max_min_norm_values_per_column_as_gconstruct_saves_them(table):
    """GConstruct writes the max_val and min_val it learnt back into the config it saves for
    inference, as lists (one per column of the feature): they were refused here."""
    fitted = fit_features(table, [feature("f", ["n", "s"], "max_min_norm", min_val=[0, 1.0],
                                          max_val=[100, 4.0])])
    assert values(table, fitted)["c"] == [[pytest.approx(0.3), pytest.approx(1.0)]]
    assert values(table, fitted)["a"] == [[pytest.approx(0.1), pytest.approx(0.0)]]
    # one value in a list holds for every column; only max given: min learnt (10 and 1)
    fitted = fit_features(table, [feature("f", ["n", "s"], "max_min_norm", max_val=[40.0])])
    assert values(table, fitted)["c"] == [[pytest.approx(20 / 30), pytest.approx(3 / 39)]]
    with pytest.raises(ValueError, match=r"max_val has 3 values for 2 input column\(s\); give "
                                         r"one number, or one per column"):
        make_transform("max_min_norm", {"max_val": [1, 2, 3]}).for_column(0, 2)
    with pytest.raises(ValueError, match=r"min_val must be a number, got 'x'"):
        make_transform("max_min_norm", {"min_val": [0, "x"]})
    with pytest.raises(ValueError, match=r"max_val must be a number or a non-empty list of "
                                         r"numbers, got \[\]"):
        make_transform("max_min_norm", {"max_val": []})


def test_standard_divides_by_sum(table):
    fitted = fit_features(table, [feature("f", ["n"], "standard")])
    assert values(table, fitted)["b"] == [[pytest.approx(0.2)]]


def test_imputer_none_keeps_nan(table):
    fitted = fit_features(table, [feature("f", ["s"], "max_min_norm", imputer="none")])
    assert math.isnan(values(table, fitted)["b"][0][0])


def test_to_categorical_one_hot_and_multi_hot(table):
    fitted = fit_features(table, [feature("c", ["color"], "to_categorical"),
                                  feature("m", ["multi"], "to_categorical", separator="|")])
    got = values(table, fitted)
    assert fitted[0].states[0].categories == ["blue", "red"]
    assert got["a"][0] == [0.0, 1.0] and got["c"][0] == [0.0, 0.0]   # missing → zeros
    assert fitted[1].states[0].categories == ["x", "y", "z"]
    assert got["d"][1] == [1.0, 0.0, 1.0] and got["c"][1] == [0.0, 0.0, 0.0]


def test_to_categorical_mapping_and_integer_order(spark):
    df = spark.createDataFrame([("a", "10"), ("b", "9"), ("c", "100")], "k string, v string")
    fitted = fit_features(df, [feature("v", ["v"], "to_categorical")])
    assert fitted[0].states[0].categories == ["9", "10", "100"]
    mapped = fit_features(df, [feature("v", ["v"], "to_categorical",
                                       mapping={"9": 2, "10": 0, "100": 4})])
    assert mapped[0].dim == 5
    assert values(df, mapped)["c"][0] == [0.0, 0.0, 0.0, 0.0, 1.0]


def test_noop_scalars_strings_and_arrays(spark):
    df = spark.createDataFrame([("a", 1.5, "1|2|3", [1.0, 2.0]), ("b", 2.0, "4|5|6", [3.0, 4.0])],
                               "k string, x double, s string, arr array<double>")
    fitted = fit_features(df, [feature("x", ["x"], "no-op"),
                               feature("s", ["s"], "no-op", separator="|", truncate_dim=2),
                               feature("arr", ["arr"], "no-op")])
    assert values(df, fitted)["b"] == [[2.0], [4.0, 5.0], [3.0, 4.0]]
    assert [f.dim for f in fitted] == [1, 2, 2]


@pytest.mark.parametrize("rows, transform, params, message", [
    ([("a", "1"), ("b", "x1")], "max_min_norm", {},
     r"column 'v' has 1 value\(s\) that are not numbers, e.g. \['x1'\]"),
    ([("a", "1|2"), ("b", "3")], "no-op", {"separator": "|"},
     r"column 'v' has vectors of different lengths \(1 to 2\)"),
    ([("a", "1"), ("b", None)], "no-op", {}, r"column 'v' has 1 missing value\(s\); no-op"),
    ([("a", "1|x"), ("b", "3|4")], "no-op", {"separator": "|"},
     r"element\(s\) that are not numbers \(or are NaN/infinite\) in its vectors"),
])
def test_bad_values_are_named(spark, rows, transform, params, message):
    df = spark.createDataFrame(rows, "k string, v string")
    with pytest.raises(InputError, match=message):
        fit_features(df, [feature("v", ["v"], transform, **params)])


def test_wrong_column_type_is_named(spark):
    df = spark.createDataFrame([("a", [1.0])], "k string, v array<double>")
    with pytest.raises(InputError, match=r"column 'v' has type array<double>; numerical "
                                         "transforms accept numbers"):
        fit_features(df, [feature("v", ["v"], "max_min_norm")])


def test_bad_parameters():
    with pytest.raises(ValueError, match="imputer must be one of"):
        make_transform("standard", {"imputer": "median!"})
    with pytest.raises(ValueError, match="truncate_dim must be a positive integer"):
        make_transform("no-op", {"truncate_dim": 0})
    with pytest.raises(ValueError, match="max_bound .* is below min_bound"):
        make_transform("max_min_norm", {"max_bound": 1, "min_bound": 2})


@pytest.mark.parametrize("spec", [
    feature("f", ["s"], "max_min_norm", max_bound=5.0),
    feature("f", ["n"], "standard"),
    feature("f", ["multi"], "to_categorical", separator="|"),
    feature("f", ["color"], "to_categorical"),
    feature("f", ["n", "n"], "no-op"),
])
def test_saved_state_reapplies_identically_to_new_rows(spark, table, spec):
    fitted = fit_features(table, [spec])[0]
    saved = json.loads(json.dumps(fitted.to_dict()))
    restored = FittedFeature.from_dict(spec, saved)
    new = spark.createDataFrame([("a", "1.0", 10, "x|y", "red"), ("e", "100", 5, "q|z", "green"),
                                 ("f", None, None, None, None)],
                                T.StructType(table.schema.fields))
    old_values = values(table, [fitted])
    again = values(new, [restored])
    assert again["a"] == old_values["a"]  # a row seen before gets exactly its first value
    assert all(len(v[0]) == fitted.dim for v in again.values())


def test_nan_and_infinity_count_as_missing(spark):
    df = spark.createDataFrame([("a", 1.0), ("b", float("nan")), ("c", 3.0),
                                ("d", float("inf"))], "k string, v double")
    fitted = fit_features(df, [feature("v", ["v"], "max_min_norm")])
    got = values(df, fitted)
    assert [got[k][0][0] for k in "abcd"] == [0.0, 0.5, 1.0, 0.5]
    assert fitted[0].states[0].missing == 2


def test_non_numeric_bounds_are_rejected():
    with pytest.raises(ValueError, match="max_bound must be a number, got '100'"):
        make_transform("max_min_norm", {"max_bound": "100"})


def test_category_order_is_total(spark):
    df = spark.createDataFrame([("a", "01"), ("b", "1"), ("c", "2")], "k string, v string")
    assert fit_features(df, [feature("v", ["v"], "to_categorical")])[0].states[0].categories \
        == ["01", "1", "2"]


@pytest.mark.parametrize("separator, text, want", [
    ("|", " a | b ||  c\t|", ["a", "b", "c\t"]),   # spaces trimmed, tabs kept, empties dropped
    (" ", "  x  y z ", ["x", "y", "z"]),
    (", ", "a , b,c", ["a", "b,c"]),              # a multi-character separator, literally
    (".*", "a.*b .* ", ["a", "b"]),                 # regex characters taken literally
    ("$", " a $b$ $ c", ["a", "b", "c"]), ("\\", "a \\ b\\\\c", ["a", "b", "c"]),
    (".", "1. 2 .3", ["1", "2", "3"]), ("\\E", "a \\E b", ["a", "b"]),
    (" ", "x\ty  z", ["x\ty", "z"]),                 # (only spaces are trimmed)
    (";", None, []), (";", "   ", []), (None, " solo ", ["solo"]), (None, "", []),
])
def test_value_tokens_of_strings(spark, separator, text, want):
    from gsprocessing.transforms.base import value_tokens
    df = spark.createDataFrame([(text,)], "s string")
    assert df.select(value_tokens(df, "s", separator)).first()[0] == want


def test_split_literally_splits_as_python_does(spark):
    from gsprocessing.transforms.base import split_literally
    text = "a.b|c$d\\e^f*g+h?i(j)k[l]m{n}o,p q\U0001F600r\\Es.|t"
    separators = list(".|$\\^*+?()[]{}, ") + ["\U0001F600", "\\E", ".|", "ab"]
    df = spark.createDataFrame([(text,)], "s string")
    got = df.select(*[split_literally(F.col("s"), sep).alias(f"c{i}")
                      for i, sep in enumerate(separators)]).first()
    assert [list(got[i]) for i in range(len(separators))] == [text.split(s) for s in separators]


def test_value_tokens_of_arrays(spark):
    from gsprocessing.transforms.base import value_tokens
    df = spark.createDataFrame([([" a", None, "", "b "],), (None,)], "s array<string>")
    assert [r[0] for r in df.select(value_tokens(df, "s", "|")).collect()] == [["a", "b"], []]
