"""Run events for live views: published to subscribers once the journal has stored them."""

import asyncio

from jupyter_workflow.engine.state import Event
from jupyter_workflow.runtime.artifacts import encode_refs


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
