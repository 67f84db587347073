"""Claims with leases on real SQLite files and PostgreSQL databases: one winner per run, expiry, renewal,
release, migration."""

import os
import socket
import threading
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import JSON, DateTime, column, create_engine, inspect, table
from test_store import DOCUMENT, make_run

from jupyter_workflow.model.spec import content_hash
from jupyter_workflow.store import ClaimRecord, RunNotFound, RunStore
from jupyter_workflow.store.schema import HEAD_REVISION, alembic_config

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
LEASE_S = 30
RUN = "1" * 32


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


@pytest.fixture
def stores(store_url, tmp_path):
    """Two stores on one database, as two workers would have them, and one run begun."""
    first, second = RunStore(store_url), RunStore(store_url)
    first.begin(make_run(tmp_path, RUN))
    yield first, second
    first.close()
    second.close()



def test_two_stores_on_one_database_claiming_one_run_at_once_have_one_winner(stores, tmp_path):
    first, second = stores
    run_ids = [f"{index:032x}" for index in range(20)]
    for run_id in run_ids:
        first.begin(make_run(tmp_path, run_id))
    results = {first: [], second: []}
    start = threading.Barrier(2)

    def compete(store, worker):
        for run_id in run_ids:
            start.wait()
            results[store].append(store.claim(run_id, worker, LEASE_S, at=T0))

    threads = [threading.Thread(target=compete, args=(store, worker))
               for store, worker in ((first, "worker-1"), (second, "worker-2"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for run_id, mine, theirs in zip(run_ids, results[first], results[second]):
        winners = [claim for claim in (mine, theirs) if claim is not None]
        assert len(winners) == 1, run_id
        [winner] = winners
        assert (winner.run_id, winner.claimed_at, winner.lease_expires_at) == (run_id, T0, seconds(LEASE_S))
        assert winner.worker == ("worker-1" if mine is not None else "worker-2")
        # the claim stored is the winner's: only the winner can renew it
        loser = "worker-2" if winner.worker == "worker-1" else "worker-1"
        assert second.renew_claim(run_id, loser, LEASE_S, at=seconds(1)) is None
        assert first.renew_claim(run_id, winner.worker, LEASE_S, at=seconds(1)) is not None


def test_an_expired_claim_taken_over_by_many_workers_at_once_goes_to_one(store_url, stores, tmp_path):
    first, _ = stores
    run_ids = [f"{index:032x}" for index in range(10)]
    for run_id in run_ids:
        first.begin(make_run(tmp_path, run_id))
        first.claim(run_id, "worker-gone", LEASE_S, at=T0)
    workers = [RunStore(store_url) for _ in range(4)]
    takeovers = {run_id: [] for run_id in run_ids}
    start = threading.Barrier(len(workers))

    def take_over(store, worker):
        for run_id in run_ids:
            start.wait()
            takeovers[run_id].append(store.claim(run_id, worker, LEASE_S, at=seconds(LEASE_S + 1)))

    threads = [threading.Thread(target=take_over, args=(store, f"worker-{index}"))
               for index, store in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in workers:
        store.close()

    for run_id, claims in takeovers.items():
        [winner] = [claim for claim in claims if claim is not None]
        assert len(claims) == len(workers)
        assert first.renew_claim(run_id, winner.worker, LEASE_S, at=seconds(LEASE_S + 2)) is not None
        assert first.renew_claim(run_id, "worker-gone", LEASE_S, at=seconds(LEASE_S + 2)) is None
    assert first.expired_claims(at=seconds(LEASE_S + 2)) == []


def test_a_live_claim_holds_and_an_expired_one_is_taken_over(stores):
    first, second = stores
    mine = first.claim(RUN, "worker-1", LEASE_S, at=T0)
    assert mine == ClaimRecord(run_id=RUN, worker="worker-1", host=socket.gethostname(), pid=os.getpid(),
                               claimed_at=T0, lease_expires_at=seconds(LEASE_S))
    assert second.claim(RUN, "worker-2", LEASE_S, at=seconds(LEASE_S - 0.001)) is None
    assert first.claim(RUN, "worker-1", LEASE_S, at=seconds(1)) is None  # the holder renews instead

    theirs = second.claim(RUN, "worker-2", LEASE_S, at=seconds(LEASE_S))  # the lease ends at that instant
    assert (theirs.worker, theirs.claimed_at, theirs.lease_expires_at) == ("worker-2", seconds(LEASE_S),
                                                                          seconds(2 * LEASE_S))
    assert first.renew_claim(RUN, "worker-1", LEASE_S, at=seconds(LEASE_S + 1)) is None  # lost to worker-2
    assert first.release_claim(RUN, "worker-1") is False
    assert first.expired_claims(at=seconds(2 * LEASE_S)) == [theirs]


def test_only_the_holder_renews_and_only_while_its_lease_is_live(stores):
    first, second = stores
    first.claim(RUN, "worker-1", LEASE_S, at=T0)
    assert second.renew_claim(RUN, "worker-2", LEASE_S, at=seconds(10)) is None

    renewed = first.renew_claim(RUN, "worker-1", LEASE_S, at=seconds(20))
    assert (renewed.claimed_at, renewed.lease_expires_at) == (T0, seconds(20 + LEASE_S))
    assert second.claim(RUN, "worker-2", LEASE_S, at=seconds(LEASE_S + 10)) is None  # renewed: still live
    assert second.expired_claims(at=seconds(20 + LEASE_S - 1)) == []

    assert first.renew_claim(RUN, "worker-1", LEASE_S, at=seconds(20 + LEASE_S)) is None  # expired: lost
    assert second.expired_claims(at=seconds(20 + LEASE_S)) == [renewed]


def test_release_frees_the_run_for_another_worker(stores):
    first, second = stores
    first.claim(RUN, "worker-1", LEASE_S, at=T0)
    assert second.release_claim(RUN, "worker-2") is False  # not theirs to release
    assert second.claim(RUN, "worker-2", LEASE_S, at=seconds(1)) is None
    assert first.release_claim(RUN, "worker-1") is True
    assert first.release_claim(RUN, "worker-1") is False
    assert second.claim(RUN, "worker-2", LEASE_S, at=seconds(1)).worker == "worker-2"


def test_expired_claims_longest_expired_first(stores, tmp_path):
    first, _ = stores
    for run_id, lease_s in (("a" * 32, 10), ("b" * 32, 5), ("c" * 32, 60)):
        first.begin(make_run(tmp_path, run_id))
        first.claim(run_id, f"worker-{run_id[0]}", lease_s, at=T0)
    first.claim(RUN, "worker-1", 10, at=T0)

    assert first.expired_claims(at=seconds(4)) == []
    expired = first.expired_claims(at=seconds(10))
    assert [(claim.run_id, claim.lease_expires_at) for claim in expired] == [
        ("b" * 32, seconds(5)), (RUN, seconds(10)), ("a" * 32, seconds(10))]
    assert expired[0].to_dict() == {
        "run_id": "b" * 32, "worker": "worker-b", "host": socket.gethostname(), "pid": os.getpid(),
        "claimed_at": "2026-03-04T05:06:07+00:00", "lease_expires_at": "2026-03-04T05:06:12+00:00"}
    assert len(first.expired_claims()) == 4  # now: long after


def test_claims_refuse_an_unknown_run_a_naive_time_and_a_lease_of_no_time(stores):
    first, _ = stores
    with pytest.raises(RunNotFound, match="no run with id 'ffff'"):
        first.claim("ffff", "worker-1", LEASE_S, at=T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        first.claim(RUN, "worker-1", LEASE_S, at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        first.expired_claims(at=datetime(2026, 1, 1))
    for lease_s in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="positive number of seconds"):
            first.claim(RUN, "worker-1", lease_s, at=T0)
        with pytest.raises(ValueError, match="positive number of seconds"):
            first.renew_claim(RUN, "worker-1", lease_s, at=T0)
    assert first.expired_claims() == []


def test_a_store_at_the_first_revision_gains_the_claims_table_on_open(store_url, tmp_path):
    command.upgrade(alembic_config(store_url), "0001")
    engine = create_engine(store_url)
    # a run stored by a version of the store before claims, written as that version's tables were
    versions = table("workflow_versions", column("id"), column("content_hash"), column("name"),
                     column("spec", JSON), column("created_at", DateTime(timezone=True)))
    runs = table("runs", *map(column, ("id", "version_id", "workflow_name", "status", "trigger", "run_dir")),
                 column("inputs", JSON), column("outputs", JSON), column("created_at", DateTime(timezone=True)))
    with engine.begin() as connection:
        assert "claims" not in inspect(connection).get_table_names()
        connection.execute(versions.insert().values(id=1, content_hash=content_hash(DOCUMENT), name="demo",
                                                    spec=DOCUMENT, created_at=T0))
        connection.execute(runs.insert().values(id=RUN, version_id=1, workflow_name="demo", status="pending",
                                                inputs={}, outputs={}, trigger="cli", created_at=T0,
                                                run_dir="runs/old"))
    engine.dispose()

    store = RunStore(store_url)
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD_REVISION
            assert "claims" in inspect(connection).get_table_names()
        assert store.get_run(RUN).status == "pending"
        assert store.claim(RUN, "worker-1", LEASE_S, at=T0).run_id == RUN
    finally:
        store.close()
