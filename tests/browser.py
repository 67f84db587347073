"""Browser tests: a real JupyterLab started from this environment, driven in Debian's Chromium.

Loaded as a pytest plugin by tests/conftest.py; the server, the browser and the page helpers
themselves are in tests/labsession.py (shared with the panel benchmark). Fixtures:

- ``lab_server`` (session): ``jupyter lab`` from the venv on a free port, in a temporary folder
  holding a copy of notebooks/, with its own workspaces, settings, run store and runs folder;
- ``browser`` (module): Debian's Chromium (``/usr/bin/chromium``) launched by Playwright for
  Python; no browser is ever downloaded;
- ``lab`` (test): a fresh browser context on a workspace of the test's own, JupyterLab loaded and
  restored. The test fails if the page logs a console error or throws. ``lab.screenshot()`` saves
  ``test-screenshots/<test name>.png``; a failing test leaves ``<test name>-failed.png`` there.

A module of browser tests replaces pytest-jupyter's autouse ``jp_asyncio_loop`` and
``jp_server_cleanup`` with fixtures giving None, as tests/ui/conftest.py does: Playwright's sync API
keeps its event loop running in the test thread, which those fixtures would take and close.

The tests wait for conditions (Playwright's ``expect`` and ``wait_for_*``), never for fixed times.
"""

from __future__ import annotations

import re
import shutil

import pytest

import labsession
from labsession import CHROMIUM, REPO, UI_TIMEOUT_MS, VIEWPORT, Lab, LabServer, launch_chromium, wait_until  # noqa: F401

EXAMPLES = REPO / "notebooks"


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory) -> LabServer:
    """``jupyter lab`` from this environment on a copy of the examples, stopped at the end of the session."""
    home = tmp_path_factory.mktemp("lab")
    root = home / "files"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "runs"))
    with labsession.lab_server(home, root) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright; one per test module."""
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


PHASE_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, for the ``lab`` fixture's screenshot of a failure."""
    report = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")


@pytest.fixture
def lab(request, lab_server, browser):
    """JupyterLab loaded on a workspace of this test's own; fails the test on any console error."""
    if request.getfixturevalue("jp_asyncio_loop") is not None:
        pytest.fail(
            "a browser test module replaces pytest-jupyter's jp_asyncio_loop and jp_server_cleanup "
            "fixtures with ones giving None (see tests/ui/conftest.py): they would take Playwright's running loop"
        )
    test_name = _slug(request.node.name)
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    app = Lab(lab_server, page, workspace=_slug(f"{request.module.__name__}-{test_name}").lower(), test_name=test_name)
    try:
        app.load()
        yield app
        reports = request.node.stash.get(PHASE_REPORTS, {})
        if reports.get("call") is not None and reports["call"].failed:
            app.screenshot("failed")
    finally:
        context.close()
    assert not app.errors, "the page logged errors:\n" + "\n".join(app.errors)
