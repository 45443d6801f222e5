"""training: distributed GNN training and inference on parts/ with PyTorch Geometric.

Launch with ``torchrun --nproc-per-node N -m training --config job.yaml [key=value ...]``.
This package never imports pyspark.
"""
