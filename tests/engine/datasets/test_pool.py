"""The picture pool: results in order, refusals kept, a few items in flight, small batches done
here, other work in worker processes, and a worker that dies costs no file."""
from __future__ import annotations

import os
from collections.abc import Iterator

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
