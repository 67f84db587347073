"""Turning a node's parameter bindings into values, once its upstream nodes are done."""

import copy

import jmespath
import jmespath.exceptions

from jupyter_workflow.model.spec import Binding, FanIn, InputRef, Literal, OutputRef
from jupyter_workflow.runtime.artifacts import contains_artifact
from jupyter_workflow.runtime.secrets import SecretRef


class BindingError(Exception):
    """A binding that cannot be resolved at run time (e.g. an output was never recorded)."""


def _output(ref: OutputRef, outputs: dict[str, dict]):
    recorded = outputs.get(ref.node, {})
    if ref.output not in recorded:
        names = ", ".join(sorted(recorded)) or "nothing"
        raise BindingError(f"node {ref.node!r} did not record an output {ref.output!r} (it recorded: {names})")
    value = recorded[ref.output]
    if ref.map is None:
        return value
    if contains_artifact(value):
        raise BindingError(f"cannot apply map {ref.map!r} to {ref}: it is an artifact, not a JSON value")
    try:
        return jmespath.search(ref.map, value)
    except jmespath.exceptions.JMESPathError as error:
        raise BindingError(f"map {ref.map!r} failed on {ref}: {error}") from None


def _reduce(binding: FanIn, values: list):
    if binding.reduce == "list":
        return values
    if binding.reduce == "concat":
        if not all(isinstance(v, list) for v in values):
            raise BindingError(
                f"reduce 'concat' joins lists, but {', '.join(map(str, binding.refs))} are not all lists; "
                "use reduce 'list' and combine the values in the notebook"
            )
        return [item for value in values for item in value]
    if not all(isinstance(v, dict) for v in values):
        raise BindingError(f"reduce 'merge' merges objects, but {', '.join(map(str, binding.refs))} are not all objects")
    merged = {}
    for value in values:
        merged.update(value)
    return merged


def takes_secret(parameters: dict) -> bool:
    """Whether a node's resolved parameters take a secret input (a :class:`SecretRef`)."""
    return any(isinstance(value, SecretRef) for value in parameters.values())


def resolve(binding: Binding, inputs: dict, outputs: dict[str, dict]):
    """The value of ``binding`` given the run's inputs (secret ones as ``SecretRef``) and the recorded outputs by node."""
    if isinstance(binding, Literal):
        return copy.deepcopy(binding.value)
    if isinstance(binding, InputRef):
        return inputs[binding.name]
    if isinstance(binding, OutputRef):
        return _output(binding, outputs)
    return _reduce(binding, [_output(ref, outputs) for ref in binding.refs])
