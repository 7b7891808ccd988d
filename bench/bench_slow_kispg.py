"""Benchmark: with every approval taking 3 s, 30 shoppers pay at once; do other shoppers' pages stay fast?

Run: .venv/bin/python bench/bench_slow_kispg.py [--delay 3] [--payers 30] [--clients 4] [--quick]
One sandbox process with KISPG_SANDBOX_DELAY=payment=3 (our own test aid: every /v2/payment
answers 3 s late; bench/sandbox_app.py, a gunicorn worker with a thread per waiting approval)
stands in for a slow KISPG; the service runs under gunicorn with KISPG_ENV=test
and KISPG_BASE_URL at it, twice in one run: first the old model (4 sync workers) as the baseline,
then the service's own settings (webview_toolkit/web/gunicorn_conf.py: gthread, 4 workers).
Each run readies 30 shoppers up to their returnUrl post, then releases them at once; while
their approvals wait, other clients load checkout pages and result pages of other orders
(one request due every 20 ms each, 200 pages/s in all, in a process of their own; latency counts
from when a request was due). Printed: those pages' p50/p99/max and errors, the approvals completed, and whether each
order is paid with exactly one /v2/payment call for its tid. The gthread service takes
`--rounds` bursts (3), one after the other, and the figures pool all their pages.
Target: p99 under 50 ms, no errors, every approval completed once.
"""
from __future__ import annotations

import argparse
import http.client as http_client
import itertools
import multiprocessing
import secrets
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

from bench_service import TOKEN, new_order, to_return
from shopper import Shopper
from servers import (BENCH_MID, KAKAOTALK_IOS as UA, SERVICE_CONF, free_port,
                     gunicorn, machine, running, scratch)

TARGET_P99_MS = 50.0
PACE = 0.020  # seconds between two page loads of one client: 4 clients, 200 pages/s
MODELS = {"sync (old)": {"workers": 4}, "gthread (default)": {"workers": 4, "conf": SERVICE_CONF}}


def api_client() -> Shopper:
    """A shopper that may use the shop's API."""
    return Shopper({"Authorization": f"Bearer {TOKEN}"})


def ready_to_pay(base: str, ord_no: str | None = None) -> tuple[str, str, dict[str, str]]:
    """An order (new, or the given one) taken through its checkout page and the pay window: (ordNo, returnUrl, result)."""
    http = api_client()
    try:
        ord_no = ord_no or new_order(http, base)
        return (ord_no, *to_return(http, base, ord_no))
    finally:
        http.close()


def one_order(base: str) -> str:
    """A new order's ordNo, on a connection of its own."""
    http = api_client()
    try:
        return new_order(http, base)
    finally:
        http.close()


def pay(base: str, shopper: tuple[str, str, dict[str, str]]) -> bool:
    """Post the result to returnUrl (the approval waits meanwhile) and load the result page; True when paid."""
    ord_no, return_url, fields = shopper
    http = Shopper({"User-Agent": UA}, timeout=120)
    try:
        answer = http.post_form(return_url, fields)
        if answer.status != 303:
            return False
        page = http.get(urljoin(return_url, answer.headers["location"]))
        return page.status == 200 and "결제 완료" in page.text
    finally:
        http.close()


def load_pages(base: str, paths: list[str], clients: int, ready, go, stop, results) -> None:
    """In a process of its own: `clients` threads each load one page every PACE seconds from `go` until `stop`.

    Each latency counts from when its request was due, not when it was sent: a client held up
    for 20 s also records the requests it could not send meanwhile (as wrk2 and HdrHistogram
    correct for coordinated omission), so a stalled server cannot hide behind few samples.
    """
    samples: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client(n: int) -> None:
        http = Shopper({"User-Agent": UA}, timeout=60)
        rotation = itertools.cycle(paths[n:] + paths[:n])
        go.wait()
        due = time.monotonic() + n * PACE / clients
        while not stop.is_set():
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            try:
                url = base + next(rotation)
                answer = http.get(url)
                if answer.status in (302, 303):  # a paid order's checkout page sends its shopper to the result page
                    answer = http.get(urljoin(url, answer.headers["location"]))
                ok = answer.status == 200
            except (OSError, http_client.HTTPException):
                ok = False
            end = time.monotonic()
            with lock:
                errors[0] += not ok
                while due <= end:  # this request, and each one that fell due while it was out
                    samples.append(end - due)
                    due += PACE

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    ready.set()
    for thread in threads:
        thread.join()
    results.put((samples, errors[0]))


def measure(base: str, sandbox: str, payers: int, clients: int, others: int) -> dict:
    """One run against a started service: other clients' page latencies while `payers` approvals wait."""
    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(lambda _: one_order(base), range(others)))
        waiting = list(pool.map(lambda _: ready_to_pay(base), range(payers)))
    # Result pages of other orders: half of the others paid beforehand, the rest still in `created`.
    with ThreadPoolExecutor(len(created)) as pool:
        list(pool.map(lambda o: pay(base, ready_to_pay(base, o)), created[: len(created) // 2]))
    paths = list(itertools.chain.from_iterable((f"/checkout/{o}", f"/orders/{o}") for o in created))
    # The page clients run in a process of their own: the payers' threads do not hold up their clock.
    spawn = multiprocessing.get_context("spawn")
    ready, go, stop, results = spawn.Event(), spawn.Event(), spawn.Event(), spawn.Queue()
    loader = spawn.Process(target=load_pages, args=(base, paths, clients, ready, go, stop, results))
    loader.start()
    if not ready.wait(60):
        raise RuntimeError("the page clients' process did not start")
    start = threading.Barrier(payers + 1)

    def payer(shopper) -> bool:
        start.wait()
        try:
            return pay(base, shopper)
        except (OSError, http_client.HTTPException):
            return False

    with ThreadPoolExecutor(payers) as pool:
        paid = [pool.submit(payer, shopper) for shopper in waiting]
        go.set()
        start.wait()
        began = time.monotonic()
        completed = sum(future.result() for future in paid)
        elapsed = time.monotonic() - began
    stop.set()
    samples, errors = results.get(timeout=120)
    loader.join()
    http = api_client()
    answers = [http.get(f"{base}/api/orders/{o}").json() for o, _, _ in waiting]
    calls = Counter(c["tid"] for c in http.get(f"{sandbox}/_calls").json() if c["endpoint"] == "payment")
    http.close()
    once = sum(a["status"] == "paid" and calls[a["tid"]] == 1 for a in answers)
    return summary([seconds * 1000 for seconds in samples], errors=errors, completed=completed,
                   paid=sum(a["status"] == "paid" for a in answers), once=once, payers=payers, seconds=elapsed)


def summary(latencies: list[float], **counts) -> dict:
    """A run's figures: its pages' latencies (ms, kept for pooling rounds) and quantiles, beside its counts."""
    latencies = sorted(latencies)
    cuts = statistics.quantiles(latencies, n=100)
    return {"latencies": latencies, "pages": len(latencies), "p50": cuts[49], "p99": cuts[98],
            "max": latencies[-1], **counts}


def pooled(rounds: list[dict]) -> dict:
    """Several rounds as one run: every page's latency in one p99, the counts added up."""
    counts = {key: sum(r[key] for r in rounds) for key in ("errors", "completed", "paid", "once", "payers")}
    return {**summary([ms for r in rounds for ms in r["latencies"]], seconds=max(r["seconds"] for r in rounds),
                      **counts), "rounds": [r["p99"] for r in rounds]}


def verdict(f: dict) -> str:
    """MEETS or MISSES the target, for one run's figures."""
    ok = f["p99"] < TARGET_P99_MS and f["errors"] == 0 and f["completed"] == f["once"] == f["paid"] == f["payers"]
    return "MEETS" if ok else "MISSES"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=3.0, help="seconds every approval takes")
    parser.add_argument("--payers", type=int, default=30, help="shoppers paying at once")
    parser.add_argument("--clients", type=int, default=4, help="other clients loading pages meanwhile")
    parser.add_argument("--others", type=int, default=20, help="other orders whose pages they load")
    parser.add_argument("--rounds", type=int, default=3,
                        help="bursts measured on the gthread service, their pages pooled (the sync one gets one)")
    parser.add_argument("--quick", action="store_true", help="10 payers, 1 s approvals, one round")
    args = parser.parse_args()
    if args.quick:
        args.payers, args.delay, args.others, args.rounds = 10, 1.0, 10, 1
    print(machine())
    merchant = {"KISPG_MID": BENCH_MID, "KISPG_MERCHANT_KEY": secrets.token_urlsafe(48)}
    sandbox_port = free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    figures = {}
    with scratch("bench-slow-kispg-") as work:
        # One worker (the sandbox keeps its payments in memory) with a thread for every waiting approval.
        with running(gunicorn("bench.sandbox_app:create()", sandbox_port, workers=1, threads=args.payers + 10),
                     {**merchant, "KISPG_SANDBOX_DELAY": f"payment={args.delay:g}"}, f"{sandbox}/_faults",
                     work / "sandbox.log"):
            for name, options in MODELS.items():
                port = free_port()
                base = f"http://127.0.0.1:{port}"
                env = {**merchant, "KISPG_ENV": "test", "KISPG_BASE_URL": sandbox, "KISPG_TIMEOUT": "30",
                       "WEBVIEW_DATABASE_URL": f"sqlite:///{work / (name.split()[0] + '.sqlite3')}",
                       "WEBVIEW_PUBLIC_URL": base, "WEBVIEW_ADMIN_TOKEN": "bench-admin", "WEBVIEW_API_TOKEN": TOKEN}
                with running(gunicorn("webview_toolkit.web:create_app()", port, **options), env, f"{base}/healthz",
                             work / f"service-{name.split()[0]}.log"):
                    # One burst's p99 rests on its seven slowest of some 650 pages: rounds pool more.
                    rounds = 1 if name == "sync (old)" else args.rounds
                    figures[name] = pooled([measure(base, sandbox, args.payers, args.clients, args.others)
                                            for _ in range(rounds)])
    print(f"every approval {args.delay:g} s (sandbox --delay), {args.payers} shoppers paying at once, "
          f"{args.clients} other clients loading checkout and result pages of other orders meanwhile; SQLite")
    print(f"{'model':<19}{'pages':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}"
          f"{'approved':>10}{'paid once':>11}{'wall s':>8}")
    for name, f in figures.items():
        print(f"{name:<19}{f['pages']:>7}{f['p50']:>9.1f}{f['p99']:>9.1f}{f['max']:>9.1f}{f['errors']:>8}"
              f"{f['completed']:>7}/{f['payers']:<2}{f['once']:>8}/{f['payers']:<2}{f['seconds']:>8.1f}  {verdict(f)}")
    old, new = figures["sync (old)"], figures["gthread (default)"]
    print(f"gthread (default): {len(new['rounds'])} bursts, their pages pooled; each burst's own p99: "
          f"{', '.join(f'{ms:.1f}' for ms in new['rounds'])} ms")
    print(f"target: other shoppers' pages p99 < {TARGET_P99_MS:g} ms, 0 errors, every approval completed once")
    print(f"gthread (default): {verdict(new)} target; p99 sync / gthread = {old['p99'] / new['p99']:.0f}x")


if __name__ == "__main__":
    main()
