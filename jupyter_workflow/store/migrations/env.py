"""Alembic environment of the run store.

``RunStore`` hands over an open connection in ``config.attributes["connection"]``; without
one, the URL in the ``sqlalchemy.url`` option is used. To write a new migration after
changing the models::

    from alembic import command
    from jupyter_workflow.store.schema import alembic_config
    command.revision(alembic_config("sqlite:///dev.db"), "what changed", autogenerate=True, rev_id="0003")
"""

from alembic import context
from sqlalchemy import create_engine

from jupyter_workflow.store.models import Base


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        run_migrations(connection)
    engine.dispose()
