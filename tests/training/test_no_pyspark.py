"""DESIGN.md: training never imports pyspark."""

import subprocess
import sys

from tests.conftest import env_with_repo


def test_training_does_not_import_pyspark():
    code = ("import sys, training.__main__, training.inference, partition.reader; "
            "bad = [m for m in sys.modules if m.split('.')[0] == 'pyspark']; "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], env=env_with_repo(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
