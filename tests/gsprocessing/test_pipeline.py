"""The whole gsprocessing job on the tiny graph and its awkward cases."""

import json
import re
import shutil

import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from graphmill.errors import ConfigError, InputError
from gsprocessing.output import Manifest, read_edges, write_table
from gsprocessing.config import parse_graph_config
from gsprocessing.pipeline import ProcessOptions, process
from tests.conftest import TINY, read_parquet


def load(path, name):
    return json.loads((path / name).read_text())


def test_manifest_counts_dims_and_labels(tiny_processed):
    m = load(tiny_processed, "manifest.json")
    assert m["format_version"] == 4 and m["seed"] == 7
    assert {t: v["count"] for t, v in m["node_types"].items()} == {"user": 5, "item": 8,
                                                                    "store": 2}
    assert {t: v["count"] for t, v in m["edge_types"].items()} == {
        "user__bought__item": 10, "item__bought-rev__user": 10,
        "item__sold_by__store": 6, "store__sold_by-rev__item": 6}
    assert m["node_types"]["user"]["features"] == {
        "age": {"dim": 1, "dtype": "float32", "encoding": "dense"},
        "city": {"dim": 3, "dtype": "float32", "encoding": "dense"}}
    label = m["node_types"]["item"]["label"]
    assert label["classes"] == ["fashion", "garden"]
    assert label["split"] == {"train": 4, "val": 1, "test": 2, "unlabeled": 1}
    assert m["node_types"]["store"]["features"] == {}
    assert m["edge_types"]["item__bought-rev__user"]["reverse_of"] == "user__bought__item"


def test_report_counts_awkward_rows(tiny_processed):
    r = load(tiny_processed, "report.json")
    user = r["nodes"]["user"]
    assert (user["rows_read"], user["null_ids_dropped"], user["rows_written"]) == (6, 1, 5)
    assert user["missing_values"] == {"age": 1}
    assert user["rows_per_file"] == {f"file:{TINY}/users.csv": 6}  # as in "files"
    assert user["nulls"] == {"user_id": 1, "age": 1, "city": 1}
    item = r["nodes"]["item"]
    assert item["missing_values"] == {"price": 1}
    assert item["splits"] == {"label": {"train": 4, "val": 1, "test": 2, "unlabeled": 1}}
    assert r["edges"]["user__bought__item"]["rows_written"] == 10  # the duplicate edge is kept


def test_tables_are_keyed_and_ids_map_back(spark, tiny_processed):
    ids = read_parquet(tiny_processed / "id_map" / "user").to_pydict()
    # nids in the node file's order (the row without an id is dropped)
    assert sorted(zip(ids["nid"], ids["orig"])) == [(0, "alice"), (1, "bob"), (2, "zoë"),
                                                    (3, "carol"), (4, "dave")]
    items = {r["nid"]: r for r in read_parquet(tiny_processed / "nodes" / "item").to_pylist()}
    assert items[5]["label"] == -1 and not (items[5]["train_mask"] or items[5]["val_mask"]
                                            or items[5]["test_mask"])
    edges = read_parquet(tiny_processed / "edges" / "user__bought__item").to_pylist()
    assert sorted(e["eid"] for e in edges) == list(range(10))
    assert sorted((e["src"], e["dst"]) for e in edges).count((0, 0)) == 2  # alice→i1 twice
    # eids follow the input file's rows
    users = dict(zip(ids["orig"], ids["nid"]))
    rows = [line.split(",")[:2] for line in (TINY / "purchases.csv").read_text().splitlines()[1:]]
    assert [e["src"] for e in sorted(edges, key=lambda e: e["eid"])] == [users[u] for u, _ in rows]
    # reverse edges: a manifest entry, read as the forward table swapped
    assert not (tiny_processed / "edges" / "item__bought-rev__user").exists()
    manifest = Manifest.from_json((tiny_processed / "manifest.json").read_text(), "manifest")
    rev = read_edges(spark, str(tiny_processed), manifest, "item__bought-rev__user")
    assert sorted((r.dst, r.src, r.eid) for r in rev.collect()) == \
        sorted((e["src"], e["dst"], e["eid"]) for e in edges)


def test_tables_are_written_with_delta_encoded_keys(spark, tmp_path):
    """Output tables use Parquet's version-2 encodings: dense keys (too many values for a
    dictionary) are delta-encoded, half the size of plain ones or less at 10M edges."""
    write_table(spark.range(50_000).select(F.col("id").alias("eid"), (F.col("id") % 3)
                                           .alias("src")).coalesce(1), str(tmp_path / "t"))
    meta = pq.ParquetFile(next((tmp_path / "t").glob("part-*.parquet"))).metadata
    encodings = {meta.row_group(0).column(i).path_in_schema: meta.row_group(0).column(i).encodings
                 for i in range(meta.num_columns)}
    assert "DELTA_BINARY_PACKED" in encodings["eid"]
    assert "RLE_DICTIONARY" in encodings["src"]  # (version 1 calls it PLAIN_DICTIONARY)


def test_masks_are_disjoint_and_exact(tiny_processed):
    rows = read_parquet(tiny_processed / "nodes" / "item").to_pylist()
    labelled = [r for r in rows if r["label"] >= 0]
    assert all(r["train_mask"] + r["val_mask"] + r["test_mask"] == 1 for r in labelled)
    assert sum(r["train_mask"] for r in rows) == 4


def run(spark, tmp_path, config=None, prefix=TINY, **options):
    config = config or (TINY / "tiny.json")
    spec = parse_graph_config(config.read_text(), config.name)
    out = tmp_path / "out"
    process(spark, spec, ProcessOptions(input_prefix=str(prefix), output=str(out), **options))
    return out


def edited_config(tmp_path, edit):
    raw = json.loads((TINY / "tiny.json").read_text())
    edit(raw)
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(raw))
    return path


def test_same_input_and_seed_give_same_output_whatever_the_partitioning(spark, tiny_processed,
                                                                        tmp_path):
    """Also whatever the concurrency: tiny_processed built 4 types at once, this run one."""
    spark.conf.set("spark.sql.shuffle.partitions", "1")
    try:
        out = run(spark, tmp_path, seed=7, add_reverse_edges=True, parallel=1)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "3")
    for table in ("id_map/user", "id_map/store", "nodes/item", "edges/user__bought__item"):
        key = "orig" if table.startswith("id_map") else ("eid" if "edges" in table else "nid")
        assert read_parquet(out / table).sort_by(key).equals(
            read_parquet(tiny_processed / table).sort_by(key)), table
    for name in ("transforms.json", "report.json", "manifest.json"):
        a, b = (json.loads((root / name).read_text()) for root in (out, tiny_processed))
        a.pop("timings", None), b.pop("timings", None)
        assert a == b, name


def test_dangling_endpoint_error_names_file_column_and_ids(spark, tmp_path):
    def edit(raw):
        raw["edges"][0]["files"] = ["bad/purchases_unknown.csv"]
    with pytest.raises(InputError, match=r"purchases_unknown.csv\): 1 edge\(s\) have a src id in "
                                         r"column 'user_id' that is not a 'user' node, e.g. "
                                         r"\['mallory'\]; .* --dangling drop"):
        run(spark, tmp_path, config=edited_config(tmp_path, edit))
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob("out.tmp-*"))  # the staging directory is cleaned up


def test_dangling_drop_counts_and_drops(spark, tmp_path):
    def edit(raw):
        raw["edges"][0]["files"] = ["bad/purchases_unknown.csv"]
    out = run(spark, tmp_path, config=edited_config(tmp_path, edit), dangling="drop")
    report = load(out, "report.json")["edges"]["user__bought__item"]
    assert report["dangling"] == {"src": {"count": 1, "examples": ["mallory"]},
                                  "dst": {"count": 1, "examples": ["i9"]}}
    assert report["rows_written"] == 1


def test_edges_with_missing_ids_are_dropped_and_ids_stay_dense_in_input_order(spark, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    lines = (TINY / "purchases.csv").read_text().splitlines()
    lines[3:3] = [",i2,1", "bob,,2"]  # a missing src and an empty dst, between kept rows
    (data / "purchases.csv").write_text("\n".join(lines) + "\n")
    out = run(spark, tmp_path, prefix=data)
    report = load(out, "report.json")["edges"]["user__bought__item"]
    assert (report["rows_read"], report["null_ids_dropped"], report["rows_written"]) == (12, 2, 10)
    users = dict(zip(*[read_parquet(out / "id_map" / "user").to_pydict()[k]
                       for k in ("orig", "nid")]))
    edges = sorted(read_parquet(out / "edges" / "user__bought__item").to_pylist(),
                   key=lambda e: e["eid"])
    assert [e["eid"] for e in edges] == list(range(10))
    kept = [line.split(",")[0] for line in lines[1:] if "" not in line.split(",")[:2]]
    assert [e["src"] for e in edges] == [users[u] for u in kept]


def test_missing_columns_and_files_reported_together(spark, tmp_path):
    def edit(raw):
        raw["nodes"][0]["node_id_col"] = "uid"
        raw["nodes"][1]["features"][1]["feature_col"] = "cost"
        raw["edges"][1]["files"] = ["nope/*.csv"]
    with pytest.raises(ConfigError) as err:
        run(spark, tmp_path, config=edited_config(tmp_path, edit))
    text = str(err.value)
    assert "column 'uid' (node id) is not in nodes[0]" in text and "users.csv" in text
    assert "its columns are: user_id, age, city" in text
    assert "column 'cost' (input of feature 'cost') is not in nodes[1]" in text
    assert "edges[1].files[0]: no file matches" in text
    assert not (tmp_path / "out").exists()


def test_duplicate_node_ids_are_an_error(spark, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    (data / "users.csv").write_text((TINY / "users.csv").read_text() + "bob,1,rome\n")
    with pytest.raises(InputError, match=r"column 'user_id' has 1 duplicate id\(s\), e.g. 'bob'"):
        run(spark, tmp_path, prefix=data)


def test_ids_numbered_before_they_are_grouped_are_still_checked(spark, tmp_path, monkeypatch):
    """A table whose ids are all present is numbered by position and its ids are grouped by the
    fit pass: a repeated id is still the error, whether an edge names it (its edges are
    multiplied: the edge type checks the ids) or not (the fit pass finds it), and when the fit
    pass brings too many values to count them (a job of its own checks)."""
    import gsprocessing.fitpass as fitpass
    import gsprocessing.node_types as node_types

    grouped = []
    number_block = node_types._number_block
    monkeypatch.setattr(node_types, "_number_block",
                        lambda run, spec, *a: grouped.append(spec.type) or number_block(
                            run, spec, *a))
    run(spark, tmp_path)
    assert grouped == ["user"]  # (a user id is missing; stores have no table: ids from edges)
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    items = (TINY / "items.csv").read_text()
    for extra, shown in (("i9,a,1,garden\ni9,b,2,garden\n", "'i9' (2 rows)"),  # on no edge
                         ("i3,rake,1,garden\n", "'i3' (2 rows)")):  # on three edges
        (data / "items.csv").write_text(items + extra)
        with pytest.raises(InputError, match=r"items.csv\): column 'item_id' has 1 duplicate "
                                             rf"id\(s\), e.g. {re.escape(shown)}; each node must"):
            run(spark, tmp_path, prefix=data, overwrite=True)
    (data / "items.csv").write_text(items + "i9,a,1,garden\ni9,b,2,garden\n")
    monkeypatch.setattr(fitpass, "MAX_COUNTED", 1)
    with pytest.raises(InputError, match=r"column 'item_id' has 1 duplicate id\(s\), e.g. "
                                         r"'i9' \(2 rows\)"):
        run(spark, tmp_path, prefix=data, overwrite=True)
    assert (tmp_path / "out" / "manifest.json").exists()  # the first run's output, untouched
    assert not list(tmp_path.glob("out.tmp-*"))


def test_existing_output_needs_overwrite(spark, tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(InputError, match="output directory already exists; remove it or pass "
                                         "--overwrite"):
        run(spark, tmp_path)


def test_parquet_input_with_long_ids(spark, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(pa.table({"id": [30, 10, 20], "v": [1.0, 2.0, 3.0]}), data / "n.parquet")
    pq.write_table(pa.table({"s": [10, 20, 30, 30], "d": [20, 30, 10, 10]}), data / "e.parquet")
    config = tmp_path / "g.json"
    config.write_text(json.dumps({
        "nodes": [{"node_type": "n", "format": {"name": "parquet"}, "files": ["n.parquet"],
                   "node_id_col": "id", "features": [{"feature_col": "v"}]}],
        "edges": [{"relation": ["n", "to", "n"], "format": {"name": "parquet"},
                   "files": ["e.parquet"], "source_id_col": "s", "dest_id_col": "d"}]}))
    out = run(spark, tmp_path, config=config, prefix=data)
    ids = read_parquet(out / "id_map" / "n").sort_by("nid").to_pydict()
    assert ids == {"orig": [30, 10, 20], "nid": [0, 1, 2]}  # long ids, in the file's order
    assert load(out, "manifest.json")["node_types"]["n"]["id_dtype"] == "long"
    edges = read_parquet(out / "edges" / "n__to__n").sort_by("eid").to_pydict()
    assert (edges["src"], edges["dst"]) == ([1, 2, 0, 0], [2, 0, 1, 1])


def test_unknown_dangling_policy(spark, tmp_path):
    with pytest.raises(InputError, match=r"--dangling policy must be one of \('error', "
                                         r"'drop', 'add'\), got 'keep'"):
        run(spark, tmp_path, dangling="keep")
    with pytest.raises(InputError, match=r"--duplicates policy must be one of \('error', "
                                         r"'first'\), got 'last'"):
        run(spark, tmp_path, duplicates="last")


def test_user_columns_named_like_internal_ones(spark, tmp_path):
    """Edge tables with columns called src/dst/count, a multi-line quoted field, a dotted name."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "n.csv").write_text('count,"a.b",note\nx,1,"two\nlines"\ny,2,plain\nz,3,\n')
    (data / "e.csv").write_text("src,dst,eid\nx,y,7\ny,z,8\n")
    config = tmp_path / "g.json"
    config.write_text(json.dumps({
        "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": ["n.csv"],
                   "node_id_col": "count", "features": [{"feature_col": "a.b"}]}],
        "edges": [{"relation": ["n", "to", "n"], "format": {"name": "csv"}, "files": ["e.csv"],
                   "source_id_col": "src", "dest_id_col": "dst",
                   "features": [{"feature_col": "eid", "feature_name": "weight"}]}]}))
    out = run(spark, tmp_path, config=config, prefix=data)
    nodes = read_parquet(out / "nodes/n").sort_by("nid").to_pydict()
    assert nodes["a.b"] == [[1.0], [2.0], [3.0]]  # three rows: the line break stayed inside
    edges = read_parquet(out / "edges/n__to__n").sort_by("eid").to_pydict()
    assert (edges["src"], edges["dst"], edges["weight"]) == ([0, 1], [1, 2], [[7.0], [8.0]])


def test_label_without_values(spark, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    text = (TINY / "items.csv").read_text().splitlines()
    (data / "items.csv").write_text("\n".join(
        [text[0]] + [",".join(line.split(",")[:-1]) + "," for line in text[1:4]]) + "\n")

    def edit(raw):
        raw["nodes"][1]["files"] = ["items.csv"]
    with pytest.raises(InputError, match=r"nodes\[1\].labels\[0\]: label column 'label' has no "
                                         r"values"):
        run(spark, tmp_path, config=edited_config(tmp_path, edit), prefix=data,
            dangling="drop")


def test_reverse_edge_type_that_already_exists(spark, tmp_path):
    def edit(raw):
        extra = dict(raw["edges"][0], relation=["item", "bought-rev", "user"],
                     source_id_col="item_id", dest_id_col="user_id")
        extra.pop("features")
        raw["edges"].append(extra)
    with pytest.raises(InputError, match=r"edges\[0\]: --add-reverse-edges would add "
                                         r"item__bought-rev__user, which the config already "
                                         r"defines"):
        run(spark, tmp_path, config=edited_config(tmp_path, edit), add_reverse_edges=True)


def test_parquet_relation_column_edges_keep_input_order(spark, tmp_path):
    """Knowledge-graph style: one Parquet table in two files, the relation in a column and one
    row without a destination. Each relation's eids are dense in input order (file a before b,
    rows in file order), although its rows are a filtered part of the files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "data"
    (data / "triples").mkdir(parents=True)
    pq.write_table(pa.table({"id": ["e3", "e1", "e2"]}), data / "ents.parquet")
    pq.write_table(pa.table({"h": ["e1", "e2", "e3", "e1"], "r": ["likes", "knows", "likes", "x"],
                             "t": ["e2", "e3", None, "e3"]}), data / "triples" / "b.parquet")
    pq.write_table(pa.table({"h": ["e3", "e2"], "r": ["knows", "likes"], "t": ["e1", "e1"]}),
                   data / "triples" / "a.parquet", row_group_size=1)
    config = tmp_path / "kg.yaml"
    config.write_text("""
version: graphmill-v1
nodes:
  - {type: ent, files: ents.parquet, id: id}
edges:
  - {source: {type: ent, column: h}, dest: {type: ent, column: t}, relation: {column: r},
     files: triples/, format: parquet}
""")
    out = run(spark, tmp_path, config=config, prefix=data)
    ids = read_parquet(out / "id_map" / "ent").to_pydict()
    nid = dict(zip(ids["orig"], ids["nid"]))
    assert nid == {"e3": 0, "e1": 1, "e2": 2}  # the node file's order

    def edges(name):
        t = read_parquet(out / "edges" / name).sort_by("eid").to_pydict()
        return t["eid"], list(zip(t["src"], t["dst"]))

    assert edges("ent__likes__ent") == ([0, 1], [(nid["e2"], nid["e1"]), (nid["e1"], nid["e2"])])
    assert edges("ent__knows__ent") == ([0, 1], [(nid["e3"], nid["e1"]), (nid["e2"], nid["e3"])])
    assert edges("ent__x__ent") == ([0], [(nid["e1"], nid["e3"])])
    report = load(out, "report.json")["edges"]["ent__likes__ent"]
    assert report["null_ids_dropped"] == 1 and report["rows_written"] == 2
