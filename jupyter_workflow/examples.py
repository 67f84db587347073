"""The example workflows and components shipped with the package, copied out for a user to try.

A wheel installs them under ``share/jupyter/workflow/examples`` in its prefix; a
development install links that folder to the repository's ``notebooks/``. They are found
on the Jupyter data path, like kernelspecs.
"""

import shutil
from pathlib import Path

from jupyter_core.paths import jupyter_path


def examples_folder() -> Path:
    """The installed examples; ``FileNotFoundError`` if the installation has none."""
    for folder in map(Path, jupyter_path("workflow", "examples")):
        if any(folder.glob("*.workflow.json")):
            return folder
    raise FileNotFoundError(
        "no examples are installed (looked in " + ", ".join(jupyter_path("workflow", "examples")) + ")"
    )


def _example_files(folder: Path) -> list[Path]:
    """The example files under ``folder``, relative to it: hidden files and caches left out."""
    return sorted(
        path.relative_to(folder)
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(folder).parts)
    )


def copy_examples(target: Path) -> list[Path]:
    """Copy the examples into ``target`` (created if needed) and return the files written.

    Nothing is overwritten: if any of the files exists already, nothing is copied and
    ``FileExistsError`` names them.
    """
    source = examples_folder()
    files = _example_files(source)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} exists and is not a folder")
    clashes = [str(target / relative) for relative in files if (target / relative).exists()]
    if clashes:
        shown = ", ".join(clashes[:3]) + (f" and {len(clashes) - 3} more" if len(clashes) > 3 else "")
        raise FileExistsError(f"not copying the examples: {shown} already exist")
    written = []
    for relative in files:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copy2(source / relative, target / relative)))
    return written
