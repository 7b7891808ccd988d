"""Concurrent shoppers over real HTTP on loopback, and the app under gunicorn with several workers.

Fifty shoppers check out at once, each posting its returnUrl twice: every order is paid
exactly once, no request errs, no row is lost. Both on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import pytest
import requests

from webview_toolkit.kispg.testing import FormParser, auth_result
from webview_toolkit.web.extensions import services

from .loopback import free_port, gunicorn, served
from .service_helpers import MERCHANT_KEY, MID, ORDER, UA

pytestmark = pytest.mark.postgres

SHOPPERS = 50


def shop(base: str, barrier: threading.Barrier, ua: str, headers: dict | None = None) -> tuple[str, list[int]]:
    """One shopper: order, checkout page, sandbox auth, then its returnUrl posted twice at once."""
    http = requests.Session()
    # No keep-alive: a server closing an idle connection as the next POST goes out would reset it.
    http.headers.update({"Connection": "close", **(headers or {})})
    statuses = []
    created = http.post(f"{base}/api/orders", json=ORDER, timeout=60)
    statuses.append(created.status_code)
    ord_no = created.json()["ordNo"]
    page = http.get(f"{base}/checkout/{ord_no}", headers={"User-Agent": ua}, timeout=60)
    statuses.append(page.status_code)
    form = FormParser("kispg-auth")
    form.feed(page.text)
    window = http.post(urljoin(base, form.action), data={**form.fields, "sandboxAction": "approve"}, timeout=60)
    statuses.append(window.status_code)
    # A desktop shopper's pay window ends by postMessage; the checkout page would post `data` on.
    return_url, fields = auth_result(window.text, form.fields["returnUrl"])
    barrier.wait(timeout=60)
    with ThreadPoolExecutor(2) as twice:
        posts = list(twice.map(lambda _: http.post(return_url, data=fields, allow_redirects=False, timeout=60),
                               range(2)))
    statuses += [p.status_code for p in posts]
    return ord_no, statuses


def checkout_crowd(base: str, calls_url: str, headers: dict | None = None, shoppers: int = SHOPPERS) -> dict:
    """Run the crowd; assert every request answered as it should; the sandbox's approvals per ordNo."""
    barrier = threading.Barrier(shoppers)
    agents = list(UA.values())
    with ThreadPoolExecutor(shoppers) as pool:
        results = list(pool.map(lambda i: shop(base, barrier, agents[i % len(agents)], headers), range(shoppers)))
    assert [statuses for _, statuses in results] == [[201, 200, 200, 303, 303]] * shoppers
    ord_nos = [ord_no for ord_no, _ in results]
    assert len(set(ord_nos)) == shoppers
    calls = requests.get(calls_url, timeout=30).json()
    approvals = Counter(c["ordNo"] for c in calls if c["endpoint"] == "payment" and c["resultCd"] == "3001")
    return {"ord_nos": ord_nos, "approvals": approvals,
            "payment_calls": sum(c["endpoint"] == "payment" for c in calls)}


def test_fifty_shoppers_at_once(live_server):
    base, app = live_server
    crowd = checkout_crowd(base, f"{base}/sandbox/kispg/_calls")
    store = services(app).store
    assert store.count() == SHOPPERS
    assert Counter(store.get(o).status for o in crowd["ord_nos"]) == {"paid": SHOPPERS}
    # Exactly one approval call per order reached KISPG, though each result was posted twice at once.
    assert crowd["payment_calls"] == SHOPPERS and set(crowd["approvals"].values()) == {1}
    for ord_no in crowd["ord_nos"]:
        kinds = [e["kind"] for e in store.events(ord_no)]
        assert kinds.count("approval_claimed") == 1 and kinds.count("approved") == 1
        assert kinds.count("return_duplicate") == 1


# -- gunicorn, several workers, one database ------------------------------------------------------------

@pytest.fixture
def standalone_sandbox():
    """The KISPG sandbox as its own server (as `webview-toolkit sandbox` runs it): one memory for all workers."""
    from webview_toolkit.kispg.sandbox import create_sandbox_app

    with served(create_sandbox_app({"KISPG_MID": MID, "KISPG_MERCHANT_KEY": MERCHANT_KEY})) as base:
        yield base


def test_gunicorn_with_two_workers_pays_each_order_once(database_url, standalone_sandbox, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # KISPG_ENV=test with KISPG_BASE_URL: the workers talk to one sandbox as they would to KISPG's test host.
    env = {**os.environ, "KISPG_ENV": "test", "KISPG_MID": MID, "KISPG_MERCHANT_KEY": MERCHANT_KEY,
           "KISPG_BASE_URL": standalone_sandbox, "WEBVIEW_DATABASE_URL": database_url, "WEBVIEW_PUBLIC_URL": base,
           "WEBVIEW_ADMIN_TOKEN": "admin-token", "WEBVIEW_API_TOKEN": "api-token", "KISPG_TIMEOUT": "10"}
    with gunicorn(tmp_path, port, env, 2, "--access-logfile", "-") as log:
        try:
            crowd = checkout_crowd(base, f"{standalone_sandbox}/_calls", {"Authorization": "Bearer api-token"},
                                   shoppers=20)
        except (requests.RequestException, threading.BrokenBarrierError) as exc:
            raise AssertionError(f"{exc!r}\n{log.read_text(errors='replace')[-3000:]}") from None
        states = [requests.get(f"{base}/api/orders/{o}", headers={"Authorization": "Bearer api-token"}, timeout=30)
                  .json()["status"] for o in crowd["ord_nos"]]
        assert states == ["paid"] * 20
        assert crowd["payment_calls"] == 20 and set(crowd["approvals"].values()) == {1}
    output = log.read_text(errors="replace")
    pids = {line.split("pid: ")[1].split(")")[0] for line in output.splitlines() if "Booting worker with pid" in line}
    assert len(pids) == 2, output[-2000:]
    assert MERCHANT_KEY not in output and " 500 " not in output


def test_the_sandbox_follows_whatever_port_the_service_runs_on(tmp_path):
    """No KISPG_BASE_URL, no WEBVIEW_PUBLIC_URL, a port that is not 5000: gunicorn's WSGI entry point
    still approves through its own sandbox (it is reached in-process, not at a guessed address)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KISPG_", "WEBVIEW_"))}
    env.update(KISPG_ENV="sandbox", WEBVIEW_INSTANCE_PATH=str(tmp_path / "instance"))
    with gunicorn(tmp_path, port, env, 1) as log:
        ord_no, statuses = shop(base, threading.Barrier(1), UA["kakaotalk_ios"])
        assert statuses[:3] == [201, 200, 200] and set(statuses[3:]) == {303}, log.read_text()[-2000:]
        order = requests.get(f"{base}/api/orders/{ord_no}", timeout=30).json()
        assert order["status"] == "paid", (order, log.read_text()[-2000:])
