"""partition: the PySpark job that splits processed/ into parts/ for distributed training.

The parts/ format is owned by :mod:`partition.reader` (which never imports pyspark, so the
training side can use it); :mod:`partition.writer` writes it.
"""
