"""Alembic's entry: run the migrations on the connection the caller hands over (see __init__)."""
from alembic import context

from webview_toolkit import device_reports  # noqa: F401  (its tables join the metadata)
from webview_toolkit.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through webview_toolkit.migrations (webview-toolkit db upgrade)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
