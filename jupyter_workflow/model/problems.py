"""Problems found in a workflow: each names where (a JSON pointer) and what, in words."""

from dataclasses import dataclass


def pointer(*parts) -> str:
    """The JSON pointer (RFC 6901) for a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow document or its input values."""

    pointer: str
    message: str

    def to_dict(self) -> dict:
        return {"pointer": self.pointer, "message": self.message}

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class InvalidWorkflow(ValueError):
    """A workflow (or the inputs given to it) that cannot run; carries every problem found."""

    def __init__(self, problems, source: str | None = None):
        self.problems = list(problems)
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        count = len(self.problems)
        lines = [f"{where}{count} problem{'s' if count != 1 else ''} found"]
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"message": str(self).splitlines()[0], "errors": [p.to_dict() for p in self.problems]}
