"""Shared fixtures: every test gets its own run store (a real SQLite file) and runs folder.

Store tests take ``store_url`` and run twice: on a SQLite file and on a database of its own in
the session's private PostgreSQL cluster (tests/postgres.py), started once, at the first
test that needs it. ``pytest -m "not postgresql"`` leaves the PostgreSQL variants out.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, settings

from jupyter_workflow.model.schema import import_jsonschema
from postgres import ClusterUnavailable, start_cluster

# Property-based tests: 400 examples each in the full suite; `make test-fast` asks for the
# "quick" profile (`--hypothesis-profile=quick`), 50 examples each.
settings.register_profile(
    "thorough",
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("quick", settings.get_profile("thorough"), max_examples=50)
settings.load_profile("thorough")


@pytest.fixture
def workflow_home(request, tmp_path, monkeypatch):
    """A private store and runs folder, set through the documented environment variables.

    The store is a SQLite file; a test of processes sharing a store runs on both databases with
    ``@pytest.mark.parametrize("workflow_home", DATABASES, indirect=True)``.
    """
    kind = getattr(request, "param", "sqlite")
    db_url = f"sqlite:///{tmp_path / 'store' / 'workflow.db'}" if kind == "sqlite" else empty_database(
        kind, tmp_path, request)
    home = SimpleNamespace(db_url=db_url, runs_dir=tmp_path / "runs")
    monkeypatch.setenv("JUPYTER_WORKFLOW_DB_URL", home.db_url)
    monkeypatch.setenv("JUPYTER_WORKFLOW_RUNS_DIR", str(home.runs_dir))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter-config"))
    return home


@pytest.fixture(scope="session")
def postgres_cluster():
    """The session's private PostgreSQL cluster; the tests that need it skip, saying why, where it cannot run."""
    try:
        cluster = start_cluster()
    except ClusterUnavailable as error:
        pytest.skip(f"PostgreSQL: {error}")
    yield cluster
    cluster.stop()


DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def empty_database(kind: str, folder: Path, request: pytest.FixtureRequest) -> str:
    """The URL of an empty database of ``kind``: a SQLite file in ``folder``, or a new PostgreSQL database."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'store.db'}"
    return request.getfixturevalue("postgres_cluster").new_database()


@pytest.fixture(params=DATABASES)
def store_url(request, tmp_path) -> str:
    """The URL of an empty run store: a SQLite file in the test's folder, then a PostgreSQL database."""
    return empty_database(request.param, tmp_path, request)


@pytest.fixture
def store(store_url):
    """An open run store at ``store_url`` (a module may define a ``store`` of its own)."""
    from jupyter_workflow.store import RunStore

    store = RunStore(store_url)
    yield store
    store.close()


def file_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every notebook under ``folder``: proves sources are left untouched."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*.ipynb"))}


def unchanged(before: dict[str, str], folder: Path) -> bool:
    """Whether every notebook digested in ``before`` still has the same bytes."""
    after = file_digests(folder)
    return all(after.get(path) == digest for path, digest in before.items())


def process_gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting to be reaped counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z"


# jsonschema is imported as the commands import it, without the IRI grammar (see
# jupyter_workflow/model/schema.py): the Jupyter server plugin below would build it, and
# every pytest run would pay 1 s for a format no test's server checks.
import_jsonschema()
# browser.py: JupyterLab in Debian's Chromium for the panel's end-to-end tests (tests/ui/).
pytest_plugins = ["pytest_jupyter.jupyter_server", "browser"]


@pytest.fixture
def jp_server_config(workflow_home):
    """A real Jupyter server with the extension enabled, on the test's private store."""
    return {"ServerApp": {"jpserver_extensions": {"jupyter_workflow": True}}}


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The project built as a wheel, the way pip builds it for an install (test_packaging.py, tests/ui/)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out),
         str(Path(__file__).resolve().parent.parent)],
        check=True, capture_output=True, timeout=300,
    )
    [built] = out.glob("jupyter_workflow-*.whl")
    return built
