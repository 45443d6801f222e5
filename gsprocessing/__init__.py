"""gsprocessing: the PySpark job that turns input tables into the processed/ graph.

Run ``python -m gsprocessing --help`` (or ``gm-process``). The stage's output format is owned by
:mod:`gsprocessing.output`.
"""
