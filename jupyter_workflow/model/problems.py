"""Problems found in a workflow: each names where (a JSON pointer) and what, in words.

A problem is an ``error`` (the workflow cannot run) or a ``warning`` (it runs, but
perhaps not as meant: a node with ``"strict": false`` passing a parameter its notebook
does not declare, or a value of another type than the notebook's).
"""

from dataclasses import dataclass

ERROR, WARNING = "error", "warning"


def pointer(*parts) -> str:
    """The JSON pointer (RFC 6901) for a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow document or its input values."""

    pointer: str
    message: str
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict:
        return {"pointer": self.pointer, "message": self.message, "severity": self.severity}

    def __str__(self) -> str:
        text = f"{self.pointer or '/'}: {self.message}"
        return text if self.is_error else f"warning: {text}"


def errors_and_warnings(problems) -> tuple[list[Problem], list[Problem]]:
    """``problems`` split into the errors and the warnings, each in their order."""
    problems = list(problems)
    return [p for p in problems if p.is_error], [p for p in problems if not p.is_error]


class InvalidWorkflow(ValueError):
    """A workflow (or the inputs given to it) that cannot run; carries every problem found.

    ``problems`` holds the errors; ``warnings`` the warnings given with them, if any.
    """

    def __init__(self, problems, source: str | None = None):
        self.problems, self.warnings = errors_and_warnings(problems)
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        count = len(self.problems)
        line = f"{where}{count} problem{'s' if count != 1 else ''} found"
        if self.warnings:
            line += f", {len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}"
        return "\n".join([line] + [f"  {problem}" for problem in self.problems + self.warnings])

    def to_dict(self) -> dict:
        return {
            "message": str(self).splitlines()[0],
            "errors": [p.to_dict() for p in self.problems],
            "warnings": [p.to_dict() for p in self.warnings],
        }
