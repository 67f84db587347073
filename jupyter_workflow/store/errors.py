"""The errors the run store raises, by what went wrong rather than where.

- :class:`StoreUnavailable`: the database cannot be opened or written.
- :class:`NotFound`: nothing has the id asked for; :class:`RunNotFound` and
  :class:`VersionNotFound` say what was looked for.
- :class:`AmbiguousRunId`: a run id prefix matches several runs.
- :class:`InvalidCursor`: a page cursor that was not made here.
- :class:`ScheduleNotFound`, :class:`AmbiguousScheduleId`: as for runs, for schedules.
- :class:`ScheduleConflict`: a schedule changed since the version an update read.
- :class:`InvalidSchedule`: values a schedule cannot have, each problem at its field.

``NotFound`` and the ambiguous ids are ``LookupError``s, ``InvalidCursor`` and
``InvalidSchedule`` ``ValueError``s. The server answers ``NotFound`` 404, ``ScheduleConflict``
409, the others 400, and ``StoreUnavailable`` 503; the command line exits 2 with their message.
"""

from jupyter_workflow.model.problems import Problem


class StoreUnavailable(RuntimeError):
    """The configured database cannot be opened or written (bad URL, missing driver, no access, read-only)."""


class NotFound(LookupError):
    """Nothing in the store has the id or key asked for."""


class RunNotFound(NotFound):
    """No run has this id or id prefix (or no id was given)."""


class VersionNotFound(NotFound):
    """No stored workflow version has this content hash."""


class AmbiguousRunId(LookupError):
    """A run id prefix that matches several runs."""


class ScheduleNotFound(NotFound):
    """No schedule has this id or id prefix (or no id was given)."""


class AmbiguousScheduleId(LookupError):
    """A schedule id prefix that matches several schedules."""


class ScheduleConflict(RuntimeError):
    """An update named a version of the schedule that is no longer its current one."""


class InvalidSchedule(ValueError):
    """Values a schedule cannot have; ``problems`` holds each, at its field's JSON pointer (``/cron``)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


class InvalidCursor(ValueError):
    """A page cursor that was not made by the listing it was given to."""

    def __init__(self):
        super().__init__("invalid cursor")
