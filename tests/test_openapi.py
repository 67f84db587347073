"""The OpenAPI document against the Python types it publishes, and real events against it.

Typed clients (the JupyterLab panel) generate their types from ``openapi.json``; the
statuses and events they describe are defined in :mod:`jupyter_workflow.events`. These
tests read the Python side by introspection (enum members, TypedDict keys, their types
and requiredness) so the two cannot drift apart, then check that the events of real runs
validate against the document's ``Event`` union.
"""

import dataclasses
import json
import subprocess
import sys
import types
from enum import Enum
from importlib.resources import files
from typing import Literal, NotRequired, Required, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest
from jsonschema import Draft202012Validator
from notebook_factory import make_notebook, write_workflow
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import jupyter_workflow
from jupyter_workflow.events import EVENT_PAYLOADS, Event, EventType, NodeFinished, NodeStatus, RunFinished, RunStatus
from jupyter_workflow.store import FireRecord, HeartbeatRecord, RunStore, ScheduleRecord

DOCUMENT = json.loads(files("jupyter_workflow.server").joinpath("openapi.json").read_text("utf-8"))
SCHEMAS = DOCUMENT["components"]["schemas"]
SCHEMA_REF = "#/components/schemas/"
JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", type(None): "null"}


def ref(name: str) -> dict:
    return {"$ref": SCHEMA_REF + name}


def pointed(pointer: str):
    """The part of the document a local reference (``#/...``) points to."""
    node = DOCUMENT
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def object_shape(schema: dict) -> tuple[dict[str, list[dict]], set[str]]:
    """The properties an object schema gives (each with every schema that applies to it) and its required keys.

    References are followed and ``allOf`` parts merged, as a validator would combine them.
    """
    while "$ref" in schema:
        schema = pointed(schema["$ref"])
    properties = {name: [value] for name, value in schema.get("properties", {}).items()}
    required = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        part_properties, part_required = object_shape(part)
        for name, values in part_properties.items():
            properties.setdefault(name, []).extend(values)
        required |= part_required
    return properties, required


def schema_kinds(schema: dict) -> set:
    """What values a property schema admits: JSON type names, ``("ref", name)``, ``("enum", values)``."""
    if "$ref" in schema:
        return {("ref", schema["$ref"].removeprefix(SCHEMA_REF))}
    if "oneOf" in schema or "anyOf" in schema:
        return set().union(*(schema_kinds(part) for part in schema.get("oneOf", schema.get("anyOf"))))
    if "const" in schema:
        return {("enum", (schema["const"],))}
    if "enum" in schema:
        return {("enum", tuple(schema["enum"]))}
    return {schema["type"]} if isinstance(schema["type"], str) else set(schema["type"])


def python_kinds(annotation) -> set:
    """What values a payload key's annotation admits, in the terms of :func:`schema_kinds`.

    Enums and TypedDicts are schemas of their own, referenced by their Python name.
    """
    origin = get_origin(annotation)
    if origin in (NotRequired, Required):
        return python_kinds(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return set().union(*(python_kinds(arg) for arg in get_args(annotation)))
    if origin is Literal:
        return {("enum", get_args(annotation))}
    if is_typeddict(annotation) or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return {("ref", annotation.__name__)}
    return {JSON_TYPES[annotation]}


def typeddicts_in(annotation) -> list[type]:
    """The TypedDicts an annotation names, at any depth (``NotRequired[NodeError | None]``: NodeError)."""
    if is_typeddict(annotation):
        return [annotation]
    return [found for arg in get_args(annotation) for found in typeddicts_in(arg)]


def payload_types() -> list[type]:
    """Every event payload TypedDict and every TypedDict nested in one (NodeError, RunError)."""
    found = list(EVENT_PAYLOADS.values())
    for payload in found:  # grows while it is walked: nested ones are searched too
        for annotation in get_type_hints(payload, include_extras=True).values():
            found += [nested for nested in typeddicts_in(annotation) if nested not in found]
    return found


def all_references(value) -> list[str]:
    """Every ``$ref``, and every discriminator mapping target, anywhere in ``value``."""
    if isinstance(value, list):
        return [found for item in value for found in all_references(item)]
    if not isinstance(value, dict):
        return []
    found = [value["$ref"]] if "$ref" in value else []
    found += value.get("discriminator", {}).get("mapping", {}).values()
    for item in value.values():
        found += all_references(item)
    return found


# --- the document against the Python types ------------------------------------------------


@pytest.mark.parametrize("enum", [NodeStatus, RunStatus, EventType], ids=lambda enum: enum.__name__)
def test_each_enum_is_a_schema_of_its_values_in_order(enum):
    schema = SCHEMAS[enum.__name__]
    assert schema["type"] == "string"
    assert schema["enum"] == [member.value for member in enum]


@pytest.mark.parametrize("payload", payload_types(), ids=lambda payload: payload.__name__)
def test_each_payload_is_a_schema_of_the_same_keys_types_and_requiredness(payload):
    properties, required = object_shape(ref(payload.__name__))
    hints = get_type_hints(payload, include_extras=True)
    assert set(properties) == set(hints), payload.__name__
    assert required == set(payload.__required_keys__), payload.__name__
    for key, annotation in hints.items():
        [schema] = properties[key]
        assert schema_kinds(schema) == python_kinds(annotation), (payload.__name__, key)


def test_the_event_union_has_one_schema_per_event_type_told_apart_by_type():
    union = SCHEMAS["Event"]
    assert union["discriminator"]["propertyName"] == "type"
    mapping = union["discriminator"]["mapping"]
    assert list(mapping) == [event_type.value for event_type in EventType]
    assert [option["$ref"] for option in union["oneOf"]] == list(mapping.values())
    envelope = set(Event(EventType.RUN_STARTED, "0" * 32, None, {}).message(1))
    for event_type, payload in EVENT_PAYLOADS.items():
        properties, required = object_shape({"$ref": mapping[event_type]})
        assert set(properties) == required == envelope, event_type
        assert {"const": event_type.value} in properties["type"], event_type
        assert ref(payload.__name__) in properties["data"], event_type


def test_the_run_tree_and_the_runs_filter_use_the_status_enums_and_the_events_error_types():
    node_run, run = SCHEMAS["NodeRun"]["properties"], SCHEMAS["Run"]["properties"]
    assert node_run["status"] == ref(NodeStatus.__name__)
    assert run["status"] == ref(RunStatus.__name__)
    assert schema_kinds(node_run["error"]) == python_kinds(get_type_hints(NodeFinished)["error"])
    assert schema_kinds(run["error"]) == python_kinds(get_type_hints(RunFinished)["error"])
    [status] = [p for p in DOCUMENT["paths"]["/workflow/api/runs"]["get"]["parameters"] if p["name"] == "status"]
    assert status["schema"] == ref(RunStatus.__name__)


def test_the_websocket_routes_send_the_event_union_and_every_reference_resolves():
    for route in ("/workflow/api/events", "/workflow/api/runs/{run_id}/events"):
        assert DOCUMENT["paths"][route]["get"]["x-websocket-message"] == ref("Event")
    for reference in all_references(DOCUMENT):
        assert reference.startswith("#/"), reference
        assert isinstance(pointed(reference), dict), reference


# --- real events against the document -----------------------------------------------------

# Begins a run in the store and ends: the run is left to a process that no longer exists.
BEGIN_A_RUN_AND_EXIT = """
import sys, uuid
from pathlib import Path
from jupyter_workflow.engine.state import NodeState, RunState
from jupyter_workflow.model import load_workflow
from jupyter_workflow.store import RunStore

workflow_path, runs_dir, db_url = sys.argv[1:]
workflow = load_workflow(workflow_path)
run_id = uuid.uuid4().hex
nodes = {node_id: NodeState(node_id) for node_id in workflow.nodes}
RunStore(db_url).begin(RunState(run_id, workflow, {}, Path(runs_dir) / run_id, nodes=nodes))
"""


class EventCollector:
    """A run listener keeping every event the engine emits."""

    def __init__(self):
        self.events: list[Event] = []

    def begin(self, run) -> None:
        pass

    def record(self, run, event: Event) -> None:
        self.events.append(event)


EVENT_VALIDATOR = Draft202012Validator(
    {"$ref": "urn:openapi#/components/schemas/Event"},
    registry=Registry().with_resource("urn:openapi", Resource(DOCUMENT, specification=DRAFT202012)),
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)


def event_problems(message: dict) -> list[str]:
    """Where ``message`` departs from the document's ``Event`` union."""
    return [f"{error.json_path}: {error.message}" for error in EVENT_VALIDATOR.iter_errors(message)]


@pytest.mark.kernels
def test_the_events_of_real_runs_match_the_event_schema(tmp_path, workflow_home):
    make_notebook(
        tmp_path / "talk.ipynb",
        "fail = False",
        "from jupyter_workflow import record\nimport sys\n"
        "print('to stdout')\nprint('to stderr', file=sys.stderr)\n"
        "if fail:\n    raise RuntimeError('asked to fail')\nrecord('said', 'hello')",
    )
    steady = {"notebook": "talk.ipynb", "cache": True}
    failing = write_workflow(tmp_path / "failing.workflow.json", {
        "format": "jupyter-workflow/1",
        "nodes": {
            "flaky": {"notebook": "talk.ipynb", "parameters": {"fail": True}, "retries": 1, "retry_delay": 0},
            "after_flaky": {"notebook": "talk.ipynb", "after": ["flaky"]},
            "steady": steady,
        },
    })
    reusing = write_workflow(tmp_path / "reusing.workflow.json",
                             {"format": "jupyter-workflow/1", "nodes": {"steady": steady}})
    collector = EventCollector()
    assert jupyter_workflow.run(failing, listeners=[collector]).status == RunStatus.FAILED
    assert jupyter_workflow.run(reusing, listeners=[collector]).status == RunStatus.SUCCEEDED
    subprocess.run([sys.executable, "-c", BEGIN_A_RUN_AND_EXIT, str(reusing), str(workflow_home.runs_dir),
                    workflow_home.db_url], check=True)
    store = RunStore(workflow_home.db_url)
    try:
        assert len(store.recover_interrupted()) == 1
        stored = [record.message(record.id) for record in store.events(None)]
    finally:
        store.close()

    live = [json.loads(json.dumps(event.message(index))) for index, event in enumerate(collector.events, 1)]
    for message in live + stored:
        assert event_problems(message) == [], message
    assert {message["type"] for message in stored} == set(EventType)
    moves = {(message["data"]["to"], "retry_at" in message["data"])
             for message in live if message["type"] == EventType.NODE_STATUS_CHANGED}
    assert {("queued", True), ("failed", False), ("skipped", False), ("cached", False)} <= moves
    assert {message["data"]["stream"] for message in live if message["type"] == EventType.NODE_OUTPUT} == {"stdout", "stderr"}


@pytest.mark.parametrize("schema, record, added", [
    ("Schedule", ScheduleRecord, {"last_status", "next_fire_times"}),
    ("Fire", FireRecord, {"run_status"}),
    ("Heartbeat", HeartbeatRecord, set()),
], ids=["Schedule", "Fire", "Heartbeat"])
def test_the_schedule_schemas_have_the_fields_of_their_records(schema, record, added):
    properties, required = object_shape(ref(schema))
    fields = {item.name for item in dataclasses.fields(record)}
    assert set(properties) == fields | added
    assert fields <= required
