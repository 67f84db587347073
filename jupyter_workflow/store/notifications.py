"""Notifications: what the email and webhook sent after a scheduled run gave, kept on its fire.

:meth:`Notifications.fire_with_schedule` reads the fire a run was made by with its schedule
(what to notify, and of what); :meth:`Notifications.record_notifications` adds the results of
sending to the fire's ``notifications`` list (see :mod:`jupyter_workflow.schedules.notify`).
"""

from jupyter_workflow.store.database import Database, on_current_file
from jupyter_workflow.store.models import Fire, Schedule
from jupyter_workflow.store.records import FireRecord, ScheduleRecord


class Notifications(Database):
    """The part of the run store that keeps what the notifications of each fire gave."""

    @on_current_file
    def fire_with_schedule(self, fire_id: int) -> tuple[FireRecord, ScheduleRecord] | None:
        """The fire ``fire_id`` and its schedule; None when there is no such fire."""
        with self._session() as session:
            fire = session.get(Fire, fire_id)
            if fire is None:
                return None
            return FireRecord.from_row(fire), ScheduleRecord.from_row(session.get(Schedule, fire.schedule_id))

    @on_current_file
    def record_notifications(self, fire_id: int, results: list[dict]) -> bool:
        """Add ``results`` (JSON objects, one per notification sent) to the fire's list; False when no such fire."""
        with self._session.begin() as session:
            fire = session.get(Fire, fire_id, with_for_update=True)
            if fire is None:
                return False
            fire.notifications = [*fire.notifications, *results]
        return True
