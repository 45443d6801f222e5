"""Categorical transforms (order, cap and OTHER, unseen and missing policies, re-applying a saved
state) and the translation of GSProcessing's transformation names."""

import json

import pytest

from graphmill.errors import InputError
from gsprocessing.config.schema import FeatureSpec
from gsprocessing.features import FittedFeature, apply_features, fit_features
from gsprocessing.transforms import TRANSFORMS, make_transform
from gsprocessing.transforms.aliases import from_gsprocessing
from gsprocessing.transforms.categorical import CategoricalState
from tests.conftest import SHARED_DATA


@pytest.fixture(autouse=True, params=["dense", "indices"])
def encoding(request, monkeypatch):
    """Every test runs with both written forms: vectors (comparisons in generated code) and the
    indices of their ones (a literal map looked up per value), compared as vectors."""
    width = 10**6 if request.param == "dense" else 0
    monkeypatch.setattr("gsprocessing.transforms.categorical.DENSE_WIDTH", width)
    return request.param


def values(df, fitted):
    """Key → the vector of each feature (indices expanded, after checking they are ascending)."""
    out, cols = apply_features(df, fitted)
    rows = out.select("k", *cols).collect()
    got = {}
    for r in rows:
        got[r.k] = []
        for i, f in enumerate(fitted):
            v = list(r[i + 1])
            if f.encoding == "indices":
                assert v == sorted(set(v)), v
                v = [1.0 if j in v else 0.0 for j in range(f.dim)]
            got[r.k].append(v)
    return got


def feature(name, cols, transform, **params):
    return FeatureSpec(name=name, columns=tuple(cols), transform=transform, params=params,
                       where=f"nodes[0].features[{name}]")


def one_hot(width, *positions):
    return [1.0 if i in positions else 0.0 for i in range(width)]


@pytest.fixture
def colors(spark):
    # red x3, blue x2, green x2, pink, cyan; a missing value, an empty string, spaces.
    rows = [("a", "red"), ("b", "blue"), ("c", " red "), ("d", "green"), ("e", "pink"),
            ("f", None), ("g", ""), ("h", "blue"), ("i", "green"), ("j", "red"), ("k", "cyan")]
    return spark.createDataFrame(rows, "k string, v string").repartition(3)


def test_graphstorm_small_state_is_a_three_wide_one_hot(spark):
    users = spark.read.csv(str(SHARED_DATA / "graphstorm_small" / "nodes" / "user.csv"),
                           header=True).withColumnRenamed("~id", "k")
    fitted = fit_features(users, [feature("state", ["state"], "categorical")])
    assert fitted[0].dim == 3 and fitted[0].states[0].categories == ["wa", "ca", "ny"]
    got = values(users, fitted)
    assert got["mark"] == [[1.0, 0.0, 0.0]] and got["george"] == [[0.0, 0.0, 1.0]]
    assert got["kate"] == [[0.0, 0.0, 0.0]]   # missing is not a category


def test_order_by_value_or_frequency(colors):
    fitted = fit_features(colors, [feature("v", ["v"], "to_categorical"),
                                   feature("f", ["v"], "to_categorical", order="frequency")])
    assert fitted[0].states[0].categories == ["blue", "cyan", "green", "pink", "red"]
    assert fitted[1].states[0].categories == ["red", "blue", "green", "cyan", "pink"]
    got = values(colors, fitted)
    assert got["c"] == [one_hot(5, 4), one_hot(5, 0)] and got["f"] == [one_hot(5), one_hot(5)]


def test_cap_folds_the_rarest_into_other(colors):
    fitted = fit_features(colors, [feature("v", ["v"], "categorical", max_categories=2),
                                   feature("w", ["v"], "to_categorical", max_categories=2,
                                           order="value")])
    state = fitted[0].states[0]
    assert state.categories == ["red", "blue"] and state.other_index == 2
    assert state.capped == 3 and fitted[0].dim == 3   # green, pink, cyan share OTHER
    assert fitted[1].states[0].categories == ["blue", "red"]
    got = values(colors, fitted)
    assert got["d"][0] == one_hot(3, 2) and got["e"][0] == one_hot(3, 2)
    assert got["a"] == [one_hot(3, 0), one_hot(3, 1)] and got["g"][0] == one_hot(3)


def test_no_cap_when_the_values_fit(colors):
    state = fit_features(colors, [feature("v", ["v"], "categorical", max_categories=5)])[0]
    assert state.states[0].capped == 0 and state.states[0].other_index is None
    assert state.dim == 5


def test_unseen_and_missing_positions(spark, colors):
    fitted = fit_features(colors, [feature("v", ["v"], "to_categorical", unseen="other",
                                           missing="category")])
    state = fitted[0].states[0]
    assert (state.other_index, state.missing_index, state.capped) == (5, 6, 0)
    restored = FittedFeature.from_dict(fitted[0].spec,
                                       json.loads(json.dumps(fitted[0].to_dict())))
    new = spark.createDataFrame([("x", "violet"), ("y", None), ("z", "cyan")], "k string, v string")
    got = values(new, [restored])
    assert got == {"x": [one_hot(7, 5)], "y": [one_hot(7, 6)], "z": [one_hot(7, 1)]}
    assert values(colors, fitted)["g"] == [one_hot(7, 6)]   # empty string: missing


def test_multi_categorical_cap_other_and_missing(spark):
    rows = [("a", "x|y"), ("b", "y"), ("c", ""), ("d", "z|x|x"), ("e", "w|y"), ("f", "|"),
            ("g", None)]
    df = spark.createDataFrame(rows, "k string, v string")
    fitted = fit_features(df, [feature("m", ["v"], "multi-categorical", separator="|",
                                       max_categories=2, missing="category")])
    state = fitted[0].states[0]
    # x and y both occur 3 times (every occurrence counts): ties go in string order.
    assert state.categories == ["x", "y"] and state.capped == 2   # z and w share OTHER
    assert (state.other_index, state.missing_index) == (2, 3)
    got = values(df, fitted)
    assert got["d"] == [one_hot(4, 0, 2)] and got["e"] == [one_hot(4, 1, 2)]
    assert got["c"] == got["f"] == got["g"] == [one_hot(4, 3)]


def test_multi_categorical_arrays(spark):
    df = spark.createDataFrame([("a", ["p", "q"]), ("b", []), ("c", None), ("d", ["q", ""])],
                               "k string, v array<string>")
    fitted = fit_features(df, [feature("m", ["v"], "multi-categorical")])
    assert fitted[0].states[0].categories == ["q", "p"]
    assert values(df, fitted) == {"a": [[1.0, 1.0]], "b": [[0.0, 0.0]], "c": [[0.0, 0.0]],
                                  "d": [[1.0, 0.0]]}


def test_two_columns_make_one_vector(spark):
    """A feature over two columns is the concatenation of their vectors (as indices: the second
    column's positions come after the first's)."""
    df = spark.createDataFrame([("a", "x", "p"), ("b", "y", None), ("c", None, "q")],
                               "k string, u string, w string")
    fitted = fit_features(df, [feature("f", ["u", "w"], "to_categorical")])
    assert fitted[0].dim == 4
    assert values(df, fitted) == {"a": [one_hot(4, 0, 2)], "b": [one_hot(4, 1)],
                                  "c": [one_hot(4, 3)]}


def test_a_state_larger_than_the_cap_reapplies(spark):
    """GraphStorm regression: a categorical state with more categories than the cap (here
    from a fit without cap) failed to re-apply; a state is used as it is, never capped again."""
    df = spark.createDataFrame([(f"r{i}", f"v{i:03d}") for i in range(120)], "k string, v string")
    uncapped = fit_features(df, [feature("v", ["v"], "categorical", max_categories=None)])[0]
    saved = json.loads(json.dumps(uncapped.to_dict()))
    assert saved["dim"] == 120
    capped = make_transform("categorical", {})   # the default cap, 99
    state = TRANSFORMS["categorical"].state_cls.from_dict(saved["states"][0])
    assert capped.dim(state) == 120
    row = capped.apply(df.where("k = 'r117'"), "v", state, "out").first().out
    assert row == one_hot(120, state.categories.index("v117"))
    folded = fit_features(df, [feature("v", ["v"], "categorical")])[0]   # capped at fit
    assert folded.dim == 100 and folded.states[0].capped == 21   # 99 + OTHER, as GSProcessing
    again = FittedFeature.from_dict(folded.spec, json.loads(json.dumps(folded.to_dict())))
    assert values(df, [again]) == values(df, [folded])


def test_unseen_error(spark):
    df = spark.createDataFrame([("a", "x"), ("b", "y")], "k string, v string")
    with pytest.raises(InputError, match=r"nodes\[0\].features\[v\]: column 'v' has values "
                                         r"outside the 1 known categories, e.g. \['y'\]"):
        fit_features(df, [feature("v", ["v"], "to_categorical", mapping={"x": 0},
                                  unseen="error")])
    fitted = fit_features(df, [feature("v", ["v"], "to_categorical", unseen="error")])
    new = spark.createDataFrame([("c", "z"), ("d", "x")], "k string, v string")
    with pytest.raises(InputError, match=r"re-applying a saved state: column 'v' has values "
                                         r"outside the 2 known categories, e.g. \['z'\]; add "):
        values(new, fitted)


def test_mapping_with_other_and_integer_keys(spark):
    df = spark.createDataFrame([("a", "10"), ("b", "9"), ("c", "7")], "k string, v string")
    fitted = fit_features(df, [feature("v", ["v"], "to_categorical", mapping={9: 2, "10": 0},
                                       unseen="other")])
    assert fitted[0].dim == 4
    assert values(df, fitted) == {"a": [one_hot(4, 0)], "b": [one_hot(4, 2)],
                                  "c": [one_hot(4, 3)]}


@pytest.mark.parametrize("multi", [False, True])
def test_mapping_may_put_several_values_at_one_position(spark, multi):
    """GConstruct's mapping may merge values ("rome" and "lima" both at 1): each sets it (the
    dense form used to set a position for the last such value only)."""
    df = spark.createDataFrame([("a", "paris"), ("b", "rome"), ("c", "lima"), ("d", "oslo"),
                                ("e", "rome;oslo")], "k string, v string")
    fitted = fit_features(df, [feature("v", ["v"], "to_categorical",
                                       mapping={"paris": 0, "rome": 1, "lima": 1},
                                       **({"separator": ";"} if multi else {}))])
    got = values(df, fitted)
    assert {k: v[0] for k, v in got.items() if k != "e"} == {
        "a": [1.0, 0.0], "b": [0.0, 1.0], "c": [0.0, 1.0], "d": [0.0, 0.0]}
    assert got["e"][0] == ([0.0, 1.0] if multi else [0.0, 0.0])


@pytest.mark.parametrize("spec", [
    feature("f", ["v"], "to_categorical"),
    feature("f", ["v"], "to_categorical", order="frequency", max_categories=2, missing="category"),
    feature("f", ["v"], "categorical", unseen="other"),
    feature("f", ["v"], "multi-categorical", separator="e", max_categories=3),
])
def test_saved_state_reapplies_identically_to_new_rows(spark, colors, spec):
    fitted = fit_features(colors, [spec])[0]
    restored = FittedFeature.from_dict(spec, json.loads(json.dumps(fitted.to_dict())))
    new = spark.createDataFrame([("a", "red"), ("z", "mauve"), ("y", None), ("x", "green")],
                                colors.schema)
    old, again = values(colors, [fitted]), values(new.union(colors), [restored])
    assert all(again[k] == old[k] for k in old)
    assert all(len(v[0]) == fitted.dim for v in again.values())


def test_state_from_before_the_policies_reads():
    state = CategoricalState.from_dict({"categories": ["a", "b"], "index": {}})
    assert state.width() == 2 and state.other_index is None and state.capped == 0


@pytest.mark.parametrize("name, params, message", [
    ("to_categorical", {"order": "alphabetical"}, r"order must be one of \['value', 'frequency'\]"),
    ("categorical", {"unseen": "ignore"}, r"unseen must be one of \['zeros', 'other', 'error'\]"),
    ("categorical", {"missing": "nan"}, r"missing must be one of \['zeros', 'category'\]"),
    ("categorical", {"max_categories": 0}, "max_categories must be a positive integer or null"),
    ("categorical", {"unseen": "error"}, "unseen 'error' cannot be combined with max_categories"),
    ("to_categorical", {"mapping": {"a": 0}, "max_categories": 5},
     "mapping fixes the categories and their positions"),
    ("to_categorical", {"mapping": {"a": -1}}, "mapping must map each value to a non-negative"),
    ("multi-categorical", {"separator": 3}, "separator must be a non-empty string, got 3"),
    ("categorical", {"separator": "|"}, r"transform 'categorical' has no parameter\(s\) "
                                        r"\['separator'\]"),
])
def test_bad_parameters(name, params, message):
    with pytest.raises(ValueError, match=message):
        make_transform(name, params)


# GSProcessing's transformation names -------------------------------------------------------

@pytest.mark.parametrize("name, kwargs, expected", [
    ("no-op", {"separator": "|", "truncate_dim": 4}, ("no-op", {"separator": "|",
                                                                "truncate_dim": 4})),
    ("numerical", {"imputer": "mean", "normalizer": "rank-gauss", "epsilon": 1e-5},
     ("numerical", {"imputer": "mean", "normalizer": "rank-gauss", "epsilon": 1e-5})),
    ("multi-numerical", {"separator": "|", "normalizer": "standard"},
     ("multi-numerical", {"separator": "|", "normalizer": "standard"})),
    ("bucket-numerical", {"range": [10, 30], "bucket_cnt": 2},
     ("bucket-numerical", {"range": [10, 30], "bucket_cnt": 2})),
    ("categorical", {}, ("categorical", {})),
    ("multi-categorical", {"separator": ";"}, ("multi-categorical", {"separator": ";"})),
    ("huggingface", {"action": "tokenize_hf", "hf_model": "bert-base-uncased",
                     "max_seq_length": 16},
     ("tokenize_hf", {"bert_model": "bert-base-uncased", "max_seq_length": 16})),
    ("huggingface", {"action": "embedding_hf", "hf_model": "m", "max_seq_length": 8},
     ("bert_hf", {"bert_model": "m", "max_seq_length": 8})),
    ("edge_dst_hard_negative", {"separator": ";"}, ("edge_dst_hard_negative", {"separator": ";"})),
    ("edge_dst_hard_negative", {}, ("edge_dst_hard_negative", {})),
])
def test_gsprocessing_names_translate(name, kwargs, expected):
    assert from_gsprocessing(name, kwargs) == expected
    translated, params = expected
    if translated in ("no-op", "numerical", "multi-numerical", "bucket-numerical",
                      "categorical", "multi-categorical"):
        make_transform(translated, params)   # a valid TRANSFORMS entry and parameters


@pytest.mark.parametrize("name, kwargs, message", [
    ("numerics", {}, r"unknown GSProcessing transformation 'numerics' \(did you mean "
                     r"'numerical'\?\); known: bucket-numerical, categorical"),
    ("numerical", {"imputr": "mean"}, r"transformation 'numerical' has no kwarg\(s\) "
                                      r"\['imputr'\] \(did you mean 'imputer'\?\); allowed: "),
    ("huggingface", {"action": "tokenize_hf", "hf_model": "m"},
     r"transformation 'huggingface' needs kwarg\(s\) \['max_seq_length'\]"),
    ("huggingface", {"action": "embed", "hf_model": "m", "max_seq_length": 8},
     r"action must be one of \['embedding_hf', 'tokenize_hf'\], got 'embed'"),
    ("edge_dst_hard_negative", {"sep": ";"}, r"has no kwarg\(s\) \['sep'\]"),
    ("categorical", ["x"], "the kwargs of transformation 'categorical' must be an object"),
])
def test_gsprocessing_name_errors(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        from_gsprocessing(name, kwargs)


def test_gconstruct_names_are_transforms():
    for name in ("max_min_norm", "standard", "rank_gauss", "bucket_numerical", "to_categorical",
                 "no-op"):
        assert name in TRANSFORMS
