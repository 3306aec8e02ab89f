"""Alembic environment: migrations run on the connection handed over by storage.db.Records."""

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlalchemy.engine import Connection

config = context.config
connection = config.attributes.get("connection")


def _run(conn: Connection) -> None:
    # SQLite cannot ALTER most things in place; batch mode copies tables when a revision needs it.
    context.configure(connection=conn, render_as_batch=True, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
