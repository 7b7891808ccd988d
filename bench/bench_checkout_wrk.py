"""Benchmark: the checkout page under gunicorn (2 workers) with wrk, beside a bare Flask endpoint served the same way.

Run: .venv/bin/python bench/bench_checkout_wrk.py [--seconds 10] [--connections 16] [--orders 200]
(scripts/bench installs wrk when missing.) Both apps run under `gunicorn --workers 2` on
loopback; wrk GETs /checkout/<ordNo> over a rotation of created orders as KakaoTalk on iOS,
and /bare/<ordNo> on the bare app. Target: the checkout page at >= 70% of the bare rate.
"""
from __future__ import annotations

import argparse
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from servers import BENCH_MID, ROOT, free_port, gunicorn, machine, running

LUA = Path(__file__).resolve().parent / "rotate_paths.lua"
TARGET = 0.70
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(base: str, paths: Path, seconds: int, connections: int, threads: int) -> dict[str, float]:
    """Run wrk once; requests/s, p50 and p99 latency in ms, and the error count."""
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA),
                          base, "--", str(paths)], capture_output=True, text=True, check=True).stdout

    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * UNITS[unit]

    errors = re.search(r"non-2xx/3xx: (\d+), socket errors: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": latency("50"),
            "p99": latency("99"), "errors": int(errors.group(1)) + int(errors.group(2))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--orders", type=int, default=200, help="orders whose checkout pages wrk rotates over")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (scripts/bench installs it: apt-get install wrk)")
    print(machine())
    work = Path(tempfile.mkdtemp(prefix="bench-checkout-"))
    service_port, bare_port = free_port(), free_port()
    service, bare = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{bare_port}"
    env = {"KISPG_ENV": "sandbox", "KISPG_MID": BENCH_MID, "KISPG_MERCHANT_KEY": secrets.token_urlsafe(48),
           "WEBVIEW_DATABASE_URL": f"sqlite:///{work / 'orders.sqlite3'}", "WEBVIEW_PUBLIC_URL": service}
    try:
        with running(gunicorn("webview_toolkit.web:create_app()", service_port), env, f"{service}/healthz",
                     work / "service.log"), \
             running(gunicorn("bench.bare_app:create_app()", bare_port), {}, f"{bare}/bare/x", work / "bare.log"):
            order = {"goodsNm": "무선 이어폰", "goodsAmt": 39000, "ordNm": "홍길동", "ordTel": "01012345678"}
            ord_nos = [requests.post(f"{service}/api/orders", json=order, timeout=10).json()["ordNo"]
                       for _ in range(args.orders)]
            checkout_paths, bare_paths = work / "checkout.txt", work / "bare.txt"
            checkout_paths.write_text("".join(f"/checkout/{o}\n" for o in ord_nos))
            bare_paths.write_text("".join(f"/bare/{o}\n" for o in ord_nos))
            for base, paths in ((bare, bare_paths), (service, checkout_paths)):
                wrk(base, paths, 2, args.connections, args.threads)  # warm-up: imports, caches, pools
            figures = {name: wrk(base, paths, args.seconds, args.connections, args.threads)
                       for name, base, paths in (("bare Flask endpoint", bare, bare_paths),
                                                 ("checkout page", service, checkout_paths))}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"gunicorn --workers 2 (sync), wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, "
          f"{args.orders} orders rotated")
    print(f"{'endpoint':<22}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, f in figures.items():
        print(f"{name:<22}{f['rps']:>12.1f}{f['p50']:>10.2f}{f['p99']:>10.2f}{f['errors']:>8}")
    ratio = figures["checkout page"]["rps"] / figures["bare Flask endpoint"]["rps"]
    verdict = "meets" if ratio >= TARGET else "misses"
    print(f"checkout / bare = {ratio:.2f} ({verdict} the {TARGET:.0%} target)")


if __name__ == "__main__":
    main()
