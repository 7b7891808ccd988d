"""`webview-toolkit sandbox`: serve the KISPG sandbox at the root of a local server."""
from __future__ import annotations

import os

import click

from ..kispg.sandbox import create_sandbox_app
from ..kispg.sandbox.delays import CONFIG_KEY as DELAY_KEY, DelayError, parse_delays


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0 for phones on the LAN).")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option("--delay", "delays", multiple=True, metavar="ENDPOINT=SECONDS",
              help="Answer every call to payment, cancel or order that many seconds late (a test aid; "
                   "default: KISPG_SANDBOX_DELAY).")
def sandbox(host: str, port: int, delays: tuple[str, ...]) -> None:
    """Serve a KISPG simulator (/v2/auth, /v2/payment, /v2/cancel, /v2/order, /_calls, /_faults).

    The merchant comes from KISPG_MID and KISPG_MERCHANT_KEY; without both, a
    sandbox merchant is generated and only its MID is printed. /_calls and /_faults
    answer loopback clients, and others only with WEBVIEW_ADMIN_TOKEN as a bearer token.
    """
    config = {name: os.environ[name] for name in ("KISPG_MID", "KISPG_MERCHANT_KEY") if os.environ.get(name)}
    generated = len(config) < 2
    if generated:
        config = {}
    if os.environ.get("WEBVIEW_ADMIN_TOKEN"):
        # /_calls and /_faults answer other machines only with it (loopback always).
        config["WEBVIEW_ADMIN_TOKEN"] = os.environ["WEBVIEW_ADMIN_TOKEN"]
    try:
        config[DELAY_KEY] = parse_delays(",".join(delays) or os.environ.get(DELAY_KEY))
    except DelayError as exc:
        raise click.ClickException(f"--delay: {exc}") from None
    app = create_sandbox_app(config)
    origin = "generated sandbox merchant" if generated else "from KISPG_MID / KISPG_MERCHANT_KEY"
    click.echo(f"KISPG sandbox on http://{host}:{port}/  MID {app.config['KISPG_MID']} ({origin}; key not shown)")
    for endpoint, seconds in config[DELAY_KEY].items():
        click.echo(f"  /v2/{endpoint} answers {seconds:g} s late (--delay)")
    app.run(host=host, port=port, threaded=True, use_reloader=False)
