"""The errors the run store raises, by what went wrong rather than where.

- :class:`StoreUnavailable`: the database cannot be opened or written.
- :class:`NotFound`: nothing has the id asked for; :class:`RunNotFound` and
  :class:`VersionNotFound` say what was looked for.
- :class:`AmbiguousRunId`: a run id prefix matches several runs.

``NotFound`` is a ``KeyError`` (and so a ``LookupError``), so that callers catching
``KeyError`` go on working; its text is the message itself, not its ``repr``.
"""


class StoreUnavailable(RuntimeError):
    """The configured database cannot be opened or written (bad URL, missing driver, no access, read-only)."""


class NotFound(KeyError):
    """Nothing in the store has the id or key asked for."""

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class RunNotFound(NotFound):
    """No run has this id or id prefix (or no id was given)."""


class VersionNotFound(NotFound):
    """No stored workflow version has this content hash."""


class AmbiguousRunId(LookupError):
    """A run id prefix that matches several runs."""
