"""Data side of training: the rank's share of the graph, the exchange between ranks, the
distributed neighbour sampler and feature store that plug into PyG's loaders."""
