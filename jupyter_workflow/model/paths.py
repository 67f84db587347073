"""Paths held inside a root folder: the one containment rule for files named by users.

A path given by a user (a REST request, a workflow's notebook) is relative to a root and
must stay inside it once every symbolic link is followed. The check is made where the
file is used, not once ahead: :func:`read_inside` resolves the path at the moment it
reads, and reads the file it checked, so a file replaced by a link to somewhere else
between a check and a read is refused.
"""

import os
import unicodedata
from pathlib import Path


class PathOutsideRoot(ValueError):
    """A path that is not a relative path inside its root folder; the message says why."""


def name_problem(relative: str) -> str | None:
    """What makes ``relative`` unusable as a file path given by a user, or None.

    Refused: empty paths, absolute paths, and paths with control characters (a newline,
    a NUL) or lone surrogates, which no file name shown to a person should hold.
    """
    if not isinstance(relative, str) or not relative:
        return "a path must be a non-empty string"
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in relative):
        return f"{relative!r} holds a control character, which a file name may not"
    if Path(relative).is_absolute() or relative.startswith("~"):
        return f"{relative!r} is not a relative path"
    return None


def is_inside(root: Path, path: Path) -> bool:
    """Whether ``path``, with every link followed, is ``root`` or lies under it."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


def resolve_inside(root: Path, relative: str) -> Path:
    """``root / relative`` with every link followed; :class:`PathOutsideRoot` unless it stays inside."""
    problem = name_problem(relative)
    if problem:
        raise PathOutsideRoot(problem)
    resolved = Path(os.path.realpath(Path(root) / relative))
    if not resolved.is_relative_to(os.path.realpath(root)):
        raise PathOutsideRoot(f"{relative!r} is outside {root}")
    return resolved


def read_inside(root: Path, path: Path) -> tuple[Path, bytes]:
    """The file at ``path`` (absolute, or relative to ``root``), checked to be inside ``root`` as it is read.

    Returns the resolved path and the file's bytes. The resolved file is opened without
    following a link in its last part, so a link put there after the check is refused too.
    """
    resolved = Path(os.path.realpath(Path(root) / path))
    if not resolved.is_relative_to(os.path.realpath(root)):
        raise PathOutsideRoot(f"{path} resolves outside {root} (to {resolved})")
    try:
        descriptor = os.open(resolved, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        if error.errno == getattr(os, "ELOOP", None):
            raise PathOutsideRoot(f"{path} was replaced by a link while it was being read") from None
        raise
    with os.fdopen(descriptor, "rb") as stream:
        return resolved, stream.read()
