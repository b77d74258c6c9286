"""Alembic environment: runs on the connection the catalog hands over, or on a URL.

``core.catalog.upgrade_schema`` passes its open connection in ``config.attributes``; the
``alembic`` command line can be used too, with ``-x url=...`` or VIDSEARCH settings.
"""
from alembic import context

from core.catalog import Base, make_engine

target_metadata = Base.metadata
config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from core.settings import Settings

    url = context.get_x_argument(as_dictionary=True).get("url") or Settings().catalog_url
    with make_engine(url).connect() as conn:
        _run(conn)
        conn.commit()
