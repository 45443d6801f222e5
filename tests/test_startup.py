"""Start-up cost of the command lines: what is imported before Spark starts."""

import subprocess
import sys


def test_gsprocessing_cli_imports_neither_pandas_nor_numpy():
    """pandas and numpy (with pyarrow: about 0.4 s) are imported by the transforms that build an
    Arrow-batched UDF, when they build it (``batched_udf``), not by every run before its Spark
    session starts."""
    code = ("import sys, gsprocessing.__main__; "
            "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
