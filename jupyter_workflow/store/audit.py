"""The audit log: who did what to which run, file or version, and when.

Entries are appended by :meth:`AuditLog.audit`, or written together with the change they
tell of from an :class:`~jupyter_workflow.store.records.AuditNote` (:func:`audit_values`
gives the row), so that a change and its entry are stored both or neither.
"""

from sqlalchemy import insert, select

from jupyter_workflow.events import now
from jupyter_workflow.store.database import Database, on_current_file
from jupyter_workflow.store.models import AuditEntry
from jupyter_workflow.store.records import AuditNote, AuditRecord

AUDIT_TARGET_LENGTH = 255


def audit_values(note: AuditNote) -> dict:
    """The audit log row of ``note``; a target longer than the column is cut, and kept whole in the details."""
    target, details = note.target, dict(note.details)
    if target is not None and len(target) > AUDIT_TARGET_LENGTH:
        details.setdefault("target", target)
        target = target[:AUDIT_TARGET_LENGTH]
    return {"time": now(), "user": note.user, "action": note.action, "target": target, "details": details}


class AuditLog(Database):
    """The part of the run store that writes and reads the audit log."""

    @on_current_file
    def audit(self, user: str | None, action: str, target: str | None, details: dict | None = None) -> None:
        """Append to the audit log that ``user`` did ``action`` (e.g. ``run.cancel``) to ``target``.

        ``details`` must be JSON-serialisable. A target longer than 255 characters is
        stored cut, and whole in ``details["target"]``.
        """
        with self._session.begin() as session:
            session.execute(insert(AuditEntry).values(**audit_values(AuditNote(user, action, target, details or {}))))

    @on_current_file
    def audit_log(self, limit: int = 100, action: str | None = None, target: str | None = None) -> list[AuditRecord]:
        """The latest audit log entries first, optionally of one action and one target."""
        query = select(AuditEntry)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        if target is not None:
            query = query.where(AuditEntry.target == target)
        query = query.order_by(AuditEntry.time.desc(), AuditEntry.id.desc()).limit(max(limit, 0))
        with self._session() as session:
            return [AuditRecord.from_row(row) for row in session.scalars(query)]
