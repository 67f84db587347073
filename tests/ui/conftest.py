"""Fixtures of the browser tests (the server, the browser and the page come from tests/browser.py)."""

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
