"""The typed internal graph config that every config dialect compiles to.

The pipeline only ever sees these classes; a dialect reader (``gconstruct.py``) owns the mapping
from a user's JSON to them, including where each piece came from (``where``) so later errors can
point back into the user's file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

SPLIT_NAMES = ("train", "val", "test")
MASK_COLUMNS = tuple(f"{s}_mask" for s in SPLIT_NAMES)
# Renamed: the blocks of one type are combined (joined on the id, or row by row), so a column
# name must mean one column. A feature input that an earlier block of the type also reads (as
# GConstruct allows: each block reads its own file) is read as ``<column>@<block>`` (e.g.
# ``emb@nodes[1]``): the block's ``renamed`` pairs say which, and the pipeline adds those
# columns to the block's table once it is read.


@dataclass(frozen=True)
class TableSource:
    """Where a node or edge table comes from."""

    files: Tuple[str, ...]
    format: str  # "csv" | "parquet" | "json" (JSON lines) | "hdf5"
    separator: str = ","
    header: bool = True
    encoding: str = "utf-8"
    # CSV values read as missing (besides an empty field), whatever the column: e.g. NA, null
    missing_values: Tuple[str, ...] = ()


@dataclass(frozen=True)
class FeatureSpec:
    """One output feature: ``transform`` applied to ``columns``, concatenated, named ``name``."""

    name: str
    columns: Tuple[str, ...]
    transform: str
    params: Dict[str, Any] = field(default_factory=dict)
    out_dtype: str = "float32"
    where: str = ""
    # the input columns as the config names them, where ``columns`` are renamed inside (two
    # blocks of one type read a column of one name: config.build._disambiguate); () = columns
    source_columns: Tuple[str, ...] = ()

    @property
    def config_columns(self) -> List[str]:
        """The input columns by the config's names (transforms.json and manifest.json)."""
        return list(self.source_columns or self.columns)


TASKS = ("classification", "regression", "link_prediction")


@dataclass(frozen=True)
class CustomSplit:
    """Pre-assigned splits: files listing the ids (nodes) or (src, dst) pairs (edges) of each."""

    train: Tuple[str, ...] = ()
    val: Tuple[str, ...] = ()
    test: Tuple[str, ...] = ()
    columns: Tuple[str, ...] = ()  # id column(s) in those files; () = the first one (two) columns


@dataclass(frozen=True)
class LabelSpec:
    """A label column (none for link prediction) and how its rows are split into train/val/test.

    ``separator`` makes a classification label multi-label; ``masks`` names the three mask
    columns (``mask_field_names``, for several tasks on one type); ``stats`` asks for label
    statistics in the manifest (``"frequency_cnt"``).
    """

    column: str
    task: str  # one of TASKS
    split: Tuple[float, float, float] = (0.8, 0.1, 0.1)
    separator: Optional[str] = None
    custom_split: Optional[CustomSplit] = None
    masks: Tuple[str, str, str] = MASK_COLUMNS  # type: ignore[assignment]
    stats: Optional[str] = None
    where: str = ""


def read_columns(block: Any) -> List[str]:
    """The columns a node or edge block's features and labels read, in order, each once."""
    return list(dict.fromkeys([c for f in block.features for c in f.columns]
                              + [lab.column for lab in block.labels if lab.column]))


def label_name(column: str, task: str, masks: Sequence[str]) -> str:
    """A label's name in report.json and the summary: its column, or (link prediction, which
    has none) its task, with its masks when they are not the default ones (two such labels of
    one edge type differ only there)."""
    if column:
        return column
    return task if tuple(masks) == MASK_COLUMNS else f"{task} [{', '.join(masks)}]"


@dataclass(frozen=True)
class NodeSpec:
    type: str
    source: TableSource
    # None: the block has no ids (GConstruct: one block of a type names node_id_col); its rows
    # are that block's rows, in input order
    id_col: Optional[str]
    features: Tuple[FeatureSpec, ...] = ()
    labels: Tuple[LabelSpec, ...] = ()
    where: str = ""
    # (column as the features read it, column of the table): see ``Renamed``
    renamed: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EdgeSpec:
    src_type: str
    relation: str
    dst_type: str
    source: TableSource
    # None in both: a GConstruct edge block without ids (``GraphSpec.aligned_edges``), whose
    # rows are more columns of the rows of its type's block with the ids, in input order
    src_col: Optional[str]
    dst_col: Optional[str]
    features: Tuple[FeatureSpec, ...] = ()
    labels: Tuple[LabelSpec, ...] = ()
    where: str = ""
    # The relation is read from this column (one block, many relations); ``relation`` is then
    # the column's value for this EdgeSpec once the pipeline has expanded the block.
    relation_col: Optional[str] = None
    # (column as the features read it, column of the table): see ``Renamed``
    renamed: Tuple[Tuple[str, str], ...] = ()

    @property
    def etype(self) -> Tuple[str, str, str]:
        return (self.src_type, self.relation, self.dst_type)

    @property
    def name(self) -> str:
        return etype_name(self.etype)


@dataclass(frozen=True)
class GraphSpec:
    """A whole graph: node blocks, edge blocks, and the dialect they were read from."""

    nodes: Tuple[NodeSpec, ...]
    edges: Tuple[EdgeSpec, ...]
    dialect: str
    warnings: Tuple[str, ...] = ()
    # GConstruct edge blocks without ids: each adds columns (features, labels) to the rows of
    # the block in ``edges`` of its edge type, matched row by row (see ``aligned_with``)
    aligned_edges: Tuple[EdgeSpec, ...] = ()

    @property
    def node_types(self) -> List[str]:
        """Every node type: those with node tables and those that only appear on edges, sorted."""
        types = {n.type for n in self.nodes}
        for e in self.edges:
            types.update((e.src_type, e.dst_type))
        return sorted(types)

    def node_specs(self, ntype: str) -> List[NodeSpec]:
        """The node blocks of a type (several are joined on the id), in config order."""
        return [n for n in self.nodes if n.type == ntype]

    def aligned_with(self, edge: EdgeSpec) -> List[EdgeSpec]:
        """The edge blocks without ids whose rows are ``edge``'s rows, in config order."""
        return [a for a in self.aligned_edges if a.etype == edge.etype]

    def to_dict(self) -> Dict[str, Any]:
        """The spec as JSON-able data (manifest.json's ``config``); features show their input
        columns by the config's names (``source_columns``), not the inside ones."""
        return _config_names(asdict(self))


def _config_names(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(_config_names(v) for v in value)
    if not isinstance(value, dict):
        return value
    value = {k: _config_names(v) for k, v in value.items()}
    if "source_columns" in value and "columns" in value:
        value["columns"] = list(value.pop("source_columns") or value["columns"])
    return value


def etype_name(etype: Tuple[str, str, str]) -> str:
    """``("user", "rated", "movie")`` → ``"user__rated__movie"`` (the name used in paths)."""
    return "__".join(etype)


def parse_etype_name(name: str) -> Tuple[str, str, str]:
    parts = name.split("__")
    if len(parts) != 3:
        raise ValueError(f"not an edge type name 'src__rel__dst': {name!r}")
    return (parts[0], parts[1], parts[2])
