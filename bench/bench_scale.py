"""Benchmark: flat cost as orders pile up — 1,000 vs 100,000 orders on SQLite and PostgreSQL; the sandbox after 50,000 payments.

Run: .venv/bin/python bench/bench_scale.py [--quick] [--small 1000] [--large 100000] [--rounds 7]

Two databases of each kind are seeded (bench/seed_orders.py: orders with their attempts, events
and delivered webhooks, in a shop's mix of statuses) with `small` and `large` settled orders and
the same 100 due `unknown` orders. Each figure is measured in alternating rounds (small, large,
large, small, ...) in this one process, and the median kept, so load from other jobs hits both
(the ratio is the median of each round's pair; the passes get 2 x rounds + 1 rounds):
- checkout page: the app's WSGI entry called in a loop (bench/profile_checkout.py's way) over
  200 fresh orders, pages/s;
- full checkout: order → page → sandbox auth → returnUrl → approval, in-process (the Flask test
  client, the sandbox mounted in the app), checkouts/s;
- reconcile: one `reconcile_all` pass over the 100 due orders (KISPG answering with a timeout,
  so each pass finds them as it left them), ms;
- webhook worker: one `deliver_due` pass posting 100 due rows (a receiver answering 200 at
  once), ms, the rows set back to pending between rounds.
Then the sandbox: the rate of a fresh sandbox's first 1,000 payments (/v2/auth then /v2/payment)
against the rate of 1,000 more in one that holds 50,000 (recorded through SandboxState.put_payment
and record_call: what a payment leaves in its memory, at memory speed), in alternating rounds. Each ratio is large/small as a speed
(time ratios inverted), against the 0.9 target. --quick: 500 / 20,000 orders, 10,000 payments.
"""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import requests
from sqlalchemy import update
from werkzeug.test import EnvironBuilder

from seed_orders import RECEIVER, seed, seed_due, seed_pending_webhooks
from servers import BENCH_MID, BENCH_ORDER, KAKAOTALK_IOS, machine, postgresql
from webview_toolkit import logs
from webview_toolkit.kispg.errors import KispgTimeout
from webview_toolkit.kispg.testing import FormParser, auth_form, auth_result, sandbox_authenticate, wsgi_session
from webview_toolkit.payments import Payments
from webview_toolkit.webhooks.delivery import Deliverer
from webview_toolkit.webhooks.outbox import PENDING, outbox

TARGET = 0.9
PUBLIC = "http://127.0.0.1:8000"
DUE = 100
PAGES = 200  # orders the checkout page rotates over
SECRET = "whsec_bench-" + secrets.token_hex(8)


class KispgAway:
    """A KISPG that never answers an inquiry: each reconcile pass finds the orders as it left them."""

    def inquire(self, tid=None, ord_no=None, *, goods_amt):
        raise KispgTimeout("read timeout", url="bench", phase="read")


class Answers200(requests.Session):
    """A webhook receiver that takes every post at once (no network)."""

    def post(self, url, **kwargs):
        response = requests.Response()
        response.status_code, response._content, response._content_consumed = 200, b"", True
        return response


class Shop:
    """One service app on one seeded database, and what each round measures on it."""

    def __init__(self, url: str, size: int, work: Path, key: str):
        from webview_toolkit.web import create_app
        from webview_toolkit.web.extensions import services

        self.size = size
        start = time.perf_counter()
        self.app = create_app({
            "KISPG_ENV": "sandbox", "KISPG_MID": BENCH_MID, "KISPG_MERCHANT_KEY": key,
            "WEBVIEW_DATABASE_URL": url, "WEBVIEW_PUBLIC_URL": PUBLIC,
            "WEBVIEW_INSTANCE_PATH": str(work / f"instance-{size}"), "WEBVIEW_ADMIN_TOKEN": "bench-admin",
            "WEBVIEW_WEBHOOK_URL": RECEIVER, "WEBVIEW_WEBHOOK_SECRET": SECRET, "WEBVIEW_WEBHOOK_WORKER": False,
            "KISPG_SESSION_FACTORY": lambda app: wsgi_session(app, PUBLIC), "KISPG_RECONCILE_AFTER": 0,
        })
        self.store = services(self.app).store
        # Every order event is logged (reconcile's timeouts as warnings): thousands of lines a
        # second would measure the terminal. The records are still made; the handler drops them.
        logs.handler().setLevel(logging.ERROR)
        seed(self.store.engine, size)
        due = seed_due(self.store.engine, DUE)
        self.webhook_ids = seed_pending_webhooks(self.store.engine, due)
        self.seconds_to_seed = time.perf_counter() - start
        self.client = self.app.test_client()
        self.payments = Payments(self.store, KispgAway(), mid=BENCH_MID, merchant_key=key,
                                 settle_after=0, check_interval=0)
        self.deliverer = Deliverer(self.store, SECRET, session=Answers200(), allow_private=True,
                                   resolve=lambda host: ["127.0.0.1"])
        ord_nos = [self.client.post("/api/orders", json=BENCH_ORDER).get_json()["ordNo"] for _ in range(PAGES)]
        self.pages = [EnvironBuilder(path=f"/checkout/{o}", headers={"User-Agent": KAKAOTALK_IOS},
                                     base_url=PUBLIC).get_environ() for o in ord_nos]

    def page_rate(self, requests_per_round: int) -> float:
        """Checkout pages per second through the WSGI entry."""
        wsgi, pages = self.app.wsgi_app, self.pages
        start = time.perf_counter()
        for n in range(requests_per_round):
            b"".join(wsgi(dict(pages[n % PAGES]), lambda status, headers, exc_info=None: None))
        return requests_per_round / (time.perf_counter() - start)

    def checkout_rate(self, checkouts: int) -> float:
        """Whole sandbox checkouts per second (every one must end paid)."""
        client = self.client
        start = time.perf_counter()
        for _ in range(checkouts):
            ord_no = client.post("/api/orders", json=BENCH_ORDER).get_json()["ordNo"]
            form = FormParser("kispg-auth")
            form.feed(client.get(f"/checkout/{ord_no}", headers={"User-Agent": KAKAOTALK_IOS}).get_data(as_text=True))
            window = client.post(form.action, data={**form.fields, "sandboxAction": "approve"})
            return_url, fields = auth_result(window.get_data(as_text=True), form.fields["returnUrl"])
            if client.post(return_url, data=fields).status_code != 303:
                raise RuntimeError("a checkout's returnUrl did not answer 303")
        elapsed = time.perf_counter() - start
        if self.store.get(ord_no).status != "paid":
            raise RuntimeError(f"the last checkout ended {self.store.get(ord_no).status}, not paid")
        return checkouts / elapsed

    def reconcile_ms(self) -> float:
        """One reconcile pass over the due orders, ms."""
        start = time.perf_counter()
        looked_at = self.payments.reconcile_all()
        elapsed = time.perf_counter() - start
        if len(looked_at) != DUE:
            raise RuntimeError(f"the reconcile pass looked at {len(looked_at)} orders, not the {DUE} due")
        return elapsed * 1000

    def worker_ms(self) -> float:
        """One webhook worker pass posting the due rows, ms (the checkouts' own rows set aside first)."""
        with self.store.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.status == PENDING).values(status="delivered"))
            conn.execute(update(outbox).where(outbox.c.id.in_(self.webhook_ids))
                         .values(status=PENDING, attempts=0, delivered_at=None))
        start = time.perf_counter()
        done = self.deliverer.deliver_due()
        elapsed = time.perf_counter() - start
        if done.delivered != DUE:
            raise RuntimeError(f"the worker delivered {done.delivered} rows, not the {DUE} due")
        return elapsed * 1000


def alternate(rounds: int, small: Shop, large: Shop, measure: Callable[[Shop], float],
              is_time: bool) -> tuple[float, float, float]:
    """Medians of `rounds` measurements on each shop, in the order small, large, large, small, ...

    Other jobs' bursts of CPU (the machine is shared) then fall on either size alike. The ratio
    (large against small, as a speed) is the median of each round's own pair, so a drift in the
    machine's speed between rounds cancels out of it.
    """
    measure(small), measure(large)  # warm-up
    figures = {small.size: [], large.size: []}
    ratios = []
    for n in range(rounds):
        for shop in (small, large) if n % 2 == 0 else (large, small):
            figures[shop.size].append(measure(shop))
        a, b = figures[small.size][-1], figures[large.size][-1]
        ratios.append(a / b if is_time else b / a)
    return statistics.median(figures[small.size]), statistics.median(figures[large.size]), statistics.median(ratios)


def verdict(ratio: float) -> str:
    return "MEETS" if ratio >= TARGET else "MISSES"


def measure_database(name: str, urls: tuple[str, str], sizes: tuple[int, int], rounds: int, work: Path,
                     quick: bool) -> list[str]:
    """Seed both sizes on one kind of database and print its four figures."""
    key = secrets.token_urlsafe(48)
    small, large = (Shop(url, size, work, key) for url, size in zip(urls, sizes))
    lines = [f"{name}: seeded {small.size:,} orders in {small.seconds_to_seed:.1f} s, "
             f"{large.size:,} in {large.seconds_to_seed:.1f} s"]
    # The passes take a fifth of a second each: twice the rounds cost little and steady their ratios.
    cases = (("checkout page", "pages/s", lambda s: s.page_rate(300 if quick else 600), False, rounds),
             ("full checkout", "checkouts/s", lambda s: s.checkout_rate(30 if quick else 80), False, rounds),
             ("reconcile pass", "ms", Shop.reconcile_ms, True, 2 * rounds + 1),
             ("webhook worker pass", "ms", Shop.worker_ms, True, 2 * rounds + 1))
    for label, unit, measure, is_time, its_rounds in cases:
        a, b, ratio = alternate(its_rounds, small, large, measure, is_time)
        sizes_ratio = f"{large.size / 1000:g}k/{small.size / 1000:g}k"
        lines.append(f"  {label:<20} {a:10.1f} {unit:<12} at {small.size:>7,}   {b:10.1f} {unit:<12} at {large.size:>7,}"
                     f"   speed {sizes_ratio} = {ratio:.2f}  (target {TARGET})  {verdict(ratio)}")
    for shop in (small, large):
        shop.store.dispose()
    return lines


def sandbox_rate(client, key: str, payments: int) -> float:
    """Payments per second through the sandbox: /v2/auth (approve) then /v2/payment."""
    from webview_toolkit.kispg.signing import edi_date_now, sign

    start = time.perf_counter()
    for _ in range(payments):
        tid = sandbox_authenticate(client, "/v2/auth", auth_form(BENCH_MID, key, ord_no=secrets.token_hex(15),
                                                                 goods_amt=39000))["tid"]
        edi = edi_date_now()
        answer = client.post("/v2/payment", json={"mid": BENCH_MID, "tid": tid, "goodsAmt": "39000", "ediDate": edi,
                                                  "encData": sign(BENCH_MID, edi, 39000, key)}).get_json()
        if answer["resultCd"] != "3001":
            raise RuntimeError(f"the sandbox answered {answer['resultCd']} to an approval")
    return payments / (time.perf_counter() - start)


def fill_sandbox(state, n: int) -> None:
    """Leave in the sandbox's memory what n more approved payments leave: auths, payments, three calls each."""
    from webview_toolkit.kispg.sandbox.state import AuthRecord, Payment

    now = state.now()
    for serial in range(n):
        tid = f"{BENCH_MID}0101{serial:016d}"
        ord_no = f"fill{serial:026d}"
        auth = AuthRecord(tid=tid, ord_no=ord_no, amt=39000, pay_method="card", card_code="04", easypay_code="",
                          goods_nm="무선 이어폰", ord_nm="홍길동", mbs_reserved="")
        with state.lock:
            state.auths[tid] = auth
            state.put_payment(Payment(auth=auth, result_cd="3001", app_dtm=now.strftime("%Y%m%d%H%M%S"),
                                      app_no=f"{serial % 10**8:08d}"))
        for endpoint in ("auth", "auth_result", "payment"):
            state.record_call(endpoint, tid, ord_no, "3001", 200)


def measure_sandbox(total: int, payments: int, rounds: int) -> list[str]:
    """The sandbox's rate for its first `payments` payments (a fresh one each round) against its rate after `total`."""
    from webview_toolkit.kispg.sandbox import create_sandbox_app

    key = secrets.token_urlsafe(48)

    def fresh():
        app = create_sandbox_app({"KISPG_MID": BENCH_MID, "KISPG_MERCHANT_KEY": key})
        return app, app.test_client()

    full, full_client = fresh()
    sandbox_rate(full_client, key, 50)  # warm-up: imports, templates
    start = time.perf_counter()
    fill_sandbox(full.extensions["kispg_sandbox"], total - 50)
    filled = time.perf_counter() - start
    first, after = [], []
    for n in range(rounds):  # alternating, so load from other jobs hits both
        fresh_client = fresh()[1]
        if n % 2:
            after.append(sandbox_rate(full_client, key, payments))
        first.append(sandbox_rate(fresh_client, key, payments))
        if not n % 2:
            after.append(sandbox_rate(full_client, key, payments))
    first_rate, after_rate = statistics.median(first), statistics.median(after)
    ratio = statistics.median(a / f for a, f in zip(after, first))  # each round's own pair
    return [f"sandbox: {first_rate:.0f} payments/s over its first {payments:,}; {after_rate:.0f} payments/s after "
            f"{total:,} ({total - 50:,} recorded in {filled:.1f} s)   after/first = {ratio:.2f}  (target {TARGET})  "
            f"{verdict(ratio)}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 and 20,000 orders, 10,000 sandbox payments, 3 rounds")
    parser.add_argument("--small", type=int)
    parser.add_argument("--large", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--sandbox-payments", type=int)
    args = parser.parse_args()
    sizes = (args.small or (500 if args.quick else 1000), args.large or (20_000 if args.quick else 100_000))
    rounds = args.rounds or (3 if args.quick else 7)
    print(machine())
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    lines: list[str] = []
    try:
        lines += measure_sandbox(args.sandbox_payments or (10_000 if args.quick else 50_000),
                                 300 if args.quick else 1000, rounds)
        print(lines[-1], flush=True)
        with ExitStack() as stack:
            databases = {"SQLite": tuple(f"sqlite:///{work / f'orders-{size}.sqlite3'}" for size in sizes)}
            cluster = stack.enter_context(postgresql())
            if cluster is not None:
                databases["PostgreSQL"] = (cluster.create_database(), cluster.create_database())
            for name, urls in databases.items():
                for line in measure_database(name, urls, sizes, rounds, work, args.quick):
                    print(line, flush=True)
                    lines.append(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures = [line for line in lines if "target" in line]
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{len(figures)} ratios, {sum('MISSES' in line for line in figures)} missing the target; "
          f"{time.monotonic() - began:.0f} s; load average after the run {load}")


if __name__ == "__main__":
    sys.exit(main())
