"""The journal: run events written to the run store on a thread of their own, in batches."""

import asyncio
import dataclasses
import logging
import queue
import threading
from typing import Callable

from jupyter_workflow.engine.state import RunState
from jupyter_workflow.events import Event, EventType
from jupyter_workflow.store.records import AuditNote
from jupyter_workflow.store.store import RunStore

log = logging.getLogger(__name__)


def _snapshot(run: RunState, node_id: str | None = None, every_node: bool = False) -> RunState:
    """A copy of the run's state as it is now, for a write that happens a moment later.

    Only the node an event is about is copied (copying every node for every event would
    cost the square of the run's size), unless ``every_node``.
    """
    keys = list(run.nodes) if every_node else ([node_id] if node_id is not None else [])
    return dataclasses.replace(run, nodes={key: dataclasses.replace(run.nodes[key]) for key in keys})


class ThreadedJournal:
    """A ``RunListener`` that stores events on one worker thread, in order, off the event loop.

    Events that arrive while a write is under way are stored together in the next
    transaction, so a burst of events costs one commit instead of one each. Once stored,
    each event is passed to ``publish(event_id, event)`` on the event loop that recorded
    it, with the id it got in the event log, so a client that resumes from an id misses
    nothing. Call :meth:`flush` before relying on the store, :meth:`close` at the end.

    The journal keeps the runs in progress: when the store goes on in a new file (its
    file was removed), it stores them there again, so that their later events are kept.
    """

    BATCH = 500

    def __init__(self, store: RunStore, publish: Callable[[int, Event], None] | None = None):
        self.store = store
        self.publish = publish
        self._pending: queue.SimpleQueue = queue.SimpleQueue()
        self._live: dict[str, RunState] = {}  # runs begun and not finished, by id
        self._stored_already: set[str] = set()  # runs whose beginning :meth:`begin_now` stored
        self._lock = threading.Lock()
        self._stop_following = store.when_file_replaced(self._store_live_runs)
        self._thread = threading.Thread(target=self._drain, name="jupyter-workflow-store", daemon=True)
        self._thread.start()

    def begin_now(self, run: RunState, note: AuditNote | None = None) -> None:
        """Store the beginning of ``run`` (and ``note`` in the audit log) before returning.

        Blocking: call it off the event loop, before the run executes; the engine's own
        :meth:`begin` of this run then stores nothing more. Raises what the store raises
        (:class:`~jupyter_workflow.store.StoreUnavailable`...): the run must then not start.
        """
        self.store.begin(run, note)
        self.adopt(run)

    def adopt(self, run: RunState) -> None:
        """Journal ``run``, which the store holds already (stored by :meth:`begin_now`, or queued then claimed).

        The engine's own :meth:`begin` of this run then stores nothing more.
        """
        with self._lock:
            self._live[run.run_id] = run
            self._stored_already.add(run.run_id)

    def begin(self, run: RunState) -> None:
        with self._lock:
            self._live[run.run_id] = run
            if run.run_id in self._stored_already:
                self._stored_already.discard(run.run_id)
                return
        self._pending.put(("begin", _snapshot(run, every_node=True), None))

    def record(self, run: RunState, event: Event) -> None:
        self._pending.put(("record", (_snapshot(run, event.node_id), event), asyncio.get_running_loop()))

    async def flush(self) -> None:
        """Wait until every event recorded so far is stored."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._pending.put(("flush", done, loop))
        await done

    def close(self) -> None:
        self._pending.put(("stop", None, None))
        self._thread.join()
        self._stop_following()

    def _drain(self) -> None:
        while True:
            batch = [self._pending.get()]
            while len(batch) < self.BATCH:
                try:
                    batch.append(self._pending.get_nowait())
                except queue.Empty:
                    break
            if not self._handle(batch):
                return

    def _handle(self, batch: list) -> bool:
        """Carry out a batch in arrival order; False once asked to stop."""
        records = []
        for kind, item, loop in batch:
            if kind == "record":
                records.append((item, loop))
                continue
            self._store(records)
            records = []
            if kind == "begin":
                # ``ensure_run``: the run may be in the store already, if the store went on in a
                # new file and :meth:`_store_live_runs` put it there.
                self._guarded(self.store.ensure_run, item)
            elif kind == "flush":
                loop.call_soon_threadsafe(item.set_result, None)
            else:
                return False
        self._store(records)
        return True

    def _store(self, records: list) -> None:
        if not records:
            return
        ids = self._guarded(self.store.record_many, [entry for entry, _ in records])
        if ids is None:  # the batch failed as a whole: keep what can be kept, one by one
            ids = [self._guarded(self.store.record, *entry) for entry, _ in records]
        with self._lock:
            for (_, event), _ in records:
                if event.type == EventType.RUN_FINISHED:
                    self._live.pop(event.run_id, None)
        if self.publish is None:
            return
        for event_id, ((_, event), loop) in zip(ids, records):
            if event_id is not None:
                loop.call_soon_threadsafe(self.publish, event_id, event)

    def _store_live_runs(self) -> None:
        """Store the runs in progress, as they are now, in a new store file that lacks them."""
        with self._lock:
            runs = [_snapshot(run, every_node=True) for run in self._live.values()]
        for run in runs:
            self._guarded(self.store.ensure_run, run)

    @staticmethod
    def _guarded(write, *args):
        try:
            return write(*args)
        except Exception:  # a failed write must not stop the writes after it
            log.exception("could not store run events")
            return None
