"""Benchmark: complete sandbox checkouts per second (order → page → auth → returnUrl → approval), SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_service.py [--seconds 15] [--shoppers 8] [--quick]
The service runs under gunicorn with KISPG_ENV=test and KISPG_BASE_URL at one sandbox process
(bench/sandbox_app.py: one gunicorn worker, as the sandbox keeps its memory per process), in two
models measured in the same run: the service's own settings (webview_toolkit/web/gunicorn_conf.py:
4 gthread workers; shoppers keep their connections) and, as the baseline, the old `--workers 4` sync workers (one connection per
request). Shoppers in threads (bench/shopper.py, http.client) drive whole checkouts for a fixed
time; every order is checked to be paid afterwards. The sandbox (KISPG's stand-in) and the
shoppers share the two cores with the service: the CPU table says how much each took.
Target: 150 checkouts/s on each database.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

from servers import (BENCH_MID, BENCH_ORDER as ORDER, KAKAOTALK_IOS as UA, SERVICE_CONF, free_port,
                     gunicorn, machine, postgresql, running, scratch, tree_cpu_seconds)
from forms import form
from shopper import Shopper

TOKEN = "bench-api-token"
TARGET = 150.0  # checkouts/s, on SQLite and on PostgreSQL
# Each model: its gunicorn options, and whether a shopper keeps its connection between requests.
MODELS = {"gthread (default)": ({"workers": 4, "conf": SERVICE_CONF}, True),
          "sync (old)": ({"workers": 4}, False)}


def new_order(http: Shopper, base: str) -> str:
    """A new order's ordNo (http carries the API token)."""
    return http.post_json(f"{base}/api/orders", ORDER).json()["ordNo"]


def to_return(http: Shopper, base: str, ord_no: str) -> tuple[str, dict[str, str]]:
    """An order taken through its checkout page and the sandbox's pay window: the returnUrl and the result to post."""
    action, auth = form(http.get(f"{base}/checkout/{ord_no}", {"User-Agent": UA}).text, "kispg-auth")
    window = http.post_form(urljoin(base, action), {**auth, "sandboxAction": "approve"})
    return form(window.text, "kispg-result")


def checkout(http: Shopper, base: str) -> str:
    """One whole checkout through the service and the sandbox; the ordNo."""
    ord_no = new_order(http, base)
    return_url, fields = to_return(http, base, ord_no)
    answer = http.post_form(return_url, fields)
    if answer.status != 303:
        raise RuntimeError(f"returnUrl answered {answer.status}")
    return ord_no


def drive(base: str, seconds: float, shoppers: int, keep_alive: bool = False) -> dict[str, float]:
    """Shoppers in threads run checkouts until time is up; rate, latency, and how many ended paid."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    ord_nos: list[str] = []
    lock = threading.Lock()

    def shopper(_):
        # keep_alive=False: one connection per request, as gunicorn's sync workers serve them anyway.
        http = Shopper({"Authorization": f"Bearer {TOKEN}"}, keep_alive=keep_alive)
        while time.monotonic() < stop:
            start = time.perf_counter()
            ord_no = checkout(http, base)
            with lock:
                latencies.append(time.perf_counter() - start)
                ord_nos.append(ord_no)
        http.close()

    begin = time.monotonic()
    with ThreadPoolExecutor(shoppers) as pool:
        list(pool.map(shopper, range(shoppers)))
    elapsed = time.monotonic() - begin
    http = Shopper({"Authorization": f"Bearer {TOKEN}"})
    paid = sum(http.get(f"{base}/api/orders/{o}").json()["status"] == "paid" for o in ord_nos)
    http.close()
    cuts = statistics.quantiles(latencies, n=100)
    return {"count": len(ord_nos), "rate": len(ord_nos) / elapsed, "p50": cuts[49] * 1000, "p99": cuts[98] * 1000,
            "paid": paid}


def cpu(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each process tree, and of the shoppers (this process)."""
    times = os.times()
    return {**{part: tree_cpu_seconds(pid) for part, pid in roots.items()}, "shoppers": times.user + times.system}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--shoppers", type=int, default=8, help="concurrent shoppers (threads)")
    parser.add_argument("--quick", action="store_true", help="5 s per figure")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 5
    print(machine())
    key = secrets.token_urlsafe(48)
    merchant = {"KISPG_MID": BENCH_MID, "KISPG_MERCHANT_KEY": key}
    sandbox_port = free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    figures = {}
    with scratch("bench-service-") as work:
        with running(gunicorn("bench.sandbox_app:create()", sandbox_port, workers=1, threads=16), merchant,
                     f"{sandbox}/_faults", work / "sandbox.log") as sandbox_process, postgresql() as cluster:
            databases = {"SQLite": lambda: f"sqlite:///{work / (secrets.token_hex(4) + '.sqlite3')}"}
            if cluster is not None:
                databases["PostgreSQL"] = cluster.create_database
            for name, new_database in databases.items():
                for model, (options, keep_alive) in MODELS.items():
                    port = free_port()
                    base = f"http://127.0.0.1:{port}"
                    env = {**merchant, "KISPG_ENV": "test", "KISPG_BASE_URL": sandbox,
                           "WEBVIEW_DATABASE_URL": new_database(), "WEBVIEW_PUBLIC_URL": base,
                           "WEBVIEW_ADMIN_TOKEN": "bench-admin", "WEBVIEW_API_TOKEN": TOKEN}
                    with running(gunicorn("webview_toolkit.web:create_app()", port, **options), env,
                                 f"{base}/healthz", work / f"service-{name}-{model.split()[0]}.log") as service:
                        drive(base, 2, args.shoppers, keep_alive)  # warm-up: imports, pools, caches
                        roots = {"service": service.pid, "sandbox": sandbox_process.pid}
                        if name == "PostgreSQL":
                            roots["PostgreSQL"] = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
                        before = cpu(roots)
                        figures[name, model] = drive(base, args.seconds, args.shoppers, keep_alive)
                        used = {part: seconds - before[part] for part, seconds in cpu(roots).items()}
                        figures[name, model]["cpu"] = {part: seconds * 1000 / figures[name, model]["count"]
                                                       for part, seconds in used.items()}
    print(f"gunicorn, 4 workers, one sandbox process, {args.shoppers} shoppers, {args.seconds:g} s; "
          f"target {TARGET:g} checkouts/s")
    print(f"{'database':<12}{'model':<19}{'checkouts':>10}{'checkouts/s':>13}{'target':>8}{'p50 ms':>9}"
          f"{'p99 ms':>9}{'paid':>7}")
    for (name, model), f in figures.items():
        verdict = "MEETS" if f["rate"] >= TARGET and f["paid"] == f["count"] else "MISSES"
        print(f"{name:<12}{model:<19}{f['count']:>10}{f['rate']:>13.1f}{TARGET:>8g}{f['p50']:>9.1f}{f['p99']:>9.1f}"
              f"{f['paid']:>7}  {verdict}")
    print("CPU ms per checkout (all processes; steadier than the rate on a shared machine), and the rate "
          f"{len(os.sched_getaffinity(0))} idle cores would allow at that cost:")
    for (name, model), f in figures.items():
        parts = "  ".join(f"{part} {ms:.1f}" for part, ms in f["cpu"].items())
        total = sum(f["cpu"].values())
        print(f"  {name:<11}{model:<19} {total:5.1f} ms = {parts}  -> {len(os.sched_getaffinity(0)) * 1000 / total:.0f}/s")
    for name in databases:
        new, old = figures[name, "gthread (default)"], figures[name, "sync (old)"]
        print(f"{name}: gthread / sync = {new['rate'] / old['rate']:.2f}")
    if ("PostgreSQL", "gthread (default)") in figures:
        ratio = figures["PostgreSQL", "gthread (default)"]["rate"] / figures["SQLite", "gthread (default)"]["rate"]
        print(f"PostgreSQL / SQLite (gthread) = {ratio:.2f}")


if __name__ == "__main__":
    main()
