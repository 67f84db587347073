"""Cache keys: when a node with ``"cache": true`` may reuse an earlier result.

The key covers what the engine knows a node depends on: the notebook's bytes, the
kernel, and the parameter values (artifacts by their content hash, not their path).
Files the notebook reads on its own are not part of it.
"""

import asyncio
import hashlib
from pathlib import Path

from jupyter_workflow.model.paths import read_inside
from jupyter_workflow.model.spec import canonical_json
from jupyter_workflow.runtime.artifacts import encode_refs


def cache_key(root: Path, notebook: Path, kernel: str | None, parameters: dict) -> str:
    """The key of a node of ``notebook`` (read only if it is inside ``root``) with these values."""
    _, data = read_inside(root, notebook)
    digest = hashlib.sha256(hashlib.sha256(data).digest())
    digest.update(b"\0" + (kernel or "").encode("utf-8") + b"\0")
    digest.update(canonical_json(encode_refs(parameters, describe=lambda ref: ref.meta["sha256"])).encode("utf-8"))
    return digest.hexdigest()


class CacheLookups:
    """Ask ``cache`` for earlier results; lookups made in the same moment share one query.

    Nodes that become ready together (a layer of a wide workflow) would otherwise each
    cost a thread hop and a query; here they cost one of each, off the event loop.
    """

    def __init__(self, cache):
        self.cache = cache
        self._pending: dict[str, list[asyncio.Future]] = {}

    async def find(self, key: str):
        loop = asyncio.get_running_loop()
        if not self._pending:
            loop.call_soon(self._send)  # after the other nodes ready now have asked too
        waiter = loop.create_future()
        self._pending.setdefault(key, []).append(waiter)
        return await waiter

    def _send(self) -> None:
        batch, self._pending = self._pending, {}
        lookup = asyncio.ensure_future(asyncio.to_thread(self.cache.find_cached, list(batch)))
        lookup.add_done_callback(lambda done: self._answer(batch, done))

    @staticmethod
    def _answer(batch: dict[str, list[asyncio.Future]], done: asyncio.Future) -> None:
        for key, waiters in batch.items():
            for waiter in waiters:
                if waiter.done():
                    continue
                if done.exception() is not None:
                    waiter.set_exception(done.exception())
                else:
                    waiter.set_result(done.result().get(key))
