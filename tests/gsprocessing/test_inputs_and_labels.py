"""Issue-3 inputs, policies and labels on one awkward graph, processed once (Spark is slow to
start jobs, so one run carries many checks), plus the cases that must fail."""

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from graphmill.errors import ConfigError, InputError
from gsprocessing import labels as labels_module
from gsprocessing.__main__ import summary
from gsprocessing.config import parse_graph_config
from gsprocessing.config.schema import LabelSpec
from gsprocessing.fitpass import FitPass
from gsprocessing.labels import apply_label, finish_label, plan_label, split_counts
from gsprocessing.pipeline import ProcessOptions, in_stable_order, process
from tests.conftest import read_parquet

GRAPH = """
version: graphmill-v1
nodes:
  - type: user
    files: users/                      # a directory: two latin-1 files with ';'
    format: csv
    csv: {separator: ";", encoding: latin-1}
    id: uid
    features:
      - {column: age, transform: numerical, params: {imputer: median, normalizer: min-max}}
      - {column: city, transform: categorical}
  - type: user                         # a second block, joined on the id
    files: user_scores.parquet
    id: user
    features:
      - {column: score, transform: numerical, params: {normalizer: none, imputer: mean}}
      - {column: tags, name: tags, transform: multi-categorical}
  - type: item
    files: items.csv
    id: item_id
    labels:
      - {column: genres, task: classification, separator: "|",
         split: {train: 0.5, val: 0.25, test: 0.25}}
      - {column: price, task: regression, masks: [tm_price, vm_price, sm_price],
         custom_split: {train: [split/train.csv], val: [split/val.json], column: [item_id]}}
edges:
  - source: {type: user, column: who}
    dest: {type: item, column: what}
    relation: {column: kind}           # one file, several relations
    files: events.csv
    features:
      - {column: weight, transform: numerical}
      - {column: negs, name: hard_negs, transform: edge_dst_hard_negative,
         params: {separator: "|"}}
    labels:
      - {column: stars, task: classification, split: {train: 0.6, val: 0.2, test: 0.2}}
  - source: {type: user, column: a}
    dest: {type: user, column: b}
    relation: follows
    files: follows.parquet
    labels:
      - {task: link_prediction, split: {train: 0.5, val: 0.25, test: 0.25}}
      - {task: link_prediction, split: {train: 0.25, val: 0.0, test: 0.75},
         masks: [lp_train, lp_val, lp_test]}
"""


def write_inputs(root):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "users").mkdir(parents=True)
    (root / "users" / "a.csv").write_bytes(
        "uid;age;city\nalice;30;Zürich\nbob;;\nzoë;25;Köln\n".encode("latin-1"))
    # bob again (kept: the first file's row), and a row whose city has the separator, quoted.
    (root / "users" / "b.csv").write_bytes(
        'uid;age;city\nbob;99;Oslo\ncarol;41;"Zürich"\ndave;35;"a;b"\n'.encode("latin-1"))
    # erin twice: the second block's duplicates are reported with the first's
    pq.write_table(pa.table({"user": ["alice", "bob", "erin", "erin"],
                             "score": [1.0, 2.0, 3.0, 9.0],
                             "tags": [["x", "y"], [], ["y"], ["z"]]}), root / "user_scores.parquet")
    (root / "items.csv").write_text(
        "item_id,genres,price\ni1,rock|pop,10\ni2,pop,20.5\ni3,,7\ni4,jazz| rock,\n"
        "i5,rock,3\ni6,pop|jazz,1\n")
    (root / "split").mkdir()
    (root / "split" / "train.csv").write_text("item_id\ni1\ni2\ni4\ni404\n")
    (root / "split" / "val.json").write_text('{"item_id": "i3"}\n{"item_id": "i5"}\n')
    (root / "events.csv").write_text(  # (note: a column the config does not read)
        "who,what,kind,weight,stars,negs,note\nalice,i1,bought,1,5,i2|i3,\nbob,i2,bought,2,4,,x\n"
        "zoë,i1,viewed,,,i6,\ncarol,i3,viewed,4,5,i1,x\ndave,i99,bought,5,1,i404|i1|i2,x\n"
        "erin,i2,viewed,6,3,,x\nalice,i5,bought,7,2,i6,x\n"
        ",i77,bought,3,2,,x\n")  # no user: dropped, and i77 is not added as a node for it
    pq.write_table(pa.table({"a": ["alice", "bob", "carol", "dave"],
                             "b": ["bob", "carol", "dave", "alice"]}), root / "follows.parquet")


@pytest.fixture(scope="module")
def awkward(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("awkward")
    write_inputs(root / "data")
    spec = parse_graph_config(GRAPH, "graph.yaml")
    out = root / "out"
    manifest = process(spark, spec, ProcessOptions(
        input_prefix=str(root / "data"), output=str(out), duplicates="first", dangling="add",
        seed=3))
    return root, out, manifest


def ids_of(out, ntype):
    d = read_parquet(out / "id_map" / ntype).to_pydict()
    return dict(zip(d["orig"], d["nid"]))


def rows_of(out, table, key="nid"):
    return {r[key]: r for r in read_parquet(out / table).to_pylist()}


def test_blocks_joined_encoding_and_duplicates(awkward):
    _, out, m = awkward
    users = ids_of(out, "user")
    # input order: files a.csv, b.csv (bob's second row dropped), then block 2 (erin only new)
    assert sorted(users, key=users.get) == ["alice", "bob", "zoë", "carol", "dave", "erin"]
    assert sorted(users.values()) == list(range(6))
    rows = rows_of(out, "nodes/user")
    report = json.loads((out / "report.json").read_text())["nodes"]["user"]
    assert report["duplicate_ids"] == {"ids": 2, "rows_dropped": 2,
                                       "examples": ["bob", "erin"]}
    assert len(report["rows_per_file"]) == 3 and report["rows_read"] == 10
    # bob's first row (file a.csv) has no age, nor has erin (block 2 only): both imputed.
    ages = {u: rows[n]["age"][0] for u, n in users.items()}
    assert ages["bob"] == ages["erin"] and 0 < ages["bob"] < 1
    assert ages["alice"] == pytest.approx((30 - 25) / (41 - 25))
    city = m.node_types["user"].features["city"].dim
    assert city == 3  # Zürich, Köln, a;b: decoded from latin-1, the quoted separator kept
    assert rows[users["erin"]]["score"] == [3.0] and rows[users["erin"]]["city"] == [0.0] * 3
    assert rows[users["alice"]]["tags"] == [1.0, 1.0] and rows[users["bob"]]["tags"] == [0, 0]


def test_relation_column_and_dangling_add(awkward):
    _, out, m = awkward
    assert m.edge_types["user__bought__item"].count == 4
    assert m.edge_types["user__viewed__item"].count == 3
    items = ids_of(out, "item")
    assert sorted(items, key=items.get) == ["i1", "i2", "i3", "i4", "i5", "i6", "i99"]  # added last
    report = json.loads((out / "report.json").read_text())
    assert report["nodes"]["item"]["nodes_added"] == 1
    assert report["nodes"]["item"]["nodes_added_examples"] == ["i99"]
    assert report["edges"]["user__bought__item"]["null_ids_dropped"] == 1
    # Missing values per edge type, not the whole file's (each type's report was the file's)
    assert report["edges"]["user__bought__item"]["nulls"] == {"negs": 2, "who": 1}
    assert report["edges"]["user__viewed__item"]["nulls"] == {"negs": 1, "stars": 1,
                                                              "weight": 1}
    # Two link-prediction labels of one type, told by their masks (one overwrote the other)
    assert report["edges"]["user__follows__user"]["splits"] == {
        "link_prediction": {"train": 2, "val": 1, "test": 1, "unlabeled": 0},
        "link_prediction [lp_train, lp_val, lp_test]": {"train": 1, "val": 0, "test": 3,
                                                        "unlabeled": 0}}


def test_multilabel_regression_and_custom_split(awkward):
    _, out, m = awkward
    item = m.node_types["item"]
    genres, price = item.labels
    assert genres["classes"] == ["jazz", "pop", "rock"] and genres["multilabel"]
    assert price["stats"]["max"] == 20.5 and price["split_source"] == "custom"
    items = ids_of(out, "item")
    rows = rows_of(out, "nodes/item")
    assert rows[items["i4"]]["genres"] == [1.0, 0.0, 1.0]  # "jazz| rock": tokens trimmed
    assert rows[items["i3"]]["genres"] is None            # no genre: in no mask
    assert not any(rows[items["i3"]][k] for k in ("train_mask", "val_mask", "test_mask"))
    assert genres["split"] == {"train": 2, "val": 2, "test": 1, "unlabeled": 2}  # round half even
    # price: custom split; i4 is listed for train but has no price, so it is in no mask.
    assert [rows[items[i]]["tm_price"] for i in ("i1", "i2", "i4")] == [True, True, False]
    assert rows[items["i3"]]["vm_price"] and rows[items["i5"]]["vm_price"]
    assert not any(rows[items["i6"]][k] for k in ("tm_price", "vm_price", "sm_price"))
    # i6 has a price but no split file lists it: counted as such (it was counted nowhere)
    assert price["split"] == {"train": 2, "val": 2, "test": 0, "unlabeled": 2, "not_listed": 1}
    assert rows[items["i99"]]["price"] is None
    report = json.loads((out / "report.json").read_text())["nodes"]["item"]
    assert report["custom_split_unknown_ids"] == {"price": 1}  # i404


def test_hard_negatives_are_mapped_padded_and_never_drop_rows(awkward):
    _, out, m = awkward
    users, items = ids_of(out, "user"), ids_of(out, "item")
    assert m.edge_types["user__bought__item"].features["hard_negs"].dim == 3
    assert m.edge_types["user__bought__item"].features["hard_negs"].dtype == "int64"
    negs = {(e["src"], e["dst"]): e["hard_negs"] for e in read_parquet(
        out / "edges" / "user__bought__item").to_pylist()}
    assert negs[(users["alice"], items["i1"])] == [items["i2"], items["i3"], -1]
    assert negs[(users["bob"], items["i2"])] == [-1, -1, -1]
    assert negs[(users["dave"], items["i99"])] == [-1, items["i1"], items["i2"]]  # i404: unknown
    report = json.loads((out / "report.json").read_text())["edges"]["user__bought__item"]
    assert report["hard_negatives_unknown"] == {"hard_negs": 1}


def test_edge_labels_sit_on_their_edges(awkward):
    _, out, m = awkward
    users, items = ids_of(out, "user"), ids_of(out, "item")
    edges = read_parquet(out / "edges" / "user__viewed__item").to_pylist()
    stars = {(e["src"], e["dst"]): e["stars"] for e in edges}
    classes = m.edge_types["user__viewed__item"].labels[0]["classes"]
    assert classes == ["0", "1", "2", "3", "4", "5"]  # integer labels kept as given
    assert stars[(users["erin"], items["i2"])] == 3 and stars[(users["carol"], items["i3"])] == 5
    assert stars[(users["zoë"], items["i1"])] == -1
    lp = read_parquet(out / "edges" / "user__follows__user").to_pylist()
    assert sum(e["train_mask"] for e in lp) == 2 and sum(e["val_mask"] for e in lp) == 1


def test_transforms_from_reapplies_every_state(spark, awkward, tmp_path):
    root, out, _ = awkward
    data = tmp_path / "data"
    shutil.copytree(root / "data", data)
    with open(data / "users" / "b.csv", "ab") as f:
        f.write("frank;80;Berlin\n".encode("latin-1"))      # new rows, outside the old range
    with open(data / "events.csv", "a") as f:
        f.write("frank,i6,viewed,100,1,i1,\n")
    again = tmp_path / "again"
    process(spark, parse_graph_config(GRAPH, "graph.yaml"), ProcessOptions(
        input_prefix=str(data), output=str(again), duplicates="first", dangling="add", seed=3,
        transforms_from=str(out / "transforms.json")))
    old_ids, new_ids = ids_of(out, "user"), ids_of(again, "user")
    old, new = rows_of(out, "nodes/user"), rows_of(again, "nodes/user")
    for user, nid in old_ids.items():
        for column in ("age", "city", "score", "tags"):
            assert json.dumps(new[new_ids[user]][column]) == json.dumps(old[nid][column]), \
                (user, column)
    assert new[new_ids["frank"]]["age"] == [1.0]  # clipped to the old range, not refitted

    def by_pair(path, ids):
        names = {v: k for k, v in ids.items()}
        return {(names[e["src"]], e["dst"]): e["weight"] for e in read_parquet(path).to_pylist()}
    old_e = by_pair(out / "edges/user__viewed__item", old_ids)
    new_e = by_pair(again / "edges/user__viewed__item", new_ids)
    assert json.dumps([new_e[k] for k in old_e]) == json.dumps(list(old_e.values()))  # NaN too


def test_value_counts_beyond_the_fit_pass_limit_give_the_same_output(spark, awkward, tmp_path,
                                                                     monkeypatch):
    """The fit pass brings the value counts of categorical features, classification labels and
    random splits to the driver up to MAX_COUNTED; beyond it, each counts in Spark on its own.
    Both ways give the same states, splits and tables."""
    root, out, _ = awkward
    monkeypatch.setattr("gsprocessing.fitpass.MAX_COUNTED", 0)
    again = tmp_path / "again"
    process(spark, parse_graph_config(GRAPH, "graph.yaml"), ProcessOptions(
        input_prefix=str(root / "data"), output=str(again), duplicates="first", dangling="add",
        seed=3))
    assert json.loads((again / "transforms.json").read_text()) == \
        json.loads((out / "transforms.json").read_text())
    for table in ("nodes/user", "nodes/item", "edges/user__bought__item",
                  "edges/user__viewed__item", "edges/user__follows__user"):
        key = "nid" if table.startswith("nodes") else "eid"
        assert json.dumps(sorted(rows_of(again, table, key).items())) == \
            json.dumps(sorted(rows_of(out, table, key).items())), table


def test_ragged_csv_row_is_an_error_naming_the_file(spark, tmp_path):
    data = tmp_path / "data"
    write_inputs(data)
    (data / "items.csv").write_text("item_id,genres,price\ni1,rock,10\ni2,pop,20,extra\n")
    with pytest.raises(InputError, match=r"nodes\[2\]: 1 CSV row\(s\) do not have the 3 fields "
                                         r"of the header .*items.csv: 'i2,pop,20,extra'"):
        process(spark, parse_graph_config(GRAPH, "graph.yaml"), ProcessOptions(
            input_prefix=str(data), output=str(tmp_path / "out"), duplicates="first"))
    assert not (tmp_path / "out").exists()


def test_csv_files_with_their_columns_in_another_order_are_an_error(spark, tmp_path):
    """Every problem of the inputs at once, before any job: here the header of a second node
    file (Spark would read its columns by position, under the first file's names)."""
    data = tmp_path / "data"
    graph = _one_type_graph(data, "n", "e", "id,x\n", "s,d\na,b\n",
                            {"feature_col": "x", "transform": {"name": "max_min_norm"}})
    (data / "n.csv").unlink()
    (data / "n.csv").mkdir()
    (data / "n.csv" / "part-0.csv").write_text("id,x,y\na,1,2\n")
    (data / "n.csv" / "part-1.csv").write_text("id,y,x\nb,3,4\n")
    with pytest.raises(ConfigError, match=r"nodes\[0\]: the header of .*part-1.csv is "
                                          r"\['id', 'y', 'x'\] \(3 columns\), not "
                                          r"\['id', 'x', 'y'\]"):
        process(spark, graph, ProcessOptions(input_prefix=str(data),
                                             output=str(tmp_path / "out")))
    assert not (tmp_path / "out").exists()


def test_parquet_files_without_a_column_are_an_error(spark, tmp_path):
    """A later Parquet file of an edge table without the destination column: Spark would read
    its edges with missing destinations (and drop them as such); reported before any job, with
    the files named, and nothing is written."""
    data = tmp_path / "data"
    (data / "e").mkdir(parents=True)
    (data / "n.csv").write_text("id\na\nb\n")
    pq.write_table(pa.table({"s": ["a"], "d": ["b"]}), data / "e" / "part-0.parquet")
    pq.write_table(pa.table({"s": ["b"], "dst": ["a"]}), data / "e" / "part-1.parquet")
    graph = parse_graph_config(json.dumps({
        "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": "n.csv",
                   "node_id_col": "id"}],
        "edges": [{"relation": ["n", "e", "n"], "format": {"name": "parquet"}, "files": "e",
                   "source_id_col": "s", "dest_id_col": "d"}]}), "g.json")
    with pytest.raises(ConfigError, match=r"edges\[0\]: column 'd' \(destination id\) is in "
                                          r".*part-0.parquet but not in .*part-1.parquet: "):
        process(spark, graph, ProcessOptions(input_prefix=str(data),
                                             output=str(tmp_path / "out")))
    assert not (tmp_path / "out").exists()


def test_empty_csv_tables_give_no_rows_and_a_warning(spark, tmp_path):
    """A CSV table with a header and no row gives its type no nodes or edges (it crashed in
    numbering them); report.json and the summary warn about each such table. A file without
    even a header gives the table no columns: that is the error, not each missing column."""
    data = tmp_path / "data"
    graph = _one_type_graph(data, "n", "e", "id,x\n", "s,d\n", [
        {"feature_col": "x", "transform": {"name": "max_min_norm"}},
        {"feature_col": "x", "feature_name": "xc", "transform": {"name": "to_categorical"}}])
    m = process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "o"),
                                             add_reverse_edges=True))
    assert m.node_types["n"].count == 0
    assert {k: v.count for k, v in m.edge_types.items()} == {"n__e__n": 0, "n__e-rev__n": 0}
    assert read_parquet(tmp_path / "o" / "nodes" / "n").num_rows == 0
    warnings = json.loads((tmp_path / "o" / "report.json").read_text())["warnings"]
    assert [w.split(" ")[0] for w in warnings if w.endswith("its files have no rows")] == \
        ["nodes[0]", "edges[0]"]
    (data / "n.csv").write_text("")
    with pytest.raises(ConfigError, match=r"1 problem\(s\) in the config or the input tables:"
                                          r"\n  - nodes\[0\]: .*n.csv is empty, so the table "
                                          r"has no columns \(a CSV table's header"):
        process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "p")))


@pytest.mark.parametrize("task,rows", [("classification", "a,\nb,\n"),
                                       ("regression", "a,\nb,\n"),
                                       ("classification", "")])
def test_a_label_without_any_value_says_why(spark, tmp_path, task, rows):
    """A label column with no value at all (every row's is missing, or the table is only a
    header) is an error that names the column and says what can cause it."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "n.csv").write_text("id,y\n" + rows)
    (data / "e.csv").write_text("s,d\n")
    graph = parse_graph_config(json.dumps({
        "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": "n.csv",
                   "node_id_col": "id", "labels": [{"label_col": "y", "task_type": task}]}],
        "edges": [{"relation": ["n", "e", "n"], "format": {"name": "csv"}, "files": "e.csv",
                   "source_id_col": "s", "dest_id_col": "d"}]}), "g.json")
    with pytest.raises(InputError, match=r"nodes\[0\].labels\[0\]: label column 'y' has no values "
                                         r"\(every row's label is missing, or the table has no "
                                         r"rows\)"):
        process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "o")))


def test_a_csv_column_named_twice_is_named_in_the_error(spark, tmp_path):
    """Spark reads a header's repeated name as name + position (x1, x2): the error says so
    instead of only that 'x' is missing."""
    data = tmp_path / "data"
    graph = _one_type_graph(data, "n", "e", "id,x,X\na,1,2\n", "s,d\na,a\n",
                            {"feature_col": "x", "transform": {"name": "max_min_norm"}})
    with pytest.raises(ConfigError, match=r"column 'x' \(input of feature 'x'\) is not in .*; "
                                          r"its columns are: id, x1, X2 \(the header names it 2 "
                                          r"times, and Spark reads those columns as x1, X2: "):
        process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "o")))


def test_csv_missing_values_are_missing_in_every_column(spark, tmp_path):
    """Values a CSV writes for "missing" (R's NA, a database's null) are errors in a numeric
    column unless the table lists them; listed, they are missing wherever they are: the
    numbers are imputed, the category is missing, a row with such an id is dropped."""
    data = tmp_path / "data"
    features = [{"feature_col": "x", "transform": {"name": "max_min_norm"}},
                {"feature_col": "c", "transform": {"name": "to_categorical"}}]
    graph = _one_type_graph(data, "n", "e", "id,x,c\na,1,p\nb,NA,null\nc,3,q\nnull,4,q\n",
                            "s,d\na,b\nb,c\n", features)
    with pytest.raises(InputError, match=r"column 'x' has 1 value\(s\) that are not numbers, "
                                         r"e.g. \['NA'\]; fix the data, use a categorical "
                                         r"transform, or \(a CSV table\) list the values that "
                                         r"mean a missing one in its missing_values"):
        process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "o")))
    spec = parse_graph_config(json.dumps({
        "nodes": [{"node_type": "n", "files": "n.csv", "node_id_col": "id", "features": features,
                   "format": {"name": "csv", "missing_values": ["NA", "null"]}}],
        "edges": [{"relation": ["n", "e", "n"], "format": {"name": "csv"}, "files": "e.csv",
                   "source_id_col": "s", "dest_id_col": "d"}]}), "g.json")
    process(spark, spec, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "p")))
    report = json.loads((tmp_path / "p" / "report.json").read_text())["nodes"]["n"]
    assert report["null_ids_dropped"] == 1 and report["nulls"] == {"id": 1, "x": 1, "c": 1}
    x = {r["nid"]: r["x"] for r in read_parquet(tmp_path / "p" / "nodes" / "n").to_pylist()}
    assert x == {0: [0.0], 1: [0.5], 2: [1.0]}  # b's x is the mean of 1 and 3: 2, scaled


def test_ids_held_as_integers_in_one_table_and_text_in_another_are_warned_about(spark,
                                                                                  tmp_path):
    """Parquet node ids as int64, CSV edge ids as text: compared as text, so '03' is not node
    3. That stays so (a dangling id), and a warning names which columns are which."""
    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int64())}), data / "n.parquet")
    (data / "e.csv").write_text("s,d\n1,2\n03,1\n")
    graph = parse_graph_config(json.dumps({
        "nodes": [{"node_type": "n", "format": {"name": "parquet"}, "files": "n.parquet",
                   "node_id_col": "id"}],
        "edges": [{"relation": ["n", "e", "n"], "format": {"name": "csv"}, "files": "e.csv",
                   "source_id_col": "s", "dest_id_col": "d"}]}), "g.json")
    m = process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "o"),
                                             dangling="drop"))
    assert m.edge_types["n__e__n"].count == 1
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["warnings"] == [
        "node type 'n': ids are integers in nodes[0].id and text in edges[0].s, edges[0].d; all "
        "are compared as text, where '03' is not '3' and '3.0' is not '3'"]


def _one_type_graph(data, ntype, etype, nodes_csv, edges_csv, feature):
    """A GConstruct config of one node type with one feature (or a list of them) and one edge
    type on it, and its two CSV files (n.csv: column ``id``; e.csv: ``s``, ``d``) written under
    ``data``."""
    data.mkdir()
    (data / "n.csv").write_text(nodes_csv)
    (data / "e.csv").write_text(edges_csv)
    features = feature if isinstance(feature, list) else [feature]
    return parse_graph_config(json.dumps({
        "nodes": [{"node_type": ntype, "format": {"name": "csv"}, "files": "n.csv",
                   "node_id_col": "id", "features": features}],
        "edges": [{"relation": [ntype, etype, ntype], "format": {"name": "csv"},
                   "files": "e.csv", "source_id_col": "s", "dest_id_col": "d"}]}), "g.json")


def test_homogeneous_graph(spark, tmp_path):
    data = tmp_path / "data"
    spec = _one_type_graph(data, "_N", "_E", "id,x\n1,0.5\n2,1.5\n3,2.5\n", "s,d\n1,2\n2,3\n",
                           {"feature_col": "x"})
    m = process(spark, spec, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "o"),
                                            add_reverse_edges=True))
    assert {k: v.count for k, v in m.node_types.items()} == {"_N": 3}
    assert set(m.edge_types) == {"_N___E___N", "_N___E-rev___N"}


def test_session_settings_set_unless_the_user_has(spark, tmp_path):
    """gm-process hashes categorical lookups (SESSION_DEFAULTS) but keeps a user's own value."""
    from gsprocessing.pipeline import SESSION_DEFAULTS
    data = tmp_path / "data"
    spec = _one_type_graph(data, "n", "e", "id,c\n1,a\n2,b\n", "s,d\n1,2\n",
                           {"feature_col": "c", "transform": {"name": "to_categorical"}})
    (key, value), = SESSION_DEFAULTS.items()
    try:
        spark.conf.unset(key)
        process(spark, spec, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "a")))
        assert spark.conf.get(key) == value
        spark.conf.set(key, "7")
        process(spark, spec, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "b")))
        assert spark.conf.get(key) == "7"
    finally:
        spark.conf.unset(key)


def test_csv_numbers_parsed_once_shared_columns_keep_their_text(spark, tmp_path):
    """A CSV column that only numeric transforms read is copied as numbers (parsed once); one
    that a categorical transform also reads keeps its text for it (" 007 " is the category
    "007", not 7.0). A value that is not a number is an error naming the feature, when
    re-applying too (GraphStorm would fill it as missing)."""
    data = tmp_path / "data"
    spec = _one_type_graph(data, "n", "e", "id,x,y\n1, 007 ,2\n2,1e1,\n3,,4\n", "s,d\n1,2\n", [
        {"feature_col": "x", "feature_name": "xn", "transform": {"name": "max_min_norm"}},
        {"feature_col": "x", "feature_name": "xc", "transform": {"name": "to_categorical"}},
        {"feature_col": "y", "transform": {"name": "max_min_norm"}}])
    out = tmp_path / "o"
    process(spark, spec, ProcessOptions(input_prefix=str(data), output=str(out)))
    rows = rows_of(out, "nodes/n")
    assert [rows[i]["xn"] for i in range(3)] == [[0.0], [1.0], [0.5]]  # 7, 10, the mean 8.5
    assert [rows[i]["y"] for i in range(3)] == [[0.0], [0.5], [1.0]]   # 2, the mean 3, 4
    states = json.loads((out / "transforms.json").read_text())["nodes"]["n"]["features"]
    assert sorted(states["xc"]["states"][0]["categories"]) == ["007", "1e1"]
    (data / "n.csv").write_text("id,x,y\n1,7,2\n2,8,two\n")
    with pytest.raises(InputError, match=r"nodes\[0\]\.features\[2\]: column 'y' has 1 value"
                                         r"\(s\) that are not numbers, e.g. \['two'\]"):
        process(spark, spec, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "r"),
                                            transforms_from=str(out / "transforms.json")))


@pytest.mark.parametrize("values, kept, classes, counts, encoded", [
    # "07" is class 7, counted with "7" (the last count won)
    (["7", "07", "2", None], True, 8, {"2": 1, "7": 2}, [7, 7, 2, -1]),
    # a few large ids are numbered in numeric order: kept, they made 50,000,001 classes
    (["50000000", "1", "1"], False, 2, {"1": 2, "50000000": 1}, [1, 0, 0]),
    # "²" passes str.isdigit but is no integer: a class name (it crashed in int())
    (["²", "1"], False, 2, {"1": 1, "²": 1}, [1, 0]),
    # -1 is a class like the others (numbered first, with a warning: it may mean "unlabeled")
    (["1", "-1", "0", "1"], False, 3, {"-1": 1, "0": 1, "1": 2}, [2, 0, 1, 2]),
    (["+1", "-1"], False, 2, {"+1": 1, "-1": 1}, [1, 0]),
])
def test_integer_classes_kept_as_given_when_sensible(spark, caplog, values, kept, classes,
                                                     counts, encoded):
    df = spark.createDataFrame([(i, v) for i, v in enumerate(values)], "k long, y string")
    spec = LabelSpec(column="y", task="classification", split=(1.0, 0.0, 0.0))
    fit = FitPass()
    plan_label(df, spec, None, fit, "l_", 7, "k", len(values))
    warnings = []
    with caplog.at_level("WARNING", logger="gsprocessing.labels"):
        state = finish_label(df, spec, None, fit.run(df), "l_", warnings)
    assert warnings == [r.getMessage() for r in caplog.records]  # (report.json's warnings)
    renumbered = "they are numbered 0..1 in numeric order, not kept as given (that would " \
                 "make 50000001 classes)"
    assert (renumbered in caplog.text) == ("50000000" in values)
    negative = "label 'y' has negative integer values (-1); they are classes, and the values " \
               f"are numbered 0..{classes - 1} in numeric order (-1 is class 0). If -1 marks a " \
               "row without a label, leave it empty instead"
    assert (negative in caplog.text) == ("-1" in values)
    assert (state.kept_as_given, state.num_classes, state.class_counts) == \
        (kept, classes, counts)
    got = apply_label(df, state, spec, 7, "k", "label").orderBy("k").collect()
    assert [r.label for r in got] == encoded


def test_a_column_name_in_two_blocks_of_a_type_is_two_columns(spark, tmp_path):
    """Two blocks of one node type each have an ``x``: each feature reads its own block's (the
    second is renamed inside), and transforms.json names the column as the config does."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("id,x\n1,0\n2,10\n")
    (data / "b.csv").write_text("id,x\n1,5\n2,3\n")
    (data / "e.csv").write_text("s,d\n1,2\n")
    graph = parse_graph_config(json.dumps({
        "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": f, "node_id_col": "id",
                   "features": [{"feature_col": "x", "feature_name": name,
                                 "transform": {"name": "max_min_norm"}}]}
                  for f, name in (("a.csv", "xa"), ("b.csv", "xb"))],
        "edges": [{"relation": ["n", "e", "n"], "format": {"name": "csv"}, "files": "e.csv",
                   "source_id_col": "s", "dest_id_col": "d"}]}), "g.json")
    process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "o")))
    rows = sorted(read_parquet(tmp_path / "o" / "nodes" / "n").to_pylist(), key=lambda r: r["nid"])
    assert [(r["xa"], r["xb"]) for r in rows] == [([0.0], [1.0]), ([1.0], [0.0])]
    states = json.loads((tmp_path / "o" / "transforms.json").read_text())["nodes"]["n"]
    assert {k: v["columns"] for k, v in states["features"].items()} == {"xa": ["x"], "xb": ["x"]}
    # re-applied to new rows: the states are found by those names, and keep their scales
    (data / "b.csv").write_text("id,x\n1,4\n2,3\n")
    process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "r"),
                                         transforms_from=str(tmp_path / "o" / "transforms.json")))
    rows = sorted(read_parquet(tmp_path / "r" / "nodes" / "n").to_pylist(), key=lambda r: r["nid"])
    assert [r["xb"] for r in rows] == [[0.5], [0.0]]
    # a file written before the names were the config's (the inside name) is read too
    states["features"]["xb"]["columns"] = ["x@nodes[1]"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"nodes": {"n": states}, "edges": json.loads(
        (tmp_path / "o" / "transforms.json").read_text())["edges"]}))
    process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "p"),
                                         transforms_from=str(old)))


def test_label_readings_that_may_surprise_are_in_the_report_and_summary(spark, tmp_path):
    """Negative integer classes (and renumbered integers) were only logged: report.json's
    warnings and the printed summary carry them, in one order however the types ran."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("id,y\n1,-1\n2,0\n3,1\n")
    (data / "b.csv").write_text("id,y\n1,1\n2,50000000\n3,2\n")
    (data / "e.csv").write_text("s,d\n1,2\n")
    label = [{"label_col": "y", "task_type": "classification", "split_pct": [1.0, 0.0, 0.0]}]
    graph = parse_graph_config(json.dumps({
        "nodes": [{"node_type": t, "format": {"name": "csv"}, "files": f"{t}.csv",
                   "node_id_col": "id", "labels": label} for t in ("b", "a")],
        "edges": [{"relation": ["a", "e", "b"], "format": {"name": "csv"}, "files": "e.csv",
                   "source_id_col": "s", "dest_id_col": "d"}]}), "g.json")
    m = process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "o"),
                                             parallel=2))
    warnings = json.loads((tmp_path / "o" / "report.json").read_text())["warnings"]
    assert warnings == [
        "nodes[0].labels[0]: label 'y' has 3 integer classes up to 50000000; they are numbered "
        "0..2 in numeric order, not kept as given (that would make 50000001 classes)",
        "nodes[1].labels[0]: label 'y' has negative integer values (-1); they are classes, and "
        "the values are numbered 0..2 in numeric order (-1 is class 0). If -1 marks a row "
        "without a label, leave it empty instead"]
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    printed = summary(str(tmp_path / "o"), m, report)
    # (types that run at once add them in any order; they are sorted by the place they name)
    assert in_stable_order(["nodes[10]: b", "edges[2]: c", "nodes[2]: a", "nodes[2].x: d"]) == \
        ["edges[2]: c", "nodes[2].x: d", "nodes[2]: a", "nodes[10]: b"]
    assert [line for line in printed if "warning:" in line] == [f"  warning: {w}"
                                                                 for w in warnings]


@pytest.mark.parametrize("rows", [0, 1000, 10**5, 10**9])  # buckets of 1, 4, 11 and 16 bits
def test_random_split_is_the_definition_whatever_the_bucket_bits(spark, rows, monkeypatch):
    """The labelled rows ordered by (xxhash64(seed, key), key): the first round(n * 0.6) are
    train, and so on, whether the hash buckets the pass counts are coarse or fine, and whether
    the rows the cuts fall among were kept by the pass (the table's true size, 1000 rows: both
    cuts) or are collected by a query of their own (no size given: both; a size that puts the
    windows too narrow: the second cut; one that would keep too many rows: both)."""
    df = spark.range(1000).select(F.col("id").alias("k"), F.when(F.col("id") % 10 == 3, None)
                                  .otherwise((F.col("id") % 4).cast("string")).alias("y"))
    spec = LabelSpec(column="y", task="classification", split=(0.6, 0.2, 0.2))
    fit = FitPass()
    plan_label(df, spec, None, fit, "l_", 7, "k", rows)
    result = fit.run(df)
    state = finish_label(df, spec, None, result, "l_")
    counted = split_counts(result, "l_")
    assert counted.bits == {0: 1, 1000: 4, 10**5: 11, 10**9: 16}[rows]
    queried = []
    real = labels_module._bucket_rows
    monkeypatch.setattr(labels_module, "_bucket_rows",
                        lambda *a: queried.append(a[-1]) or real(*a))
    got = apply_label(df, state, spec, 7, "k", "label", counted).select(
        "k", *state.masks).collect()
    assert [len(q) for q in queried] == {0: [1], 1000: [], 10**5: [1], 10**9: [2]}[rows]
    assert bool(counted.near) == (rows in (1000, 10**5))
    order = [r.k for r in df.where(F.col("y").isNotNull()).select(
        "k", F.xxhash64(F.lit(7), F.col("k")).alias("h")).orderBy("h", "k").collect()]
    assert len(order) == 900
    expected = {k: (i < 540, 540 <= i < 720, i >= 720) for i, k in enumerate(order)}
    assert {r.k: tuple(r[m] for m in state.masks) for r in got} == {
        k: expected.get(k, (False, False, False)) for k in range(1000)}
    assert state.split == {"train": 540, "val": 180, "test": 180, "unlabeled": 100}


def test_float_class_labels_with_nan_as_pandas_writes_them(spark, tmp_path):
    """pandas writes an integer label column with missing values as float64 with NaN.
    GraphStorm takes NaN as unlabelled and 2.0 as class 2. Read as text, NaN was a class in
    the masks, and "10.0" sorted before "2.0" as strings."""
    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(pa.table({"id": ["a", "b", "c", "d", "e", "f"],
                             "y": [0.0, 1.0, 2.0, 10.0, float("nan"), None]}),
                   data / "n.parquet")
    pq.write_table(pa.table({"s": ["a"], "d": ["b"]}), data / "e.parquet")
    graph = parse_graph_config(json.dumps({
        "nodes": [{"node_type": "n", "format": {"name": "parquet"}, "files": "n.parquet",
                   "node_id_col": "id", "labels": [{"label_col": "y",
                                                    "task_type": "classification",
                                                    "split_pct": [1.0, 0.0, 0.0]}]}],
        "edges": [{"relation": ["n", "e", "n"], "format": {"name": "parquet"},
                   "files": "e.parquet", "source_id_col": "s", "dest_id_col": "d"}]}), "g.json")
    out = tmp_path / "out"
    m = process(spark, graph, ProcessOptions(input_prefix=str(out.parent / "data"),
                                             output=str(out)))
    label = m.node_types["n"].label
    assert label["kept_as_given"] and label["num_classes"] == 11
    ids, rows = ids_of(out, "n"), rows_of(out, "nodes/n")
    assert [rows[ids[i]]["y"] for i in "abcdef"] == [0, 1, 2, 10, -1, -1]
    assert [rows[ids[i]]["train_mask"] for i in "abcdef"] == [True] * 4 + [False] * 2


def test_label_stats_count_the_training_rows(spark, tmp_path):
    """label_stats_type: frequency_cnt gives the classes' counts among the training rows, as
    GraphStorm's training_label_stats (it only recorded the type; class_counts, of every
    labelled row, were the only counts), for a node label and a multi-label edge label."""
    data = tmp_path / "data"
    data.mkdir()
    ys = ["a", "a", "b", "a", "c", "b", "", "a", "b", "c"]
    (data / "n.csv").write_text("id,y\n" + "".join(f"n{i},{y}\n" for i, y in enumerate(ys)))
    tags = ["x|y", "x", "y", "", "x|z", "z", "x", "y|z"]
    (data / "e.csv").write_text("s,d,t\n" + "".join(f"n{i},n{i + 1},{t}\n"
                                                    for i, t in enumerate(tags)))
    stats = {"label_stats_type": "frequency_cnt", "split_pct": [0.5, 0.5, 0.0]}
    graph = parse_graph_config(json.dumps({
        "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": "n.csv",
                   "node_id_col": "id", "labels": [{"label_col": "y",
                                                    "task_type": "classification", **stats}]}],
        "edges": [{"relation": ["n", "e", "n"], "format": {"name": "csv"}, "files": "e.csv",
                   "source_id_col": "s", "dest_id_col": "d",
                   "labels": [{"label_col": "t", "task_type": "classification",
                               "separator": "|", **stats}]}]}), "g.json")
    out = tmp_path / "out"
    m = process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(out)))
    node_label, edge_label = m.node_types["n"].label, m.edge_types["n__e__n"].labels[0]
    assert node_label["class_counts"] == {"a": 4, "b": 3, "c": 2}
    train = [r["y"] for r in read_parquet(out / "nodes" / "n").to_pylist() if r["train_mask"]]
    assert len(train) == 4 and node_label["train_class_counts"] == {
        c: train.count(i) for i, c in enumerate(node_label["classes"]) if train.count(i)}
    hot = [r["t"] for r in read_parquet(out / "edges" / "n__e__n").to_pylist()
           if r["train_mask"]]
    assert len(hot) == 4 and edge_label["train_class_counts"] == {
        c: n for c, n in ((c, sum(h[i] > 0 for h in hot))
                          for i, c in enumerate(edge_label["classes"])) if n}


def test_json_lines_tables_as_gconstruct_reads_them(spark, tmp_path):
    """GConstruct's "json" format (one object a line) was refused. Now a JSON table has the
    types JSON gives (numbers, strings, arrays), rows in input order across its files (files
    by path, then lines: Spark's JSON reader tells no line number), blank lines and CRLF
    endings are fine, a field a line lacks is missing, and a line that is not an object is an
    error naming its file."""
    data = tmp_path / "data"
    (data / "users").mkdir(parents=True)
    (data / "users" / "b.json").write_text(
        '{"id": "u3", "age": 50, "tags": ["x"], "city": "Oslo"}\n')
    (data / "users" / "a.json").write_text(
        '{"id": "u1", "age": 20, "tags": ["x", "y"], "city": "Rome"}\r\n\r\n'
        '{"id": "u2", "tags": [], "city": "Oslo"}\r\n')
    (data / "e.json").write_text('{"s": "u1", "d": "u2", "w": 1.5}\n{"s": "u3", "d": "u1", '
                                 '"w": 2}\n')
    graph = parse_graph_config(json.dumps({
        "nodes": [{"node_type": "u", "format": {"name": "json"}, "files": "users",
                   "node_id_col": "id", "features": [
                       {"feature_col": "age", "transform": {"name": "max_min_norm"}},
                       {"feature_col": "tags", "transform": {"name": "to_categorical"}},
                       {"feature_col": "city", "transform": {"name": "to_categorical"}}]}],
        "edges": [{"relation": ["u", "e", "u"], "format": {"name": "json"}, "files": "e.json",
                   "source_id_col": "s", "dest_id_col": "d",
                   "features": [{"feature_col": "w"}]}]}), "g.json")
    out = tmp_path / "out"
    m = process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(out)))
    ids = ids_of(out, "u")
    assert sorted(ids, key=ids.get) == ["u1", "u2", "u3"]  # a.json, then b.json
    rows = rows_of(out, "nodes/u")
    assert [rows[ids[u]]["age"] for u in ("u1", "u2", "u3")] == [[0.0], [0.5], [1.0]]
    assert m.node_types["u"].features["tags"].dim == 2
    assert rows[ids["u1"]]["tags"] == [1.0, 1.0] and rows[ids["u2"]]["tags"] == [0.0, 0.0]
    report = json.loads((out / "report.json").read_text())
    assert report["nodes"]["u"]["nulls"] == {"age": 1}
    assert sorted(report["nodes"]["u"]["rows_per_file"].values()) == [1, 2]
    edges = read_parquet(out / "edges" / "u__e__u").to_pylist()
    assert [(e["eid"], e["src"], e["dst"], e["w"]) for e in sorted(edges, key=lambda e: e["eid"])] \
        == [(0, ids["u1"], ids["u2"], [1.5]), (1, ids["u3"], ids["u1"], [2.0])]
    assert m.edge_types["u__e__u"].count == 2
    (data / "e.json").write_text('{"s": "u1", "d": "u2", "w": 1}\n["u3", "u1"]\nnot json\n')
    with pytest.raises(InputError, match=r"edges\[0\]: 2 line\(s\) are not JSON objects, e.g. "
                                         r".*e\.json: '\[\\?\"u3"):
        process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "o")))
    assert not (tmp_path / "o").exists()
    (data / "e.json").write_text("\n")
    with pytest.raises(ConfigError, match=r"edges\[0\]: .*e\.json has no JSON object, so the "
                                          r"table has no columns"):
        process(spark, graph, ProcessOptions(input_prefix=str(data), output=str(tmp_path / "o")))


def test_gconstruct_node_block_without_ids_matches_row_by_row(spark, tmp_path):
    """GConstruct: only one block of a node type names node_id_col; the others hold more
    columns of the same rows, in the same order (its docs; it refuses two blocks with ids).
    Such a block was refused (node_id_col required). Now its rows take the ids of the id
    block's rows in input order, whatever its format; a row count that differs is an error
    naming both blocks, and a type with no block of ids is a config error."""
    data = tmp_path / "data"
    (data / "emb").mkdir(parents=True)
    pq.write_table(pa.table({"id": ["c", "a", "b"], "age": [30, 10, 20]}), data / "u.parquet")
    # rows 0-1: c, a; row 2: b (age: the id block reads a column of that name too)
    (data / "emb" / "0.csv").write_text("e1,e2,y,age\n3,33,x,5\n1,11,y,6\n")
    (data / "emb" / "1.csv").write_text("e1,e2,y,age\n2,22,x,7\n")
    (data / "e.csv").write_text("s,d\na,b\n")

    def graph(second):
        return parse_graph_config(json.dumps({
            "nodes": [second,
                      {"node_type": "u", "format": {"name": "parquet"}, "files": "u.parquet",
                       "node_id_col": "id", "features": [{"feature_col": "age"}]}],
            "edges": [{"relation": ["u", "e", "u"], "format": {"name": "csv"}, "files": "e.csv",
                       "source_id_col": "s", "dest_id_col": "d"}]}), "g.json")

    aligned = {"node_type": "u", "format": {"name": "csv"}, "files": "emb",
               "features": [{"feature_col": ["e1", "e2"], "feature_name": "emb"},
                            {"feature_col": "age", "feature_name": "age_here"}],
               "labels": [{"label_col": "y", "task_type": "classification",
                           "split_pct": [1.0, 0.0, 0.0]}]}
    out = tmp_path / "out"
    m = process(spark, graph(aligned), ProcessOptions(input_prefix=str(data), output=str(out)))
    ids, rows = ids_of(out, "u"), rows_of(out, "nodes/u")
    assert sorted(ids, key=ids.get) == ["c", "a", "b"] and m.node_types["u"].count == 3
    assert {k: (rows[n]["age"], rows[n]["emb"], rows[n]["y"], rows[n]["age_here"])
            for k, n in ids.items()} == {
        "a": ([10.0], [1.0, 11.0], 1, [6.0]), "b": ([20.0], [2.0, 22.0], 0, [7.0]),
        "c": ([30.0], [3.0, 33.0], 0, [5.0])}
    (data / "emb" / "1.csv").write_text("e1,e2,y,age\n2,22,x,7\n4,44,y,8\n")
    with pytest.raises(InputError, match=r"nodes\[0\] \(.*emb/0\.csv.*\): 4 row\(s\), but "
                                         r"nodes\[1\] \(.*u\.parquet\) \(the block with the ids, "
                                         r"column 'id'\) has 3: a block without node_id_col is "
                                         r"matched to the ids row by row"):
        process(spark, graph(aligned), ProcessOptions(input_prefix=str(data),
                                                      output=str(tmp_path / "o2")))
    with pytest.raises(ConfigError, match=r"nodes\[0\]: node type 'v' has no block with its "
                                          r"ids: name the id column \(node_id_col\)"):
        graph({**aligned, "node_type": "v"})
    two = {**aligned, "files": "u.parquet", "format": {"name": "parquet"}, "node_id_col": "id",
           "features": [], "labels": []}
    with pytest.raises(ConfigError, match=r"has no node_id_col, so its rows are matched row by "
                                          r"row .* and there are 2"):
        parse_graph_config(json.dumps({
            "nodes": [two, {**two, "features": [{"feature_col": "age"}]}, aligned],
            "edges": [{"relation": ["u", "e", "u"], "format": {"name": "csv"},
                       "files": "e.csv", "source_id_col": "s", "dest_id_col": "d"}]}), "g.json")


def test_gconstruct_edge_blocks_without_ids_match_row_by_row(spark, tmp_path):
    """GConstruct: an edge type may have several blocks; one names source_id_col and
    dest_id_col, the others hold features and labels of the same edges, in the same order
    (its process_edge_data merges them by position). Such blocks were refused here (ids
    required, one block per edge type). Now their columns join the id block's rows by input
    position, whatever their format; rows whose ids are missing are dropped with their columns;
    a row count that differs is an error naming both blocks; a type without a block of ids, a
    block with one id column, and a label column read by two blocks are config errors. A
    feature input named as another block's column is that block's own (GConstruct reads each
    block from its files; that was refused as a clash)."""
    data = tmp_path / "data"
    (data / "w").mkdir(parents=True)
    (data / "n.csv").write_text("id\na\nb\nc\n")
    (data / "e.csv").write_text("s,d,x\na,b,1\nb,c,2\n,a,3\nc,a,4\n")
    # (x and s: names the id block reads too, here other columns of other files)
    pq.write_table(pa.table({"w": [10.0, 30.0], "y": ["p", "q"], "x": [-1, -2], "s": [7, 8]}),
                   data / "w" / "0.parquet")
    pq.write_table(pa.table({"w": [90.0, 50.0], "y": ["p", "p"], "x": [-3, -4], "s": [9, 6]}),
                   data / "w" / "1.parquet")

    def graph(*blocks):
        return parse_graph_config(json.dumps({
            "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": "n.csv",
                       "node_id_col": "id"}],
            "edges": list(blocks)}), "g.json")

    ids_block = {"relation": ["n", "e", "n"], "format": {"name": "csv"}, "files": "e.csv",
                 "source_id_col": "s", "dest_id_col": "d",
                 "features": [{"feature_col": "x"}]}
    aligned = {"relation": ["n", "e", "n"], "format": {"name": "parquet"}, "files": "w",
               "features": [{"feature_col": "w", "transform": {"name": "max_min_norm"}},
                            {"feature_col": ["x", "s"], "feature_name": "xs"}],
               "labels": [{"label_col": "y", "task_type": "classification",
                           "split_pct": [1.0, 0.0, 0.0]}]}
    out = tmp_path / "out"
    m = process(spark, graph(aligned, ids_block),
                ProcessOptions(input_prefix=str(data), output=str(out)))
    ids = ids_of(out, "n")
    edges = sorted(read_parquet(out / "edges" / "n__e__n").to_pylist(), key=lambda e: e["eid"])
    # (the third row has no source id: dropped, with its w and y: min-max over 10..50)
    assert [(e["src"], e["dst"], e["x"], e["w"], e["y"], e["train_mask"]) for e in edges] == [
        (ids["a"], ids["b"], [1.0], [0.0], 0, True), (ids["b"], ids["c"], [2.0], [0.5], 1, True),
        (ids["c"], ids["a"], [4.0], [1.0], 0, True)]
    # (GConstruct reads each block's columns from its own files: same names, other columns)
    assert [e["xs"] for e in edges] == [[-1.0, 7.0], [-2.0, 8.0], [-4.0, 6.0]]
    info = m.edge_types["n__e__n"]
    assert info.count == 3 and set(info.features) == {"x", "w", "xs"}
    report = json.loads((out / "report.json").read_text())["edges"]["n__e__n"]
    assert report["null_ids_dropped"] == 1 and len(report["rows_per_file"]) == 3
    pq.write_table(pa.table({"w": [30.0], "y": ["p"], "x": [0], "s": [0]}),
                   data / "w" / "1.parquet")
    with pytest.raises(InputError, match=r"edges\[0\] \(.*w/0\.parquet.*\): 3 row\(s\), but "
                                         r"edges\[1\] \(.*e\.csv\) \(the block with the ids, "
                                         r"columns 's' and 'd'\) has 4: a block without "
                                         r"source_id_col and dest_id_col is matched"):
        process(spark, graph(aligned, ids_block),
                ProcessOptions(input_prefix=str(data), output=str(tmp_path / "o2")))
    assert not (tmp_path / "o2").exists()
    with pytest.raises(ConfigError) as err:
        graph({**aligned, "relation": ["n", "f", "n"]}, {**ids_block, "dest_id_col": None},
              {**aligned, "features": [], "labels": [{"label_col": "x",
                                                      "task_type": "regression"}]}, ids_block)
    problems = str(err.value)
    assert "edges[0]: edge type ['n', 'f', 'n'] has no block with its ids: name the id " \
           "columns (source_id_col and dest_id_col)" in problems
    assert "edges[1].dest_id_col: is required" in problems
    assert "edges[2]: label column 'x' is also read by edges[3], another block of edge type " \
           "['n', 'e', 'n']; its blocks are matched row by row; a label's column names its " \
           "output" in problems


def test_gconstruct_json_split_files_of_bare_ids_and_pairs(spark, tmp_path):
    """GConstruct writes and reads a custom split JSON file as one bare JSON value a line: a
    node id (``"n1"`` or ``5``) or an edge's ``[src, dst]``. Spark's JSON reader takes only
    records (objects), so such files failed here. Now both kinds are read, for nodes and
    edges; a line that is not such a value is an error naming its file, and so is a split
    entry whose files mix the two kinds."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "n.csv").write_text("id,y\n1,0\n2,1\n3,0\n4,1\n")
    (data / "e.csv").write_text("s,d,w\n1,2,a\n2,3,b\n3,4,a\n4,1,b\n")
    (data / "nt.json").write_text('1\n"2"\n\n\t \n')  # (blank lines: any whitespace)
    (data / "nv.json").write_text("3\n")
    (data / "et.json").write_text('[1, 2]\n["2", "3"]\n')
    (data / "ev.json").write_text("[3,4]\n")

    def graph(node_valid="nv.json", edge_valid="ev.json"):
        return parse_graph_config(json.dumps({
            "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": "n.csv",
                       "node_id_col": "id", "labels": [{
                           "label_col": "y", "task_type": "classification",
                           "custom_split_filenames": {"train": "nt.json",
                                                      "valid": node_valid}}]}],
            "edges": [{"relation": ["n", "e", "n"], "format": {"name": "csv"}, "files": "e.csv",
                       "source_id_col": "s", "dest_id_col": "d", "labels": [{
                           "label_col": "w", "task_type": "classification",
                           "custom_split_filenames": {"train": "et.json",
                                                      "valid": edge_valid}}]}]}), "g.json")

    out = tmp_path / "out"
    process(spark, graph(), ProcessOptions(input_prefix=str(data), output=str(out)))
    ids, rows = ids_of(out, "n"), rows_of(out, "nodes/n")
    masks = ("train_mask", "val_mask", "test_mask")
    assert [[rows[ids[i]][m] for m in masks] for i in "1234"] == \
        [[True, False, False], [True, False, False], [False, True, False], [False] * 3]
    nid = {v: k for k, v in ids.items()}
    edges = {(nid[r["src"]], nid[r["dst"]]): [r[m] for m in masks]
             for r in read_parquet(out / "edges" / "n__e__n").to_pylist()}
    assert edges == {("1", "2"): [True, False, False], ("2", "3"): [True, False, False],
                     ("3", "4"): [False, True, False], ("4", "1"): [False] * 3}
    report = json.loads((out / "report.json").read_text())
    assert not report["nodes"]["n"]["custom_split_unknown_ids"]
    assert not report["edges"]["n__e__n"]["custom_split_unknown_ids"]
    # Records name their fields: without a `column`, the first two of the first record are
    # (src, dst) in the record's order (Spark's reader sorts them by name: it read (d, s)).
    (data / "ev_rec.json").write_text('{"src": 3, "dst": 4}\n')
    out = tmp_path / "out_rec"
    process(spark, graph(edge_valid="ev_rec.json"),
            ProcessOptions(input_prefix=str(data), output=str(out)))
    edges = {(nid[r["src"]], nid[r["dst"]]): r["val_mask"]
             for r in read_parquet(out / "edges" / "n__e__n").to_pylist()}
    assert [k for k, v in edges.items() if v] == [("3", "4")]
    def refused(message, output, **valid):
        with pytest.raises(InputError, match=message):
            process(spark, graph(**valid),
                    ProcessOptions(input_prefix=str(data), output=str(tmp_path / output)))

    (data / "bad_n.json").write_text('3\n[4, 1]\n')
    refused(r"nodes\[0\].labels\[0\]: 1 row\(s\) of the custom split files have no id in "
            r"column\(s\) id \(the line's value\) \(.*bad_n\.json: 1 row\(s\)\)", "o2",
            node_valid="bad_n.json")
    (data / "bad_e.json").write_text('[3, 4]\n[4]\nnot json\n')
    refused(r"edges\[0\].labels\[0\]: 2 row\(s\) of the custom split files have no id in "
            r"column\(s\) src of a \[src, dst\] line, dst of a \[src, dst\] line "
            r"\(.*bad_e\.json", "o3", edge_valid="bad_e.json")
    (data / "mixed").mkdir()
    (data / "mixed" / "a.json").write_text('{"id": 3}\n')
    (data / "mixed" / "b.json").write_text("4\n")
    refused(r"custom split files .*mixed mix JSON records \(.*a\.json\) and lines of bare ids "
            r"\(.*b\.json\)", "o4", node_valid="mixed")
    assert not any((tmp_path / o).exists() for o in ("o2", "o3", "o4"))


def test_custom_split_files_are_checked_file_by_file(spark, tmp_path):
    """A custom split given as a Parquet directory whose second file names its id column
    otherwise: Spark reads the table with the first file's columns, and that file's ids came
    back missing (counted as one unknown id). Now a problem naming both files, reported with
    the inputs' problems before any job; a CSV directory whose files' headers differ is one
    too, and so is a split path that matches no file. Nothing is written. Rows without an id
    and ragged CSV rows are errors naming their files when the split is applied."""
    data = tmp_path / "data"
    (data / "train").mkdir(parents=True)
    (data / "val").mkdir()
    (data / "n.csv").write_text("id,y\na,1\nb,0\nc,1\nd,0\n")
    (data / "e.csv").write_text("s,d\na,b\nc,d\n")
    pq.write_table(pa.table({"id": ["a"]}), data / "train" / "part-0.parquet")
    pq.write_table(pa.table({"node": ["b"]}), data / "train" / "part-1.parquet")
    (data / "val" / "0.csv").write_text("id\nc\n")
    (data / "val" / "1.csv").write_text("node\nd\n")

    def graph(val):
        return parse_graph_config(json.dumps({
            "nodes": [{"node_type": "n", "format": {"name": "csv"}, "files": "n.csv",
                       "node_id_col": "id", "labels": [{
                           "label_col": "y", "task_type": "classification",
                           "custom_split_filenames": {"train": "train", "valid": val,
                                                      "column": ["id"]}}]}],
            "edges": [{"relation": ["n", "e", "n"], "format": {"name": "csv"}, "files": "e.csv",
                       "source_id_col": "s", "dest_id_col": "d"}]}), "g.json")

    with pytest.raises(ConfigError, match=r"labels\[0\]: column 'id' \(custom split id\) is in "
                                          r".*part-0.parquet but not in .*part-1.parquet(.|\n)*"
                                          r"labels\[0\]: no custom split file matches .*nope"):
        process(spark, graph(["val/0.csv", "nope.csv"]), ProcessOptions(
            input_prefix=str(data), output=str(tmp_path / "out")))
    assert not (tmp_path / "out").exists()
    pq.write_table(pa.table({"id": ["b"]}), data / "train" / "part-1.parquet")
    with pytest.raises(ConfigError, match=r"header of .*val/1\.csv is \['node'\]"):
        process(spark, graph("val"), ProcessOptions(input_prefix=str(data),
                                                    output=str(tmp_path / "out")))
    assert not (tmp_path / "out").exists()
    (data / "val" / "1.csv").write_text("id\nd\n")
    out = tmp_path / "out"
    process(spark, graph("val"), ProcessOptions(input_prefix=str(data), output=str(out)))
    ids, rows = ids_of(out, "n"), rows_of(out, "nodes/n")
    assert [rows[ids[i]]["train_mask"] for i in "abcd"] == [True, True, False, False]
    assert [rows[ids[i]]["val_mask"] for i in "abcd"] == [False, False, True, True]
    # JSON split files are read with every file's fields: a record without the id field is a
    # row without an id (it was counted as one unknown id), named with its file.
    (data / "vj").mkdir()
    (data / "vj" / "0.json").write_text('{"id": "c"}\n')
    (data / "vj" / "1.json").write_text('{"node": "d"}\n{"id": ""}\n')
    with pytest.raises(InputError, match=r"labels\[0\]: 2 row\(s\) of the custom split files have "
                                         r"no id in column\(s\) id \(.*vj/1\.json: 2 row\(s\)\)"):
        process(spark, graph("vj"), ProcessOptions(input_prefix=str(data),
                                                   output=str(tmp_path / "out2")))
    assert not (tmp_path / "out2").exists()
    # A CSV split row with more fields than its file's header kept its first field, silently.
    (data / "vc").mkdir()
    (data / "vc" / "0.csv").write_text("id\nc\nd,a\n")
    with pytest.raises(InputError, match=r"labels\[0\]: 1 row\(s\) of the custom split files do "
                                         r"not have the fields of their file's header "
                                         r"\(.*vc/0\.csv: 1 row\(s\)\); fix the rows"):
        process(spark, graph("vc"), ProcessOptions(input_prefix=str(data),
                                                   output=str(tmp_path / "out3")))
    assert not (tmp_path / "out3").exists()
