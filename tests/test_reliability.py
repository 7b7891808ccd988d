"""Faults at KISPG over real HTTP: real read timeouts, and a seeded fault run resolved by `webview-toolkit reconcile`.

After any mix of faults no order is stuck, and every order's state agrees with what
the sandbox says through its own /v2/order inquiry: nothing lost, nothing charged twice.
"""
from __future__ import annotations

from webview_toolkit.lifecycle import OrderStatus as S
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import update

from webview_toolkit.cli import main
from webview_toolkit.kispg.client import KispgClient
from webview_toolkit.kispg.errors import DeclinedError
from webview_toolkit.kispg.testing import FormParser, parse_result_form
from webview_toolkit.tables import orders as orders_table
from webview_toolkit.web.extensions import services

from .service_helpers import MERCHANT_KEY, MID, ORDER, UA

pytestmark = pytest.mark.postgres

ADMIN = {"Authorization": "Bearer admin-token"}
STUCK = ("approving", "unknown", "cancelling")


class Shopper:
    """One browser session against a live server: order, checkout page, sandbox auth, returnUrl."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def arm(self, endpoint: str, mode: str, count: int = 1, delay: float = 0) -> None:
        response = self.http.post(f"{self.base}/sandbox/kispg/_faults",
                                  json={"endpoint": endpoint, "mode": mode, "count": count, "delay": delay})
        assert response.status_code == 201, response.text

    def order(self, **fields) -> str:
        response = self.http.post(f"{self.base}/api/orders", json={**ORDER, **fields})
        assert response.status_code == 201, response.text
        return response.json()["ordNo"]

    def authenticate(self, ord_no: str, action: str = "approve") -> tuple[str, dict]:
        form = FormParser("kispg-auth")
        form.feed(self.http.get(f"{self.base}/checkout/{ord_no}", headers={"User-Agent": UA["kakaotalk_ios"]}).text)
        page = self.http.post(urljoin(self.base, form.action), data={**form.fields, "sandboxAction": action})
        assert page.status_code == 200, page.text[:300]
        return parse_result_form(page.text)

    def checkout(self, ord_no: str, action: str = "approve") -> requests.Response:
        return_url, fields = self.authenticate(ord_no, action)
        return self.http.post(return_url, data=fields)

    def state(self, ord_no: str) -> dict:
        return self.http.get(f"{self.base}/api/orders/{ord_no}").json()


# -- real read timeouts over loopback -----------------------------------------------------------------

@pytest.fixture
def slow_kispg(live_server_factory):
    """A live server whose KISPG client gives up reading after 0.5 s."""
    base, app = live_server_factory(KISPG_TIMEOUT=0.5)
    return Shopper(base), app


def test_real_timeout_after_commit_is_reconciled_to_paid(slow_kispg):
    shopper, app = slow_kispg
    ord_no = shopper.order()
    shopper.arm("payment", "commit_then_timeout", delay=0.8)
    page = shopper.checkout(ord_no)
    assert page.status_code == 200 and "결제 완료" in page.text
    assert shopper.state(ord_no)["status"] == "paid"
    kinds = [e["kind"] for e in services(app).store.events(ord_no)]
    assert kinds[-2:] == ["approval_unknown", "reconciled_paid"]
    detail = services(app).store.events(ord_no)[-2]["detail"]
    assert detail["error"] == "KispgTimeout"


def test_real_timeout_without_approval_fails_and_tells_the_shopper(slow_kispg):
    shopper, app = slow_kispg
    ord_no = shopper.order()
    shopper.arm("payment", "timeout", delay=0.8)
    page = shopper.checkout(ord_no)
    assert page.status_code == 200 and "결제 실패" in page.text and "청구된 금액은 없습니다" in page.text
    assert shopper.state(ord_no)["status"] == "failed"
    assert services(app).store.events(ord_no)[-2]["detail"]["error"] == "KispgTimeout"


def test_real_timeout_of_the_inquiry_too_leaves_unknown_until_reconciled(live_server_factory):
    base, app = live_server_factory(KISPG_TIMEOUT=0.5, KISPG_RECONCILE_AFTER=300, WEBVIEW_INQUIRY_INTERVAL=300)
    shopper = Shopper(base)
    ord_no = shopper.order()
    shopper.arm("payment", "commit_then_timeout", delay=0.7)
    shopper.arm("order", "timeout", delay=0.7)
    page = shopper.checkout(ord_no)
    assert "결제 확인 중" in page.text and "다시 결제하지 마세요" in page.text
    assert shopper.state(ord_no)["status"] == "unknown"
    response = shopper.http.post(f"{shopper.base}/api/orders/{ord_no}/reconcile", headers=ADMIN)
    assert response.json()["status"] == "paid"


# -- a seeded fault run, then `webview-toolkit reconcile` ---------------------------------------------------

# What can go wrong around one checkout: (faults armed before it, how the shopper ends the pay window).
SCENARIOS = {
    "clean": ([], "approve"),
    "auth_failed": ([], "fail"),
    "approval_500": ([("payment", "error500")], "approve"),
    "approval_garbled": ([("payment", "garbled")], "approve"),
    "approval_lost": ([("payment", "timeout")], "approve"),
    "approved_answer_lost": ([("payment", "commit_then_timeout")], "approve"),
    "approved_answer_and_inquiry_lost": ([("payment", "commit_then_timeout"), ("order", "error500")], "approve"),
    "approval_lost_inquiry_garbled": ([("payment", "timeout"), ("order", "garbled")], "approve"),
    "cancel_lost_before_kispg": ([("cancel", "error500")], "approve+cancel"),
    "cancel_answer_lost": ([("cancel", "commit_then_timeout")], "approve+cancel"),
    "cancel_answer_and_inquiry_lost": ([("cancel", "commit_then_timeout"), ("order", "timeout")], "approve+cancel"),
    "worker_died_after_approval": ([], "crash-after-approval"),
    "worker_died_before_approval": ([], "crash-before-approval"),
}
ORDERS_PER_RUN = 39


def reconcile_cli(base: str, database_url: str) -> tuple[int, str]:
    """`webview-toolkit reconcile` as an operator runs it: same database, same KISPG (the live sandbox)."""
    env = {"KISPG_ENV": "sandbox", "KISPG_MID": MID, "KISPG_MERCHANT_KEY": MERCHANT_KEY,
           "KISPG_BASE_URL": f"{base}/sandbox/kispg", "WEBVIEW_DATABASE_URL": database_url,
           "KISPG_TIMEOUT": "5", "KISPG_RECONCILE_AFTER": "0", "WEBVIEW_PUBLIC_URL": base}
    result = CliRunner().invoke(main, ["reconcile"], env=env, catch_exceptions=False)
    return result.exit_code, result.output


def crashed_worker(shopper: Shopper, app, ord_no: str, approved: bool) -> None:
    """Leave the order as a worker that died holding the approval claim a minute ago would."""
    return_url, fields = shopper.authenticate(ord_no)
    wired = services(app)
    store = wired.store
    assert store.transition(ord_no, S.AUTHENTICATED, "authenticated", bind_tid=fields["tid"])
    assert store.transition(ord_no, S.APPROVING, "approval_claimed")
    if approved:
        wired.client.approve(tid=fields["tid"], goods_amt=fields["amt"])
    a_minute_ago = datetime.now(timezone.utc) - timedelta(minutes=1)
    with store.engine.begin() as conn:
        conn.execute(update(orders_table).where(orders_table.c.ord_no == ord_no).values(updated_at=a_minute_ago))


def run_scenario(shopper: Shopper, app, name: str, amount: int) -> str:
    faults, how = SCENARIOS[name]
    ord_no = shopper.order(goodsAmt=amount)
    if how.startswith("crash"):
        crashed_worker(shopper, app, ord_no, approved=how == "crash-after-approval")
        return ord_no
    if how == "approve+cancel":
        assert shopper.checkout(ord_no).status_code == 200
        assert shopper.state(ord_no)["status"] == "paid"
    for endpoint, mode in faults:
        shopper.arm(endpoint, mode)
    if how == "approve+cancel":
        response = shopper.http.post(f"{shopper.base}/api/orders/{ord_no}/cancel", headers=ADMIN, json={})
        assert response.status_code == 200, response.text
    else:
        page = shopper.checkout(ord_no, how)
        assert page.status_code == 200, page.text[:300]
    # An inquiry fault that the flow did not reach must not spill into the next order.
    shopper.http.delete(f"{shopper.base}/sandbox/kispg/_faults")
    return ord_no


def kispg_view(client: KispgClient, order: dict) -> tuple[str, int]:
    """What the sandbox says about an order: (trxStatus or 'none', remaining amount)."""
    try:
        if order["tid"]:
            inquiry = client.inquire(tid=order["tid"], goods_amt=order["goodsAmt"])
        else:
            inquiry = client.inquire(ord_no=order["ordNo"], goods_amt=order["goodsAmt"])
    except DeclinedError:
        return "none", 0
    return inquiry.trx_status, inquiry.remaining


def test_fault_run_ends_with_nothing_stuck_and_agrees_with_kispg(live_server_factory, database_url):
    # The service waits before taking "KISPG shows nothing" as final, so lost outcomes stay
    # stuck for the operator's reconcile (which runs, as cron would, after that wait).
    base, app = live_server_factory(KISPG_RECONCILE_AFTER=300)
    shopper = Shopper(base)
    rng = random.Random(20240613)
    names = list(SCENARIOS) * 3
    rng.shuffle(names)
    ord_nos = {run_scenario(shopper, app, name, rng.choice([1004, 39000, 150000])): name
               for name in names[:ORDERS_PER_RUN]}
    before = Counter(shopper.state(o)["status"] for o in ord_nos)
    # Stuck orders are there for the reconcile to resolve: unknown, cancelling and the crashed workers' approving.
    assert {"unknown", "cancelling", "approving"} <= set(before), before

    code, output = reconcile_cli(base, database_url)
    assert code == 0, output
    assert output.strip().endswith("still unresolved") and ", 0 still unresolved" in output
    looked_at = int(output.strip().splitlines()[-1].split()[0])
    assert looked_at == sum(before[s] for s in STUCK)

    client = KispgClient(f"{base}/sandbox/kispg", MID, MERCHANT_KEY, timeout=(3, 5))
    outcome = Counter()
    for ord_no, name in ord_nos.items():
        order = shopper.state(ord_no)
        assert order["status"] not in STUCK, (name, order)
        trx, remaining = kispg_view(client, order)
        expected = {"paid": ("승인", order["goodsAmt"]), "cancelled": ("취소", 0), "failed": ("none", 0)}
        assert order["status"] in expected, (name, order)
        assert (trx, remaining) == expected[order["status"]], (name, order["status"], trx, remaining)
        outcome[name, order["status"]] += 1
    # Each scenario ended where it must.
    must = {"clean": "paid", "auth_failed": "failed", "approval_500": "failed", "approval_garbled": "failed",
            "approval_lost": "failed", "approved_answer_lost": "paid", "approved_answer_and_inquiry_lost": "paid",
            "approval_lost_inquiry_garbled": "failed", "cancel_lost_before_kispg": "paid",
            "cancel_answer_lost": "cancelled", "cancel_answer_and_inquiry_lost": "cancelled",
            "worker_died_after_approval": "paid", "worker_died_before_approval": "failed"}
    assert {name: status for name, status in outcome} == {name: must[name] for name, _ in outcome}
    # Nothing charged twice: at most one successful approval per order at the sandbox.
    calls = shopper.http.get(f"{base}/sandbox/kispg/_calls").json()
    approvals = Counter(c["ordNo"] for c in calls if c["endpoint"] == "payment" and c["resultCd"] == "3001")
    assert max(approvals.values()) == 1
    assert set(approvals) == {o for o in ord_nos if shopper.state(o)["status"] in ("paid", "cancelled")}
    # A second pass finds nothing left to do.
    assert reconcile_cli(base, database_url) == (0, "0 orders looked at, 0 still unresolved\n")
