"""The printed summary of gm-process shows every data-quality finding of report.json."""

from gsprocessing import output as out
from gsprocessing.config.schema import MASK_COLUMNS
from gsprocessing.__main__ import summary


def test_summary_lists_findings():
    label = {"column": "y", "task": "classification", "masks": list(MASK_COLUMNS),
             "split": {"train": 3, "val": 1, "test": 1, "unlabeled": 2, "not_listed": 4}}
    # (two link-prediction labels of one edge type: told apart by their masks)
    lp = [{"column": "", "task": "link_prediction", "masks": list(masks),
           "split": {"train": 1, "val": 2, "test": 1, "unlabeled": 0}}
          for masks in (MASK_COLUMNS, ("a", "b", "c"))]
    manifest = out.Manifest(
        node_types={"user": out.NodeTypeInfo(count=5, id_dtype="string",
                                             features={"age": out.FeatureInfo(1, "float32")},
                                             label=label, labels=[label])},
        edge_types={"user__r__user": out.EdgeTypeInfo("user", "r", "user", 4, labels=lp),
                    "user__r-rev__user": out.EdgeTypeInfo("user", "r-rev", "user", 4,
                                                          reverse_of="user__r__user")},
        seed=1, config={}, timings={"total_s": 3.5})
    report = {
        "nodes": {"user": {"rows_read": 8, "rows_per_file": {"a.csv": 5, "b.csv": 3},
                           "nulls": {"age": 2}, "null_ids_dropped": 1,
                           "duplicate_ids": {"ids": 1, "rows_dropped": 2, "examples": ["bob"]},
                           "categories_capped": {"city": 4},
                           "missing_values": {"age": 2, "income": 0},
                           "custom_split_unknown_ids": {"y": 3}}},
        "edges": {"user__r__user": {"rows_read": 6, "dangling": {
            "dst": {"count": 2, "examples": ["x", "y"]}}, "nodes_added": 2,
            "nodes_added_examples": ["p", "q"],
            "hard_negatives_unknown": {"neg": 5}}},
        "warnings": ["nodes[1]: node type 'movies' has no edges"]}
    text = "\n".join(summary("out/", manifest, report))
    for expected in ("gm-process: wrote out/ in 3.5 s",
                     "nodes/user: 5 written of 8 rows read; features age[1]",
                     "a.csv: 5 rows", "missing values: age 2", "rows without an id dropped: 1",
                     "duplicate ids: 1 (2 rows dropped), e.g. ['bob']",
                     "feature city: 4 categories folded into OTHER",
                     "label y: train 3, val 1, test 1, unlabeled 2, labelled but in no split "
                     "file 4",
                     "values imputed: age 2\n",
                     "label y: 3 custom split ids are not in the table (ignored)",
                     "feature neg: 5 hard-negative ids are not nodes (written as -1)",
                     "edges/user__r__user: 4 written of 6 rows read; features -",
                     "dangling dst endpoints dropped: 2, e.g. ['x', 'y']",
                     "label link_prediction: train 1, val 2, test 1",
                     "label link_prediction [a, b, c]: train 1, val 2, test 1",
                     "nodes added from edge endpoints: 2, e.g. ['p', 'q']",
                     "edges/user__r-rev__user: 4, the edges of user__r__user reversed (same "
                     "eids; no features or labels)\n",
                     "warning: nodes[1]: node type 'movies' has no edges"):
        assert expected in text, expected
