"""`webview-toolkit serve` and `reconcile`: run the merchant service, resolve stuck orders."""
from __future__ import annotations

from pathlib import Path

import click

from ..config import ConfigError
from ..lifecycle import STUCK
from ..migrations import SchemaError
from ..database import shown_url
from ..web.edge import lan_address

__all__ = ["lan_address", "make_app", "reconcile", "serve"]


def make_app(overrides: dict | None = None):
    """The service app, or a one-line error naming the bad setting."""
    from ..web import create_app
    try:
        return create_app(overrides)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}")
    except SchemaError as exc:
        raise click.ClickException(str(exc))
    except OSError as exc:
        # The instance folder (or the SQLite file's) cannot be made or written.
        raise click.ClickException(f"{exc.filename or 'the instance folder'}: {exc.strerror or exc}; "
                                   "set WEBVIEW_INSTANCE_PATH to a folder this user may write")


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on (0.0.0.0: reachable from a phone on the LAN).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--webhook-worker/--no-webhook-worker", default=None,
              help="Deliver webhooks from a thread of this process (default: WEBVIEW_WEBHOOK_WORKER, on).")
def serve(host: str, port: int, webhook_worker: bool | None) -> None:
    """Run the merchant service (SQLite and the built-in KISPG sandbox unless configured)."""
    from .. import qr

    overrides = {}
    lan = lan_address()
    local = f"http://127.0.0.1:{port}"
    if lan and host in ("0.0.0.0", "::"):
        overrides["WEBVIEW_LAN_URL"] = f"http://{lan}:{port}"
    app = make_app(overrides)
    base = app.config.get("WEBVIEW_PUBLIC_URL") or overrides.get("WEBVIEW_LAN_URL") or local
    click.echo(f"webview-toolkit service ({app.config['KISPG_ENV']}, MID {app.config['KISPG_MID']})")
    click.echo(f"  local:        {local}/device-test")
    click.echo(f"  phone:        {base}/device-test")
    click.echo(f"  API:          POST {local}/api/orders")
    click.echo(f"  database:     {shown_url(app.config['WEBVIEW_DATABASE_URL'])}")
    legacy = legacy_database(app.instance_path)
    if legacy:
        click.echo(f"  note:         an older database is at {legacy}; to keep using it, "
                   f"set WEBVIEW_INSTANCE_PATH={legacy.parent}")
    deliverer = app.extensions["webview_toolkit"].webhooks
    if webhook_worker is None:
        webhook_worker = app.config["WEBVIEW_WEBHOOK_WORKER"]
    if deliverer is not None and webhook_worker:
        from ..webhooks.delivery import start_thread
        start_thread(deliverer)
        click.echo(f"  webhooks:     {len(app.config['WEBVIEW_WEBHOOK_URLS'])} receiver(s), delivered from this process")
    elif deliverer is not None:
        click.echo("  webhooks:     queued; run `webview-toolkit worker` to deliver them")
    click.echo("Scan with a phone on the same network to open /device-test:")
    click.echo(qr.terminal(f"{base}/device-test"))
    # A thread per request, as gunicorn_conf's gthread workers: an approval waiting on KISPG holds its
    # own thread, never another shopper's page. One process: the built-in sandbox's memory is in it.
    app.run(host=host, port=port, threaded=True, use_reloader=False)


def legacy_database(instance_path: str) -> Path | None:
    """A database where versions before 0.2 kept it (Flask's instance folder of the install), if any."""
    from flask import Flask
    old = Path(Flask("webview_toolkit.web", instance_relative_config=True).instance_path)
    database = old / "webview-toolkit.sqlite3"
    return database if old != Path(instance_path) and database.exists() else None


@click.command()
def reconcile() -> None:
    """Resolve every order stuck in approving, unknown or cancelling by asking KISPG."""
    from .. import logs

    app = make_app()
    # One id for the run, so its log lines (from cron, say) read as one job.
    token = logs.begin_request(logs.new_request_id())
    try:
        with app.app_context():
            payments = app.extensions["webview_toolkit"].payments
            orders = payments.reconcile_all()
    finally:
        logs.end_request(token)
    for order in orders:
        click.echo(f"{order.ord_no}  {order.status}")
    still = sum(order.status in STUCK for order in orders)
    click.echo(f"{len(orders)} orders looked at, {still} still unresolved")
    if still:
        raise SystemExit(1)
