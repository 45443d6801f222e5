"""Helpers for the ``__main__`` modules: logging set-up and turning user errors into exit code 2."""

from __future__ import annotations

import logging
import sys
from typing import Callable

from graphmill.errors import GraphMillError

EXIT_USER_ERROR = 2


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    # (py4j logs every connection a finished driver thread closes, at INFO)
    logging.getLogger("py4j").setLevel(max(logging.WARNING, logging.getLogger().level))


def run_main(body: Callable[[], int], prog: str) -> int:
    """Run ``body``; a :class:`GraphMillError` prints ``prog: error: ...`` and returns 2."""
    try:
        return body()
    except GraphMillError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
