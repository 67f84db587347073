"""The run store: every run, node run and event of the engine, kept in a database.

:class:`RunStore` is the engine's :class:`~jupyter_workflow.engine.state.RunListener`
that persists runs, and answers the queries of the CLI, the server and the widgets with
plain records (:mod:`~jupyter_workflow.store.records`). It is made of one part per
concern, each in its own module over the shared :class:`~jupyter_workflow.store.database.Database`:

- :mod:`~jupyter_workflow.store.runs`: runs, node runs and their event log;
- :mod:`~jupyter_workflow.store.recovery`: runs whose process ended, marked interrupted;
- :mod:`~jupyter_workflow.store.cache`: earlier node results a node may reuse;
- :mod:`~jupyter_workflow.store.versions`: the workflow documents, once per content;
- :mod:`~jupyter_workflow.store.audit`: who did what, and when;
- :mod:`~jupyter_workflow.store.claims`: runs held by workers under leases;
- :mod:`~jupyter_workflow.store.queue`: queued runs claimed by workers, runs of lost leases interrupted;
- :mod:`~jupyter_workflow.store.heartbeats`: schedulers and workers saying they are alive;
- :mod:`~jupyter_workflow.store.notifications`: what the notifications of a schedule's fires gave;
- :mod:`~jupyter_workflow.store.schedules`: schedules, and their fires claimed once each.

Any SQLAlchemy URL works; SQLite files run in WAL mode so that several processes can
share one. The errors it raises are in :mod:`~jupyter_workflow.store.errors`.
"""

from jupyter_workflow.store.audit import AuditLog
from jupyter_workflow.store.cache import CacheLookup
from jupyter_workflow.store.claims import Claims
from jupyter_workflow.store.heartbeats import Heartbeats
from jupyter_workflow.store.notifications import Notifications
from jupyter_workflow.store.queue import Queue
from jupyter_workflow.store.recovery import Recovery
from jupyter_workflow.store.runs import Runs
from jupyter_workflow.store.schedules import Schedules
from jupyter_workflow.store.versions import Versions


class RunStore(Runs, Queue, Recovery, CacheLookup, Versions, AuditLog, Claims, Heartbeats, Notifications, Schedules):
    """Runs, node runs, events, workflow versions, the audit log, the queue, claims, heartbeats, notifications and
    schedules in the database at ``db_url``.

    Opening it creates the SQLite folder if needed and migrates the schema to the
    latest version. It is the engine's ``RunListener``: ``begin`` stores a new run,
    ``record`` each of its events. Every method opens its own session, so a store may be
    called from any thread (for instance through ``asyncio.to_thread``).
    """
