"""The picture pool: results in order, refusals kept, a few items in flight, small batches done
here, other work in worker processes, a worker that dies costs no file, and no worker outlives
the process that made it."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.engine.datasets import pool
from studio.engine.datasets.pool import map_ordered


def square_and_pid(value: int) -> tuple[int, int]:
    if value < 0:
        raise ValueError(f"negative: {value}")
    return value * value, os.getpid()


def dies_on_seven(task: tuple[int, int]) -> tuple[int, int]:
    value, parent = task
    if value == 7 and os.getpid() != parent:
        os._exit(3)  # a worker killed mid-file (out of memory, a crashing decoder)
    return square_and_pid(value)


def test_results_keep_their_order_and_refusals_their_reason() -> None:
    items = [3, -1, 5, 4, 2, 6]
    got = list(map_ordered(items, lambda v: v, square_and_pid, workers=2))
    assert [item for item, _ in got] == items
    assert isinstance(got[1][1], ValueError) and str(got[1][1]) == "negative: -1"
    assert [out[0] for _, out in got if isinstance(out, tuple)] == [9, 25, 16, 4, 36]


def test_items_with_nothing_to_do_pass_through_in_place() -> None:
    got = list(map_ordered([1, 2, 3, 4], lambda v: v if v % 2 else None, square_and_pid, workers=2))
    assert [(item, None if out is None else out[0]) for item, out in got] == [  # type: ignore[index]
        (1, 1), (2, None), (3, 9), (4, None)]


def test_two_items_run_here_and_more_run_in_worker_processes() -> None:
    small = [out for _, out in map_ordered([1, 2], lambda v: v, square_and_pid, workers=2)]
    large = [out for _, out in map_ordered(range(6), lambda v: v, square_and_pid, workers=2, total=6)]
    assert {pid for _, pid in small} == {os.getpid()}  # type: ignore[misc]
    assert os.getpid() not in {pid for _, pid in large}  # type: ignore[misc]
    one_core = [out for _, out in map_ordered(range(5), lambda v: v, square_and_pid, workers=1)]
    assert {pid for _, pid in one_core} == {os.getpid()}  # type: ignore[misc]


@pytest.mark.parametrize("workers", [1, 2])
def test_only_a_few_items_are_read_ahead(workers: int) -> None:
    taken = 0

    def endless() -> Iterator[int]:
        nonlocal taken
        while True:
            taken += 1
            yield taken

    outcomes = map_ordered(endless(), lambda v: v, square_and_pid, workers=workers)
    assert next(outcomes)[0] == 1
    assert taken == pool.PER_WORKER * workers
    outcomes.close()


def test_a_worker_that_dies_costs_no_file_and_the_next_batch_gets_a_new_pool() -> None:
    items = list(range(10))
    got = dict(map_ordered(items, lambda v: (v, os.getpid()), dies_on_seven, workers=2))
    assert [got[i][0] for i in items] == [i * i for i in items]  # type: ignore[index]
    assert got[7][1] == os.getpid()  # type: ignore[index]  # done here after its worker died
    again = [out for _, out in map_ordered(range(4), lambda v: v, square_and_pid, workers=2)]
    assert [out[0] for out in again] == [0, 1, 4, 9]  # type: ignore[index]


def test_shutdown_stops_the_workers_and_a_later_batch_starts_them_again() -> None:
    list(map_ordered(range(4), lambda v: v, square_and_pid, workers=2))
    pool.shutdown()
    assert pool._Shared.pool is None
    again = [out for _, out in map_ordered(range(4), lambda v: v, square_and_pid, workers=2)]
    assert [out[0] for out in again] == [0, 1, 4, 9]  # type: ignore[index]


def test_workers_end_when_the_process_that_made_them_dies_abruptly(tmp_path: Path) -> None:
    """A killed app or an ``os._exit`` must not leave workers (and their forkserver) behind."""
    script = ("import os, sys\n"
              "from studio.engine.datasets.pool import map_ordered\n"
              "from tests.engine.datasets.test_pool import square_and_pid\n"
              "pids = {out[1] for _, out in map_ordered(range(6), lambda v: v, square_and_pid, workers=2)}\n"
              "print(' '.join(map(str, pids)), flush=True)\n"
              "os._exit(0)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[3], check=True)
    pids = [int(p) for p in done.stdout.split()]
    assert pids and os.getpid() not in pids
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; its parent (the forkserver) reaps it when it ends too


def test_a_forked_child_works_in_process_and_leaves_its_parents_pool_alone() -> None:
    list(map_ordered(range(4), lambda v: v, square_and_pid, workers=2))
    parents = pool._Shared.pool
    child = os.fork()
    if child == 0:  # the child: the forkserver and the workers are its parent's
        code = 1
        try:
            pids = {out[1] for _, out in map_ordered(range(6), lambda v: v, square_and_pid, workers=2)}
            pool.shutdown()
            code = 0 if pids == {os.getpid()} else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert pool._Shared.pool is parents
    again = [out for _, out in map_ordered(range(4), lambda v: v, square_and_pid, workers=2)]
    assert [out[0] for out in again] == [0, 1, 4, 9]  # type: ignore[index]
    assert os.getpid() not in {out[1] for out in again}  # type: ignore[index]
