"""The notebooks under a folder of the server, as the components listing shows them, in pages.

What Jupyter's file browser hides is left out (hidden files and folders, checkpoints), and
so are the folders where runs keep their executed notebooks, and anything whose links
lead out of the served folder.
"""

import base64
import binascii
import bisect
import os
from pathlib import Path

from jupyter_workflow.model.paths import is_inside
from jupyter_workflow.store.errors import InvalidCursor


def notebook_paths(root: Path, folder: Path, excluded: list[Path]) -> list[str]:
    """Every notebook under ``folder``, as sorted paths relative to ``root``.

    Folder links are followed while they stay under ``root``, each folder once (under
    the first name met, in sorted order).
    ``excluded`` folders (the runs folder) are skipped with everything under them.
    """
    excluded = [Path(os.path.realpath(path)) for path in excluded]
    seen: set[str] = set()
    found = []
    for current, folders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(current)
        if real in seen:  # reached again through a link
            folders.clear()
            continue
        seen.add(real)
        folders[:] = sorted(name for name in folders if _worth_entering(root, Path(current, name), excluded))
        found += [
            os.path.relpath(os.path.join(current, name), root)
            for name in files
            if name.endswith(".ipynb") and not name.startswith(".") and is_inside(root, Path(current, name))
        ]
    return sorted(found)


def _worth_entering(root: Path, folder: Path, excluded: list[Path]) -> bool:
    if folder.name.startswith(".") or not is_inside(root, folder):  # .ipynb_checkpoints, .git, ...
        return False
    real = Path(os.path.realpath(folder))
    return not any(real.is_relative_to(path) for path in excluded)


def page(paths: list[str], limit: int, cursor: str | None) -> tuple[list[str], str | None]:
    """The ``limit`` paths after ``cursor`` and the cursor of the next page (None on the last)."""
    start = bisect.bisect_right(paths, decode_cursor(cursor)) if cursor else 0
    chosen = paths[start : start + limit]
    more = start + limit < len(paths)
    return chosen, encode_cursor(chosen[-1]) if more else None


def encode_cursor(path: str) -> str:
    return base64.urlsafe_b64encode(path.encode("utf-8", "surrogateescape")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The last path of a page; :class:`InvalidCursor` if ``cursor`` was not made here."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8", "surrogateescape")
    except (ValueError, binascii.Error):
        raise InvalidCursor from None
