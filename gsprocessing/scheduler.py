"""Independent pieces of work (node types, edge types, input tables) run at once from driver threads.

On small and medium graphs most of a Spark job's time is per-job overhead (planning, scheduling,
single-task stages), not data: building independent types concurrently keeps the cores busy
while the driver plans the next job. Outputs do not depend on the interleaving (each task's
result is a function of its inputs alone), and neither do errors: :meth:`TaskGroup.wait` raises
the error of the first task, in submission order, that failed. A failure cancels only the tasks
submitted after it (and their Spark jobs), so every earlier task runs to its end and the error
reported is the one a sequential run would have met first.

A task may wait for the result of a task submitted before it (an edge type waits for the id maps
of its endpoint types): the pool takes tasks in submission order, so an awaited task is always
running or done, never queued behind its waiter.
"""

from __future__ import annotations

import itertools
import logging
import threading
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Any, Callable, List, Optional, Tuple

log = logging.getLogger(__name__)
_groups = itertools.count()


class Skipped(Exception):
    """A task that did not run (or stopped) because an earlier task failed."""


class TaskGroup:
    """A pool of ``workers`` driver threads running named tasks; see the module docstring."""

    def __init__(self, spark, workers: int):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self._sc = spark.sparkContext
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gm-task")
        self._tasks: List[Tuple[str, Future]] = []
        self._stop_after: Optional[int] = None
        self._lock = threading.Lock()
        self._prefix = f"graphmill-{next(_groups)}"

    def submit(self, name: str, fn: Callable[..., Any], *args: Any) -> Future:
        """Run ``fn(*args)`` on a pool thread; ``name`` tags its Spark jobs and log lines."""
        index = len(self._tasks)
        future = self._pool.submit(self._run, index, name, fn, args)
        self._tasks.append((name, future))
        return future

    def _run(self, index: int, name: str, fn: Callable[..., Any], args: tuple) -> Any:
        if self._stopped(index):
            raise Skipped(name)
        self._sc.setJobGroup(f"{self._prefix}-{index}", name, interruptOnCancel=True)
        try:
            return fn(*args)
        except BaseException as err:
            if not isinstance(err, Skipped) and not self._stopped(index):
                self._fail(index)
            raise
        finally:
            self._sc.setLocalProperty("spark.jobGroup.id", None)
            self._sc.setLocalProperty("spark.job.description", None)

    def _stopped(self, index: int) -> bool:
        with self._lock:
            return self._stop_after is not None and index > self._stop_after

    def _fail(self, index: int) -> None:
        """Task ``index`` failed: cancel every task after it (queued, waiting or running)."""
        with self._lock:
            if self._stop_after is not None and self._stop_after <= index:
                return
            self._stop_after = index
            later = list(enumerate(self._tasks))[index + 1:]
        for j, (_, future) in later:
            if not future.cancel():
                self._sc.cancelJobGroup(f"{self._prefix}-{j}")

    def wait(self) -> List[Any]:
        """Every task's result, in submission order; or raise the first task's error in that
        order (the others' cancellations are not errors of their own)."""
        results: List[Any] = []
        first: Optional[BaseException] = None
        try:
            for i, (_, future) in enumerate(self._tasks):
                try:
                    results.append(future.result())
                except (Skipped, CancelledError):
                    results.append(None)
                except BaseException as err:  # noqa: B902 - re-raised below, in order
                    results.append(None)
                    if first is None and not self._stopped(i):
                        first = err
        except BaseException:  # e.g. Ctrl-C while waiting: stop everything
            self._fail(-1)
            self._sc.cancelAllJobs()
            raise
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if first is not None:
            raise first
        return results


def after(future: Future) -> Any:
    """The result of a task this one depends on; if that task failed, this one is skipped."""
    try:
        return future.result()
    except BaseException as err:
        raise Skipped(f"a task it depends on did not finish ({type(err).__name__})") from err


def run_all(spark, workers: int, named: List[Tuple[str, Callable[[], Any]]]) -> List[Any]:
    """Run independent no-argument callables; results (or the first error) in list order."""
    group = TaskGroup(spark, workers)
    for name, fn in named:
        group.submit(name, fn)
    return group.wait()
