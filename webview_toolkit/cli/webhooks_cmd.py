"""`webview-toolkit worker` and `webhooks list|retry`: deliver the webhook outbox, and look after it."""
from __future__ import annotations

import signal
import threading

import click

from .serve_cmd import make_app


def _services():
    app = make_app()
    return app, app.extensions["webview_toolkit"]


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--idle", default=1.0, show_default=True, type=click.FloatRange(0.05, 60),
              help="Seconds to wait when nothing is due.")
def worker(once: bool, idle: float) -> None:
    """Deliver webhook events from the outbox until stopped (SIGINT or SIGTERM)."""
    _app, services = _services()
    if services.webhooks is None:
        raise click.ClickException("no WEBVIEW_WEBHOOK_URL is set: there is nothing to deliver")
    if once:
        done = services.webhooks.deliver_due()
        click.echo(f"{done.delivered} delivered, {done.failed} to retry, {done.dead} dead")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"webhook worker delivering to {len(services.store.webhook_urls)} receiver(s); stop with Ctrl-C")
    services.webhooks.run(stop, idle)


@click.group()
def webhooks() -> None:
    """The webhook outbox: what was sent, what is waiting, what gave up."""


@webhooks.command("list")
@click.option("--dead", is_flag=True, help="Only the deliveries that gave up.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
def list_(dead: bool, limit: int) -> None:
    """The newest deliveries: event id, type, order, status, attempts, next attempt, receiver, last error."""
    from ..records import iso
    from ..webhooks.delivery import listing
    from ..webhooks.receivers import shown

    _app, services = _services()
    rows = listing(services.store, dead_only=dead, limit=limit)
    for row in rows:
        waiting = f"next {iso(row.next_attempt_at)}" if row.status == "pending" else ""
        click.echo("  ".join(part for part in (
            row.event_id, row.event_type, row.ord_no, row.status, f"attempts {row.attempts}", waiting,
            shown(row.url), row.last_error or "") if part))
    if not rows:
        click.echo("no dead deliveries" if dead else "the outbox is empty")


@webhooks.command()
@click.argument("event_id")
def retry(event_id: str) -> None:
    """Queue a dead event again (each receiver it died for), with a fresh 24-hour retry window."""
    from ..webhooks.delivery import retry_dead

    _app, services = _services()
    count = retry_dead(services.store, event_id)
    if not count:
        raise click.ClickException(f"no dead delivery of event {event_id!r} (see `webview-toolkit webhooks list --dead`)")
    click.echo(f"{event_id}: {count} deliver{'y' if count == 1 else 'ies'} queued again")
