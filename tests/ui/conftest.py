"""Fixtures of the browser tests (the server, the browser and the page come from tests/browser.py)."""

import shutil

import pytest


# pytest-jupyter's autouse fixtures would take Playwright's running event loop for an in-process
# server these tests do not start (and close it): every browser test replaces them.
@pytest.fixture
def jp_asyncio_loop():
    return None


@pytest.fixture
def jp_server_cleanup():
    return None


@pytest.fixture
def created(lab):
    """The files a test creates in the server's folder, removed afterwards (the server is shared)."""
    paths: list = []
    yield paths
    for path in paths:
        (lab.server.root / path).unlink(missing_ok=True)


@pytest.fixture
def example_copy(lab, request):
    """A copy of the example workflow named after the test module (``test_panel_inputs`` → ``inputs.workflow.json``),
    removed afterwards (the server is shared); its name."""
    name = request.module.__name__.rsplit("_", 1)[-1] + ".workflow.json"
    path = lab.server.root / name
    shutil.copy(lab.server.root / "reconcile.workflow.json", path)
    yield name
    path.unlink(missing_ok=True)
