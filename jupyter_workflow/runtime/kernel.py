"""The node kernel: the IPython kernel with the runtime and chosen modules imported first.

Started as ``python -m jupyter_workflow.runtime.kernel -f CONNECTION_FILE`` (the
``jupyter-workflow`` kernelspec). The modules named in ``JUPYTER_WORKFLOW_PRELOAD``
(comma-separated, e.g. ``pandas,pyarrow``) are imported before the kernel answers its
first request, so a warm pool pays for heavy imports ahead of time, not while a node waits.
"""

import importlib
import os
import sys

PRELOAD_ENV = "JUPYTER_WORKFLOW_PRELOAD"


def preload(names: str) -> None:
    """Import each module named in ``names``; one that fails is reported, not fatal."""
    for name in filter(None, (part.strip() for part in names.split(","))):
        try:
            importlib.import_module(name)
        except Exception as error:
            print(f"jupyter-workflow kernel: cannot preload {name!r}: {error}", file=sys.stderr)


def main() -> None:
    # As ipykernel_launcher does: the launch folder leaves sys.path until IPython adds ''.
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    preload(os.environ.get(PRELOAD_ENV, ""))
    import jupyter_workflow.runtime  # noqa: F401  (the runtime every node imports)
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
