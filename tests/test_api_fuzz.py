"""The REST API against its OpenAPI document: generated requests, good and bad, never a 5xx.

Schemathesis generates the requests from ``jupyter_workflow/server/openapi.json``: data
that fits the document and data that does not (wrong types, missing fields, path values
outside the route patterns, malformed bodies), for the REST routes and for the WebSocket
routes' plain-HTTP answers, plus a set of hand-picked nasty inputs (values JSON cannot
hold among them: ``1e999``, ``NaN``, lone surrogates). Some generated values are swapped
for real ones (a real run, node, version, notebook and workflow file) so the requests
reach past the "not found" answers. Afterwards every run the store holds still reads.

The server runs in this process on pytest-jupyter's event loop, so requests go through
the loop's asynchronous HTTP client; schemathesis only generates them. Every answer must
be below 500, free of tracebacks, a JSON ``{"message", ...}`` body when it is an error, a
status the document lists for that operation, and a body matching the documented schema
when it is a success.
"""

import asyncio
import json
import os
import random
import re
import time
from importlib.resources import files
from urllib.parse import urlencode, urlsplit

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from notebook_factory import make_notebook, write_workflow
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis import GenerationMode
from tornado.web import RequestHandler

from jupyter_workflow.events import FINAL_RUN_STATUSES
from jupyter_workflow.server.handlers import routes

pytestmark = pytest.mark.kernels

API = "/workflow/api"
MIN_REQUESTS = 1000
# Generated cases per operation and generation mode (positive and negative).
EXAMPLES_PER_MODE = 36
# Requests sent without (or with a wrong) token: one in this many.
UNAUTHENTICATED_EVERY = 12
HTTP_METHODS = ("get", "post", "put", "delete", "patch")


def strict_json(content: bytes):
    """Parse JSON as RFC 8259 has it: ``NaN`` and ``Infinity`` are not JSON (browsers reject them)."""

    def reject(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(content, parse_constant=reject)


def openapi_document() -> dict:
    return json.loads(files("jupyter_workflow.server").joinpath("openapi.json").read_text("utf-8"))


# --- the document itself ------------------------------------------------------------------


def documented_routes() -> list[tuple]:
    """The API's routes, less the JSON 404 that catches every other path."""
    return [route for route in routes() if not route[0].endswith("/.*")]


def route_to_openapi(pattern: str) -> str:
    """``/runs/(?P<run_id>[0-9a-f]{1,32})/cancel`` as ``/runs/{run_id}/cancel``."""
    return re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", r"{\1}", pattern)


def resolve(document: dict, value: dict) -> dict:
    """``value`` with its local ``$ref`` followed."""
    while "$ref" in value:
        node = document
        for part in value["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        value = node
    return value


def test_openapi_document_is_valid():
    import openapi_spec_validator as validator

    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    validator.validate(document)


def test_openapi_document_covers_every_route():
    document = openapi_document()
    documented = set(document["paths"])
    api_routes = documented_routes()
    routed = {route_to_openapi(pattern) for pattern, *_ in api_routes}
    assert routed == documented, f"undocumented: {routed - documented}; not routed: {documented - routed}"
    for pattern, handler, *_ in api_routes:
        item = document["paths"][route_to_openapi(pattern)]
        documented_methods = {m for m in HTTP_METHODS if m in item}
        implemented = {m for m in HTTP_METHODS if getattr(handler, m) is not RequestHandler._unimplemented_method}
        assert documented_methods == implemented, f"{pattern}: documented {documented_methods}, has {implemented}"
        # Path parameters carry the route's own patterns.
        parameters = [resolve(document, p) for p in item.get("parameters", [])]
        for method in documented_methods:
            parameters += [resolve(document, p) for p in item[method].get("parameters", [])]
        for name, regex in re.findall(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", pattern):
            schema = next(p["schema"] for p in parameters if p["name"] == name and p["in"] == "path")
            if regex == ".+":
                assert schema.get("minLength") == 1 and "pattern" not in schema, (pattern, name, schema)
            else:
                assert schema["pattern"] == f"^{regex}$", (pattern, name, schema)
    assert document["security"] == [{"JupyterToken": []}]
    scheme = document["components"]["securitySchemes"]["JupyterToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")


# --- the live server ----------------------------------------------------------------------


@pytest.fixture
def seeded_root(jp_root_dir):
    """The server's root folder with a few real files: notebooks, a workflow, a broken one of each."""
    make_notebook(jp_root_dir / "components" / "double.ipynb", "x: int = 1  # the number", "y = x * 2")
    make_notebook(jp_root_dir / "components" / "greet.ipynb", "name = 'world'  # who", "print('hello', name)")
    (jp_root_dir / "components" / "broken.ipynb").write_text("{not a notebook", encoding="utf-8")
    write_workflow(
        jp_root_dir / "seed.workflow.json",
        {
            "format": "jupyter-workflow/1",
            "name": "seed",
            "inputs": {"x": {"type": "integer", "default": 2}},
            "nodes": {"a": {"notebook": "components/double.ipynb", "parameters": {"x": {"input": "x"}}}},
        },
    )
    (jp_root_dir / "bad.workflow.json").write_text('{"format": ', encoding="utf-8")
    return jp_root_dir


@pytest.fixture
def jp_server_config(jp_server_config, seeded_root, workflow_home):
    """conftest's server (extension on, private store and runs folder), started after the files are seeded."""
    assert os.environ["JUPYTER_WORKFLOW_DB_URL"] == workflow_home.db_url
    return jp_server_config


class Report:
    """Counts the requests sent and keeps every answer that breaks a rule."""

    def __init__(self, document: dict):
        self.document = document
        self.sent = 0
        self.failures: dict[tuple, list[str]] = {}  # (method, operation, problems) -> examples
        self.statuses: dict[int, int] = {}
        self.operations_sent: set[str] = set()  # "METHOD /template" of every documented operation reached
        self.routes = [(re.compile(pattern + "$"), route_to_openapi(pattern)) for pattern, *_ in documented_routes()]
        self.registry = Registry().with_resource("urn:openapi", Resource(document, specification=DRAFT202012))

    def operation(self, path: str, method: str):
        """The documented operation a request path and method reach (None, None if no route matches)."""
        for regex, template in self.routes:
            if regex.match(path):
                return template, self.document["paths"][template].get(method.lower())
        return None, None

    def check(self, method: str, path: str, query: str, body, response) -> None:
        self.sent += 1
        status = response.code
        self.statuses[status] = self.statuses.get(status, 0) + 1
        content = response.body or b""
        problems = []
        if status >= 500 or status < 100:
            problems.append("server error")
        if b"Traceback" in content:
            problems.append("traceback in the body")
        template, operation = self.operation(path, method)
        if status >= 400:
            try:
                parsed = strict_json(content)
            except ValueError:
                problems.append("error body is not JSON")
            else:
                if not isinstance(parsed, dict) or not isinstance(parsed.get("message"), str):
                    problems.append('error body has no "message"')
        if operation is not None:
            self.operations_sent.add(f"{method} {template}")
            documented = operation["responses"]
            if str(status) not in documented:
                problems.append(f"status {status} not documented for {method} {template}")
            elif 200 <= status < 300 and "application/json" in documented[str(status)].get("content", {}):
                problems += self.schema_problems(documented[str(status)], content)
        if problems:
            key = (method, template or "(no route)", status, "; ".join(problems))
            shown_body = body[:300] if isinstance(body, bytes) else body
            shown_query = f"?{query[:200]}" if query else ""
            self.failures.setdefault(key, []).append(
                f"{method} {path}{shown_query} body={shown_body!r} -> {status}\n        answer: {content[:300]!r}"
            )

    def summary(self) -> str:
        """Each kind of bad answer once, with its count and first example."""
        lines = []
        for (method, template, status, problems), examples in self.failures.items():
            shown = examples if status >= 500 else examples[:1]  # every server error, one example of the rest
            lines.append(f"{method} {template} -> {status}: {problems} ({len(examples)}x), e.g.")
            lines += [f"    {example}" for example in shown]
        return "\n".join(lines)

    def schema_problems(self, response_doc: dict, content: bytes) -> list[str]:
        schema = response_doc["content"]["application/json"]["schema"]
        schema = {"$ref": "urn:openapi#" + schema["$ref"][1:]} if "$ref" in schema else schema
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry)
        try:
            errors = list(validator.iter_errors(strict_json(content)))
        except ValueError as error:
            return [f"success body is not JSON ({error})"]
        return [f"answer does not match the document: {e.json_path}: {e.message[:200]}" for e in errors[:3]]


async def send(client, report, base, method, path, *, query=None, body=None, headers=None, token=None):
    """Send one request (the loop's HTTP client) and check the answer; returns (status, parsed JSON or None)."""
    headers = dict(headers or {})
    if token is not None:
        headers["Authorization"] = f"token {token}"
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body is None and method in ("POST", "PUT", "PATCH"):
        body = b""
    query_string = urlencode(query, doseq=True, errors="surrogatepass") if query else ""
    url = base + path + ("?" + query_string if query_string else "")
    response = await client.fetch(
        url, method=method, headers=headers, body=body, raise_error=False, request_timeout=60,
        allow_nonstandard_methods=True, follow_redirects=False,
    )
    report.check(method, path, query_string, body, response)
    try:
        return response.code, json.loads(response.body or b"null")
    except ValueError:
        return response.code, None


def generate_cases(schema) -> list:
    """(case, mode) pairs: positive and negative cases for every operation of the document.

    The WebSocket routes' cases go as plain HTTP requests: their answers are documented too.
    """
    cases = []

    def collect(operation, mode):
        @settings(
            max_examples=EXAMPLES_PER_MODE,
            database=None,
            deadline=None,
            derandomize=True,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(operation.as_strategy(generation_mode=mode))
        def keep(case):
            cases.append((case, mode))

        keep()

    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            collect(result.ok(), mode)
    return cases


def plant_real_values(case, real: dict, rng: random.Random, budget: dict) -> None:
    """Swap some generated values for real ones so requests reach existing runs, files and versions."""
    for name in list(case.path_parameters or {}):
        if name == "run_id":
            case.path_parameters[name] = rng.choice([real["run_id"], real["run_id"][:6], real["retry_id"]])
        elif name == "node_id":
            case.path_parameters[name] = rng.choice(["a", "missing_node"])
        elif name in ("content_hash", "first", "second"):
            case.path_parameters[name] = rng.choice(real["versions"])
        elif name == "path":
            case.path_parameters[name] = rng.choice(
                ["components/double.ipynb", "components/broken.ipynb", "seed.workflow.json", "components"]
            )
    defined = {parameter.name for parameter in case.operation.query}
    if defined and (case.query is None or isinstance(case.query, dict)):
        case.query = dict(case.query or {})
        for name, values in {
            "folder": ["components", ".", "seed.workflow.json"],
            "path": ["seed.workflow.json", "bad.workflow.json", "components/double.ipynb"],
            "workflow": ["seed"],
            "name": ["seed", "saved"],
            "action": ["run.start", "workflow.save"],
            "target": [real["run_id"], "seed.workflow.json"],
            "cursor": [real["cursor"]],
            "status": ["succeeded", "failed"],
            "trigger": ["server", "retry"],
        }.items():
            if name in defined and (name in case.query or rng.random() < 0.3):
                case.query[name] = rng.choice(values)
    if isinstance(case.body, dict):
        if "path" in case.body:
            choices = ["bad.workflow.json", "fuzz/new.workflow.json", "components/double.ipynb"]
            if case.path == f"{API}/runs" and case.method.upper() == "POST":
                if budget["runs"] > 0:  # each of these starts a kernel: only a few
                    budget["runs"] -= 1
                    choices = ["seed.workflow.json"]
            else:
                choices.append("seed.workflow.json")
            case.body["path"] = rng.choice(choices)
        if "base_version" in case.body:
            case.body["base_version"] = rng.choice([None, *real["versions"]])


def case_request(case, token: str, rng: random.Random):
    """(method, path, query, body, headers) of a generated case, with the real token most of the time.

    Generated headers that HTTP/1.1 cannot carry (non-ASCII, line breaks) are left out.
    """
    kwargs = case.as_transport_kwargs(base_url="http://server")
    split = urlsplit(kwargs["url"])
    path = split.path
    query = []
    for key, value in (kwargs.get("params") or {}).items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                query.append((str(key), item if isinstance(item, str) else json.dumps(item)))
    if "json" in kwargs:
        body = json.dumps(kwargs["json"]).encode("utf-8")
    else:
        body = kwargs.get("data")
        if isinstance(body, str):
            body = body.encode("utf-8")
    headers = {}
    for key, value in (kwargs.get("headers") or {}).items():
        key, value = str(key), str(value)
        if key.lower() in ("connection", "content-length", "host", "transfer-encoding", "authorization"):
            continue
        if not key or not is_header_safe(key) or not is_header_safe(value) or ":" in key:
            continue
        headers[key] = value
    if rng.randrange(UNAUTHENTICATED_EVERY) == 0:
        generated = (kwargs.get("headers") or {}).get("Authorization")
        if generated is not None and is_header_safe(str(generated)):
            headers["Authorization"] = str(generated)
    else:
        headers["Authorization"] = f"token {token}"
    return kwargs["method"].upper(), path, query, body, headers


def is_header_safe(text: str) -> bool:
    return all(32 <= ord(c) < 127 or c == "\t" for c in text) and text == text.strip()


def nasty_requests(real: dict) -> list[tuple]:
    """Hand-picked malformed and hostile requests: (method, path, query, body)."""
    long_name = "x" * 300
    deep = "/".join(["d"] * 200)
    run = real["run_id"]
    version = real["versions"][0]
    bodies = [
        b"", b"{", b"[]", b'"text"', b"null", b"1", b"\xff\xfe\x00", b'{"path": 1}', b'{"spec": []}', b'{"path": null}',
        b'{"path": "seed.workflow.json", "spec": {}}', b'{"inputs": "x", "path": "seed.workflow.json"}',
        b'{"spec": {"format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "components/double.ipynb", '
        b'"parameters": {"x": NaN}}}}}',
        b'{"path": "bad.workflow.json", "inputs": {"x": Infinity}}',
        b'{"path": "seed.workflow.json", "inputs": {"x": "not a number"}}',
        b'{"a": ' * 50 + b"1" + b"}" * 50,
    ]
    requests = []
    for body in bodies:
        requests += [
            ("POST", f"{API}/validate", None, body),
            ("POST", f"{API}/runs", None, body),
            ("PUT", f"{API}/workflows", None, body),
            ("POST", f"{API}/versions/{version}/restore", None, body),
        ]
    for path in [
        long_name, f"{long_name}.workflow.json", f"{deep}/w.workflow.json", "seed.workflow.json/x.workflow.json",
        "bad.workflow.json", "a\x00b.workflow.json", "/etc/passwd", "../outside.workflow.json",
        "components/../../x.workflow.json", "components", "", "~/x.workflow.json", "components/double.ipynb",
        "\udcff.workflow.json",
    ]:
        requests += [
            ("GET", f"{API}/workflows", [("path", path)], None),
            ("GET", f"{API}/components", [("folder", path)], None),
            ("POST", f"{API}/validate", None, {"path": path}),
            ("POST", f"{API}/runs", None, {"path": path}),
            ("PUT", f"{API}/workflows", None, {"path": path, "spec": {"format": "jupyter-workflow/1"},
                                               "base_version": None}),
            ("PUT", f"{API}/workflows", None, {"path": path, "spec": {"name": ["x"]}, "base_version": version}),
            ("POST", f"{API}/versions/{version}/restore", None, {"path": path, "base_version": None}),
        ]
    for spec in [{"name": {"not": "a string"}}, {"name": ["x"]}, {"name": 5}, {"name": None}, {"name": ""},
                 {"name": "x" * 10000}, {"format": "jupyter-workflow/1", "nodes": "no"}, {"\u0000": "\u0000"}]:
        requests.append(("PUT", f"{API}/workflows", None, {"path": "fuzz/spec.workflow.json", "spec": spec,
                                                           "base_version": None}))
    requests.append(("PUT", f"{API}/workflows", None, b'{"path": "fuzz/nan.workflow.json", "spec": {"x": NaN}, '
                                                      b'"base_version": null}'))
    requests.append(("GET", f"{API}/workflows", [("path", "fuzz/nan.workflow.json")], None))
    requests += unjsonable_requests(version)
    for component in [
        long_name + ".ipynb", f"{deep}/n.ipynb", "components/double.ipynb/x", "%00", "..%2F..%2Fetc%2Fpasswd",
        "components%2Fdouble.ipynb", "seed.workflow.json", "components", "%FF%FE", "a%0Ab",
    ]:
        requests.append(("GET", f"{API}/components/{component}", None, None))
    for query in [{"limit": "0"}, {"limit": "-1"}, {"limit": "501"}, {"limit": "ten"}, {"limit": "1e3"},
                  {"limit": "99999999999999999999999"}, {"since": "2026-01-01T00:00:00"}, {"since": "yesterday"},
                  {"until": "2026-01-01T00:00:00+25:00"}, {"since": "9999-12-31T23:59:59+00:00"},
                  {"cursor": "garbage"}, {"cursor": "!!!"}, {"cursor": "W10"}, {"cursor": "WyJ4IiwxXQ"},
                  {"cursor": "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwiYSJd"}, {"cursor": real["cursor"], "limit": "1"},
                  {"status": "\x00"}, {"workflow": "x" * 5000}]:
        requests.append(("GET", f"{API}/runs", list(query.items()), None))
    for path in [f"runs/{run}", f"runs/{run[:1]}", f"runs/{'f' * 32}", f"runs/{run}/cancel", f"runs/{run}/retry",
                 f"runs/{run}/nodes/a/notebook", f"runs/{run}/nodes/zz/notebook", f"runs/{run[:3]}/nodes/a/notebook",
                 f"versions/{version}/diff/{'0' * 64}", f"versions/{'0' * 64}", f"versions/{version}/restore",
                 "audit?target=" + "t" * 400, "components?folder=components", "validate", "workflows"]:
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            target, _, query = path.partition("?")
            requests.append((method, f"{API}/{target}", [tuple(query.split("="))] if query else None, None))
    for path in ["runs/XYZ", "runs/", f"runs/{'a' * 33}", "versions/abc", "versions/" + "A" * 64, "nope",
                 "components/", "runs/abc/nodes/1x/notebook", "openapi.yaml", ""]:
        requests.append(("GET", f"{API}/{path}", None, None))
    return requests


# Values JSON cannot hold, as they appear in a request body's text.
UNJSONABLE = [b"1e999", b"-1e999", b"NaN", b"Infinity", b'"\\ud800"', b'"a\\udfffb"', b'{"\\ud800": 1}']


def unjsonable_requests(version: str) -> list[tuple]:
    """Each value JSON cannot hold: as a body, an input, a spec's default, a node parameter, a query value."""
    requests = []
    for value in UNJSONABLE:
        default = (b'{"format": "jupyter-workflow/1", "name": "u", "inputs": {"x": {"type": "number", "default": '
                   + value + b'}}, "nodes": {"a": {"notebook": "components/double.ipynb"}}}')
        parameter = (b'{"format": "jupyter-workflow/1", "name": "u", "nodes": {"a": {"notebook": '
                     b'"components/double.ipynb", "parameters": {"x": ' + value + b"}}}}")
        for body in [
            value,
            b'{"path": "seed.workflow.json", "inputs": {"x": ' + value + b"}}",
            b'{"path": "seed.workflow.json", "inputs": {"x": 1, "extra": [' + value + b"]}}",
            b'{"spec": ' + default + b"}",
            b'{"spec": ' + parameter + b', "inputs": {}}',
        ]:
            requests += [("POST", f"{API}/validate", None, body), ("POST", f"{API}/runs", None, body)]
        for spec in (default, parameter):
            requests.append(("PUT", f"{API}/workflows", None,
                             b'{"path": "fuzz/unjsonable.workflow.json", "base_version": null, "spec": ' + spec + b"}"))
        requests.append(("POST", f"{API}/versions/{version}/restore", None,
                         b'{"path": "fuzz/restored.workflow.json", "base_version": ' + value + b"}"))
        text = value.decode("ascii").strip('"')
        for name in ("limit", "since", "status", "cursor", "workflow"):
            requests.append(("GET", f"{API}/runs", [(name, text)], None))
        requests += [("GET", f"{API}/components", [("folder", text), ("limit", text)], None),
                     ("GET", f"{API}/events", [("after", text)], None)]
    for text in ["\ud800", "a\udfffb"]:  # as the lone surrogates themselves, sent in UTF-8's surrogate form
        requests += [("GET", f"{API}/runs", [("workflow", text)], None),
                     ("GET", f"{API}/workflows", [("path", text + ".workflow.json")], None)]
    return requests


async def every_run_reads(fetch, report: Report, base: str, token: str) -> int:
    """Page through every stored run and read each one: all must answer 200. Returns how many runs."""
    ids, cursor = [], None
    while True:
        query = [("limit", "500")] + ([("cursor", cursor)] if cursor else [])
        code, page = await send(fetch, report, base, "GET", f"{API}/runs", query=query, token=token)
        assert code == 200, page
        ids += [run["id"] for run in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    for run_id in ids:
        code, answer = await send(fetch, report, base, "GET", f"{API}/runs/{run_id}", token=token)
        assert code == 200, answer
    return len(ids)


async def wait_for_run(fetch, run_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        record = json.loads((await fetch("workflow", "api", "runs", run_id)).body)
        if record["status"] in FINAL_RUN_STATUSES or time.monotonic() > deadline:
            return record
        await asyncio.sleep(0.2)


async def test_generated_requests_never_fail_the_server(
    jp_serverapp, jp_fetch, jp_base_url, jp_auth_header, http_server_client, caplog
):
    started = time.monotonic()
    document = openapi_document()
    report = Report(document)
    token = jp_auth_header["Authorization"].split(" ", 1)[1]
    base = jp_base_url.rstrip("/")
    rng = random.Random(20261001)

    # One real run (one kernel), then a retry that reuses its node: real ids, a notebook, versions.
    response = await jp_fetch("workflow", "api", "runs", method="POST", body='{"path": "seed.workflow.json"}')
    assert response.code == 202
    run_id = json.loads(response.body)["run_id"]
    record = await wait_for_run(jp_fetch, run_id)
    assert record["status"] == "succeeded", record
    response = await jp_fetch("workflow", "api", "runs", run_id, "retry", method="POST", body=b"")
    retry_id = json.loads(response.body)["run_id"]
    await wait_for_run(jp_fetch, retry_id)
    spec = {"format": "jupyter-workflow/1", "name": "saved", "nodes": {"b": {"notebook": "components/greet.ipynb"}}}
    body = json.dumps({"path": "saved.workflow.json", "spec": spec, "base_version": None})
    saved = json.loads((await jp_fetch("workflow", "api", "workflows", method="PUT", body=body)).body)
    page = json.loads((await jp_fetch("workflow", "api", "runs", params={"limit": "1"})).body)
    real = {
        "run_id": run_id,
        "retry_id": retry_id,
        "versions": [record["content_hash"], saved["version"]],
        "cursor": page["next_cursor"] or "",
    }

    # Generated requests: positive and negative data for every operation (WebSocket routes as plain HTTP).
    schema = schemathesis.openapi.from_dict(document)
    cases = generate_cases(schema)
    generated_at = time.monotonic()
    budget = {"runs": 2}
    for case, mode in cases:
        if mode == GenerationMode.POSITIVE and rng.random() < 0.4:
            plant_real_values(case, real, rng, budget)
        method, path, query, body, headers = case_request(case, token, rng)
        await send(http_server_client, report, base, method, path, query=query, body=body, headers=headers)

    # Hand-picked malformed and hostile requests, then a few without a valid token.
    for method, path, query, body in nasty_requests(real):
        await send(http_server_client, report, base, method, path, query=query, body=body, token=token)
    for method, path in [("GET", "runs"), ("POST", "runs"), ("GET", f"runs/{run_id}"), ("PUT", "workflows"),
                         ("GET", "openapi.json"), ("POST", f"runs/{run_id}/retry")]:
        for auth in [None, "token wrong", "Bearer x", "token "]:
            headers = {"Authorization": auth} if auth else {}
            code, answer = await send(http_server_client, report, base, method, f"{API}/{path}",
                                      body=b"{}" if method != "GET" else None, headers=headers)
            assert code == 403, (method, path, auth, code, answer)

    # Let the runs the fuzzing started end before the server stops; then every run must still read.
    service = jp_serverapp.web_app.settings["jupyter_workflow_service"]
    if service.active:
        await asyncio.wait(list(service.active.values()), timeout=60)
    assert await every_run_reads(http_server_client, report, base, token) >= 2

    elapsed = time.monotonic() - started
    print(f"\n{report.sent} requests in {elapsed:.1f}s ({generated_at - started:.1f}s setup and generation); "
          f"statuses: {dict(sorted(report.statuses.items()))}")
    assert not report.failures, f"{sum(map(len, report.failures.values()))} bad answers:\n{report.summary()}"
    assert report.sent >= MIN_REQUESTS
    assert {"GET /workflow/api/events", "GET /workflow/api/runs/{run_id}/events"} <= report.operations_sent
    assert not [record.getMessage() for record in caplog.records if "Uncaught exception" in record.getMessage()]
