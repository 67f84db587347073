"""The reconciliation form as a business user meets it: its app notebook served by Voilà, in Debian's Chromium.

Voilà serves a copy of notebooks/ whose matching notebook waits for a gate file: a run is
held at the match node until the test opens the gate, so what happens "while a node runs"
happens for sure. Each test saves screenshots under test-screenshots/ and fails on any
console error.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from form_page import FormPage, add_gate
from playwright.sync_api import expect
from workflow_page import RUN_TIMEOUT_MS

import labsession
from browser import EXAMPLES, PHASE_REPORTS, VIEWPORT, _slug

pytestmark = pytest.mark.kernels

NODES = ["bank", "ledger", "match", "report", "notify"]
JUPYTER = Path(sys.executable).with_name("jupyter")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Voilà serving the reconciliation app on a copy of the examples whose match node waits for ``app.gate``."""
    home = tmp_path_factory.mktemp("voila")
    root = home / "notebooks"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "runs"))
    gate = home / "gate"
    add_gate(root / "components" / "fuzzy_match.ipynb", gate)
    with labsession.voila_server(home, root / "apps" / "reconciliation.ipynb") as server:
        yield SimpleNamespace(server=server, gate=gate)


@pytest.fixture
def form(request, app, browser):
    """The form in a page of its own (a kernel of its own), the gate closed; fails the test on console errors."""
    app.gate.unlink(missing_ok=True)
    context = browser.new_context(viewport=VIEWPORT)
    page = FormPage(context.new_page(), app.server.url, _slug(request.node.name))
    try:
        page.open()
        yield page
        call = request.node.stash.get(PHASE_REPORTS, {}).get("call")
        if call is not None and call.failed:
            page.screenshot("failed")
    finally:
        context.close()
    assert not page.errors, "the page logged errors:\n" + "\n".join(page.errors)


def runs(app) -> list[dict]:
    """``jupyter workflow runs list --json`` against the run store Voilà's kernels write to."""
    done = subprocess.run([str(JUPYTER), "workflow", "runs", "list", "--json"], capture_output=True, text=True,
                          env=app.server.env, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_run_from_the_form_succeeds_shows_the_matched_table_and_the_page_answers_while_it_runs(form, app):
    expect(form.page.locator(".jw-field")).to_have_count(4)
    form.slide_to("threshold", "0.7")
    expect(form.run_button).to_be_enabled()
    form.run_button.click()

    # The match node waits at the gate: the run is going.
    expect(form.node("match", "running")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(form.run_button).to_be_disabled()
    expect(form.cancel_button).to_be_enabled()
    # The kernel answers meanwhile: a port out of range is refused beside its field, then accepted.
    form.type_into("smtp_port", "70000")
    expect(form.message("smtp_port")).to_have_text("70000 is greater than the maximum 65535")
    form.screenshot("while-running")
    form.type_into("smtp_port", "25")
    expect(form.message("smtp_port")).to_have_text("")
    expect(form.node("match", "running")).to_be_visible()

    app.gate.touch()
    for node_id in NODES:
        expect(form.node(node_id, "succeeded")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(form.run_status("succeeded")).to_be_visible()
    matched = form.output("matched")
    expect(matched.locator("table")).to_be_visible()
    expect(matched.locator(".jw-row-count")).to_contain_text("rows")
    expect(matched.locator("a[download]")).to_have_attribute("download", "matched.csv")
    expect(form.run_button).to_be_enabled()
    form.screenshot()
    # The README's picture (docs/images/form.png): the form, the nodes and the matched table.
    form.screenshot("readme", down_to=".jw-output-matched")

    [run] = [run for run in runs(app) if run["status"] == "succeeded"]
    assert run["trigger"] == "form" and run["workflow_name"] == "reconcile"
    assert run["inputs"]["threshold"] == 0.7


def test_an_invalid_value_is_explained_beside_its_field_and_run_waits_for_a_valid_one(form):
    expect(form.message("smtp_port")).to_have_text("")
    form.type_into("smtp_port", "0")
    expect(form.message("smtp_port")).to_have_text("0 is less than the minimum 1")
    expect(form.run_button).to_be_disabled()
    form.screenshot()
    form.type_into("smtp_port", "587")
    expect(form.message("smtp_port")).to_have_text("")
    expect(form.run_button).to_be_enabled()


def test_a_cancelled_run_ends_its_waiting_nodes_cancelled_and_run_is_offered_again(form, app):
    form.run_button.click()
    expect(form.node("match", "running")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    form.cancel_button.click()
    for node_id in ["match", "report", "notify"]:
        expect(form.node(node_id, "cancelled")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    for node_id in ["bank", "ledger"]:
        expect(form.node(node_id, "succeeded")).to_be_visible()
    expect(form.run_status("cancelled")).to_be_visible()
    expect(form.page.locator(".jw-results .jw-cancelled")).to_have_text("The run was cancelled.")
    expect(form.run_button).to_be_enabled()
    expect(form.cancel_button).to_be_disabled()
    form.screenshot()
    assert "cancelled" in [run["status"] for run in runs(app) if run["trigger"] == "form"]
