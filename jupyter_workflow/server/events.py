"""Run events for live views: written to the store in order, then published to subscribers."""

import asyncio
import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor

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
        queue = asyncio.Queue()
        self._subscribers[queue] = run_id
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers.pop(queue, None)

    def publish(self, payload: dict) -> None:
        for queue, run_id in list(self._subscribers.items()):
            if run_id is None or run_id == payload["run_id"]:
                queue.put_nowait(payload)


def _snapshot(run: RunState) -> RunState:
    """A copy of the run's state as it is now, for a write that happens a moment later."""
    return dataclasses.replace(run, nodes={key: dataclasses.replace(node) for key, node in run.nodes.items()})


class ThreadedJournal:
    """A ``RunListener`` that stores events on one worker thread, in order, off the event loop.

    Each event is published to the hub once it is stored, with the id it got in the
    event log, so a client that resumes from an id misses nothing.
    """

    def __init__(self, store, hub: EventHub):
        self.store = store
        self.hub = hub
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jupyter-workflow-store")

    def begin(self, run: RunState) -> None:
        self._writer.submit(self._guarded, self.store.begin, _snapshot(run))

    def record(self, run: RunState, event: Event) -> None:
        loop = asyncio.get_running_loop()
        self._writer.submit(self._write, loop, _snapshot(run), event)

    def _write(self, loop, run: RunState, event: Event) -> None:
        event_id = self._guarded(self.store.record, run, event)
        if event_id is not None:
            loop.call_soon_threadsafe(self.hub.publish, event_payload(event_id, event))

    @staticmethod
    def _guarded(write, *args):
        try:
            return write(*args)
        except Exception:  # a failed write must not stop the writes after it
            log.exception("could not store a run event")
            return None

    async def flush(self) -> None:
        """Wait until every event recorded so far is stored."""
        await asyncio.wrap_future(self._writer.submit(lambda: None))

    def close(self) -> None:
        self._writer.shutdown(wait=True)
