"""The task group that builds independent types at once: results in order, errors as a
sequential run would meet them, later tasks cancelled. (No Spark: a stand-in context.)"""

import threading
import time

import pytest

from gsprocessing.scheduler import Skipped, TaskGroup, after, run_all


class FakeContext:
    def __init__(self):
        self.cancelled = []
        self.local = threading.local()

    def setJobGroup(self, group, description, interruptOnCancel=False):
        self.local.group = group

    def setLocalProperty(self, key, value):
        pass

    def cancelJobGroup(self, group):
        self.cancelled.append(group)

    def cancelAllJobs(self):
        self.cancelled.append("*")


class FakeSpark:
    def __init__(self):
        self.sparkContext = FakeContext()


def test_results_come_in_submission_order():
    spark = FakeSpark()

    def slow(x, delay):
        time.sleep(delay)
        return x

    assert run_all(spark, 3, [(str(i), lambda i=i: slow(i, 0.05 * (3 - i))) for i in range(4)]) \
        == [0, 1, 2, 3]


def test_the_first_failure_in_order_wins_even_when_a_later_one_fails_first():
    group = TaskGroup(FakeSpark(), 4)

    def fail(message, delay):
        time.sleep(delay)
        raise ValueError(message)

    group.submit("a", lambda: "ok")
    group.submit("b", fail, "b failed", 0.3)   # earlier in order, fails later
    group.submit("c", fail, "c failed", 0.0)
    with pytest.raises(ValueError, match="b failed"):
        group.wait()


def test_a_failure_cancels_later_tasks_and_their_spark_jobs():
    spark = FakeSpark()
    group = TaskGroup(spark, 2)
    started = []
    release = threading.Event()

    def blocker():
        started.append("blocker")
        release.wait(5)
        return "blocked"

    def fail():
        time.sleep(0.1)
        release.set()
        raise RuntimeError("boom")

    def never():
        started.append("never")

    group.submit("fail", fail)
    group.submit("blocker", blocker)
    group.submit("queued", never)
    with pytest.raises(RuntimeError, match="boom"):
        group.wait()
    assert "never" not in started
    assert any(g.endswith("-1") for g in spark.sparkContext.cancelled)


def test_a_task_waiting_for_a_failed_one_is_skipped_not_reported():
    group = TaskGroup(FakeSpark(), 2)

    def ids():
        raise KeyError("ids failed")

    first = group.submit("ids", ids)
    group.submit("edges", lambda: after(first))
    with pytest.raises(KeyError, match="ids failed"):
        group.wait()


def test_after_turns_a_dependency_failure_into_skipped():
    group = TaskGroup(FakeSpark(), 1)
    failed = group.submit("x", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        group.wait()
    with pytest.raises(Skipped):
        after(failed)


def test_one_worker_runs_tasks_one_after_another():
    running, peak = [0], [0]
    lock = threading.Lock()

    def task():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    run_all(FakeSpark(), 1, [(str(i), task) for i in range(5)])
    assert peak[0] == 1
    with pytest.raises(ValueError):
        TaskGroup(FakeSpark(), 0)
