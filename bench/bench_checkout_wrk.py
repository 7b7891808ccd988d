"""Benchmark: the checkout page under gunicorn (2 workers) with wrk, beside a bare Flask endpoint served the same way.

Run: .venv/bin/python bench/bench_checkout_wrk.py [--seconds 5] [--rounds 5] [--connections 16] [--orders 200]
(scripts/bench installs wrk when missing.) Both apps run under `gunicorn --workers 2` on
loopback; wrk GETs /checkout/<ordNo> over a rotation of created orders as KakaoTalk on iOS,
and /bare/<ordNo> on the bare app. Target: the checkout page at >= 70% of the bare rate.
"""
from __future__ import annotations

import argparse
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
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--orders", type=int, default=200, help="orders whose checkout pages wrk rotates over")
    parser.add_argument("--rounds", type=int, default=5, help="alternating bare/checkout measurement pairs")
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
            ord_nos = [requests.post(f"{service}/api/orders", json=BENCH_ORDER, timeout=10).json()["ordNo"]
                       for _ in range(args.orders)]
            checkout_paths, bare_paths = work / "checkout.txt", work / "bare.txt"
            checkout_paths.write_text("".join(f"/checkout/{o}\n" for o in ord_nos))
            bare_paths.write_text("".join(f"/bare/{o}\n" for o in ord_nos))
            page = requests.get(f"{service}/checkout/{ord_nos[0]}", headers={"User-Agent": KAKAOTALK_IOS}, timeout=10)
            if page.status_code != 200 or 'id="kispg-auth"' not in page.text:
                sys.exit(f"the checkout page is not what wrk would measure: HTTP {page.status_code}")
            targets = {"bare Flask endpoint": (bare, bare_paths), "checkout page": (service, checkout_paths)}
            for base, paths in targets.values():
                wrk(base, paths, 2, args.connections, args.threads)  # warm-up: imports, caches, pools
            # Rounds alternate which endpoint goes first (ABBA...), so a drift in this shared
            # machine's load falls on both; each round's ratio is its own pair of runs.
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
            for round_no in range(args.rounds):
                sequence = list(targets) if round_no % 2 == 0 else list(reversed(targets))
                for name in sequence:
                    runs[name].append(wrk(*targets[name], args.seconds, args.connections, args.threads))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"gunicorn --workers 2 (sync), wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, "
          f"{args.orders} orders rotated, {args.rounds} alternating rounds (medians)")
    print(f"{'endpoint':<22}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, results in runs.items():
        med = {key: statistics.median(r[key] for r in results) for key in ("rps", "p50", "p99")}
        errors = sum(r["errors"] for r in results)
        print(f"{name:<22}{med['rps']:>12.1f}{med['p50']:>10.2f}{med['p99']:>10.2f}{errors:>8}")
    ratios = [c["rps"] / b["rps"] for b, c in zip(runs["bare Flask endpoint"], runs["checkout page"])]
    ratio = statistics.median(ratios)
    verdict = "meets" if ratio >= TARGET else "misses"
    print(f"checkout / bare per round: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"checkout / bare = {ratio:.2f}, median of {len(ratios)} rounds ({verdict} the {TARGET:.0%} target)")


if __name__ == "__main__":
    main()
