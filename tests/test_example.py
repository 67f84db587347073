"""The shipped reconciliation example, end to end, mailing its report to a local SMTP server."""

import csv
import email
import email.policy
import socket
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import file_digests, unchanged

import jupyter_workflow

pytestmark = pytest.mark.kernels

EXAMPLE = Path(__file__).parent.parent / "notebooks" / "reconcile.workflow.json"


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def overlap(a, b) -> bool:
    return a.started_at < b.finished_at and b.started_at < a.finished_at


def test_reconciliation_runs_and_mails_its_report(workflow_home, smtp_server):
    port, inbox = smtp_server
    before = file_digests(EXAMPLE.parent)
    run = jupyter_workflow.run(
        EXAMPLE, inputs={"smtp_host": "127.0.0.1", "smtp_port": port, "mail_to": "audit@example.test"}, parallel=2
    )

    assert run.status == "succeeded", run.error
    assert overlap(run.nodes["bank"], run.nodes["ledger"]), "the two sources should read in parallel"
    assert run.outputs["matched_count"] == 25 and run.outputs["sent"] is True
    with open(run.outputs["report_csv"].path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    statuses = [row["status"] for row in rows]
    assert statuses.count("matched") == 25 and "unmatched_left" in statuses and "unmatched_right" in statuses
    html = run.outputs["report_html"].path.read_text()
    assert "Monthly reconciliation" in html and "<table" in html

    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "audit@example.test"
    attachments = {part.get_filename(): part.get_content_type() for part in message.iter_attachments()}
    assert attachments == {"report.html": "text/html", "report.csv": "text/csv"}
    assert unchanged(before, EXAMPLE.parent)


def test_without_an_smtp_host_the_report_is_not_sent(workflow_home):
    run = jupyter_workflow.run(EXAMPLE)
    assert run.status == "succeeded", run.error
    assert run.outputs["sent"] is False
    assert run.nodes["notify"].status == "succeeded"
    assert run.outputs["report_html"].path.is_file()
