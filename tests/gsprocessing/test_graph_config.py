"""The GConstruct dialect reader: what it accepts, and every problem reported at once."""

import json

import pytest

from graphmill.errors import ConfigError
from gsprocessing.config import parse_graph_config

BASE = {
    "version": "gconstruct-v0.1",
    "nodes": [{"node_type": "user", "format": {"name": "csv"}, "files": "u.csv",
               "node_id_col": "id"}],
    "edges": [{"relation": ["user", "follows", "user"], "format": {"name": "parquet"},
               "files": ["e/*.parquet"], "source_id_col": "a", "dest_id_col": "b"}],
}


def parse(raw):
    return parse_graph_config(json.dumps(raw), "graph.json")


def with_changes(**changes):
    raw = json.loads(json.dumps(BASE))
    for path, value in changes.items():
        node = raw
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        node[keys[-1]] = value
    return raw


def test_minimal_config_compiles():
    spec = parse(BASE)
    assert spec.node_types == ["user"]
    assert spec.edges[0].etype == ("user", "follows", "user")
    assert spec.nodes[0].source.files == ("u.csv",)
    assert spec.edges[0].source.format == "parquet"


def test_features_and_labels():
    raw = with_changes(nodes__0__features=[
        {"feature_col": ["a", "b"], "feature_name": "ab", "transform": {"name": "max_min_norm",
                                                                          "max_bound": 5}},
        {"feature_col": "c", "transform": {"name": "to_categorical", "separator": "|"}},
        {"feature_col": "d"}],
        nodes__0__labels=[{"label_col": "y", "task_type": "classification",
                           "split_pct": [0.6, 0.2, 0.2]}])
    node = parse(raw).nodes[0]
    assert [f.name for f in node.features] == ["ab", "c", "d"]
    assert node.features[0].params == {"max_bound": 5}
    assert node.features[2].transform == "no-op"
    assert node.labels[0].split == (0.6, 0.2, 0.2)


def test_gconstruct_feature_truncate_dim_and_narrow_out_dtypes():
    """GConstruct cuts a feature without a transform with its truncate_dim, and accepts
    out_dtype float16 and int8: all were refused here (unknown key, unknown dtype). The
    narrow types are written as float32, which a warning says; so is a truncate_dim that
    GConstruct ignores (the feature has a transform)."""
    raw = with_changes(nodes__0__features=[
        {"feature_col": "emb", "truncate_dim": 4, "out_dtype": "float16"},
        {"feature_col": "m", "out_dtype": "int8"},
        {"feature_col": "x", "truncate_dim": 2, "transform": {"name": "max_min_norm"}}])
    spec = parse(raw)
    emb, m, x = spec.nodes[0].features
    assert (emb.transform, emb.params, emb.out_dtype) == ("no-op", {"truncate_dim": 4},
                                                          "float32")
    assert (m.transform, m.params, m.out_dtype) == ("no-op", {}, "float32")
    assert x.params == {}
    assert spec.warnings == (
        "nodes[0].features[0]: out_dtype float16 is written as float32 (processed/ holds "
        "float32 or float64 features)",
        "nodes[0].features[1]: out_dtype int8 is written as float32 (processed/ holds float32 "
        "or float64 features)",
        "nodes[0].features[2]: truncate_dim applies to a feature without a transform "
        "(GConstruct ignores it otherwise); ignored")


@pytest.mark.parametrize("name, expected", [("HDF5", "hdf5"), ("h5", "hdf5"),
                                            ("Parquet", "parquet"), ("CSV", "csv")])
def test_format_names_are_read_in_any_case_and_h5_is_hdf5(name, expected):
    """Format names are not case-sensitive, and ``h5`` (the files' usual extension) names
    HDF5 as ``hdf5`` does."""
    spec = parse(with_changes(nodes__0__format={"name": name}))
    assert spec.nodes[0].source.format == expected


def test_a_split_of_zeros_is_accepted_with_a_warning():
    """split_pct [0, 0, 0] puts no row in any mask. GConstruct accepts it, so it is not an
    error, but a slip that would train on nothing should not pass unseen (--strict refuses
    it); with custom split files the fractions are not used, so no warning."""
    label = {"label_col": "y", "task_type": "classification", "split_pct": [0, 0, 0]}
    spec = parse(with_changes(nodes__0__labels=[label]))
    assert spec.nodes[0].labels[0].split == (0.0, 0.0, 0.0)
    assert spec.warnings == ("nodes[0].labels[0].split_pct: every fraction is 0: no row is in "
                             "the train, val or test mask (every mask is written false)",)
    custom = dict(label, custom_split_filenames={"train": "train.parquet"})
    assert parse(with_changes(nodes__0__labels=[custom])).warnings == ()


def test_every_problem_is_reported_at_once_with_its_location():
    raw = with_changes(nodes__0__features=[{"feature_col": "c", "transform": {"name": "numeric"}},
                                           {"feature_col": "d", "transform": {
                                               "name": "max_min_norm", "max_bund": 1}}],
                       nodes__0__labels=[{"label_col": "y", "task_type": "classification",
                                          "split_pct": [0.8, 0.3, 0.1]}],
                       edges__0__relation=["user", "follows"],
                       edges__0__dest_id_coll="b")
    with pytest.raises(ConfigError) as err:
        parse(raw)
    problems = err.value.problems
    text = "\n".join(problems)
    assert "nodes[0].features[0].transform: unknown transform 'numeric'" in text
    assert "known: " in text and "max_min_norm" in text and "to_categorical" in text
    assert "nodes[0].features[1].transform: transform 'max_min_norm' has no parameter(s) " \
           "['max_bund'] (did you mean 'max_bound'?)" in text
    assert "nodes[0].labels[0].split_pct: must be three fractions" in text
    assert "edges[0].relation: must be [source type, relation, destination type]" in text
    assert "edges[0]: unknown key 'dest_id_coll' (did you mean 'dest_id_col'?)" in text
    assert len(problems) == 5


@pytest.mark.parametrize("changes, message", [
    ({"nodes__0__format": {"name": "xlsx"}}, r"nodes\[0\].format: format must be 'csv', 'parquet', 'json' \(JSON lines\) or 'hdf5'"),
    ({"nodes__0__files": []}, r"nodes\[0\].files: is required"),
    ({"nodes__0__node_id_col": None}, r"nodes\[0\].node_id_col: is required"),
    ({"version": "gconstruct-v9"}, r"version: unsupported version 'gconstruct-v9'"),
    ({"edges__0__labels": [{"task_type": "regression"}]},
     r"edges\[0\].labels\[0\].label_col: is required for regression labels"),
    ({"nodes__0__labels": [{"task_type": "clasification", "label_col": "w"}]},
     r"task_type: must be one of \['classification', 'regression', 'link_prediction'\], found "
     r"'clasification' \(did you mean 'classification'\?\)"),
    ({"nodes__0__labels": [{"task_type": "regression", "label_col": "w", "separator": "|"}]},
     r"labels\[0\].separator: a non-empty separator makes a classification label multi-label"),
    ({"nodes__0__labels": [{"task_type": "classification", "label_col": "w",
                            "mask_field_names": ["a", "a", "b"]}]},
     r"mask_field_names: must be three distinct column names"),
    ({"nodes__0__labels": [{"task_type": "classification", "label_col": "w",
                            "label_stats_type": "histogram"}]},
     r"label_stats_type: must be one of \['frequency_cnt'\]"),
    ({"nodes__0__labels": [{"task_type": "classification", "label_col": "w",
                            "custom_split_filenames": {"column": ["id"]}}]},
     r"custom_split_filenames: needs at least one of train, valid, test"),
    ({"nodes__0__labels": [{"task_type": "classification", "label_col": "w"},
                           {"task_type": "regression", "label_col": "v"}]},
     r"mask 'train_mask' of type 'user' is also the name of mask at nodes\[0\].labels\[0\]"),
    ({"nodes__0__features": [{"feature_col": ["a", "b"]}]},
     r"nodes\[0\].features\[0\]: needs a feature name when it reads several columns"),
    ({"nodes__0__format": {"name": "csv", "encoding": "klingon"}},
     r"nodes\[0\].format: encoding 'klingon' is not one Spark's CSV reader supports"),
    ({"nodes__0__format": {"name": "csv", "missing_values": 0}},
     r"nodes\[0\].format: missing_values must be a string or a list of strings"),
    ({"edges__0__format": {"name": "parquet", "missing_values": ["NA"]}},
     r"edges\[0\].format: missing_values apply to csv only"),
    ({"nodes__0__features": [{"feature_col": "a", "feature_name": "nid"}]}, r"'nid' is reserved"),
    ({"nodes__0__features": [{"feature_col": "a", "out_dtype": "int16"}]},
     r"features\[0\]: out_dtype must be one of"),
])
def test_bad_configs(changes, message):
    with pytest.raises(ConfigError, match=message):
        parse(with_changes(**changes))


def test_csv_missing_values_in_each_dialect():
    """A string or a list; spaces around a value do not count (values are compared trimmed)."""
    spec = parse(with_changes(nodes__0__format={"name": "csv", "missing_values": " NA "}))
    assert spec.nodes[0].source.missing_values == ("NA",)
    assert parse(BASE).nodes[0].source.missing_values == ()
    gsp = parse_graph_config(json.dumps({"version": "gsprocessing-v1.0", "graph": {
        "nodes": [{"type": "user", "column": "id", "data": {
            "format": "csv", "files": ["u.csv"], "missing_values": ["NA", "null", "NA"]}}],
        "edges": [{"source": {"column": "a", "type": "user"},
                   "dest": {"column": "b", "type": "user"}, "relation": {"type": "f"},
                   "data": {"format": "csv", "files": ["e.csv"]}}]}}), "g.json")
    assert gsp.nodes[0].source.missing_values == ("NA", "null")
    native = parse_graph_config(
        "version: graphmill-v1\n"
        "nodes: [{type: user, files: u.csv, id: id, csv: {missing_values: [NA, '-']}}]\n"
        "edges: [{source: {type: user, column: a}, dest: {type: user, column: b},\n"
        "         relation: f, files: e.csv}]\n", "g.yaml")
    assert native.nodes[0].source.missing_values == ("NA", "-")


def test_misspelled_node_types_are_warned_about_not_silently_accepted():
    """GraphStorm keeps both types; so do we (its own test config relies on it), but loudly."""
    spec = parse(with_changes(edges__0__relation=["user", "follows", "usr"]))
    assert spec.node_types == ["user", "usr"]
    assert spec.warnings == ("edges[0]: node type 'usr' has no node block (did you mean "
                             "'user'?); it is inferred from the edges, without features",)
    spec = parse(with_changes(nodes__0__node_type="users"))
    assert "nodes[0]: node type 'users' has no edges (did you mean 'user'?); it is kept as " \
           "isolated nodes" in spec.warnings


def test_one_column_for_both_endpoints_is_warned_about():
    spec = parse(with_changes(edges__0__dest_id_col="a"))
    assert spec.warnings == ("edges[0]: the source and destination ids are both column 'a', so "
                             "every edge is a self-loop",)


def test_unrelated_edge_type_is_inferred_featureless():
    raw = with_changes(edges__0__relation=["user", "visits", "store"])
    spec = parse(raw)
    assert spec.node_types == ["store", "user"]
    assert spec.node_specs("store") == [] and spec.warnings == ()


def test_not_json_or_yaml():
    with pytest.raises(ConfigError, match="not valid JSON"):
        parse_graph_config("{nodes: ", "g.json")
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_graph_config("nodes: [", "g.yaml")
    with pytest.raises(ConfigError, match="the config must be an object"):
        parse_graph_config("[]", "g.json")


def test_comment_keys_are_allowed():
    raw = dict(BASE, _command="gm-process ...")
    assert parse(raw).nodes[0].type == "user"


def test_example_configs_compile():
    from tests.conftest import ROOT

    for path in (ROOT / "configs").rglob("*.json"):
        parse_graph_config(path.read_text(), str(path))


@pytest.mark.parametrize("changes, message", [
    ({"nodes__0__format": {"name": "parquet", "separator": ";"}},
     r"nodes\[0\].format: separator apply to csv only"),
    ({"nodes__0__format": {"name": "csv", "header": "yes"}},
     r"nodes\[0\].format: header must be true or false"),
    ({"nodes__0__features": ["age"]}, r"nodes\[0\].features\[0\]: must be an object"),
    ({"nodes__0__features": {"feature_col": "a"}}, r"nodes\[0\].features: must be a list"),
    ({"nodes__0__features": [{"feature_col": "a", "transform": "max_min_norm"}]},
     r"transform: must be an object with a \"name\""),
    ({"nodes__0__features": [{"feature_col": "a", "transform": {
        "name": "to_categorical", "mapping": {"x": -1}}}]},
     r"mapping must map each value to a non-negative integer index"),
    ({"nodes__0__features": [{"feature_col": ["a", "b"], "feature_name": "ab", "transform": {
        "name": "max_min_norm", "max_val": [1.0, 2.0, 3.0], "min_val": [0.0, 0.0]}}]},
     r"nodes\[0\].features\[0\].transform: max_val has 3 values for 2 input column\(s\)"),
    ({"nodes__0__labels": [{"task_type": "link_prediction"}]},
     r"nodes\[0\].labels\[0\]: link_prediction is a task of edges"),
    ({"edges": []}, r"edges: at least one edge block is required"),
    ({"nodes__0__node_type": ""}, r"nodes\[0\].node_type: must be a non-empty string"),
    ({"nodes__0__node_type": "a__b"}, r"nodes\[0\].node_type: must not contain '__'"),
])
def test_more_bad_configs(changes, message):
    with pytest.raises(ConfigError, match=message):
        parse(with_changes(**changes))


def test_several_blocks_of_one_node_type_are_joined_and_keep_their_columns_apart():
    raw = with_changes(nodes__0__features=[{"feature_col": "age"}])
    raw["nodes"].append({"node_type": "user", "format": {"name": "parquet"}, "files": "x/",
                         "node_id_col": "uid", "features": [{"feature_col": "score"}]})
    spec = parse(raw)
    assert [n.where for n in spec.node_specs("user")] == ["nodes[0]", "nodes[1]"]
    # A feature input named as another block's column is its own block's (renamed inside)
    raw["nodes"][1]["features"] = [{"feature_col": "age", "feature_name": "age2"}]
    again = parse(raw).node_specs("user")
    assert again[1].features[0].columns == ("age@nodes[1]",)
    assert again[1].features[0].source_columns == ("age",)  # (as transforms.json shows it)
    echoed = parse(raw).to_dict()["nodes"][1]["features"][0]  # (manifest.json's config)
    assert echoed["columns"] == ["age"] and "source_columns" not in echoed
    assert again[1].renamed == (("age@nodes[1]", "age"),) and again[0].renamed == ()
    # A label's column names its output: it must not be read by two blocks
    raw["nodes"][1]["labels"] = [{"label_col": "age", "task_type": "regression"}]
    raw["nodes"][1]["features"] = []
    with pytest.raises(ConfigError, match=r"nodes\[1\]: label column 'age' is also read by "
                                          r"nodes\[0\], another block of node type 'user'"):
        parse(raw)


def test_one_edge_type_in_two_blocks_is_an_error():
    raw = with_changes()
    raw["edges"].append(dict(raw["edges"][0]))
    with pytest.raises(ConfigError, match=r"edges\[1\]: edge type \['user', 'follows', 'user'\] "
                                          r"is also defined by edges\[0\]"):
        parse(raw)
