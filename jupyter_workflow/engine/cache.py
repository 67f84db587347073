"""Cache keys: when a node with ``"cache": true`` may reuse an earlier result.

The key covers what the engine knows a node depends on: the notebook's bytes, the
kernel, and the parameter values (artifacts by their content hash, not their path).
Files the notebook reads on its own are not part of it.
"""

import asyncio
import functools
import hashlib
import os
from pathlib import Path

from jupyter_workflow.model.spec import canonical_json
from jupyter_workflow.runtime.artifacts import encode_refs


def cache_key(notebook: Path, kernel: str | None, parameters: dict) -> str:
    stat = os.stat(notebook)
    digest = hashlib.sha256(_file_digest(str(notebook), stat.st_mtime_ns, stat.st_size))
    digest.update(b"\0" + (kernel or "").encode("utf-8") + b"\0")
    digest.update(canonical_json(encode_refs(parameters, describe=lambda ref: ref.meta["sha256"])).encode("utf-8"))
    return digest.hexdigest()


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, mtime_ns: int, size: int) -> bytes:
    """The notebook's SHA-256, read again only when the file changes."""
    return hashlib.sha256(Path(path).read_bytes()).digest()


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
