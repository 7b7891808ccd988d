"""`webview-toolkit conformance`: where a KISPG environment answers differently from the built-in sandbox."""
from __future__ import annotations

import os
from pathlib import Path

import click

from ..conformance.audit import DEFAULT_INTERVAL, PaymentOptions, audit
from ..conformance.compare import MATCH
from ..conformance.report import render_json, render_summary
from ..conformance.runner import PUBLIC_TEST_KEY, PUBLIC_TEST_MID, PUBLIC_TEST_WARNING, Merchant
from ..kispg.client import base_url_for

EXIT_DIFFERENCES = 1
EXIT_NOT_RUN = 2


class NotRun(click.ClickException):
    """The run did not start: a one-line reason and exit code 2."""

    exit_code = EXIT_NOT_RUN


def merchant_for(env: str) -> Merchant:
    """The merchant from KISPG_MID / KISPG_MERCHANT_KEY; for test without them, the guide's public one."""
    mid, key = os.environ.get("KISPG_MID"), os.environ.get("KISPG_MERCHANT_KEY")
    if mid and key:
        return Merchant(mid, key)
    if mid or key:
        raise NotRun("set both KISPG_MID and KISPG_MERCHANT_KEY, or neither (test only: the public test MID)")
    if env == "prod":
        raise NotRun("--env prod needs KISPG_MID and KISPG_MERCHANT_KEY in the environment")
    return Merchant(PUBLIC_TEST_MID, PUBLIC_TEST_KEY, public_test=True)


def announce(url: str, ord_no: str) -> None:
    """Tell the tester where to pay: the URL and a terminal QR code of it."""
    from .. import qr

    click.echo(f"Open on a phone and pay 1,004 won (order {ord_no}) / 휴대폰으로 열어 1,004원을 결제하세요:")
    click.echo(f"  {url}")
    click.echo(qr.terminal(url))
    click.echo("Waiting for the result at returnUrl... / returnUrl 결과를 기다리는 중...")


@click.command()
@click.option("--env", "env", type=click.Choice(["test", "prod"]), required=True,
              help="Which KISPG environment (its base URL unless --base-url).")
@click.option("--base-url", help="Probe this base URL instead (e.g. a sandbox on 127.0.0.1).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the JSON report to this file (masked, without the merchant key).")
@click.option("--pay", is_flag=True, help="Also run the guided 1,004-won payment (test only), then cancel it.")
@click.option("--yes-prod", is_flag=True, help="Really probe the production service.")
@click.option("--interval", type=click.FloatRange(0, 60), default=DEFAULT_INTERVAL, show_default=True,
              help="Seconds between two requests to KISPG.")
@click.option("--pay-wait", type=click.FloatRange(1, 3600), default=600, show_default=True,
              help="Seconds to wait for the tester to pay.")
@click.option("--pay-host", default="127.0.0.1", show_default=True,
              help="Interface the returnUrl server listens on (0.0.0.0 lets a phone on the LAN reach it).")
@click.option("--pay-port", type=click.IntRange(0, 65535), default=0, help="Its port (default: any free one).")
def conformance(env: str, base_url: str | None, report_path: Path | None, pay: bool, yes_prod: bool,
                interval: float, pay_wait: float, pay_host: str, pay_port: int) -> None:
    """Probe KISPG with a handful of harmless requests and compare each answer with the sandbox's.

    Exit 0 when every probe matches, 1 when any differs or could not be compared, 2 when
    nothing ran. Credentials come from KISPG_MID and KISPG_MERCHANT_KEY.
    """
    if env == "prod" and not yes_prod:
        raise NotRun("refusing to probe prod without --yes-prod")
    if pay and env == "prod":
        raise NotRun("--pay runs only with --env test: a prod payment is a real charge")
    if report_path is not None and not report_path.parent.is_dir():
        raise NotRun(f"--report {report_path}: the folder {report_path.parent} does not exist")
    merchant = merchant_for(env)
    if merchant.public_test:
        click.echo(f"WARNING: no KISPG_MID/KISPG_MERCHANT_KEY, using the guide's public test merchant: "
                   f"{PUBLIC_TEST_WARNING}", err=True)
    url = base_url_for(env, base_url)
    payment = None
    if pay:
        public_base = None
        if pay_host in ("0.0.0.0", "::"):
            from .serve_cmd import lan_address
            lan = lan_address()
            if lan is None:
                raise NotRun("--pay-host 0.0.0.0: no LAN address found for the phone to reach")
            public_base = f"http://{lan}:{pay_port}" if pay_port else None
            if public_base is None:
                raise NotRun("--pay-host 0.0.0.0 needs --pay-port, so the printed URL names a fixed port")
        payment = PaymentOptions(wait_seconds=pay_wait, host=pay_host, port=pay_port, public_base=public_base)
    try:
        report = audit(env, url, merchant, interval=interval, payment=payment, on_ready=announce)
    except OSError as exc:
        raise NotRun(f"could not start the returnUrl server on {pay_host}:{pay_port}: {exc.strerror or exc}")
    secrets = (merchant.key,)
    if report_path is not None:
        try:
            report_path.write_text(render_json(report, secrets), encoding="utf-8")
        except OSError as exc:
            raise NotRun(f"could not write the report to {report_path}: {exc.strerror or exc}")
    click.echo(render_summary(report, secrets), nl=False)
    if report_path is not None:
        click.echo(f"report written to {report_path}")
    counts = report["counts"]
    if counts[MATCH] != sum(counts.values()):
        raise SystemExit(EXIT_DIFFERENCES)
