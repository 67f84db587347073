"""Queued runs taken by workers: the oldest first, each by one worker only; lost leases interrupt their runs."""

import os
import socket
import threading
from datetime import datetime, timedelta, timezone

import pytest
from test_store import make_run

from jupyter_workflow.events import EventType, RunStatus
from jupyter_workflow.store import RunStore
from jupyter_workflow.store.models import Run

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
LEASE_S = 2


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


def queue_runs(store, tmp_path, count: int) -> list[str]:
    """``count`` queued runs, created a second apart; their ids, oldest first."""
    ids = [f"{index:032x}" for index in range(1, count + 1)]
    for index, run_id in enumerate(ids):
        assert store.enqueue(make_run(tmp_path, run_id, created_at=seconds(index)))
    return ids


def test_the_oldest_queued_run_is_claimed_and_pending_in_this_process(store, tmp_path):
    first, second = queue_runs(store, tmp_path, 2)
    claimed = store.claim_next_run("w1", LEASE_S, at=seconds(10))
    assert claimed.id == first
    assert (claimed.status, claimed.host, claimed.pid) == ("pending", socket.gethostname(), os.getpid())
    assert [node.node_id for node in claimed.nodes] == ["a"]
    [claim] = store.expired_claims(at=seconds(10 + LEASE_S))
    assert (claim.run_id, claim.worker, claim.claimed_at) == (first, "w1", seconds(10))
    assert store.claim_next_run("w2", LEASE_S, at=seconds(11)).id == second
    assert store.claim_next_run("w1", LEASE_S, at=seconds(12)) is None
    assert store.get_run(second).status == "pending"


def test_workers_claiming_at_once_get_each_run_exactly_once(store_url, store, tmp_path):
    ids = queue_runs(store, tmp_path, 24)
    taken: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def work(name):
        own = RunStore(store_url)  # a store per worker, as in separate processes
        try:
            start.wait()
            taken[name] = []
            while (run := own.claim_next_run(name, LEASE_S)) is not None:
                taken[name].append(run.id)
        finally:
            own.close()

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [run_id for runs in taken.values() for run_id in runs]
    assert sorted(every) == ids
    assert all(store.get_run(run_id).status == "pending" for run_id in ids)


def test_a_lapsed_lease_interrupts_its_run_once(store, tmp_path):
    [run_id] = queue_runs(store, tmp_path, 1)
    store.claim_next_run("w1", LEASE_S, at=seconds(10))
    assert store.renew_claim(run_id, "w1", LEASE_S, at=seconds(11))  # live until 13
    assert store.interrupt_expired(at=seconds(12.9)) == []
    assert store.get_run(run_id).status == "pending"

    assert store.interrupt_expired(at=seconds(13)) == [run_id]
    run = store.get_run(run_id)
    assert run.status == "interrupted"
    assert [node.status for node in run.nodes] == ["cancelled"]
    events = store.events(run_id)
    assert [event.type for event in events] == [EventType.RUN_INTERRUPTED, EventType.RUN_FINISHED]
    assert "w1" in events[0].data["reason"] and "lease" in events[0].data["reason"]
    assert events[1].data["status"] == RunStatus.INTERRUPTED
    assert store.expired_claims(at=seconds(100)) == []
    assert store.interrupt_expired(at=seconds(100)) == []
    assert store.renew_claim(run_id, "w1", LEASE_S, at=seconds(13)) is None  # the worker has lost it


def test_a_run_that_ended_before_its_lease_lapsed_is_left_as_it_is(store, tmp_path):
    [run_id] = queue_runs(store, tmp_path, 1)
    store.claim_next_run("w1", LEASE_S, at=seconds(10))
    with store._session.begin() as session:
        session.get(Run, run_id).status = RunStatus.SUCCEEDED
    assert store.interrupt_expired(at=seconds(20)) == []
    assert store.get_run(run_id).status == "succeeded"
    assert store.expired_claims(at=seconds(20)) == []


def test_a_run_recovery_interrupted_first_is_still_answered_once(store, tmp_path):
    [run_id] = queue_runs(store, tmp_path, 1)
    store.claim_next_run("w1", LEASE_S, at=seconds(10))
    assert store._mark_interrupted(run_id, "its process ended")
    assert store.interrupt_expired(at=seconds(20)) == [run_id]
    assert store.interrupt_expired(at=seconds(30)) == []
    assert [event.type for event in store.events(run_id)] == [EventType.RUN_INTERRUPTED, EventType.RUN_FINISHED]


def test_a_claimed_run_that_cannot_start_fails_with_the_problem(store, tmp_path):
    [run_id] = queue_runs(store, tmp_path, 1)
    store.claim_next_run("w1", LEASE_S)
    error = {"ename": "InvalidWorkflow", "evalue": "a.ipynb: no such notebook", "traceback": "", "node": None}
    assert store.end_claimed(run_id, RunStatus.FAILED, error)
    run = store.get_run(run_id)
    assert (run.status, run.error, [node.status for node in run.nodes]) == ("failed", error, ["cancelled"])
    [finished] = store.events(run_id)
    assert (finished.type, finished.data["error"]) == (EventType.RUN_FINISHED, error)
    assert not store.end_claimed(run_id, RunStatus.FAILED, error)


def test_retries_before_counts_the_chain_of_retries(store, tmp_path):
    first = make_run(tmp_path, "a" * 32)
    retry = make_run(tmp_path, "b" * 32)
    retry.retry_of = first.run_id
    again = make_run(tmp_path, "c" * 32)
    again.retry_of = retry.run_id
    for run in (first, retry, again):
        store.enqueue(run)
    assert [store.retries_before(run.run_id) for run in (first, retry, again)] == [0, 1, 2]
