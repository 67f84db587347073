"""A private PostgreSQL cluster for a test session: Debian's server programs, a loopback port, a temp folder.

:func:`start_cluster` runs ``initdb`` in a new temporary folder and ``pg_ctl start`` on a free
port of 127.0.0.1 (its socket in that folder too), and waits until the server accepts
connections. Each test then asks the cluster for an empty database of its own
(:meth:`Cluster.new_database`), so tests stay independent while the cluster starts once.
As root, the server programs run as the ``postgres`` user (PostgreSQL refuses to run as
root) on a folder that user owns. :meth:`Cluster.stop` stops the server and removes the folder.

The cluster is for tests only: no fsync, no password (``trust`` on loopback).
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

SERVER_USER = "postgres"
START_TIMEOUT_S = 60
# Another process may take the free port found before the server binds it: then another port.
PORT_ATTEMPTS = 3
# Durability is not what a test checks: skipping the flushes makes each commit, each
# CREATE DATABASE and the cluster's creation several times cheaper. The sessions' time zone
# is far from UTC (+12:45 or +13:45), so that a time stored or read without its zone shows.
TEST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "timezone=Pacific/Chatham")


class ClusterUnavailable(Exception):
    """PostgreSQL cannot be run here; the message says why (the PostgreSQL tests skip with it)."""


def server_bin_dir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: on the PATH, or Debian's newest /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda path: int(Path(path).parts[-3]))
    if not debian:
        raise ClusterUnavailable(
            "PostgreSQL's server programs (initdb, pg_ctl) are not installed: `make test` installs Debian's "
            "postgresql package when run as root, or run `sudo apt-get install -y postgresql`")
    return Path(debian[-1]).parent


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    """A running PostgreSQL server of the test session, on 127.0.0.1:``port``."""

    folder: Path
    port: int  # 0 until it is started
    bin_dir: Path
    as_user: list[str]
    _numbers: count = field(default_factory=lambda: count(1))

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this cluster (driver psycopg 3)."""
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database, ``test_<n>``; its URL."""
        import psycopg

        name = f"test_{next(self._numbers)}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=SERVER_USER, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server if it runs (open sessions are ended) and remove its folder."""
        if (self.folder / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", str(self.folder / "data"), "-m", "fast", "-w", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, str(self.bin_dir / program), *args], capture_output=True, text=True,
                              timeout=START_TIMEOUT_S, check=check)


def _as_user() -> list[str]:
    """The command prefix that runs a server program as a user PostgreSQL accepts: as root, ``postgres``."""
    if os.geteuid() != 0:
        return []
    try:
        import pwd

        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ClusterUnavailable(f"running as root, and there is no {SERVER_USER!r} user to run PostgreSQL as "
                                 "(Debian's postgresql package creates it)") from None
    return ["runuser", "-u", SERVER_USER, "--"]


def _wait_until_accepting(cluster: Cluster) -> None:
    """Return once the server takes a connection; raise with the last error after :data:`START_TIMEOUT_S`."""
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            psycopg.connect(host="127.0.0.1", port=cluster.port, user=SERVER_USER, dbname="postgres",
                            connect_timeout=5).close()
            return
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise ClusterUnavailable(f"PostgreSQL did not accept connections on port {cluster.port}: {error}")
            time.sleep(0.05)


def _start_server(cluster: Cluster, log: Path) -> None:
    """``pg_ctl start`` on a free port, another one if that port was taken meanwhile, until it accepts connections."""
    for attempt in range(PORT_ATTEMPTS):
        cluster.port = free_port()
        options = " ".join([f"-p {cluster.port}", f"-k {cluster.folder}", "-c listen_addresses=127.0.0.1",
                            *(f"-c {setting}" for setting in TEST_SETTINGS)])
        started = cluster._run("pg_ctl", "start", "-D", str(cluster.folder / "data"), "-l", str(log), "-o", options,
                               "-w", check=False)
        if started.returncode == 0:
            return _wait_until_accepting(cluster)
        if "Address already in use" not in log.read_text() or attempt == PORT_ATTEMPTS - 1:
            raise subprocess.CalledProcessError(started.returncode, started.args, started.stdout, started.stderr)


def start_cluster() -> Cluster:
    """Create and start a private cluster; raise :class:`ClusterUnavailable` saying why it cannot be."""
    try:
        import psycopg  # noqa: F401  (the driver the store's URL names)
    except ImportError:
        raise ClusterUnavailable("the psycopg driver is not installed (the test extra brings psycopg[binary])") from None
    bin_dir, as_user = server_bin_dir(), _as_user()
    folder = Path(tempfile.mkdtemp(prefix="jupyter-workflow-pg-"))
    if as_user:
        shutil.chown(folder, SERVER_USER, SERVER_USER)
    cluster = Cluster(folder, 0, bin_dir, as_user)
    log = folder / "server.log"
    try:
        cluster._run("initdb", "-D", str(folder / "data"), "-U", SERVER_USER, "--auth=trust", "--encoding=UTF8",
                     "--locale=C", "--no-sync")
        _start_server(cluster, log)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, ClusterUnavailable, OSError) as error:
        said = [getattr(error, "stderr", None) or str(error), log.read_text() if log.exists() else ""]
        cluster.stop()
        detail = "\n".join(text.strip() for text in said if text.strip())
        raise ClusterUnavailable(f"could not start a PostgreSQL cluster with {bin_dir}: {detail}") from error
    return cluster
