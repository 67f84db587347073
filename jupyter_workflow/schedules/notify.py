"""Notifications after a scheduled run ends: an email and/or a webhook, as its schedule asks.

A schedule's ``notify`` is ``{"email": [ADDRESS, ...], "webhook": URL | null, "on": [EVENT, ...]}``,
each key optional; an event is ``failure`` (the run failed, was interrupted or cancelled) or
``success`` (it succeeded), and ``on`` defaults to ``["failure"]``. :func:`check_notify` says
what is wrong with such a value.

:func:`webhook_body` is the JSON document a webhook receives (docs/notifications.md explains
each key), :func:`email_message` the email with the same facts. A :class:`Notifier` sends
them, each target retried with a growing wait, and answers one result per target; it never
raises: a notification that cannot be delivered is logged and reported, and never fails the
run. :func:`notify_after_run` is what a worker calls when a run ends: it finds the run's
fire and schedule, notifies, and records the results on the fire.
"""

import json
import logging
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from jupyter_workflow.config import WorkflowConfig
from jupyter_workflow.events import RunStatus
from jupyter_workflow.model.problems import Problem, pointer
from jupyter_workflow.runtime.artifacts import ArtifactRef, uri_to_path
from jupyter_workflow.store import RunStore
from jupyter_workflow.store.records import FireRecord, RunRecord, ScheduleRecord

log = logging.getLogger(__name__)

# The events a schedule may be notified of, and the run statuses that make each.
EVENTS = {
    "success": frozenset({RunStatus.SUCCEEDED}),
    "failure": frozenset({RunStatus.FAILED, RunStatus.INTERRUPTED, RunStatus.CANCELLED}),
}
DEFAULT_EVENTS = ["failure"]
# How an email's first line says a run ended.
ENDINGS = {RunStatus.SUCCEEDED: "succeeded", RunStatus.FAILED: "failed", RunStatus.CANCELLED: "was cancelled",
           RunStatus.INTERRUPTED: "was interrupted"}
NOTIFY_KEYS = ("email", "webhook", "on")
SUBJECT_PREFIX = "[jupyter-workflow]"
TIMEOUT_S = 10.0  # for one attempt to connect and deliver
TEXT_LIMIT = 80  # characters of an output's text in a summary
# An address as a schedule gives it: no display name, nothing that could start another header.
ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
# HTTP answers worth another attempt among the 4xx ones: a timeout, too early, too many requests.
RETRIED_CLIENT_ERRORS = (408, 425, 429)


class Undeliverable(Exception):
    """A notification that no attempt can deliver (a target that is not http or https)."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook answering with a redirect has not received the body: urllib would go on with a GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_WEBHOOK_OPENER = urllib.request.build_opener(_NoRedirects)


def check_notify(value) -> list[Problem]:
    """What is wrong with a schedule's ``notify`` value; each problem's pointer starts at ``/notify``."""
    if not isinstance(value, dict):
        return [Problem(pointer("notify"), "must be an object with the optional keys email, webhook and on")]
    problems = [Problem(pointer("notify", key), f"unknown key {key!r}: the keys are email, webhook and on")
                for key in value if key not in NOTIFY_KEYS]
    addresses = value.get("email", [])
    if not isinstance(addresses, list):
        problems.append(Problem(pointer("notify", "email"), "must be a list of email addresses"))
    else:
        problems += [Problem(pointer("notify", "email", index), f"{address!r} is not an email address")
                     for index, address in enumerate(addresses)
                     if not (isinstance(address, str) and ADDRESS.fullmatch(address))]
    webhook = value.get("webhook")
    if webhook is not None and not (isinstance(webhook, str) and _is_web_url(webhook)):
        problems.append(Problem(pointer("notify", "webhook"), "must be an http:// or https:// URL, or null"))
    events = value.get("on", DEFAULT_EVENTS)
    if not isinstance(events, list) or not events:
        problems.append(Problem(pointer("notify", "on"), 'must list "failure", "success" or both'))
    else:
        problems += [Problem(pointer("notify", "on", index), f"{event!r} is neither \"failure\" nor \"success\"")
                     for index, event in enumerate(events) if not (isinstance(event, str) and event in EVENTS)]
    return problems


def _is_web_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not re.search(r"\s", text)


def wanted(notify: dict, status: str) -> bool:
    """Whether a run that ended ``status`` is one the schedule's ``notify`` asks to be told of."""
    return any(status in EVENTS.get(event, ()) for event in notify.get("on", DEFAULT_EVENTS))


def error_sentence(run: RunRecord) -> str | None:
    """Why the run did not succeed, in one sentence; None when it succeeded."""
    if run.status == RunStatus.SUCCEEDED:
        return None
    if run.error:
        detail = f"{run.error.get('ename', 'Error')}: {run.error.get('evalue', '')}".strip().rstrip(":")
        detail = detail.splitlines()[0] if detail else "no message"
        where = f"The node {run.error['node']} failed" if run.error.get("node") else "The run failed"
        return f"{where}: {_shortened(detail, 300)}"
    if run.status == RunStatus.INTERRUPTED:
        return "The run was interrupted: the process running it ended before it finished."
    if run.status == RunStatus.CANCELLED:
        return "The run was cancelled."
    return f"The run ended {run.status}."


def output_summary(value):
    """A run output as a notification shows it: a number, boolean or short text as it is, else a short text.

    An artifact is ``"<type>, N rows"`` when its rows can be counted from its file's header
    (Parquet, NumPy), ``"file <name>"`` for a file, else ``"<type>, <size>"``; a table is
    never copied.
    """
    if isinstance(value, ArtifactRef):
        return _artifact_summary(value.meta)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return _shortened(text, TEXT_LIMIT)


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _artifact_summary(meta: dict) -> str:
    kind = meta.get("type") or meta.get("format", "artifact")
    rows = _row_count(meta)
    if rows is not None:
        return f"{kind}, {rows} row{'s' if rows != 1 else ''}"
    if meta.get("format") == "file":
        return f"file {uri_to_path(meta['uri']).name}"
    size = meta.get("size", 0)
    return f"{kind}, {size / 1_000_000:.1f} MB" if size >= 100_000 else f"{kind}, {size / 1000:.1f} kB"


def _row_count(meta: dict) -> int | None:
    """The rows of a table or array artifact, read from its file's header; None when unknown."""
    try:
        path = uri_to_path(meta["uri"])
        if meta.get("format") == "parquet":
            import pyarrow.parquet

            return pyarrow.parquet.read_metadata(path).num_rows
        if meta.get("format") == "npy":
            import numpy

            shape = numpy.load(path, mmap_mode="r", allow_pickle=False).shape
            return shape[0] if shape else None
    except (ImportError, OSError, ValueError) as error:
        log.debug("no row count for the artifact %s: %s", meta.get("uri"), error)
    return None


def run_url(settings: WorkflowConfig, run_id: str) -> str | None:
    """The run in the server's REST API, when ``server_url`` is set."""
    if not settings.server_url:
        return None
    return f"{settings.server_url.rstrip('/')}/workflow/api/runs/{run_id}"


def webhook_body(schedule: ScheduleRecord, run: RunRecord, fire: FireRecord, settings: WorkflowConfig) -> dict:
    """The JSON document a webhook receives after ``run`` (made by ``fire`` of ``schedule``) ended.

    ``run`` should have its nodes loaded (:meth:`RunStore.get_run`) for the executed
    notebooks to be listed. docs/notifications.md documents every key.
    """
    error = error_sentence(run)
    return {
        "text": f"{schedule.name}: {run.status}" + (f". {error}" if error else ""),
        "schedule": {"id": schedule.id, "name": schedule.name},
        "fire": {"id": fire.id, "scheduled_for": fire.scheduled_for.isoformat(), "fired_at": fire.fired_at.isoformat()},
        "run": {
            "id": run.id,
            "workflow": run.workflow_name,
            "workflow_path": run.workflow_path,
            "status": run.status,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "duration_s": run.duration_s,
            "error": error,
            "outputs": {name: output_summary(value) for name, value in run.outputs.items()},
        },
        "report": {
            "folder": run.run_dir,
            "notebooks": {node.node_id: node.notebook for node in run.nodes or [] if node.notebook},
            "url": run_url(settings, run.id),
        },
    }


def email_text(body: dict) -> str:
    """The plain text of a notification email: the facts of :func:`webhook_body`, one a line."""
    schedule, fire, run, report = body["schedule"], body["fire"], body["run"], body["report"]
    duration = "" if run["duration_s"] is None else f" ({run['duration_s']:.1f} s)"
    lines = [
        f"The scheduled run of {run['workflow']} {ENDINGS.get(run['status'], 'ended ' + run['status'])}.",
        "",
        f"Schedule: {schedule['name']} ({schedule['id']})",
        f"Fired for: {fire['scheduled_for']}",
        f"Workflow: {run['workflow']}" + (f" ({run['workflow_path']})" if run["workflow_path"] else ""),
        f"Run: {run['id']}",
        f"Status: {run['status']}",
        f"Started: {run['started_at'] or '-'}",
        f"Finished: {run['finished_at'] or '-'}{duration}",
    ]
    if run["error"]:
        lines.append(f"Error: {run['error']}")
    if run["outputs"]:
        lines += ["", "Outputs:"] + [f"  {name}: {_plain(value)}" for name, value in run["outputs"].items()]
    lines += ["", f"Report folder: {report['folder']}"]
    if report["notebooks"]:
        lines += ["Executed notebooks:"] + [f"  {node}: {path}" for node, path in report["notebooks"].items()]
    if report["url"]:
        lines.append(f"Link: {report['url']}")
    return "\n".join(lines) + "\n"


def _plain(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def email_message(schedule: ScheduleRecord, run: RunRecord, fire: FireRecord, settings: WorkflowConfig,
                  to: list[str]) -> EmailMessage:
    """The email telling ``to`` how ``run`` ended: subject ``[jupyter-workflow] <schedule>: <status>``."""
    message = EmailMessage()
    message["Subject"] = f"{SUBJECT_PREFIX} {schedule.name}: {run.status}"
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    message.set_content(email_text(webhook_body(schedule, run, fire, settings)))
    return message


def shown_target(url: str) -> str:
    """A webhook URL as results and logs show it: its origin only, since the rest often holds a token."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return origin + ("/…" if parts.path.strip("/") or parts.query else "")


def describe(error: Exception) -> str:
    """What went wrong with one attempt, in a line."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"cannot reach the webhook: {error.reason}"
    return f"{type(error).__name__}: {error}".rstrip(": ")


def retried(error: Exception) -> bool:
    """Whether another attempt may succeed where this ``error`` happened.

    Not after an answer that says the request itself is wrong: an HTTP 3xx or 4xx (except a
    timeout or a rate limit), an SMTP 5xx, or a target that can never be delivered to.
    """
    if isinstance(error, Undeliverable):
        return False
    if isinstance(error, urllib.error.HTTPError):
        return not 300 <= error.code < 500 or error.code in RETRIED_CLIENT_ERRORS
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(not 500 <= code < 600 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return not 500 <= error.smtp_code < 600
    return True


class Notifier:
    """Sends the notifications of ended scheduled runs with ``settings`` (SMTP, attempts, backoff, server URL).

    ``sleep`` waits between attempts (tests give one that does not wait).
    """

    def __init__(self, settings: WorkflowConfig, sleep=time.sleep):
        self.settings = settings
        self._sleep = sleep

    def notify(self, schedule: ScheduleRecord, run: RunRecord, fire: FireRecord) -> list[dict]:
        """Send what ``schedule.notify`` asks for a run that ended as ``run`` did; block until done.

        Nothing is sent when the run's status is not one of the events in ``on``. Answers one
        result per target (each address, the webhook): ``{"target", "kind", "ok", "attempts"}``
        and ``"error"`` when not delivered; a ``notify`` that :func:`check_notify` refuses
        sends nothing and answers one result of kind ``settings`` saying why. Never raises.
        """
        notify = schedule.notify or {}
        problems = check_notify(notify)
        if problems:  # stored without the API's check: say so where the results are read
            error = "; ".join(str(problem) for problem in problems)
            log.warning("the notifications of schedule %s cannot be sent: %s", schedule.id, error)
            return [{"target": "notify", "kind": "settings", "ok": False, "attempts": 0, "error": error}]
        if not wanted(notify, run.status):
            return []
        targets = [("email", address, lambda address=address: self._send_email(
            email_message(schedule, run, fire, self.settings, [address]))) for address in notify.get("email", [])]
        if notify.get("webhook"):
            url = notify["webhook"]
            targets.append(("webhook", shown_target(url),
                            lambda: self._post(url, webhook_body(schedule, run, fire, self.settings))))
        return [self._deliver(kind, target, send) for kind, target, send in targets]

    def _deliver(self, kind: str, target: str, send) -> dict:
        """Call ``send`` until it succeeds, it fails for good, or the attempts are spent."""
        attempts = self.settings.notify_attempts
        for attempt in range(1, attempts + 1):
            try:
                send()
                log.info("the %s notification to %s was delivered (attempt %d)", kind, target, attempt)
                return {"target": target, "kind": kind, "ok": True, "attempts": attempt}
            except Exception as error:  # any failure is reported in the result, never raised
                if attempt >= attempts or not retried(error):
                    log.warning("the %s notification to %s failed after %d attempt%s: %s", kind, target, attempt,
                                "s" if attempt != 1 else "", describe(error))
                    return {"target": target, "kind": kind, "ok": False, "attempts": attempt, "error": describe(error)}
                wait = self.settings.notify_backoff_s * 2 ** (attempt - 1)
                log.info("the %s notification to %s failed (%s); attempt %d in %.1f s", kind, target,
                         describe(error), attempt + 1, wait)
                self._sleep(wait)

    def _send_email(self, message: EmailMessage) -> None:
        settings = self.settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)

    @staticmethod
    def _post(url: str, body: dict) -> None:
        if not _is_web_url(url):
            raise Undeliverable("a webhook must be an http:// or https:// URL")
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "jupyter-workflow"},
        )
        with _WEBHOOK_OPENER.open(request, timeout=TIMEOUT_S) as response:
            response.read()


def notify_after_run(store: RunStore, settings: WorkflowConfig, run_id: str, sleep=time.sleep) -> list[dict]:
    """Send the notifications of the ended run ``run_id`` and record them on its fire; the results.

    A run that no schedule's fire made notifies nobody. Each result is recorded on the fire
    (``fires.notifications``) with the ``run_id`` it was sent for, so a fire whose run was
    retried keeps those of every run. Never raises: a store or delivery failure is logged.
    ``sleep`` waits between attempts (see :class:`Notifier`).
    """
    results: list[dict] = []
    try:
        run = store.get_run(run_id)
        if run.fire_id is None:
            return results
        found = store.fire_with_schedule(run.fire_id)
        if found is None:
            return results
        fire, schedule = found
        results = Notifier(settings, sleep).notify(schedule, run, fire)
        if results:
            store.record_notifications(fire.id, [{**result, "run_id": run.id} for result in results])
    except Exception:  # a notification never fails the run it tells of
        log.exception("the notifications of run %s could not be sent or recorded", run_id)
    return results
