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
    assert "known: max_min_norm, no-op, standard, to_categorical" in text
    assert "nodes[0].features[1].transform: transform 'max_min_norm' has no parameter(s) " \
           "['max_bund'] (did you mean 'max_bound'?)" in text
    assert "nodes[0].labels[0].split_pct: must be three fractions" in text
    assert "edges[0].relation: must be [source type, relation, destination type]" in text
    assert "edges[0]: unknown key 'dest_id_coll' (did you mean 'dest_id_col'?)" in text
    assert len(problems) == 5


@pytest.mark.parametrize("changes, message", [
    ({"nodes__0__format": {"name": "xlsx"}}, r"nodes\[0\].format.name: must be 'csv' or 'parquet'"),
    ({"nodes__0__files": []}, r"nodes\[0\].files: is required"),
    ({"nodes__0__node_id_col": None}, r"nodes\[0\].node_id_col: is required"),
    ({"version": "gconstruct-v9"}, r"version: unsupported version 'gconstruct-v9'"),
    ({"edges__0__labels": [{"task_type": "classification", "label_col": "w"}]},
     r"edges\[0\].labels: edge labels is not supported yet"),
    ({"nodes__0__labels": [{"task_type": "regression", "label_col": "w"}]},
     r"'regression' is not supported yet"),
    ({"nodes__0__labels": [{"task_type": "clasification", "label_col": "w"}]},
     r"must be 'classification' \(did you mean 'classification'\?\)"),
    ({"nodes__0__features": [{"feature_col": ["a", "b"]}]},
     r"feature_name: is required when feature_col lists several columns"),
    ({"nodes__0__features": [{"feature_col": "a", "feature_name": "nid"}]}, r"'nid' is reserved"),
    ({"nodes__0__features": [{"feature_col": "a", "out_dtype": "int8"}]},
     r"out_dtype: must be one of"),
    ({"nodes__0__node_type": "users"},
     r"node type 'users' has no edges \(did you mean 'user'\?\)"),
])
def test_bad_configs(changes, message):
    with pytest.raises(ConfigError, match=message):
        parse(with_changes(**changes))


def test_misspelled_node_type_on_an_edge_is_an_error_not_a_new_type():
    raw = with_changes(edges__0__relation=["user", "follows", "usr"])
    with pytest.raises(ConfigError, match=r"edges\[0\].relation: node type 'usr' has no node "
                                          r"block \(did you mean 'user'\?\)"):
        parse(raw)


def test_unrelated_edge_type_is_inferred_featureless():
    raw = with_changes(edges__0__relation=["user", "visits", "store"])
    spec = parse(raw)
    assert spec.node_types == ["store", "user"]
    assert spec.node_spec("store") is None


def test_not_json_and_other_dialects():
    with pytest.raises(ConfigError, match="not valid JSON"):
        parse_graph_config("{nodes: ", "g.json")
    with pytest.raises(ConfigError, match="GSProcessing dialect is not supported yet"):
        parse_graph_config(json.dumps({"version": "gsprocessing-v1.0", "graph": {}}), "g.json")


def test_comment_keys_are_allowed():
    raw = dict(BASE, _command="gm-process ...")
    assert parse(raw).nodes[0].type == "user"


def test_example_configs_compile():
    from tests.conftest import ROOT

    for path in (ROOT / "configs").rglob("*.json"):
        parse_graph_config(path.read_text(), str(path))


@pytest.mark.parametrize("changes, message", [
    ({"nodes__0__format": {"name": "parquet", "separator": ";"}},
     r"nodes\[0\].format: separator/header apply to csv only"),
    ({"nodes__0__format": {"name": "csv", "header": "yes"}},
     r"nodes\[0\].format.header: must be true or false"),
    ({"nodes__0__features": ["age"]}, r"nodes\[0\].features\[0\]: must be an object"),
    ({"nodes__0__features": {"feature_col": "a"}}, r"nodes\[0\].features: must be a list"),
    ({"nodes__0__features": [{"feature_col": "a", "transform": "max_min_norm"}]},
     r"transform: must be an object with a \"name\""),
    ({"nodes__0__features": [{"feature_col": "a", "transform": {
        "name": "to_categorical", "mapping": {"x": -1}}}]},
     r"mapping must map each value to a non-negative integer index"),
    ({"edges": []}, r"edges: at least one edge block is required"),
    ({"nodes__0__node_type": ""}, r"nodes\[0\].node_type: must be a non-empty string"),
])
def test_more_bad_configs(changes, message):
    with pytest.raises(ConfigError, match=message):
        parse(with_changes(**changes))


def test_several_blocks_for_one_type_are_not_supported_yet():
    raw = with_changes()
    raw["nodes"].append(dict(raw["nodes"][0]))
    raw["edges"].append(dict(raw["edges"][0]))
    with pytest.raises(ConfigError) as err:
        parse(raw)
    text = str(err.value)
    assert "nodes[1].node_type: 'user' is also defined by nodes[0]; several blocks for one " \
           "node type is not supported yet" in text
    assert "edges[1].relation: edge type ['user', 'follows', 'user'] is also defined by " \
           "edges[0]" in text
