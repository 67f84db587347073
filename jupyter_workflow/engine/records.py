"""Outputs recorded by a node, read back from its executed notebook."""

from jupyter_workflow.runtime import RECORD_MIME_TYPE, ArtifactRef


def read_records(notebook) -> dict:
    """Output name → JSON value or :class:`ArtifactRef`; a later record of a name wins."""
    outputs = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(RECORD_MIME_TYPE) if "data" in output else None
            if not isinstance(payload, dict) or "name" not in payload:
                continue
            if "artifact" in payload:
                meta = payload["artifact"]
                if not isinstance(meta, dict) or not {"uri", "format", "sha256"} <= set(meta):
                    raise ValueError(f"the record of {payload['name']!r} has a malformed artifact reference")
                outputs[payload["name"]] = ArtifactRef(meta)
            else:
                outputs[payload["name"]] = payload.get("value")
    return outputs
