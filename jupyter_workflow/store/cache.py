"""The result cache: earlier node runs whose results a cacheable node may reuse.

A node run stores the key of its notebook, kernel and parameters (``node_runs.cache_key``,
made by :func:`jupyter_workflow.engine.cache.cache_key`); the store is the engine's
:class:`~jupyter_workflow.engine.state.ResultCache`, which finds for a key the latest
node run that executed with it and succeeded.
"""

from sqlalchemy import select

from jupyter_workflow.events import NodeStatus
from jupyter_workflow.runtime.artifacts import iter_refs
from jupyter_workflow.store.database import Database, on_current_file
from jupyter_workflow.store.models import NodeRun
from jupyter_workflow.store.records import NodeRunRecord


class CacheLookup(Database):
    """The part of the run store that looks up cached node results."""

    @on_current_file
    def find_cached(self, cache_keys: list[str]) -> dict[str, NodeRunRecord]:
        """For each key that has one, the latest succeeded node run whose artifacts still exist.

        One query for all the keys: the engine asks for the nodes that became ready together.
        Only runs that executed the node count: a ``cached`` node run repeats one of them.
        """
        table = NodeRun.__table__
        found: dict[str, NodeRunRecord] = {}
        with self._reader.connect() as connection:
            for start in range(0, len(cache_keys), 500):  # a bounded IN list
                rows = connection.execute(
                    select(table)
                    .where(table.c.cache_key.in_(cache_keys[start : start + 500]))
                    .where(table.c.status == NodeStatus.SUCCEEDED)  # "cached" rows repeat the run they reused
                    .order_by(table.c.finished_at.desc())
                ).all()
                for row in rows:
                    if row.cache_key in found:
                        continue
                    record = NodeRunRecord.from_row(row)
                    if all(ref.path.exists() for ref in iter_refs(record.outputs)):
                        found[row.cache_key] = record
        return found
