"""The "Workflow schedules" sidebar, as a user sees it: in a real JupyterLab, in Debian's Chromium.

From the open workflow's toolbar (its Schedule… button) the sidebar opens its form: typing a cron expression
shows its next five fire times, a bad one (or a bad zone) its problem next to the field with Create disabled;
Create lists the schedule with its next fire in its zone; Run now adds a fire whose links open
the run in the run history and the version it ran read-only; Disable and Delete (confirmed) act on the list. Screenshots go to
test-screenshots/; any console error fails the test.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from workflow_page import HISTORY_ID, SCHEDULES_ID, open_schedules, open_workflow, toolbar_button

pytestmark = pytest.mark.kernels

PREVIEW_URL = "/workflow/api/schedules/preview"


@pytest.fixture
def schedules_of(lab, example_copy):
    """The schedules of the example's copy, as the server lists them; deleted afterwards (the server is shared)."""

    def listed() -> list[dict]:
        return [s for s in lab.server.api("workflow/api/schedules")["schedules"] if s["workflow_path"].endswith(example_copy)]

    yield listed
    for schedule in listed():
        lab.server.api(f"workflow/api/schedules/{schedule['id']}", method="DELETE")


def refused_previews(lab) -> list[str]:
    """Takes out of the page's errors the browser's own line for each refused preview (422), which
    it logs for any answer outside 2xx; what is left must be empty as for every browser test.
    Called last: the browser may log a refusal a moment after the page shows it."""
    refused = [e for e in lab.errors if "status of 422" in e and PREVIEW_URL in e]
    lab.errors[:] = [e for e in lab.errors if e not in refused]
    return refused


def test_a_schedule_made_from_the_open_workflow_is_listed_fires_and_goes(lab, example_copy, schedules_of):
    workflow = json.loads((lab.server.root / example_copy).read_text())
    panel = open_workflow(lab, example_copy, len(workflow["nodes"]))

    # Schedule… in the editor's toolbar opens the sidebar on a form for this file, in the browser's zone.
    toolbar_button(panel, "schedules").click()
    sidebar = lab.page.locator(f"#{SCHEDULES_ID}")
    expect(sidebar).to_be_visible()
    form = sidebar.locator(".jp-WorkflowSchedules-form")
    expect(form.locator(".jp-WorkflowSchedules-formTitle code")).to_have_attribute("title", example_copy)
    browser_zone = lab.page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    zone = form.locator(".jp-WorkflowSchedules-timezone")
    expect(zone).to_have_value(browser_zone)
    create = form.locator(".jp-WorkflowSchedules-create")
    expect(create).to_be_disabled()

    # Typing an expression shows its next five fire times, in words, in the zone chosen.
    zone.fill("Europe/Berlin")
    cron = form.locator(".jp-WorkflowSchedules-cron")
    cron.press_sequentially("0 6 1 * *", delay=30)
    times = form.locator(".jp-WorkflowSchedules-preview li")
    expect(times).to_have_count(5)
    texts = times.all_inner_texts()
    assert len(set(texts)) == 5 and all(re.search(r"\b0?6:00\b", t) for t in texts), texts
    expect(form.locator(".jp-WorkflowSchedules-preset[data-cron='0 6 1 * *']")).to_have_class(re.compile(r"\bjp-mod-active\b"))
    expect(create).to_be_enabled()
    lab.screenshot("preview")

    # A bad expression: its problem next to the field, no fire times, Create disabled.
    cron.fill("61 6 * * *")
    problem = form.locator(".jp-WorkflowSchedules-problem[data-field='cron']")
    expect(problem).to_contain_text("61")
    expect(times).to_have_count(0)
    expect(cron).to_have_attribute("aria-invalid", "true")
    expect(create).to_be_disabled()
    lab.screenshot("bad-expression")

    # A zone that does not exist: its problem next to the zone field.
    zone.fill("Europe/Atlantis")
    zone_problem = form.locator(".jp-WorkflowSchedules-problem[data-field='timezone']")
    expect(zone_problem).to_contain_text("Europe/Atlantis")
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(create).to_be_disabled()
    zone.fill("Europe/Berlin")
    expect(zone_problem).to_have_count(0)

    # A preset puts its expression in the field, with its fire times again.
    form.locator(".jp-WorkflowSchedules-preset[data-cron='0 6 1 * *']").click()
    expect(cron).to_have_value("0 6 1 * *")
    expect(problem).to_have_count(0)
    expect(times).to_have_count(5)
    expect(create).to_be_enabled()
    create.click()
    expect(form).to_have_count(0)

    # Listed with its next fire read in its zone, as the server stored it.
    (schedule,) = schedules_of()
    assert (schedule["cron"], schedule["timezone"], schedule["enabled"]) == ("0 6 1 * *", "Europe/Berlin", True)
    item = sidebar.locator(f".jp-WorkflowSchedules-item[data-schedule-id='{schedule['id']}']")
    expect(item).to_have_attribute("data-enabled", "true")
    expect(item.locator(".jp-WorkflowSchedules-itemCron")).to_have_text("0 6 1 * *")
    expect(item.locator(".jp-WorkflowSchedules-zone")).to_have_text("Europe/Berlin")
    next_fire = item.locator(".jp-WorkflowSchedules-next")
    expect(next_fire).to_have_attribute("title", schedule["next_fire_at"])
    expect(next_fire).to_contain_text(re.compile(r"\b06:00\b.*\(in \d+ days?\)"))
    expect(item.locator(".jp-WorkflowSchedules-last")).to_have_text("never")
    lab.screenshot("listed")

    # Run now adds a fire with its run; the last fire and its status show.
    item.locator(".jp-WorkflowSchedules-runNow").click()
    fires = item.locator(".jp-WorkflowSchedules-fire")
    expect(fires).to_have_count(1)
    run_id = fires.first.get_attribute("data-run-id")
    (fire,) = lab.server.api(f"workflow/api/schedules/{schedule['id']}/fires")["fires"]
    assert fire["run_id"] == run_id
    last = item.locator(".jp-WorkflowSchedules-last")
    expect(last).to_have_attribute("title", fire["fired_at"])
    expect(last).to_contain_text(re.compile(r"\d\d:\d\d"))
    expect(last.locator(".jp-WorkflowSchedules-lastStatus")).to_have_text(fire["run_status"])
    lab.screenshot("run-now")

    # The fire's link opens its run in the run history.
    fires.first.locator(".jp-WorkflowSchedules-runLink").click()
    history = lab.page.locator(f"#{HISTORY_ID}")
    expect(history).to_be_visible()
    expect(history.locator(f".jp-WorkflowHistory-details[data-run-id='{run_id}']")).to_be_visible()
    lab.screenshot("run-in-history")

    # Its other link opens the workflow the run was made from, read-only, beside the editor.
    sidebar = open_schedules(lab)
    fires.first.locator(".jp-WorkflowSchedules-versionLink").click()
    version_tab = lab.page.locator(".lm-DockPanel .lm-TabBar-tab").filter(has_text=re.compile(r"@ [0-9a-f]{8}$"))
    expect(version_tab).to_have_count(1)
    expect(lab.page.locator(f"#jp-workflow-version-{run_id}")).to_be_visible()
    lab.screenshot("run-version")

    # Disable: no next fire; Delete asks first, then the schedule goes.
    item.locator(".jp-WorkflowSchedules-toggle").click()
    expect(item).to_have_attribute("data-enabled", "false")
    expect(item.locator(".jp-WorkflowSchedules-toggle")).to_have_text("Enable")
    assert schedules_of()[0]["enabled"] is False
    item.locator(".jp-WorkflowSchedules-delete").click()
    dialog = lab.page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("0 6 1 * *")
    lab.screenshot("delete")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(item).to_have_count(0)
    assert schedules_of() == []

    # The browser logged each refused preview (the bad expression's) as an error of its own.
    assert refused_previews(lab), "the bad expression was not refused by the server"


def test_the_palette_opens_the_schedules_which_ask_for_an_open_workflow_to_make_one(lab):
    lab.page.keyboard.press("Control+Shift+C")
    palette = lab.page.locator(".lm-CommandPalette")
    palette.locator(".lm-CommandPalette-input").fill("Schedule Workflow")
    palette.locator(".lm-CommandPalette-itemLabel").filter(has_text=re.compile(r"^Schedule Workflow…$")).click()
    sidebar = lab.page.locator(f"#{SCHEDULES_ID}")
    expect(sidebar).to_be_visible()
    # No workflow is open: nothing to schedule, no form, and the list is read.
    expect(sidebar.locator(".jp-WorkflowSchedules-form")).to_have_count(0)
    expect(sidebar.locator(".jp-WorkflowSchedules-open")).to_be_disabled()
    expect(sidebar.locator(".jp-WorkflowSchedules-hint")).to_have_text("Open a workflow to schedule it.")
    expect(sidebar.locator(".jp-WorkflowSchedules-statusLine")).to_have_text(re.compile(r"^(No schedules\.|\d+ schedules?)$"))
    lab.screenshot()
