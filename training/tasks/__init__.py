"""Tasks by name (``task.type``). A task owns its seeds, loader, head, loss and metrics."""

from training.tasks.node_classification import NodeClassification

TASKS = {
    "node_classification": NodeClassification,
}
