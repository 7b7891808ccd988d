"""In-process cost of one checkout view beside bench_checkout_wrk's rungs: where that bench's gap comes from.

Run: .venv/bin/python bench/profile_checkout.py [--requests 4000] [--profile 25]
The view and the rungs (service_rungs.py: the bare page from inside this app, then after the
page's read of the order) are called straight through the app's WSGI entry (no server, no
sockets), the same KakaoTalk-on-iOS request over and over, so the figures are the Python work
per request that gunicorn then adds its own fixed cost to; beside them, bench_checkout_wrk's
baseline (the bare app of bare_app.py) the same way; bench_checkout_wrk prints the worker CPU
of the same rungs under gunicorn, to set these differences beside. Times are this thread's CPU
time, which other jobs on a shared machine disturb far less than the clock. --profile N prints
cProfile's top N by own time.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import shutil
import tempfile
from pathlib import Path

from werkzeug.test import EnvironBuilder

import bare_app
import service_rungs
from servers import BENCH_MID, BENCH_ORDER, KAKAOTALK_IOS, machine, per_request_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also print cProfile's top N functions")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="profile-checkout-"))
    os.environ.update({"KISPG_ENV": "sandbox", "KISPG_MID": BENCH_MID, "KISPG_MERCHANT_KEY": secrets.token_urlsafe(48),
                       "WEBVIEW_DATABASE_URL": f"sqlite:///{work / 'orders.sqlite3'}",
                       "WEBVIEW_PUBLIC_URL": "http://127.0.0.1:8000"})
    from webview_toolkit.web.extensions import services

    try:
        app = service_rungs.create_app()
        ord_no = app.test_client().post("/api/orders", json=BENCH_ORDER).get_json()["ordNo"]
        environ = {path: EnvironBuilder(path=path, headers={"User-Agent": KAKAOTALK_IOS},
                                        base_url="http://127.0.0.1:8000").get_environ()
                   for path in (f"/bare/{ord_no}", f"/rung/bare/{ord_no}", f"/rung/read/{ord_no}", f"/checkout/{ord_no}")}
        baseline = per_request_us(bare_app.create_app().wsgi_app, environ[f"/bare/{ord_no}"], args.requests)
        bare = per_request_us(app.wsgi_app, environ[f"/rung/bare/{ord_no}"], args.requests)
        read = per_request_us(app.wsgi_app, environ[f"/rung/read/{ord_no}"], args.requests)
        checkout = per_request_us(app.wsgi_app, environ[f"/checkout/{ord_no}"], args.requests)
        print(machine(speed_us=baseline))  # the caption's speed is the bare app's figure just measured
        print(f"bare Flask app (bare_app) {baseline:8.1f} µs/request")
        print(f"bare page in this app     {bare:8.1f} µs/request  ({bare - baseline:.1f} µs of this app's hooks)")
        print(f"+ the order's read        {read:8.1f} µs/request  ({read - bare:.1f} µs of the read)")
        print(f"checkout view             {checkout:8.1f} µs/request  ({checkout - read:.1f} µs of the rest of its work, "
              f"{checkout - baseline:.1f} µs over the bare app)")
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(per_request_us, app.wsgi_app, environ[f"/checkout/{ord_no}"], args.requests, 1)
            pstats.Stats(profile).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(args.profile)
        services(app).store.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
