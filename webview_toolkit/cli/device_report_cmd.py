"""`webview-toolkit device-report`: the device-test reports of the configured database, as CSV or JSON."""
from __future__ import annotations

import json

import click

from .db_cmd import _instance_path, database_url


@click.command("device-report")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="CSV: one line per device and app; JSON: one object per device.")
def device_report(fmt: str) -> None:
    """Print what testers recorded on /device-test (devices × apps)."""
    from .. import device_reports
    from ..migrations import SchemaError
    from ..store import OrderStore

    try:
        store = OrderStore(database_url(_instance_path()))
    except SchemaError as exc:
        raise click.ClickException(str(exc))
    try:
        reports = device_reports.list_reports(store.engine)
    finally:
        store.dispose()
    if fmt == "csv":
        click.echo(device_reports.to_csv(reports), nl=False)
    else:
        click.echo(json.dumps({"reports": device_reports.to_json(reports)}, ensure_ascii=False, indent=2))
