"""Notifications after a scheduled run: email to a real SMTP server, webhooks to a real HTTP server, results on the fire."""

import email
import email.policy
import json
import re
import socket
import ssl
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import numpy
import pandas
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from test_store import make_run

from jupyter_workflow.config import WorkflowConfig
from jupyter_workflow.events import Event
from jupyter_workflow.runtime.artifacts import write_artifact
from jupyter_workflow.schedules.notify import Notifier, check_notify, notify_after_run, output_summary, webhook_body
from jupyter_workflow.store import RunStore
from jupyter_workflow.store.models import Fire, Schedule

T0 = datetime(2026, 12, 1, 5, 0, tzinfo=timezone.utc)
SCHEDULE_ID = "5" * 32
RUN_ID = "9" * 32
NOTIFICATIONS_MD = Path(__file__).resolve().parent.parent / "docs" / "notifications.md"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self) -> list:
        return [email.message_from_bytes(envelope.content, policy=email.policy.default) for envelope in self.envelopes]


@pytest.fixture
def smtp():
    """A real SMTP server on a loopback port; ``.inbox`` holds what it received."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SimpleNamespace(port=controller.port, inbox=inbox)
    controller.stop()


@pytest.fixture
def tls_smtp(tmp_path, monkeypatch):
    """A real SMTP server that requires STARTTLS (a self-signed certificate the client trusts) and a login ops/s3cret."""
    certificate, key = tmp_path / "certificate.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True, timeout=60)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # what ssl.create_default_context() trusts
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)

    def authenticate(server, session, envelope, mechanism, login):
        # handled=False: aiosmtpd answers a refused login itself (535)
        return AuthResult(success=(login.login, login.password) == (b"ops", b"s3cret"), handled=False)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True,
                            authenticator=authenticate, auth_required=True)
    controller.start()
    yield SimpleNamespace(port=controller.port, inbox=inbox)
    controller.stop()


@pytest.fixture
def webhook():
    """A real HTTP server on a loopback port: answers each POST with the next of ``.answers`` (then 200)."""
    received, answers = [], []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(SimpleNamespace(path=self.path, headers=self.headers, body=json.loads(body)))
            status = answers.pop(0) if answers else 200
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/moved")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}/services/T000/secret-token",
                          origin=f"http://127.0.0.1:{server.server_port}", received=received, answers=answers)
    server.shutdown()
    server.server_close()
    thread.join()


def settings(**changes) -> WorkflowConfig:
    return WorkflowConfig(**{"smtp_host": "127.0.0.1", "smtp_from": "jupyter-workflow@example.com",
                             "server_url": "https://lab.example.com/base/", **changes})


class Waits(list):
    """A ``sleep`` that notes the waits asked for and waits for none."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def scheduled_run(store: RunStore, tmp_path, notify: dict, status: str) -> int:
    """A run of schedule "monthly" made by its fire and ended ``status``, as a worker leaves it; the fire's id."""
    with store._session.begin() as session:
        session.add(Schedule(id=SCHEDULE_ID, name="monthly", workflow_path=str(tmp_path / "demo.workflow.json"),
                             content_hash=None, cron="0 6 1 * *", timezone="Europe/Berlin", inputs={}, enabled=True,
                             catch_up="skip", catch_up_limit=10, max_concurrent=1, retries=0, notify=notify,
                             owner="ada", created_at=T0, updated_at=T0, version=1, next_fire_at=None,
                             last_fire_at=T0))
        session.flush()
        fire = Fire(schedule_id=SCHEDULE_ID, scheduled_for=T0, fired_at=T0 + timedelta(seconds=0.4), status="claimed",
                    reason=None, run_id=None, scheduler="scheduler-test", notifications=[])
        session.add(fire)
        session.flush()
        fire_id = fire.id
    run = make_run(tmp_path, RUN_ID)
    assert store.enqueue(run, fire_id=fire_id)

    folder = run.run_dir / "a"
    folder.mkdir(parents=True)
    table = write_artifact(folder, "table", pandas.DataFrame({"amount": [1.5, 2.5, 4.0]}))
    node = run.nodes["a"]
    run.status, run.started_at = "running", T0 + timedelta(seconds=1)
    store.record(run, Event("run.started", run.run_id, None, {"inputs": {}}, time=run.started_at))
    node.status, node.attempt, node.started_at = status, 1, run.started_at
    node.finished_at, node.notebook = T0 + timedelta(seconds=19), str(folder / "a.ipynb")
    run.outputs.update(table=table, matched_count=25, note="bank statement read " * 10)
    if status == "failed":
        node.error = {"ename": "ValueError", "evalue": "no rows in the ledger for 2026-11\nsee the log",
                      "traceback": "Traceback ...\nValueError: no rows in the ledger for 2026-11"}
        run.error = {"node": "a", **node.error}
    store.record(run, Event("node.finished", run.run_id, "a", {"status": status}, time=node.finished_at))
    run.status, run.finished_at = status, T0 + timedelta(seconds=20)
    store.record(run, Event("run.finished", run.run_id, None, {"status": status}, time=run.finished_at))
    return fire_id


def stored_notifications(store: RunStore, fire_id: int) -> list:
    return store.fire_with_schedule(fire_id)[0].notifications


def test_the_email_reaches_each_address_with_the_facts_of_the_run(store, tmp_path, smtp):
    fire_id = scheduled_run(store, tmp_path, {"email": ["ops@example.com", "lead@example.com"]}, "failed")

    results = notify_after_run(store, settings(smtp_port=smtp.port), RUN_ID)

    assert results == [{"target": "ops@example.com", "kind": "email", "ok": True, "attempts": 1},
                       {"target": "lead@example.com", "kind": "email", "ok": True, "attempts": 1}]
    assert [envelope.rcpt_tos for envelope in smtp.inbox.envelopes] == [["ops@example.com"], ["lead@example.com"]]
    assert {envelope.mail_from for envelope in smtp.inbox.envelopes} == {"jupyter-workflow@example.com"}
    message = smtp.inbox.messages()[0]
    assert message["Subject"] == "[jupyter-workflow] monthly: failed"
    assert (message["To"], message["From"]) == ("ops@example.com", "jupyter-workflow@example.com")
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    run_dir = tmp_path / "runs" / RUN_ID
    for fact in ("The scheduled run of demo failed.",
                 f"Schedule: monthly ({SCHEDULE_ID})",
                 "Fired for: 2026-12-01T05:00:00+00:00",
                 f"Run: {RUN_ID}",
                 "Finished: 2026-12-01T05:00:20+00:00 (19.0 s)",
                 "Error: The node a failed: ValueError: no rows in the ledger for 2026-11",
                 "  matched_count: 25",
                 "  table: pandas.DataFrame, 3 rows",
                 f"Report folder: {run_dir}",
                 f"  a: {run_dir / 'a' / 'a.ipynb'}",
                 f"Link: https://lab.example.com/base/workflow/api/runs/{RUN_ID}"):
        assert fact in body.splitlines(), fact
    assert "see the log" not in body  # the error's first line only
    assert [result["target"] for result in stored_notifications(store, fire_id)] == ["ops@example.com",
                                                                                   "lead@example.com"]


def test_the_webhook_receives_the_documented_body(store, tmp_path, webhook):
    fire_id = scheduled_run(store, tmp_path, {"webhook": webhook.url, "on": ["success"]}, "succeeded")

    results = notify_after_run(store, settings(), RUN_ID)

    assert results == [{"target": webhook.origin + "/…", "kind": "webhook", "ok": True, "attempts": 1}]
    [request] = webhook.received
    assert request.path == "/services/T000/secret-token"
    assert request.headers["Content-Type"] == "application/json"
    body = request.body
    assert key_shape(body) == key_shape(documented_body())
    run_dir = tmp_path / "runs" / RUN_ID
    assert body == {
        "text": "monthly: succeeded",
        "schedule": {"id": SCHEDULE_ID, "name": "monthly"},
        "fire": {"id": fire_id, "scheduled_for": "2026-12-01T05:00:00+00:00",
                 "fired_at": "2026-12-01T05:00:00.400000+00:00"},
        "run": {"id": RUN_ID, "workflow": "demo", "workflow_path": str(tmp_path / "demo.workflow.json"),
                "status": "succeeded", "started_at": "2026-12-01T05:00:01+00:00",
                "finished_at": "2026-12-01T05:00:20+00:00", "duration_s": 19.0, "error": None,
                "outputs": {"table": "pandas.DataFrame, 3 rows", "matched_count": 25,
                            "note": ("bank statement read " * 4)[:79] + "…"}},
        "report": {"folder": str(run_dir), "notebooks": {"a": str(run_dir / "a" / "a.ipynb")},
                   "url": f"https://lab.example.com/base/workflow/api/runs/{RUN_ID}"},
    }
    assert stored_notifications(store, fire_id) == [{**results[0], "run_id": RUN_ID}]


def test_the_email_goes_over_starttls_with_a_login(store, tmp_path, tls_smtp):
    scheduled_run(store, tmp_path, {"email": ["ops@example.com"]}, "failed")
    secure = settings(smtp_port=tls_smtp.port, smtp_starttls=True, smtp_username="ops", smtp_password="s3cret")

    assert notify_after_run(store, secure, RUN_ID) == [
        {"target": "ops@example.com", "kind": "email", "ok": True, "attempts": 1}]
    assert [message["Subject"] for message in tls_smtp.inbox.messages()] == ["[jupyter-workflow] monthly: failed"]


def test_a_refused_login_is_not_tried_again(store, tmp_path, tls_smtp):
    scheduled_run(store, tmp_path, {"email": ["ops@example.com"]}, "failed")
    waits = Waits()
    wrong = settings(smtp_port=tls_smtp.port, smtp_starttls=True, smtp_username="ops", smtp_password="guess")

    [result] = notify_after_run(store, wrong, RUN_ID, sleep=waits)

    assert (result["ok"], result["attempts"], waits, tls_smtp.inbox.envelopes) == (False, 1, [], [])
    assert result["error"].startswith("SMTPAuthenticationError: (535")


def test_a_notify_stored_without_its_check_is_recorded_as_refused(store, tmp_path, smtp):
    fire_id = scheduled_run(store, tmp_path, {"email": "ops@example.com"}, "failed")

    results = notify_after_run(store, settings(smtp_port=smtp.port), RUN_ID)

    assert results == [{"target": "notify", "kind": "settings", "ok": False, "attempts": 0,
                        "error": "/notify/email: must be a list of email addresses"}]
    assert smtp.inbox.envelopes == []
    assert stored_notifications(store, fire_id) == [{**results[0], "run_id": RUN_ID}]


def test_a_webhook_failing_twice_is_delivered_on_the_third_attempt(store, tmp_path, webhook):
    scheduled_run(store, tmp_path, {"webhook": webhook.url}, "failed")
    run = store.get_run(RUN_ID)
    fire, schedule = store.fire_with_schedule(run.fire_id)
    webhook.answers.extend([500, 503])
    waits = Waits()

    [result] = Notifier(settings(), sleep=waits).notify(schedule, run, fire)

    assert (result["ok"], result["attempts"], "error" in result) == (True, 3, False)
    assert len(webhook.received) == 3
    assert waits == [2.0, 4.0]


def test_a_notification_that_always_fails_is_recorded_on_the_fire_and_raises_nothing(store, tmp_path, webhook):
    closed_port = free_port()
    fire_id = scheduled_run(store, tmp_path, {"email": ["ops@example.com"], "webhook": webhook.url}, "failed")
    webhook.answers.extend([500] * 3)
    waits = Waits()

    results = notify_after_run(store, settings(smtp_port=closed_port), RUN_ID, sleep=waits)

    email_result, webhook_result = results
    assert (email_result["ok"], email_result["attempts"]) == (False, 3)
    assert re.search(r"refused", email_result["error"], re.IGNORECASE)
    assert webhook_result == {"target": webhook.origin + "/…", "kind": "webhook", "ok": False, "attempts": 3,
                              "error": "HTTP 500 Internal Server Error"}
    assert len(webhook.received) == 3
    assert waits == [2.0, 4.0, 2.0, 4.0]
    assert stored_notifications(store, fire_id) == [{**result, "run_id": RUN_ID} for result in results]
    assert store.get_run(RUN_ID).status == "failed"


def test_an_answer_saying_the_request_is_wrong_is_not_tried_again(store, tmp_path, webhook):
    scheduled_run(store, tmp_path, {"webhook": webhook.url}, "failed")
    webhook.answers.append(404)
    waits = Waits()

    [result] = notify_after_run(store, settings(), RUN_ID, sleep=waits)

    assert (result["ok"], result["attempts"], result["error"]) == (False, 1, "HTTP 404 Not Found")
    assert waits == []


def test_a_redirect_is_not_followed(store, tmp_path, webhook):
    scheduled_run(store, tmp_path, {"webhook": webhook.url}, "failed")
    webhook.answers.append(302)

    [result] = notify_after_run(store, settings(), RUN_ID, sleep=Waits())

    assert (result["ok"], result["attempts"], result["error"]) == (False, 1, "HTTP 302 Found")
    assert [request.path for request in webhook.received] == ["/services/T000/secret-token"]


def test_a_succeeded_run_sends_nothing_when_only_failures_are_asked_for(store, tmp_path, smtp, webhook):
    fire_id = scheduled_run(store, tmp_path, {"email": ["ops@example.com"], "webhook": webhook.url,
                                              "on": ["failure"]}, "succeeded")

    assert notify_after_run(store, settings(smtp_port=smtp.port), RUN_ID) == []

    assert (smtp.inbox.envelopes, webhook.received, stored_notifications(store, fire_id)) == ([], [], [])


def test_a_run_no_schedule_made_notifies_nobody(store, tmp_path):
    run = make_run(tmp_path, RUN_ID)
    store.begin(run)
    assert notify_after_run(store, settings(), RUN_ID) == []


def test_results_add_up_on_the_fire_and_an_unknown_fire_records_nothing(store, tmp_path):
    fire_id = scheduled_run(store, tmp_path, {}, "failed")
    first = {"target": "ops@example.com", "kind": "email", "ok": True, "attempts": 1, "run_id": "1" * 32}
    second = {**first, "run_id": "2" * 32}
    assert store.record_notifications(fire_id, [first])
    assert store.record_notifications(fire_id, [second])
    assert stored_notifications(store, fire_id) == [first, second]
    assert not store.record_notifications(fire_id + 1, [first])
    assert store.fire_with_schedule(fire_id + 1) is None


@pytest.mark.parametrize(("notify", "problems"), [
    ({}, []),
    ({"email": ["ops@example.com", "ops@localhost"], "webhook": "https://hooks.example.com/x", "on": ["success"]}, []),
    ({"webhook": None, "on": ["failure", "success"]}, []),
    ([], ["/notify: must be an object with the optional keys email, webhook and on"]),
    ({"emails": []}, ["/notify/emails: unknown key 'emails': the keys are email, webhook and on"]),
    ({"email": "ops@example.com"}, ["/notify/email: must be a list of email addresses"]),
    ({"email": ["ops", "Ops <ops@example.com>", "ops@example.com\nBcc: x@y.z", 3]},
     ["/notify/email/0: 'ops' is not an email address",
      "/notify/email/1: 'Ops <ops@example.com>' is not an email address",
      "/notify/email/2: 'ops@example.com\\nBcc: x@y.z' is not an email address",
      "/notify/email/3: 3 is not an email address"]),
    ({"webhook": "file:///etc/passwd"}, ["/notify/webhook: must be an http:// or https:// URL, or null"]),
    ({"webhook": "https://"}, ["/notify/webhook: must be an http:// or https:// URL, or null"]),
    ({"on": []}, ['/notify/on: must list "failure", "success" or both']),
    ({"on": ["failure", "always"]}, ["/notify/on/1: 'always' is neither \"failure\" nor \"success\""]),
    ({"on": [["failure"]]}, ["/notify/on/0: ['failure'] is neither \"failure\" nor \"success\""]),
])
def test_check_notify_names_each_problem_at_its_place(notify, problems):
    assert [str(problem) for problem in check_notify(notify)] == problems


def test_outputs_are_summarised_never_copied(tmp_path):
    assert [output_summary(value) for value in (25, 0.5, True, None, "short")] == [25, 0.5, True, None, "short"]
    assert output_summary("x" * 200) == "x" * 79 + "…"
    assert output_summary({"rows": list(range(100))}).startswith('{"rows": [0, 1, 2')
    assert len(output_summary({"rows": list(range(100))})) == 80
    array = write_artifact(tmp_path, "array", numpy.zeros((12, 3)))
    assert output_summary(array) == "numpy.ndarray, 12 rows"
    report = tmp_path / "report.csv"
    report.write_text("a,b\n1,2\n")
    assert output_summary(write_artifact(tmp_path, "report", report)) == "file report.csv"
    assert output_summary(write_artifact(tmp_path, "blob", b"\0" * 2048)) == "bytes, 2.0 kB"


def test_the_documented_body_keys_are_each_explained(store, tmp_path):
    scheduled_run(store, tmp_path, {}, "failed")
    run = store.get_run(RUN_ID)
    fire, schedule = store.fire_with_schedule(run.fire_id)
    body = webhook_body(schedule, run, fire, settings(server_url=""))
    assert body["report"]["url"] is None
    assert body["text"] == "monthly: failed. The node a failed: ValueError: no rows in the ledger for 2026-11"
    explained = set(re.findall(r"^\| `([^|]*)` \|", NOTIFICATIONS_MD.read_text(), re.MULTILINE))
    explained = {name for cell in explained for name in cell.split("`, `")}
    keys = {f"{key}.{inner}" if isinstance(value, dict) else key
            for key, value in body.items() for inner in (value if isinstance(value, dict) else [None])}
    assert keys - explained == set()


def key_shape(body: dict) -> dict:
    """The keys of a webhook body and of its objects, leaving out the ones that name outputs and nodes."""
    return {key: sorted(value) if isinstance(value, dict) else None for key, value in body.items()}


def documented_body() -> dict:
    text = NOTIFICATIONS_MD.read_text()
    section = text.split("## The webhook body", 1)[1]
    return json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])


def test_the_documented_settings_are_traits_with_their_documented_defaults():
    section = NOTIFICATIONS_MD.read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", section, re.MULTILINE)
    defaults = WorkflowConfig()
    assert len(documented) == 9
    for name, default in documented:
        value = getattr(defaults, name)
        if name == "smtp_from":
            assert value == f"jupyter-workflow@{socket.gethostname()}"
        else:
            assert default in (json.dumps(value), repr(value)), name
