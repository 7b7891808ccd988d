"""Benchmark: complete sandbox checkouts per second (order → page → auth → returnUrl → approval), SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_service.py [--seconds 15] [--shoppers 8]
The service runs under `gunicorn --workers 4` (sync workers) with KISPG_ENV=test and
KISPG_BASE_URL at one `webview-toolkit sandbox` process (the sandbox keeps its memory per
process, so several workers share one standalone sandbox). Python shoppers in threads
drive whole checkouts for a fixed time; every order is checked to be paid afterwards.
"""
from __future__ import annotations

import argparse
import secrets
import shutil
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests

from servers import (BENCH_MID, BENCH_ORDER as ORDER, KAKAOTALK_IOS as UA, VENV_BIN, free_port, gunicorn, machine,
                     postgresql, running)
from webview_toolkit.kispg.testing import parse_result_form

TOKEN = "bench-api-token"


class AuthForm(HTMLParser):
    """The checkout page's auth form: action and hidden fields."""

    def __init__(self, html: str):
        super().__init__()
        self.action, self.fields, self._inside = "", {}, False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and values.get("id") == "kispg-auth":
            self.action, self._inside = values.get("action", ""), True
        elif tag == "input" and self._inside and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def checkout(http: requests.Session, base: str) -> str:
    """One whole checkout through the service and the sandbox; the ordNo."""
    ord_no = http.post(f"{base}/api/orders", json=ORDER, timeout=30).json()["ordNo"]
    form = AuthForm(http.get(f"{base}/checkout/{ord_no}", headers={"User-Agent": UA}, timeout=30).text)
    window = http.post(urljoin(base, form.action), data={**form.fields, "sandboxAction": "approve"}, timeout=30)
    return_url, fields = parse_result_form(window.text)
    answer = http.post(return_url, data=fields, allow_redirects=False, timeout=30)
    if answer.status_code != 303:
        raise RuntimeError(f"returnUrl answered {answer.status_code}")
    return ord_no


def drive(base: str, seconds: float, shoppers: int) -> dict[str, float]:
    """Shoppers in threads run checkouts until time is up; rate, latency, and how many ended paid."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    ord_nos: list[str] = []
    lock = threading.Lock()

    def shopper(_):
        http = requests.Session()
        # One connection per request, as gunicorn's sync workers serve them anyway.
        http.headers.update({"Authorization": f"Bearer {TOKEN}", "Connection": "close"})
        while time.monotonic() < stop:
            start = time.perf_counter()
            ord_no = checkout(http, base)
            with lock:
                latencies.append(time.perf_counter() - start)
                ord_nos.append(ord_no)

    begin = time.monotonic()
    with ThreadPoolExecutor(shoppers) as pool:
        list(pool.map(shopper, range(shoppers)))
    elapsed = time.monotonic() - begin
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {TOKEN}"})
    paid = sum(http.get(f"{base}/api/orders/{o}", timeout=30).json()["status"] == "paid" for o in ord_nos)
    cuts = statistics.quantiles(latencies, n=100)
    return {"count": len(ord_nos), "rate": len(ord_nos) / elapsed, "p50": cuts[49] * 1000, "p99": cuts[98] * 1000,
            "paid": paid}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--shoppers", type=int, default=8, help="concurrent shoppers (threads)")
    args = parser.parse_args()
    print(machine())
    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    key = secrets.token_urlsafe(48)
    merchant = {"KISPG_MID": BENCH_MID, "KISPG_MERCHANT_KEY": key}
    sandbox_port = free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    figures = {}
    try:
        with running([str(VENV_BIN / "webview-toolkit"), "sandbox", "--port", str(sandbox_port)], merchant,
                     f"{sandbox}/_faults", work / "sandbox.log"), postgresql() as cluster:
            databases = {"SQLite": f"sqlite:///{work / 'orders.sqlite3'}"}
            if cluster is not None:
                databases["PostgreSQL"] = cluster.create_database()
            for name, url in databases.items():
                port = free_port()
                base = f"http://127.0.0.1:{port}"
                env = {**merchant, "KISPG_ENV": "test", "KISPG_BASE_URL": sandbox, "WEBVIEW_DATABASE_URL": url,
                       "WEBVIEW_PUBLIC_URL": base, "WEBVIEW_ADMIN_TOKEN": "bench-admin", "WEBVIEW_API_TOKEN": TOKEN}
                with running(gunicorn("webview_toolkit.web:create_app()", port, workers=4), env, f"{base}/healthz",
                             work / f"service-{name}.log"):
                    drive(base, 2, args.shoppers)  # warm-up: imports, pools, caches
                    figures[name] = drive(base, args.seconds, args.shoppers)
    except Exception:
        for log in sorted(work.glob("*.log")):
            print(f"--- {log.name} (last lines)\n{log.read_text(errors='replace')[-3000:]}")
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"gunicorn --workers 4 (sync), one sandbox process, {args.shoppers} shoppers, {args.seconds:g} s")
    print(f"{'database':<12}{'checkouts':>10}{'checkouts/s':>13}{'p50 ms':>9}{'p99 ms':>9}{'paid':>7}")
    for name, f in figures.items():
        print(f"{name:<12}{f['count']:>10}{f['rate']:>13.1f}{f['p50']:>9.1f}{f['p99']:>9.1f}{f['paid']:>7}")
    if len(figures) == 2:
        print(f"PostgreSQL / SQLite = {figures['PostgreSQL']['rate'] / figures['SQLite']['rate']:.2f}")


if __name__ == "__main__":
    main()
