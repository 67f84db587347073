"""Secret inputs inside a node's kernel: the value reaches the kernel, never the notebook.

A workflow input declared ``"secret": true`` (a password) is not written into the
injected ``parameters`` cell: the cell reads ``secret("NAME")``, and the engine hands the
value to the node's kernel with the node's environment, under :data:`SECRET_ENV_PREFIX`.
The first read takes the variable out of the environment (so child processes do not
inherit it) and keeps the value for later reads in the same kernel.
"""

import os

SECRET_ENV_PREFIX = "JUPYTER_WORKFLOW_SECRET_"

_taken: dict[str, str] = {}


class SecretRef(str):
    """Where a node's parameter takes a secret input: a placeholder wherever the value would be written.

    As a string it reads ``<secret NAME>``: stored parameters, cache keys and papermill's
    metadata see that, never the value.
    """

    def __new__(cls, name: str):
        ref = super().__new__(cls, f"<secret {name}>")
        ref.name = name
        return ref

    def __reduce__(self):
        return SecretRef, (self.name,)


def secret_environment(values: dict[str, str]) -> dict[str, str]:
    """The environment variables that hand ``values`` (secret inputs by name) to a node's kernel."""
    return {SECRET_ENV_PREFIX + name: value for name, value in values.items()}


def secret(name: str) -> str:
    """The value of the workflow's secret input ``name``, as the engine handed it to this kernel."""
    if name not in _taken:
        try:
            _taken[name] = os.environ.pop(SECRET_ENV_PREFIX + name)
        except KeyError:
            raise LookupError(
                f"no secret input {name!r} was given to this kernel: it is set when a workflow run "
                "binds its secret input to this notebook"
            ) from None
    return _taken[name]
