"""Tests for the payment state machine under KISPG faults: nothing lost, nothing charged twice."""
import dataclasses

from webview_toolkit.lifecycle import OrderStatus as S
from webview_toolkit.web.extensions import services
import pytest

from .service_helpers import UA, checkout_form, create_order, pay, sandbox_result

pytestmark = pytest.mark.postgres

ADMIN = {"Authorization": "Bearer admin-token"}


def arm(client, endpoint, mode, count=1):
    response = client.post("/sandbox/kispg/_faults", json={"endpoint": endpoint, "mode": mode, "count": count})
    assert response.status_code == 201, response.get_json()


def sandbox_payments(client):
    """What the sandbox holds per tid, from its own inquiry records."""
    return [c for c in client.get("/sandbox/kispg/_calls").get_json() if c["endpoint"] == "payment"]


def order(client, ord_no):
    return client.get(f"/api/orders/{ord_no}").get_json()


def returned(client, ord_no):
    """Authenticate at the sandbox and post the result to returnUrl."""
    return_url, fields = sandbox_result(client, checkout_form(client, ord_no, UA["safari_ios"]))
    response = client.post(return_url, data=fields)
    assert response.status_code == 303
    return fields


def test_declined_approval_fails_the_order(client, monkeypatch):
    from webview_toolkit.kispg.client import KispgClient
    from webview_toolkit.kispg.errors import DeclinedError

    def decline(self, tid, goods_amt):
        raise DeclinedError("declined", result_cd="3011", result_msg="카드 한도 초과")

    monkeypatch.setattr(KispgClient, "approve", decline)
    ord_no = create_order(client)
    returned(client, ord_no)
    state = order(client, ord_no)
    assert (state["status"], state["resultCd"], state["resultMsg"]) == ("failed", "3011", "카드 한도 초과")
    assert "카드 한도 초과" in client.get(f"/orders/{ord_no}").get_data(as_text=True)


@pytest.mark.parametrize("mode", ["timeout", "garbled", "error500"])
def test_lost_answer_without_approval_ends_failed(client, mode):
    ord_no = create_order(client)
    arm(client, "payment", mode)
    returned(client, ord_no)
    assert order(client, ord_no)["status"] == "failed"
    kinds = [e["kind"] for e in services(client.application).store.events(ord_no)]
    assert kinds[-2:] == ["approval_unknown", "reconciled_not_approved"]


def test_commit_then_timeout_is_reconciled_to_paid(client):
    ord_no = create_order(client)
    arm(client, "payment", "commit_then_timeout")
    fields = returned(client, ord_no)
    state = order(client, ord_no)
    assert state["status"] == "paid" and state["tid"] == fields["tid"]
    kinds = [e["kind"] for e in services(client.application).store.events(ord_no)]
    assert "approval_unknown" in kinds and kinds[-1] == "reconciled_paid"


def test_unknown_stays_unknown_while_inquiry_fails_then_reconcile_resolves(client, app):
    ord_no = create_order(client)
    arm(client, "payment", "commit_then_timeout")
    arm(client, "order", "error500")
    returned(client, ord_no)
    assert order(client, ord_no)["status"] == "unknown"
    resolved = services(app).payments.reconcile_all()
    assert [(o.ord_no, o.status) for o in resolved] == [(ord_no, "paid")]
    assert services(app).payments.stuck_orders() == []


def test_result_page_settles_an_unknown_order(client):
    ord_no = create_order(client)
    arm(client, "payment", "commit_then_timeout")
    arm(client, "order", "error500")
    returned(client, ord_no)
    assert order(client, ord_no)["status"] == "unknown"
    assert "결제 완료" in client.get(f"/orders/{ord_no}").get_data(as_text=True)
    assert order(client, ord_no)["status"] == "paid"


def test_reconcile_endpoint(client):
    ord_no = create_order(client)
    arm(client, "payment", "commit_then_timeout")
    arm(client, "order", "timeout")
    returned(client, ord_no)
    assert order(client, ord_no)["status"] == "unknown"
    assert client.post(f"/api/orders/{ord_no}/reconcile").status_code == 401
    response = client.post(f"/api/orders/{ord_no}/reconcile", headers=ADMIN)
    assert response.get_json()["status"] == "paid"


def test_cancel_timeout_is_settled_from_the_inquiry(client, app):
    ord_no = pay(client)
    arm(client, "cancel", "commit_then_timeout")
    response = client.post(f"/api/orders/{ord_no}/cancel", json={"amount": 1000}, headers=ADMIN)
    assert response.status_code == 200
    state = response.get_json()
    assert state["status"] == "partially_cancelled" and state["cancelledAmt"] == 1000


def test_cancel_lost_before_kispg_returns_to_paid(client):
    ord_no = pay(client)
    arm(client, "cancel", "error500")
    response = client.post(f"/api/orders/{ord_no}/cancel", headers=ADMIN)
    assert response.get_json()["status"] == "paid"
    assert response.get_json()["cancelledAmt"] == 0


def test_cancel_with_inquiry_down_stays_cancelling_until_reconciled(client, app):
    ord_no = pay(client)
    arm(client, "cancel", "commit_then_timeout")
    arm(client, "order", "error500")
    response = client.post(f"/api/orders/{ord_no}/cancel", headers=ADMIN)
    assert response.get_json()["status"] == "cancelling"
    again = client.post(f"/api/orders/{ord_no}/cancel", headers=ADMIN)
    assert again.status_code == 409
    resolved = services(app).payments.reconcile_all()
    assert [o.status for o in resolved] == ["cancelled"]


def test_mismatched_approval_needs_review_and_is_never_cancelled(client, app, monkeypatch):
    ord_no = create_order(client)
    from webview_toolkit.kispg.client import KispgClient
    real = KispgClient.approve

    def approve_other_amount(self, tid, goods_amt):
        # KISPG answers a success for another amount than the order's: never mark it paid.
        result = real(self, tid, goods_amt)
        return dataclasses.replace(result, amt="1")

    monkeypatch.setattr(KispgClient, "approve", approve_other_amount)
    returned(client, ord_no)
    state = order(client, ord_no)
    assert state["status"] == "needs_review" and "amount 1" in state["resultMsg"]
    cancels = [c for c in client.get("/sandbox/kispg/_calls").get_json() if c["endpoint"] == "cancel"]
    assert cancels == []  # fail closed: a tid whose answer is not provably ours is never cancelled


# -- what KISPG does not show yet is not a failure yet ------------------------------------------------

@pytest.fixture
def patient(tmp_path, database_url):
    """A service that waits 30 s before taking 'KISPG shows nothing' as final."""
    from webview_toolkit.web import create_app

    from .service_helpers import service_config
    app = create_app(service_config(tmp_path, WEBVIEW_DATABASE_URL=database_url, KISPG_RECONCILE_AFTER=30))
    yield app, app.test_client()
    services(app).store.dispose()


def age(app, ord_no, seconds=60):
    """Pretend the order's last change happened `seconds` ago."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from webview_toolkit.tables import orders
    with services(app).store.engine.begin() as conn:
        conn.execute(update(orders).where(orders.c.ord_no == ord_no)
                     .values(updated_at=datetime.now(timezone.utc) - timedelta(seconds=seconds)))


def test_lost_approval_stays_unknown_until_it_can_be_settled(patient):
    app, client = patient
    ord_no = create_order(client)
    arm(client, "payment", "timeout")
    returned(client, ord_no)
    assert order(client, ord_no)["status"] == "unknown"
    payments = services(app).payments
    assert [o.status for o in payments.reconcile_all()] == ["unknown"]
    assert "결제 확인 중" in client.get(f"/orders/{ord_no}").get_data(as_text=True)
    kinds = [e["kind"] for e in services(app).store.events(ord_no)]
    # Asked after the lost answer, by the reconcile pass and by the page view (the test's check interval is 0).
    assert kinds.count("reconcile_not_yet") == 3
    age(app, ord_no)
    # The result page, refreshing itself, settles it once it is due.
    page = client.get(f"/orders/{ord_no}").get_data(as_text=True)
    assert "결제 실패" in page and order(client, ord_no)["status"] == "failed"


def test_an_approval_that_lands_late_is_still_found(patient):
    app, client = patient
    ord_no = create_order(client)
    arm(client, "payment", "commit_then_timeout")
    returned(client, ord_no)
    assert order(client, ord_no)["status"] == "paid", "KISPG shows the approval: no need to wait"


def test_reconcile_never_races_an_approval_in_flight(patient):
    app, client = patient
    ord_no = create_order(client)
    store = services(app).store
    store.transition(ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    store.transition(ord_no, S.APPROVING, "approval_claimed")
    payments = services(app).payments
    assert payments.reconcile(ord_no).status == "approving"
    assert payments.stuck_orders() == []
    assert [c for c in client.get("/sandbox/kispg/_calls").get_json() if c["endpoint"] == "order"] == []


def test_lost_cancel_stays_cancelling_until_it_can_be_settled(patient):
    app, client = patient
    ord_no = pay(client)
    arm(client, "cancel", "error500")
    response = client.post(f"/api/orders/{ord_no}/cancel", headers=ADMIN)
    assert response.get_json()["status"] == "cancelling"
    age(app, ord_no)
    assert [o.status for o in services(app).payments.reconcile_all()] == ["paid"]
