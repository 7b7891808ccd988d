"""Where one complete checkout's work goes, step by step: SQL statements, connection checkouts, commits, µs.

Run: .venv/bin/python bench/profile_service.py [--checkouts 300] [--sqlite] [--profile 30 [--sort cumtime]
     [--only webview_toolkit] [--callees 'store.py.*transition']]
The service (KISPG_ENV=test) and a sandbox app run in this process, the sandbox reached through
an in-process session (no sockets, so the figures are the Python and database work that
bench_service.py's gunicorn then adds its own cost to). On a throwaway PostgreSQL cluster unless
--sqlite. Per step (order, page, the sandbox's window, return+approval, result): statements
sent, pool checkouts (before this round each was also a ping round trip: pool_pre_ping), commits,
µs of wall time, and µs of this process's CPU (steadier than wall time on a shared machine).
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import secrets
import shutil
import tempfile
import time
from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import event

from bench_service import TOKEN
from forms import form
from servers import BENCH_MID, BENCH_ORDER, KAKAOTALK_IOS, machine, postgresql
from webview_toolkit.kispg.inprocess import wsgi_session
from webview_toolkit.kispg.sandbox import create_sandbox_app
from webview_toolkit.web import create_app
from webview_toolkit.web.extensions import services

SANDBOX = "http://sandbox.bench"
STEPS = ("order", "page", "window", "return", "result")


def counting(engine, current: list[Counter]) -> None:
    """Count statements, checkouts and commits on the engine into current[0] (the step being run)."""
    def count(name: str):
        return lambda *args, **kwargs: current[0].update([name])

    event.listen(engine, "before_cursor_execute", count("statements"))
    event.listen(engine, "commit", count("commits"))
    event.listen(engine.pool, "checkout", count("checkouts"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", type=int, default=300)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also print cProfile's top N functions by CPU time")
    parser.add_argument("--sort", default="tottime", help="cProfile's sort key (tottime, cumtime, ...)")
    parser.add_argument("--only", default="", metavar="REGEX", help="list only functions whose place matches")
    parser.add_argument("--callees", metavar="REGEX", help="also print what the matching functions call")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="profile-service-"))
    key = secrets.token_urlsafe(48)
    try:
        with (nullcontext(None) if args.sqlite else postgresql()) as cluster:
            url = cluster.create_database() if cluster else f"sqlite:///{work / 'orders.sqlite3'}"
            sandbox = create_sandbox_app({"KISPG_MID": BENCH_MID, "KISPG_MERCHANT_KEY": key})
            app = create_app({
                "KISPG_ENV": "test", "KISPG_MID": BENCH_MID, "KISPG_MERCHANT_KEY": key, "KISPG_BASE_URL": SANDBOX,
                "KISPG_SESSION_FACTORY": lambda app: wsgi_session(sandbox, SANDBOX),
                "WEBVIEW_DATABASE_URL": url, "WEBVIEW_PUBLIC_URL": "http://127.0.0.1:8000",
                "WEBVIEW_ADMIN_TOKEN": "bench-admin", "WEBVIEW_API_TOKEN": TOKEN})
            engine = services(app).store.engine
            per_step = {step: Counter() for step in STEPS}
            current = [Counter()]
            counting(engine, current)
            web, window = app.test_client(), sandbox.test_client()

            def checkout() -> None:
                current[0] = per_step["order"]
                start = (time.perf_counter(), time.process_time())
                ord_no = web.post("/api/orders", json=BENCH_ORDER, headers={"Authorization": f"Bearer {TOKEN}"}
                                  ).get_json()["ordNo"]
                start = _lap(per_step["order"], start)
                current[0] = per_step["page"]
                action, auth = form(web.get(f"/checkout/{ord_no}", headers={"User-Agent": KAKAOTALK_IOS}).get_data(True),
                                    "kispg-auth")
                start = _lap(per_step["page"], start)
                current[0] = per_step["window"]
                result = window.post(urlsplit(action).path, data={**auth, "sandboxAction": "approve"})
                return_url, fields = form(result.get_data(as_text=True), "kispg-result")
                start = _lap(per_step["window"], start)
                current[0] = per_step["return"]
                parts = urlsplit(return_url)
                answer = web.post(f"{parts.path}?{parts.query}", data=fields)
                assert answer.status_code == 303, answer.status_code
                start = _lap(per_step["return"], start)
                current[0] = per_step["result"]
                page = web.get(answer.headers["Location"], headers={"User-Agent": KAKAOTALK_IOS})
                assert "결제 완료" in page.get_data(as_text=True)
                _lap(per_step["result"], start)

            for _ in range(30):
                checkout()  # warm-up: imports, caches, pools
            for counts in per_step.values():
                counts.clear()
            profile = cProfile.Profile(time.process_time) if args.profile else None
            for _ in range(args.checkouts):
                if profile:
                    profile.runcall(checkout)
                else:
                    checkout()
            print(machine())
            print(f"{'PostgreSQL' if cluster else 'SQLite'}, {args.checkouts} checkouts in-process, per checkout:")
            print(f"{'step':<8}{'statements':>11}{'checkouts':>11}{'commits':>9}{'µs':>9}{'CPU µs':>9}")
            total = Counter()
            for step, counts in per_step.items():
                total.update(counts)
                n = args.checkouts
                print(f"{step:<8}{counts['statements'] / n:>11.1f}{counts['checkouts'] / n:>11.1f}"
                      f"{counts['commits'] / n:>9.1f}{counts['us'] / n:>9.0f}{counts['cpu'] / n:>9.0f}")
            print(f"{'all':<8}{total['statements'] / n:>11.1f}{total['checkouts'] / n:>11.1f}"
                  f"{total['commits'] / n:>9.1f}{total['us'] / n:>9.0f}{total['cpu'] / n:>9.0f}")
            if profile:
                stats = pstats.Stats(profile).sort_stats(args.sort)
                stats.print_stats(args.only, args.profile)
                if args.callees:
                    stats.print_callees(args.callees)
            services(app).store.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _lap(counts: Counter, start: tuple[float, float]) -> tuple[float, float]:
    now = (time.perf_counter(), time.process_time())
    counts["us"] += (now[0] - start[0]) * 1e6
    counts["cpu"] += (now[1] - start[1]) * 1e6
    return now


if __name__ == "__main__":
    main()
