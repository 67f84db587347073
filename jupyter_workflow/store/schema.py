"""The store's schema version: bringing a database to the newest Alembic migration.

The migrations are in ``migrations/versions``; a store already at :data:`HEAD_REVISION`
opens with one query and without loading Alembic. Several processes may open one
database at once: the first migrates, the others wait for it and find the work done.
"""

from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from jupyter_workflow.store.errors import StoreUnavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration's revision, raised with each new migration: a store already there
# opens without loading Alembic.
HEAD_REVISION = "0003"
# Key of the PostgreSQL advisory lock held while migrating.
MIGRATION_LOCK_KEY = 0x6A7077


def alembic_config(db_url: str | None = None):
    """The Alembic configuration of the store's migrations (no ini file needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if db_url is not None:
        config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return config


def _lock_for_migration(connection: Connection) -> None:
    """Make other processes wait while this one migrates (SQLite transactions already do)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")


def _revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _at_head(engine: Engine) -> bool:
    """Whether the schema is at :data:`HEAD_REVISION`, asked with one query."""
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD_REVISION
    except (DBAPIError, StoreUnavailable):  # no version table yet, or another process is creating the file
        return False  # then the migration's transaction waits its turn (or says why it cannot)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest migration unless it is there already."""
    if _at_head(engine):
        return
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        _lock_for_migration(connection)
        if _revision(connection) != HEAD_REVISION:  # another process may have just migrated
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
