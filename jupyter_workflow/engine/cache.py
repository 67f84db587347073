"""Cache keys: when a node with ``"cache": true`` may reuse an earlier result.

The key covers what the engine knows a node depends on: the notebook's bytes, the
kernel, and the parameter values (artifacts by their content hash, not their path).
Files the notebook reads on its own are not part of it.
"""

import hashlib
from pathlib import Path

from jupyter_workflow.model.spec import canonical_json
from jupyter_workflow.runtime.artifacts import encode_refs


def cache_key(notebook: Path, kernel: str | None, parameters: dict) -> str:
    digest = hashlib.sha256(Path(notebook).read_bytes())
    digest.update(b"\0" + (kernel or "").encode("utf-8") + b"\0")
    digest.update(canonical_json(encode_refs(parameters, describe=lambda ref: ref.meta["sha256"])).encode("utf-8"))
    return digest.hexdigest()
