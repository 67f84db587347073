"""Run events for live views: published to subscribers once the journal has stored them."""

import asyncio


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
