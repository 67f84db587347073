"""Settings shared by the CLI, the Python API and the server.

One name per setting everywhere: the traitlets class ``WorkflowConfig`` (in
``jupyter_workflow_config.py`` or ``.json`` on the Jupyter config path, or the server's
config), the environment (``JUPYTER_WORKFLOW_DB_URL``, ``JUPYTER_WORKFLOW_RUNS_DIR``), and
the CLI flags ``--db`` and ``--runs-dir``. A flag beats the environment, which beats a
config file, which beats the default (under the Jupyter data directory).
"""

import os
import socket
from pathlib import Path

from jupyter_core.paths import jupyter_config_path, jupyter_data_dir
from traitlets import Bool, Float, Int, List, Unicode, default
from traitlets.config import Config, Configurable
from traitlets.config.loader import ConfigFileNotFound, JSONFileConfigLoader, PyFileConfigLoader

DB_URL_ENV = "JUPYTER_WORKFLOW_DB_URL"
RUNS_DIR_ENV = "JUPYTER_WORKFLOW_RUNS_DIR"
CONFIG_FILE_NAME = "jupyter_workflow_config"


def data_dir() -> Path:
    return Path(jupyter_data_dir()) / "workflow"


class WorkflowConfig(Configurable):
    """Where runs are stored, how many nodes run at once, and the kernels they run in."""

    db_url = Unicode(help=f"SQLAlchemy URL of the run store (env {DB_URL_ENV}).").tag(config=True)
    runs_dir = Unicode(help=f"Folder for executed notebooks and artifacts (env {RUNS_DIR_ENV}).").tag(config=True)
    parallel = Int(0, help="Nodes run at once; 0 means the number of CPUs.").tag(config=True)
    pool_size = Int(
        0, help="Kernels started ahead of need, per kernelspec; 0 means parallel + 2."
    ).tag(config=True)
    python_kernel = Unicode(
        "jupyter-workflow",
        help="Kernelspec that runs nodes whose notebooks ask for python3 (the node kernel, "
        "with the runtime preloaded); empty to run them in python3 itself.",
    ).tag(config=True)
    preload_modules = List(
        Unicode(), help="Modules the node kernel imports before it is handed to a node, e.g. ['pandas']."
    ).tag(config=True)

    # Workers: queued runs executed without a lab server (jupyter_workflow.schedules.worker).
    queue_retries = Int(
        1, help="Times a queued run without a schedule (run --queue) is retried after its worker was lost."
    ).tag(config=True)
    server_workers = Int(
        0, help="Queued runs the Jupyter server executes at once, as a worker; 0: the server runs no worker."
    ).tag(config=True)

    # Notifications: the email and webhook sent after a scheduled run ends (docs/notifications.md)
    smtp_host = Unicode("localhost", help="SMTP server that sends notification emails.").tag(config=True)
    smtp_port = Int(25, help="Port of the SMTP server.").tag(config=True)
    smtp_username = Unicode("", help="User name to log in to the SMTP server with; empty: no login.").tag(config=True)
    smtp_password = Unicode("", help="Password to log in to the SMTP server with.").tag(config=True)
    smtp_starttls = Bool(False, help="Switch the SMTP connection to TLS (STARTTLS) before logging in and sending.").tag(
        config=True)
    smtp_from = Unicode(help="Sender address of notification emails (default jupyter-workflow@<hostname>).").tag(
        config=True)
    notify_attempts = Int(3, min=1, help="Attempts to deliver each notification before it is recorded as failed.").tag(
        config=True)
    notify_backoff_s = Float(
        2.0, min=0.0, help="Seconds before the second attempt of a notification; each later wait doubles."
    ).tag(config=True)
    server_url = Unicode(
        "", help="Base URL of the Jupyter server, e.g. https://lab.example.com/, for links to runs in notifications; "
        "empty: no links."
    ).tag(config=True)

    @default("smtp_from")
    def _default_smtp_from(self):
        return f"jupyter-workflow@{socket.gethostname()}"

    # Schedules: the scheduler that fires them (jupyter_workflow.schedules.scheduler)
    scheduler = Bool(True, help="Run the scheduler inside the Jupyter server").tag(config=True)
    scheduler_poll_s = Float(
        1.0, help="The longest the scheduler waits between two looks at the schedules, in seconds."
    ).tag(config=True)

    @default("db_url")
    def _default_db_url(self):
        return f"sqlite:///{data_dir() / 'workflow.db'}"

    @default("runs_dir")
    def _default_runs_dir(self):
        return str(data_dir() / "runs")

    @property
    def max_parallel(self) -> int:
        return self.parallel if self.parallel > 0 else (os.cpu_count() or 1)

    @property
    def max_pool_size(self) -> int:
        """Kernels started ahead per kernelspec: ``pool_size``, or parallel + 2 when it is 0."""
        return self.pool_size if self.pool_size > 0 else self.max_parallel + 2

    def start_fork_server(self):
        """Start the node kernel's fork server now, if nodes will use it; else None.

        For :meth:`kernel_pool`: a command starts it first, so that it gets ready while
        the command is still loading.
        """
        if not self.python_kernel or not hasattr(os, "fork"):
            return None
        from jupyter_workflow.runtime.kernel import start_fork_server

        return start_fork_server(self.preload_modules)

    def kernel_pool(self, keep_warm: bool, fork_process=None):
        """A :class:`~jupyter_workflow.engine.KernelPool` with these settings.

        ``keep_warm``: keep kernels ready between runs (a server, a Python session), not
        only for the nodes of runs in progress (a command that exits after its run).
        ``fork_process``: a fork server from :meth:`start_fork_server`.
        """
        from jupyter_workflow.engine.pool import KernelPool

        fork_server = None
        if fork_process is not None:
            from jupyter_workflow.engine.forking import ForkServer

            fork_server = ForkServer(self.preload_modules, fork_process)
        return KernelPool(
            self.max_pool_size,
            keep_warm=keep_warm,
            python_kernel=self.python_kernel,
            preload=self.preload_modules,
            fork_server=fork_server,
        )


def load_config_files() -> Config:
    """``jupyter_workflow_config.{json,py}`` merged from the Jupyter config path."""
    merged = Config()
    for folder in reversed(jupyter_config_path()):
        for loader_class in (JSONFileConfigLoader, PyFileConfigLoader):
            suffix = ".json" if loader_class is JSONFileConfigLoader else ".py"
            try:
                merged.merge(loader_class(CONFIG_FILE_NAME + suffix, path=folder).load_config())
            except ConfigFileNotFound:
                continue
    return merged


def resolve_config(db_url: str | None = None, runs_dir: str | None = None, parallel: int | None = None,
                   config: Config | None = None) -> WorkflowConfig:
    """The effective settings: explicit values, then the environment, then config files."""
    settings = WorkflowConfig(config=config if config is not None else load_config_files())
    for name, explicit, env in (("db_url", db_url, DB_URL_ENV), ("runs_dir", runs_dir, RUNS_DIR_ENV)):
        value = explicit or os.environ.get(env)
        if value:
            setattr(settings, name, str(value))
    if parallel is not None:
        settings.parallel = parallel
    return settings
