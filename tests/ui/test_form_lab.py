"""Open as Form, in a real JupyterLab in Debian's Chromium: the workflow's form in a tab, rendered by Voilà.

The server writes the app notebook beside the workflow when there is none; the tab shows
Voilà's page of it (Voilà's server extension is in this environment). The test saves
screenshots under test-screenshots/ and fails on any console error, the form's frame's too.
"""

import re

import nbformat
import pytest
from form_page import PAGE_TIMEOUT_MS, offline
from playwright.sync_api import expect
from workflow_page import open_workflow, toolbar_button

pytestmark = pytest.mark.kernels

APP = "apps/lab.ipynb"  # the app of example_copy's workflow, lab.workflow.json


def test_open_as_form_writes_the_app_and_shows_its_form_in_one_tab(lab, created, example_copy):
    offline(lab.page, lab.server.url)
    created.append(APP)
    assert not (lab.server.root / APP).exists()
    panel = open_workflow(lab, example_copy, 5)

    toolbar_button(panel, "open-as-form").click()
    tab = lab.tab("lab (form)")
    expect(tab).to_have_class(re.compile(r"\blm-mod-current\b"))
    form = lab.page.frame_locator(".jp-WorkflowForm iframe")
    expect(form.locator(".jw-form .jw-run")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(form.locator(".jw-field")).to_have_count(4)
    expect(form.locator(".jw-header")).to_contain_text("Monthly reconciliation")
    [cell] = nbformat.read(lab.server.root / APP, as_version=4).cells
    assert cell.source.endswith('WorkflowForm("../lab.workflow.json")')
    lab.screenshot()

    # From the file browser's menu, the same form comes to the front: no second tab.
    lab.tab(example_copy).click()
    lab.file_item(example_copy).click(button="right")
    lab.page.locator(".lm-Menu-item[data-command='jupyter-workflow:open-as-form']").click()
    expect(tab).to_have_class(re.compile(r"\blm-mod-current\b"))
    expect(lab.tab("lab (form)")).to_have_count(1)
    lab.screenshot("again")

    # Offline, Voilà's page inside JupyterLab may get no MathJax from its CDN, and then says so as it starts.
    if "page error: MathJax is not defined" in lab.errors:
        lab.errors.remove("page error: MathJax is not defined")
