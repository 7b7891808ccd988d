"""Benchmark: the checkout page under gunicorn (2 workers) with wrk, beside a bare Flask endpoint served the same way.

Run: .venv/bin/python bench/bench_checkout_wrk.py [--seconds 5] [--rounds 5] [--connections 16] [--orders 200] [--quick]
(scripts/bench installs wrk when missing.) Both apps run under `gunicorn --workers 2` on
loopback; wrk GETs /checkout/<ordNo> over a rotation of created orders as KakaoTalk on iOS,
and /bare/<ordNo> on the bare app. Target: the checkout page at >= 80% of the bare rate (issue 18).
Beside the rates it prints the CPU the workers spent per request (from /proc): on a machine
shared with other jobs the rates swing, and that figure says where the difference comes from.
Two rungs between them, served the same way by this app with two bench-only routes
(service_rungs.py), say which part of the page the ratio goes to: a route that returns the bare
page (this app's hooks) and one that first reads the order as the checkout does.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from servers import BENCH_MID, BENCH_ORDER, KAKAOTALK_IOS, free_port, gunicorn, machine, running

LUA = Path(__file__).resolve().parent / "rotate_paths.lua"
TARGET = 0.80
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}
TICKS = os.sysconf("SC_CLK_TCK")
# The rungs of service_rungs.py: this app's hooks around the bare page, then with the page's read too.
RUNG_HOOKS = "rung: bare page in this app"
RUNG_READ = "rung: + the order's read"


def worker_cpu_seconds(master_pid: int) -> float:
    """User and system CPU seconds spent so far by a gunicorn master's worker processes (Linux /proc)."""
    total = 0
    for task in os.listdir(f"/proc/{master_pid}/task"):
        for child in Path(f"/proc/{master_pid}/task/{task}/children").read_text().split():
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14 and 15)
    return total / TICKS


def wrk(base: str, paths: Path, seconds: int, connections: int, threads: int, master_pid: int) -> dict[str, float]:
    """Run wrk once; requests/s, p50 and p99 latency in ms, the error count, and worker CPU µs per request."""
    cpu_before = worker_cpu_seconds(master_pid)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA),
                          base, "--", str(paths)], capture_output=True, text=True, check=True).stdout
    cpu = worker_cpu_seconds(master_pid) - cpu_before

    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * UNITS[unit]

    errors = re.search(r"non-2xx/3xx: (\d+), socket errors: (\d+)", out)
    served = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": latency("50"),
            "p99": latency("99"), "errors": int(errors.group(1)) + int(errors.group(2)),
            "cpu_us": cpu / max(served, 1) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--orders", type=int, default=200, help="orders whose checkout pages wrk rotates over")
    parser.add_argument("--rounds", type=int, default=5, help="alternating bare/checkout measurement pairs")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 3 s")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 3, 3
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (scripts/bench installs it: apt-get install wrk)")
    print(machine())
    work = Path(tempfile.mkdtemp(prefix="bench-checkout-"))
    service_port, bare_port, rungs_port = free_port(), free_port(), free_port()
    service, bare, rungs = (f"http://127.0.0.1:{port}" for port in (service_port, bare_port, rungs_port))
    env = {"KISPG_ENV": "sandbox", "KISPG_MID": BENCH_MID, "KISPG_MERCHANT_KEY": secrets.token_urlsafe(48)}
    try:
        with running(gunicorn("webview_toolkit.web:create_app()", service_port),
                     {**env, "WEBVIEW_DATABASE_URL": f"sqlite:///{work / 'orders.sqlite3'}", "WEBVIEW_PUBLIC_URL": service},
                     f"{service}/healthz", work / "service.log") as service_process, \
             running(gunicorn("bench.bare_app:create_app()", bare_port), {}, f"{bare}/bare/x",
                     work / "bare.log") as bare_process, \
             running(gunicorn("bench.service_rungs:create_app()", rungs_port),
                     {**env, "WEBVIEW_DATABASE_URL": f"sqlite:///{work / 'rungs.sqlite3'}", "WEBVIEW_PUBLIC_URL": rungs},
                     f"{rungs}/healthz", work / "rungs.log") as rungs_process:
            ord_nos = create_orders(service, args.orders)
            page = requests.get(f"{service}/checkout/{ord_nos[0]}", headers={"User-Agent": KAKAOTALK_IOS}, timeout=10)
            if page.status_code != 200 or 'id="kispg-auth"' not in page.text:
                sys.exit(f"the checkout page is not what wrk would measure: HTTP {page.status_code}")
            rung_orders = create_orders(rungs, args.orders)
            targets = {"bare Flask endpoint": (bare, rotation(work / "bare.txt", "/bare/", ord_nos), bare_process.pid),
                       RUNG_HOOKS: (rungs, rotation(work / "hooks.txt", "/rung/bare/", rung_orders), rungs_process.pid),
                       RUNG_READ: (rungs, rotation(work / "read.txt", "/rung/read/", rung_orders), rungs_process.pid),
                       "checkout page": (service, rotation(work / "checkout.txt", "/checkout/", ord_nos),
                                         service_process.pid)}
            for base, paths, pid in targets.values():
                wrk(base, paths, 2, args.connections, args.threads, pid)  # warm-up: imports, caches, pools
            # Rounds alternate which endpoint goes first (ABBA...), so a drift in this shared
            # machine's load falls on both; each round's ratio is its own pair of runs.
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
            for round_no in range(args.rounds):
                sequence = list(targets) if round_no % 2 == 0 else list(reversed(targets))
                for name in sequence:
                    base, paths, pid = targets[name]
                    runs[name].append(wrk(base, paths, args.seconds, args.connections, args.threads, pid))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"gunicorn --workers 2 (sync), wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, "
          f"{args.orders} orders rotated, {args.rounds} alternating rounds (medians)")
    print(f"{'endpoint':<32}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'worker CPU µs/req':>19}"
          f"{'/ bare':>8}")
    # Each endpoint's medians and its per-round ratios to bare, computed once for the table and the lines after it.
    med = {name: {key: statistics.median(r[key] for r in results) for key in ("rps", "p50", "p99", "cpu_us")}
           for name, results in runs.items()}
    ratios = {name: [r["rps"] / b["rps"] for b, r in zip(runs["bare Flask endpoint"], results)]
              for name, results in runs.items()}
    for name, results in runs.items():
        m, errors = med[name], sum(r["errors"] for r in results)
        print(f"{name:<32}{m['rps']:>12.1f}{m['p50']:>10.2f}{m['p99']:>10.2f}{errors:>8}{m['cpu_us']:>19.0f}"
              f"{statistics.median(ratios[name]):>8.2f}")
    ratio = statistics.median(ratios["checkout page"])
    verdict = "MEETS" if ratio >= TARGET else "MISSES"
    print(f"checkout / bare per round: {', '.join(f'{r:.2f}' for r in ratios['checkout page'])}")
    print(f"checkout / bare = {ratio:.2f}, median of {args.rounds} rounds: {verdict} the {TARGET:.2f} target")
    cpu = {name: m["cpu_us"] for name, m in med.items()}
    print(f"the page's worker CPU over the bare endpoint's, by rung: this app's hooks "
          f"{cpu[RUNG_HOOKS] - cpu['bare Flask endpoint']:.0f} µs, the order's read {cpu[RUNG_READ] - cpu[RUNG_HOOKS]:.0f} µs, "
          f"the rest of the page {cpu['checkout page'] - cpu[RUNG_READ]:.0f} µs")


def create_orders(base: str, count: int) -> list[str]:
    """Create `count` bench orders through the service's API; their ordNos."""
    return [requests.post(f"{base}/api/orders", json=BENCH_ORDER, timeout=10).json()["ordNo"] for _ in range(count)]


def rotation(path: Path, prefix: str, ord_nos: list[str]) -> Path:
    """Write rotate_paths.lua's file: one path per order."""
    path.write_text("".join(f"{prefix}{o}\n" for o in ord_nos))
    return path


if __name__ == "__main__":
    main()
