"""What runs inside a node's kernel: record outputs, load upstream artifacts.

``record(name, value)`` publishes one output of the node. Small JSON values travel in the
executed notebook as display data of type :data:`RECORD_MIME_TYPE`; DataFrames, arrays,
bytes, files and large JSON go to the run's artifact folder and the notebook carries a
reference only. This module imports nothing heavy: pandas, NumPy and IPython load only
when a value needs them.
"""

import os
from pathlib import Path

from jupyter_workflow.runtime.artifacts import (
    ArtifactRef,
    UnrecordableValue,
    inline_json,
    load_artifact,
    write_artifact,
)
from jupyter_workflow.runtime.secrets import secret

RECORD_MIME_TYPE = "application/vnd.jupyter-workflow.record.v1+json"
ARTIFACTS_DIR_ENV = "JUPYTER_WORKFLOW_ARTIFACTS_DIR"

__all__ = [
    "ARTIFACTS_DIR_ENV",
    "RECORD_MIME_TYPE",
    "ArtifactRef",
    "UnrecordableValue",
    "artifacts_dir",
    "load_artifact",
    "record",
    "secret",
]


def artifacts_dir() -> Path:
    """The folder where this node's artifacts go (created on demand).

    Under a workflow run the engine sets it per node; a notebook run by hand uses a
    folder in the system's temporary directory.
    """
    configured = os.environ.get(ARTIFACTS_DIR_ENV)
    if configured:
        folder = Path(configured)
    else:
        import tempfile

        folder = Path(tempfile.gettempdir()) / "jupyter-workflow-artifacts" / str(os.getpid())
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def record(name: str, value) -> None:
    """Publish ``value`` as the output ``name`` of the running node.

    JSON values up to 1 MB are stored inline in the executed notebook; pandas
    DataFrames (Parquet), NumPy arrays (.npy), bytes, ``pathlib.Path`` files and larger
    JSON are written to the run's artifact folder. Anything else raises
    :class:`UnrecordableValue`.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"record(): the output name must be an identifier, got {name!r}")
    payload = {"name": name}
    inline = inline_json(value)
    if inline is not None:
        payload["value"] = inline.value
        summary = inline.summary
    else:
        ref = write_artifact(artifacts_dir(), name, value)
        payload["artifact"] = ref.meta
        summary = f"{ref.meta['type']} → {ref.meta['uri']} ({ref.meta['size']:,} bytes)"

    from IPython.display import display

    display({RECORD_MIME_TYPE: payload, "text/plain": f"recorded {name}: {summary}"}, raw=True)
