"""Run events for live views: written to the store in order, then published to subscribers."""

import asyncio
import dataclasses
import logging
import queue
import threading

from jupyter_workflow.engine.state import Event, RunState
from jupyter_workflow.runtime.artifacts import encode_refs

log = logging.getLogger(__name__)


def event_payload(event_id: int, event: Event) -> dict:
    """The JSON form of an event as the API and WebSocket clients see it."""
    return {
        "id": event_id,
        "type": event.type,
        "run_id": event.run_id,
        "node_id": event.node_id,
        "data": encode_refs(event.data),
        "time": event.time.isoformat(),
    }


class EventHub:
    """Fan-out of published events to subscribed queues (one per WebSocket)."""

    def __init__(self):
        self._subscribers: dict[asyncio.Queue, str | None] = {}

    def subscribe(self, run_id: str | None = None) -> asyncio.Queue:
        """A queue receiving the events of ``run_id`` (all runs when None)."""
        subscriber = asyncio.Queue()
        self._subscribers[subscriber] = run_id
        return subscriber

    def unsubscribe(self, subscriber: asyncio.Queue) -> None:
        self._subscribers.pop(subscriber, None)

    def publish(self, payload: dict) -> None:
        for subscriber, run_id in list(self._subscribers.items()):
            if run_id is None or run_id == payload["run_id"]:
                subscriber.put_nowait(payload)


def _snapshot(run: RunState) -> RunState:
    """A copy of the run's state as it is now, for a write that happens a moment later."""
    return dataclasses.replace(run, nodes={key: dataclasses.replace(node) for key, node in run.nodes.items()})


class ThreadedJournal:
    """A ``RunListener`` that stores events on one worker thread, in order, off the event loop.

    Events that arrive while a write is under way are stored together in the next
    transaction, so a burst of events costs one commit instead of one each. Each event
    is published to the hub once stored, with the id it got in the event log, so a
    client that resumes from an id misses nothing.
    """

    BATCH = 500

    def __init__(self, store, hub: EventHub):
        self.store = store
        self.hub = hub
        self._pending: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._drain, name="jupyter-workflow-store", daemon=True)
        self._thread.start()

    def begin(self, run: RunState) -> None:
        self._pending.put(("begin", _snapshot(run), None))

    def record(self, run: RunState, event: Event) -> None:
        self._pending.put(("record", (_snapshot(run), event), asyncio.get_running_loop()))

    async def flush(self) -> None:
        """Wait until every event recorded so far is stored."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._pending.put(("flush", done, loop))
        await done

    def close(self) -> None:
        self._pending.put(("stop", None, None))
        self._thread.join()

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
                self._guarded(self.store.begin, item)
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
        for event_id, ((_, event), loop) in zip(ids, records):
            if event_id is not None:
                loop.call_soon_threadsafe(self.hub.publish, event_payload(event_id, event))

    @staticmethod
    def _guarded(write, *args):
        try:
            return write(*args)
        except Exception:  # a failed write must not stop the writes after it
            log.exception("could not store run events")
            return None
