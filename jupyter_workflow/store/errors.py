"""The errors the run store raises, by what went wrong rather than where.

- :class:`StoreUnavailable`: the database cannot be opened or written.
- :class:`NotFound`: nothing has the id asked for; :class:`RunNotFound` and
  :class:`VersionNotFound` say what was looked for.
- :class:`AmbiguousRunId`: a run id prefix matches several runs.
- :class:`InvalidCursor`: a page cursor that was not made here.

``NotFound`` and ``AmbiguousRunId`` are ``LookupError``s, ``InvalidCursor`` a
``ValueError``. The server answers ``NotFound`` 404, the two others 400, and
``StoreUnavailable`` 503; the command line exits 2 with their message.
"""


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


class InvalidCursor(ValueError):
    """A page cursor that was not made by the listing it was given to."""

    def __init__(self):
        super().__init__("invalid cursor")
