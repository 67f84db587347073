"""Workflow versions: each exact workflow document stored once, by the hash of its content.

Every run points at the version it executed (:func:`version_row` stores it as the run
begins); the server saves the documents it writes to files, with an audit log entry, in
one transaction (:meth:`Versions.saving`).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from jupyter_workflow.events import now
from jupyter_workflow.model.spec import content_hash as document_hash
from jupyter_workflow.store.audit import audit_values
from jupyter_workflow.store.database import Database, on_current_file
from jupyter_workflow.store.errors import StoreUnavailable, VersionNotFound
from jupyter_workflow.store.models import AuditEntry, WorkflowVersion
from jupyter_workflow.store.records import AuditNote, VersionRecord


def version_row(session: Session, document: dict, name: str, user: str | None, created_at: datetime) -> WorkflowVersion:
    """The version row of ``document``, inserted unless the store has it."""
    content_hash = document_hash(document)
    query = select(WorkflowVersion).where(WorkflowVersion.content_hash == content_hash)
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = WorkflowVersion(
                content_hash=content_hash, name=name, spec=document, created_at=created_at, created_by=user
            )
            session.add(row)
    except IntegrityError:  # another process stored it meanwhile: use theirs
        row = session.scalar(query)
    return row


class Versions(Database):
    """The part of the run store that keeps workflow versions."""

    @on_current_file
    def get_version(self, content_hash: str) -> VersionRecord:
        """The stored workflow document with this content hash; :class:`VersionNotFound` if none."""
        with self._session() as session:
            row = session.scalar(select(WorkflowVersion).where(WorkflowVersion.content_hash == content_hash))
            if row is None:
                raise VersionNotFound(f"no workflow version with content hash {content_hash!r}")
            return VersionRecord.from_row(row)

    @on_current_file
    def save_version(self, document: dict, name: str, user: str | None) -> VersionRecord:
        """Store a workflow document once per content and return its version.

        The content hash is that of ``Workflow.content_hash`` (SHA-256 of the canonical
        JSON). A document stored before keeps its first name, time and author.
        """
        with self._session.begin() as session:
            return VersionRecord.from_row(version_row(session, document, name, user, now()))

    @contextmanager
    def saving(self, document: dict, name: str, note: AuditNote) -> Iterator[VersionRecord]:
        """Store a workflow document (as :meth:`save_version`) and ``note`` together, on leaving the block.

        For a change that must be recorded or not happen at all, such as writing a file from
        the document: make it inside the ``with`` block. An exception in the block stores
        nothing; a commit that fails raises :class:`StoreUnavailable` as the block ends, so
        the caller can undo the change.
        """
        with self._using_current_file():
            try:
                with self._session.begin() as session:
                    version = VersionRecord.from_row(version_row(session, document, name, note.user, now()))
                    session.execute(insert(AuditEntry).values(**audit_values(note)))
                    yield version
            except SQLAlchemyError as error:
                reason = getattr(error, "orig", None) or error
                raise StoreUnavailable(f"the run store could not record {note.action}: {reason}") from error

    @on_current_file
    def list_versions(self, name: str | None = None, limit: int = 100) -> list[VersionRecord]:
        """The stored workflow versions, newest first, optionally of one workflow name."""
        query = select(WorkflowVersion)
        if name is not None:
            query = query.where(WorkflowVersion.name == name)
        query = query.order_by(WorkflowVersion.created_at.desc(), WorkflowVersion.id.desc()).limit(max(limit, 0))
        with self._session() as session:
            return [VersionRecord.from_row(row) for row in session.scalars(query)]
