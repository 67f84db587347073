"""The server extension against a real Jupyter server: REST, live events, restarts, security."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path

import pytest
from conftest import process_gone
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from notebook_factory import hanging_workflow, make_notebook, write_workflow
from tornado.httpclient import HTTPClientError
from tornado.websocket import websocket_connect

from jupyter_workflow.events import RunStatus
from jupyter_workflow.store import RunStore

pytestmark = pytest.mark.kernels

RECORD = "from jupyter_workflow import record\n"


def document_problems(schema: str, value) -> list[str]:
    """Where ``value`` departs from the OpenAPI document's schema of that name."""
    document = json.loads(files("jupyter_workflow.server").joinpath("openapi.json").read_text("utf-8"))
    registry = Registry().with_resource("urn:openapi", Resource(document, specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{schema}"}, registry=registry)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(value)]
JUPYTER = Path(sys.executable).parent / "jupyter"


async def call(jp_fetch, *path, method="GET", body=None, params=None, expect=200):
    """A request to /workflow/api/...; checks the status and returns the JSON body."""
    kwargs = {"method": method, "raise_error": False, "params": params}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    elif method in ("POST", "PUT"):
        kwargs["body"] = "{}"
    response = await jp_fetch("workflow", "api", *path, **kwargs)
    text = response.body.decode()
    assert response.code == expect, text
    return json.loads(text) if text else None


async def wait_finished(jp_fetch, run_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = await call(jp_fetch, "runs", run_id)
        if run["status"] not in ("pending", "running"):
            return run
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish")


@pytest.fixture
def square_workflow(jp_root_dir):
    make_notebook(
        jp_root_dir / "square.ipynb",
        "x: int = 2\nfail_file = ''",
        RECORD + "import pathlib\nprint(f'squaring {x}')\n"
        "if fail_file and pathlib.Path(fail_file).exists():\n    pathlib.Path(fail_file).unlink()\n"
        "    raise RuntimeError('failing once')\nrecord('square', x * x)",
        metadata={"jupyter_workflow": {"outputs": {"square": {"type": "integer"}}}},
    )
    return write_workflow(
        jp_root_dir / "squares.workflow.json",
        {
            "format": "jupyter-workflow/1",
            "name": "squares",
            "inputs": {"x": {"type": "integer", "default": 3}, "fail_file": {"type": "string", "default": ""}},
            "nodes": {
                "first": {"notebook": "square.ipynb", "parameters": {"x": {"input": "x"}}},
                "second": {
                    "notebook": "square.ipynb",
                    "parameters": {"x": {"output": "first.square"}, "fail_file": {"input": "fail_file"}},
                },
            },
            "outputs": {"result": {"output": "second.square"}},
        },
    )


@pytest.fixture
def hang_workflow(jp_root_dir):
    return hanging_workflow(jp_root_dir), jp_root_dir / "hang.pid"


async def test_a_run_starts_at_once_streams_its_events_and_reports_its_tree(jp_fetch, jp_ws_fetch, square_workflow):
    started = await call(jp_fetch, "runs", method="POST", body={"path": "squares.workflow.json", "inputs": {"x": 4}}, expect=202)
    run_id = started["run_id"]
    socket = await jp_ws_fetch("workflow", "api", "runs", run_id, "events")
    events = []
    while not events or events[-1]["type"] != "run.finished":
        events.append(json.loads(await asyncio.wait_for(socket.read_message(), 120)))
    socket.close()

    types = [e["type"] for e in events]
    assert types[0] == "run.started" and types[-1] == "run.finished"
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    for node in ("first", "second"):
        node_types = [e["type"] for e in events if e["node_id"] == node]
        assert node_types[0] == "node.triggered" and node_types[-1] == "node.finished" and "node.started" in node_types
    printed = "".join(e["data"]["text"] for e in events if e["type"] == "node.output" and e["node_id"] == "first")
    assert "squaring 4" in printed

    run = await call(jp_fetch, "runs", run_id)
    assert run["status"] == "succeeded" and run["outputs"] == {"result": 256} and run["trigger"] == "server"
    tree = {n["node_id"]: n for n in run["nodes"]}
    assert tree["first"]["outputs"] == {"square": 16} and tree["second"]["outputs"] == {"square": 256}
    assert all(n["status"] == "succeeded" and n["attempt"] == 1 and n["duration_s"] > 0 for n in tree.values())
    notebook = await call(jp_fetch, "runs", run_id, "nodes", "first", "notebook")
    assert notebook["nbformat"] == 4 and any("# Parameters" in "".join(c["source"]) for c in notebook["cells"])

    # A client that resumes from an event id gets exactly what came after it.
    resume_from = events[2]["id"]
    socket = await jp_ws_fetch("workflow", "api", "runs", run_id, "events", params={"after": str(resume_from)})
    resumed = [json.loads(await asyncio.wait_for(socket.read_message(), 10)) for _ in events[3:]]
    socket.close()
    assert [e["id"] for e in resumed] == [e["id"] for e in events[3:]]


async def test_cancel_kills_the_kernels_of_a_run(jp_fetch, hang_workflow):
    _, pid_file = hang_workflow
    run_id = (await call(jp_fetch, "runs", method="POST", body={"path": "hang.workflow.json"}, expect=202))["run_id"]
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    run = await call(jp_fetch, "runs", run_id, "cancel", method="POST")
    # The answer comes once the run has ended, and a run ends once its kernels have.
    assert process_gone(int(pid_file.read_text())), "the kernel outlived the cancel"
    assert run["status"] == "cancelled" and run["nodes"][0]["status"] == "cancelled"
    again = await call(jp_fetch, "runs", run_id, "cancel", method="POST", expect=409)
    assert "not running" in again["message"]


async def test_cancel_ends_a_queued_run_no_worker_took(jp_fetch, workflow_home, tmp_path):
    from test_store import make_run

    queued = make_run(tmp_path, run_id="9" * 32)
    store = RunStore(workflow_home.db_url)
    assert store.enqueue(queued)
    store.close()

    run = await call(jp_fetch, "runs", queued.run_id, "cancel", method="POST")
    assert run["status"] == "cancelled" and {node["status"] for node in run["nodes"]} == {"cancelled"}
    [entry] = (await call(jp_fetch, "audit", params={"target": queued.run_id}))["entries"]
    assert entry["action"] == "run.cancel"
    again = await call(jp_fetch, "runs", queued.run_id, "cancel", method="POST", expect=409)
    assert "it is cancelled" in again["message"]


async def test_retry_reruns_only_what_failed(jp_fetch, square_workflow, jp_root_dir):
    fail_once = jp_root_dir / "fail-once"
    fail_once.write_text("x")
    body = {"path": "squares.workflow.json", "inputs": {"fail_file": str(fail_once)}}
    first = await wait_finished(jp_fetch, (await call(jp_fetch, "runs", method="POST", body=body, expect=202))["run_id"])
    assert first["status"] == "failed"
    assert document_problems("Run", first) == []  # the failed node's error too, with its cell
    assert {"cell_index", "execution_count"} <= set(first["error"]) and first["error"]["node"] == "second"
    first_notebook = {n["node_id"]: n["notebook"] for n in first["nodes"]}["first"]
    stamp = os.stat(first_notebook).st_mtime_ns

    retried = await call(jp_fetch, "runs", first["id"], "retry", method="POST", expect=202)
    second = await wait_finished(jp_fetch, retried["run_id"])
    assert second["status"] == "succeeded" and second["retry_of"] == first["id"] and second["outputs"] == {"result": 81}
    nodes = {n["node_id"]: n for n in second["nodes"]}
    assert nodes["first"]["status"] == "cached" and nodes["first"]["notebook"] == first_notebook
    assert os.stat(first_notebook).st_mtime_ns == stamp  # not executed again
    assert nodes["second"]["status"] == "succeeded" and nodes["second"]["notebook"] != first_notebook


@pytest.fixture
def run_left_running(workflow_home, hang_workflow):
    """A CLI run killed with SIGKILL: its row still says 'running' and nobody runs it."""
    path, pid_file = hang_workflow
    process = subprocess.Popen([str(JUPYTER), "workflow", "run", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the orphaned kernel
    store = RunStore(workflow_home.db_url)
    [run], _ = store.list_runs()
    store.close()
    assert run.status == "running"
    return run.id


async def test_a_restart_marks_runs_of_dead_processes_interrupted_and_retry_completes_them(
    run_left_running, jp_fetch, hang_workflow, jp_root_dir
):
    run = await call(jp_fetch, "runs", run_left_running)
    assert run["status"] == "interrupted" and run["nodes"][0]["status"] == "cancelled"
    events = RunStore(os.environ["JUPYTER_WORKFLOW_DB_URL"]).events(run_left_running)
    assert events[-2].type == "run.interrupted" and "ended before the run finished" in events[-2].data["reason"]

    make_notebook(jp_root_dir / "hang.ipynb", "pid_file = ''", "")  # the fixed notebook
    retried = await call(jp_fetch, "runs", run_left_running, "retry", method="POST", expect=202)
    assert (await wait_finished(jp_fetch, retried["run_id"]))["status"] == "succeeded"


async def test_versions_conflicts_and_restore(jp_fetch, square_workflow):
    current = await call(jp_fetch, "workflows", params={"path": "squares.workflow.json"})
    spec = current["spec"]
    changed = {**spec, "title": "Squares, titled"}
    saved = await call(jp_fetch, "workflows", method="PUT",
                       body={"path": "squares.workflow.json", "spec": changed, "base_version": current["version"]})
    stale = await call(jp_fetch, "workflows", method="PUT",
                       body={"path": "squares.workflow.json", "spec": spec, "base_version": current["version"]}, expect=409)
    assert stale["errors"][0]["pointer"] == "/base_version" and saved["version"] in stale["message"]

    original = (await call(jp_fetch, "workflows", method="PUT",
                           body={"path": "copy.workflow.json", "spec": spec, "base_version": None}))["version"]
    versions = [v["content_hash"] for v in (await call(jp_fetch, "versions", params={"name": "squares"}))["versions"]]
    assert saved["version"] in versions and original in versions
    diff = await call(jp_fetch, "versions", original, "diff", saved["version"])
    assert '+  "title": "Squares, titled"' in diff["diff"]

    await call(jp_fetch, "versions", original, "restore", method="POST",
               body={"path": "squares.workflow.json", "base_version": current["version"]}, expect=409)
    restored = await call(jp_fetch, "versions", original, "restore", method="POST",
                          body={"path": "squares.workflow.json", "base_version": saved["version"]})
    assert restored["version"] == original
    assert json.loads(square_workflow.read_text()) == spec

    audit = (await call(jp_fetch, "audit"))["entries"]
    assert [e["action"] for e in audit][:3] == ["version.restore", "workflow.save", "workflow.save"]
    assert all(e["user"] for e in audit)


async def test_a_run_of_a_file_is_of_the_version_the_file_reads_as(jp_fetch, square_workflow):
    """The panel tells a run made from an older version of its file by these (labextension/src/history/versions.ts)."""
    file = await call(jp_fetch, "workflows", params={"path": "squares.workflow.json"})
    run_id = (await call(jp_fetch, "runs", method="POST", body={"path": "squares.workflow.json"}, expect=202))["run_id"]
    run = await call(jp_fetch, "runs", run_id)
    assert run["content_hash"] == file["version"]
    assert (await call(jp_fetch, "versions", file["version"]))["spec"] == file["spec"]
    await wait_finished(jp_fetch, run_id)

    # The file written again as text, as JupyterLab's editors save it: the same document is the same version...
    square_workflow.write_text(json.dumps(file["spec"], indent=4))
    assert (await call(jp_fetch, "workflows", params={"path": "squares.workflow.json"}))["version"] == run["content_hash"]
    # ...another document another one, stored only once a run (or an API save) makes it a version.
    square_workflow.write_text(json.dumps({**file["spec"], "title": "Squares, edited"}))
    edited = await call(jp_fetch, "workflows", params={"path": "squares.workflow.json"})
    assert edited["version"] != run["content_hash"]
    await call(jp_fetch, "versions", edited["version"], expect=404)


async def test_components_validate_and_bad_input(jp_fetch, square_workflow):
    components = (await call(jp_fetch, "components"))["components"]
    assert [c["path"] for c in components] == ["square.ipynb"]
    assert components[0]["parameters"]["x"]["type"] == "integer"
    one = await call(jp_fetch, "components", "square.ipynb")
    assert one["outputs"] == {"square": {"type": "integer"}}
    await call(jp_fetch, "components", "missing.ipynb", expect=404)
    await call(jp_fetch, "components", params={"folder": "../.."}, expect=403)

    assert (await call(jp_fetch, "validate", method="POST", body={"path": "squares.workflow.json"}))["valid"] is True
    broken = {"format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "square.ipynb", "parameters": {"y": 1}}}}
    result = await call(jp_fetch, "validate", method="POST", body={"spec": broken})
    assert result == {"valid": False, "errors": [{"pointer": "/nodes/a/parameters/y", "severity": "error",
                                                   "message": result["errors"][0]["message"]}], "warnings": []}
    refused = await call(jp_fetch, "runs", method="POST", body={"spec": broken}, expect=422)
    assert refused["errors"][0]["pointer"] == "/nodes/a/parameters/y"
    bad_input = await call(jp_fetch, "runs", method="POST",
                           body={"path": "squares.workflow.json", "inputs": {"x": "four"}}, expect=422)
    assert bad_input["errors"][0]["pointer"] == "/inputs/x"
    escape = await call(jp_fetch, "runs", method="POST", body={"path": "../outside.workflow.json"}, expect=403)
    assert "is outside" in escape["message"]
    await call(jp_fetch, "runs", method="POST", body={"path": "squares.workflow.json", "spec": {}}, expect=400)
    await call(jp_fetch, "runs", "feedface", expect=404)
    for response in (escape, refused, bad_input):
        assert "Traceback" not in json.dumps(response)


async def test_the_cli_and_the_server_share_one_store(jp_fetch, square_workflow, workflow_home):
    done = subprocess.run([str(JUPYTER), "workflow", "run", str(square_workflow), "--json"], capture_output=True, text=True)
    cli_run = json.loads(done.stdout)["run_id"]
    server_run = (await call(jp_fetch, "runs", method="POST", body={"path": "squares.workflow.json"}, expect=202))["run_id"]
    await wait_finished(jp_fetch, server_run)
    listed = await call(jp_fetch, "runs", params={"limit": "1"})
    assert len(listed["runs"]) == 1 and listed["next_cursor"]
    rest = await call(jp_fetch, "runs", params={"cursor": listed["next_cursor"]})
    assert [r["id"] for r in listed["runs"] + rest["runs"]] == [server_run, cli_run]
    assert [r["trigger"] for r in (await call(jp_fetch, "runs", params={"trigger": "cli"}))["runs"]] == ["cli"]
    cli_list = subprocess.run([str(JUPYTER), "workflow", "runs", "list", "--json"], capture_output=True, text=True)
    assert {r["id"] for r in json.loads(cli_list.stdout)} == {cli_run, server_run}


ROUTES = [
    ("GET", "openapi.json"), ("GET", "components"), ("GET", "components/square.ipynb"), ("POST", "validate"),
    ("GET", "runs"), ("POST", "runs"), ("GET", "runs/" + "0" * 32), ("POST", "runs/" + "0" * 32 + "/cancel"),
    ("POST", "runs/" + "0" * 32 + "/retry"), ("GET", "runs/" + "0" * 32 + "/nodes/a/notebook"),
    ("GET", "versions"), ("GET", "versions/" + "0" * 64), ("GET", "versions/" + "0" * 64 + "/diff/" + "1" * 64),
    ("POST", "versions/" + "0" * 64 + "/restore"), ("GET", "workflows?path=x.workflow.json"), ("PUT", "workflows"),
    ("GET", "audit"),
]


async def test_every_route_refuses_unauthenticated_requests(http_server_client, jp_http_port, jp_base_url):
    for method, route in ROUTES:
        response = await http_server_client.fetch(
            f"{jp_base_url}workflow/api/{route}", method=method, body="{}" if method in ("POST", "PUT") else None,
            raise_error=False,
        )
        assert response.code in (401, 403), (method, route, response.code)
    for route in ("events", "runs/" + "0" * 32 + "/events"):
        with pytest.raises(HTTPClientError) as refused:
            await websocket_connect(f"ws://localhost:{jp_http_port}{jp_base_url}workflow/api/{route}")
        assert refused.value.code in (401, 403)


async def call_raw(jp_fetch, *path, method="POST", body=b"", expect=400):
    """Like :func:`call`, with the body sent as given (bytes that ``json.dumps`` would not write)."""
    response = await jp_fetch("workflow", "api", *path, method=method, body=body, raise_error=False)
    text = response.body.decode()
    assert response.code == expect, text
    assert response.headers["Content-Type"].startswith("application/json"), response.headers["Content-Type"]
    return json.loads(text)


@pytest.fixture
def typed_workflow(jp_root_dir):
    make_notebook(jp_root_dir / "echo.ipynb", "n = 1.0\ns = ''", "print(n, s)")
    return write_workflow(
        jp_root_dir / "typed.workflow.json",
        {
            "format": "jupyter-workflow/1",
            "name": "typed",
            "inputs": {"n": {"type": "number", "default": 1.0}, "s": {"type": "string", "default": ""}},
            "nodes": {"echo": {"notebook": "echo.ipynb", "parameters": {"n": {"input": "n"}, "s": {"input": "s"}}}},
        },
    )


async def test_values_json_cannot_hold_are_refused_at_the_door_and_every_run_stays_readable(
    jp_fetch, typed_workflow, jp_root_dir
):
    deep = b"[" * 1000 + b"]" * 1000
    refused = {
        b"1e999": "too large for a JSON number",
        b"-1e999": "too large for a JSON number",
        b"NaN": "NaN",
        b'"\\ud800"': "lone surrogate",
        deep: "nested",
    }
    for value, reason in refused.items():
        as_input = b'{"path": "typed.workflow.json", "inputs": {"n": ' + value + b"}}"
        as_default = (b'{"format": "jupyter-workflow/1", "inputs": {"n": {"type": "number", "default": ' + value
                      + b'}}, "nodes": {"echo": {"notebook": "echo.ipynb"}}}')
        as_parameter = (b'{"format": "jupyter-workflow/1", "nodes": {"echo": {"notebook": "echo.ipynb", '
                        b'"parameters": {"s": ' + value + b"}}}}")
        for route, method, body in [
            (("runs",), "POST", as_input),
            (("validate",), "POST", as_input),
            (("runs",), "POST", b'{"spec": ' + as_default + b"}"),
            (("validate",), "POST", b'{"spec": ' + as_parameter + b"}"),
            (("workflows",), "PUT",
             b'{"path": "new.workflow.json", "base_version": null, "spec": ' + as_default + b"}"),
        ]:
            answer = await call_raw(jp_fetch, *route, method=method, body=body)
            assert reason in answer["message"] and "request body" in answer["message"], (route, value[:20], answer)
    assert not (jp_root_dir / "new.workflow.json").exists()

    listed = await call(jp_fetch, "runs", params={"limit": "500"})
    assert listed["runs"] == []  # none of these started a run
    started = await call(jp_fetch, "runs", method="POST", expect=202,
                         body={"path": "typed.workflow.json", "inputs": {"n": 1.5e300, "s": "é \U0001f600"}})
    await wait_finished(jp_fetch, started["run_id"])
    for run in (await call(jp_fetch, "runs"))["runs"]:
        assert (await call(jp_fetch, "runs", run["id"]))["inputs"] == {"n": 1.5e300, "s": "é \U0001f600"}


async def test_runs_are_listed_by_a_known_status_only(jp_fetch):
    answer = await call(jp_fetch, "runs", params={"status": "bogus"}, expect=400)
    assert answer["message"] == f"status must be one of {', '.join(RunStatus)}; got 'bogus'"
    assert answer["errors"][0]["pointer"] == "/status"
    assert (await call(jp_fetch, "runs", params={"status": "interrupted"}))["runs"] == []
    document = json.loads(files("jupyter_workflow.server").joinpath("openapi.json").read_text("utf-8"))
    [status] = [p for p in document["paths"]["/workflow/api/runs"]["get"]["parameters"] if p["name"] == "status"]
    assert status["schema"] == {"$ref": "#/components/schemas/RunStatus"}
    assert document["components"]["schemas"]["RunStatus"]["enum"] == list(RunStatus)


async def test_the_websocket_routes_answer_plain_http_in_json(jp_fetch, http_server_client, jp_base_url, caplog):
    handshake = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                 "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    cases = [
        ("events", {}, True, 400),
        ("runs/" + "0" * 32 + "/events", {}, True, 400),
        ("events?after=ten", handshake, True, 400),
        ("events?after=" + "9" * 30, handshake, True, 400),
        ("runs/" + "0" * 32 + "/events", handshake, True, 404),
        ("events", {**handshake, "Sec-WebSocket-Version": "99"}, True, 426),
        ("events", {}, False, 403),
        ("runs/" + "0" * 32 + "/events", handshake, False, 403),
    ]
    for route, headers, authenticated, status in cases:
        response = await jp_fetch("workflow", "api", *route.split("?")[0].split("/"), raise_error=False,
                                  params=dict([route.split("?")[1].split("=")]) if "?" in route else None,
                                  headers={**headers, **({} if authenticated else {"Authorization": "token wrong"})})
        assert response.code == status, (route, headers, response.code, response.body[:200])
        assert response.headers["Content-Type"] == "application/json", (route, response.headers["Content-Type"])
        assert isinstance(json.loads(response.body)["message"], str)
    assert not [record for record in caplog.records if "Uncaught exception" in record.getMessage()]


async def test_a_body_over_the_size_limit_is_refused(
    jp_fetch, http_server_client, jp_base_url, jp_auth_header, jp_serverapp
):
    limit = 10 * 1024 * 1024  # the default of WorkflowExtension.max_body_size
    too_large = b'{"path": "' + b"x" * limit + b'.workflow.json"}'
    answer = await call_raw(jp_fetch, "validate", body=too_large, expect=413)
    assert str(limit) in answer["message"]

    async def chunked(write):  # no Content-Length: the size is known only as the body streams in
        for start in range(0, len(too_large), 1 << 20):
            await write(too_large[start : start + (1 << 20)])

    response = await http_server_client.fetch(
        f"{jp_base_url}workflow/api/runs", method="POST", body_producer=chunked, headers=jp_auth_header,
        raise_error=False,
    )
    assert response.code == 413 and str(limit) in json.loads(response.body)["message"]

    # c.WorkflowExtension.max_body_size sets the limit.
    [extension] = jp_serverapp.extension_manager.extension_apps["jupyter_workflow"]
    extension.max_body_size = 1000
    await call_raw(jp_fetch, "validate", body=b'{"spec": {"name": "' + b"x" * 1000 + b'"}}', expect=413)
    await call_raw(jp_fetch, "validate", body=b'{"spec": {"name": "' + b"x" * 900 + b'"}}', expect=200)


async def test_a_large_body_is_parsed_while_other_requests_go_on(http_server_client, jp_base_url, jp_auth_header):
    """A body of millions of numbers takes a while to parse: a request that comes meanwhile is answered first."""
    body = b"[" + b",".join([b"0.5"] * 2_000_000) + b"]"  # 8 MB, under the limit; not an object: a 400 once parsed
    uploaded = asyncio.Event()

    async def upload(write):
        for start in range(0, len(body), 1 << 20):
            await write(body[start : start + (1 << 20)])
        uploaded.set()

    finished = []

    async def fetch(name, path, **kwargs):
        response = await http_server_client.fetch(f"{jp_base_url}workflow/api/{path}", headers={
            **jp_auth_header, **kwargs.pop("headers", {})}, raise_error=False, request_timeout=120, **kwargs)
        finished.append(name)
        return response

    large = asyncio.ensure_future(fetch("large", "validate", method="POST", body_producer=upload,
                                        headers={"Content-Length": str(len(body))}))
    await uploaded.wait()
    small = await fetch("small", "runs?limit=1")
    assert (await large).code == 400 and small.code == 200
    assert finished == ["small", "large"]


async def test_a_fault_inside_the_server_is_a_500_not_a_client_error(jp_fetch, jp_serverapp, monkeypatch):
    """Only named errors (NotFound, UnsafeJson, ...) become 4xx: a KeyError or ValueError from a bug is a 500."""
    [extension] = jp_serverapp.extension_manager.extension_apps["jupyter_workflow"]
    await call(jp_fetch, "runs", "0123abcd", expect=404)  # a run that does not exist: the store's RunNotFound

    for fault in (KeyError("status"), ValueError("a bug")):
        def broken(*args, fault=fault, **kwargs):
            raise fault

        monkeypatch.setattr(extension.service.store, "get_run", broken)
        answer = await call(jp_fetch, "runs", "0123abcd", expect=500)
        assert answer["message"] == "internal error: see the server log", answer
