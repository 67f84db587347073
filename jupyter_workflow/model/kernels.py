"""The names of the installed kernelspecs, found without importing jupyter_client.

Importing jupyter_client loads its kernel clients, zmq and IPython's paths; validating a
workflow needs only the names. They are found where jupyter_client's
``KernelSpecManager`` looks with its defaults: the folders holding a ``kernel.json`` in
the ``kernels`` folders of the Jupyter data path and of IPython's folder, and
``python3`` whenever ipykernel is installed.
"""

import importlib.util
import os
from pathlib import Path

from jupyter_core.paths import jupyter_path

NATIVE_KERNEL = "python3"  # the kernel ipykernel provides without a kernelspec on disk


def kernel_folders() -> list[Path]:
    """Where kernelspecs are looked for, first found first."""
    ipython_dir = Path(os.environ.get("IPYTHONDIR") or "~/.ipython").expanduser()
    return [Path(folder) for folder in jupyter_path("kernels")] + [ipython_dir / "kernels"]


def installed_kernels() -> list[str]:
    """The names of the kernelspecs installed here (as Jupyter lists them, in lower case)."""
    names = set()
    for folder in kernel_folders():
        if folder.is_dir():
            names.update(entry.name.lower() for entry in folder.iterdir() if (entry / "kernel.json").is_file())
    if NATIVE_KERNEL not in names and importlib.util.find_spec("ipykernel") is not None:
        names.add(NATIVE_KERNEL)
    return sorted(names)
