"""Created orders expire after WEBVIEW_ORDER_TTL (issue 17); the checkout shows masked contacts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from webview_toolkit.lifecycle import OrderStatus as S

from webview_toolkit import expiry
from webview_toolkit.tables import orders
from webview_toolkit.web.extensions import services

from .service_helpers import UA, checkout_form, create_order, pay, sandbox_result

pytestmark = pytest.mark.postgres


def age(client, ord_no: str, seconds: float) -> None:
    """Make the order `seconds` old, as if it had been created then."""
    store = services(client.application).store
    with store.engine.begin() as conn:
        conn.execute(update(orders).where(orders.c.ord_no == ord_no).values(
            created_at=datetime.now(timezone.utc) - timedelta(seconds=seconds)))


def test_a_created_order_past_its_ttl_expires_with_a_clear_page(client):
    ord_no = create_order(client)
    age(client, ord_no, 1801)
    page = client.get(f"/checkout/{ord_no}", headers={"User-Agent": UA["safari_ios"]})
    html = page.get_data(as_text=True)
    assert page.status_code == 410 and "결제 가능 시간이 지났습니다" in html and "kispg-auth" not in html
    order = client.get(f"/api/orders/{ord_no}").get_json()
    assert order["status"] == "expired"
    events = services(client.application).store.events(ord_no)
    assert [e["kind"] for e in events] == ["created", "order_expired"] and events[1]["detail"] == {"ttl": 1800}
    assert "주문 만료" in client.get(f"/orders/{ord_no}").get_data(as_text=True)


def test_an_order_within_its_ttl_is_paid(client):
    ord_no = create_order(client)
    age(client, ord_no, 1700)
    return_url, fields = sandbox_result(client, checkout_form(client, ord_no, UA["safari_ios"]))
    assert client.post(return_url, data=fields).status_code == 303
    assert client.get(f"/api/orders/{ord_no}").get_json()["status"] == "paid"


def test_a_result_for_an_order_that_expired_meanwhile_is_not_approved(client):
    ord_no = create_order(client)
    return_url, fields = sandbox_result(client, checkout_form(client, ord_no, UA["safari_ios"]))
    age(client, ord_no, 1801)  # the shopper sat in the pay window past the TTL
    calls = len([c for c in client.get("/sandbox/kispg/_calls").get_json() if c["endpoint"] == "payment"])
    response = client.post(return_url, data=fields)
    assert response.status_code == 410 and "청구된 금액은 없습니다" in response.get_data(as_text=True)
    assert client.get(f"/api/orders/{ord_no}").get_json()["status"] == "expired"
    assert len([c for c in client.get("/sandbox/kispg/_calls").get_json() if c["endpoint"] == "payment"]) == calls


def test_the_api_reports_expiry_and_paid_orders_never_expire(client):
    created, paid = create_order(client), pay(client)
    for ord_no in (created, paid):
        age(client, ord_no, 86400)
    assert client.get(f"/api/orders/{created}").get_json()["status"] == "expired"
    assert client.get(f"/api/orders/{paid}").get_json()["status"] == "paid"


def test_the_ttl_is_configurable(tmp_path):
    from webview_toolkit.web import create_app

    from .service_helpers import service_config
    app = create_app(service_config(tmp_path, WEBVIEW_ORDER_TTL="60"))
    client = app.test_client()
    ord_no = create_order(client)
    age(client, ord_no, 61)
    assert client.get(f"/checkout/{ord_no}").status_code == 410
    services(app).store.dispose()


def test_expiry_loses_to_a_payment_in_flight(client):
    ord_no = create_order(client)
    store = services(client.application).store
    order = store.checkout_order(ord_no)
    store.transition(ord_no, S.AUTHENTICATED, "authenticated", bind_tid="t" * 30)
    assert not expiry.expire_if_due(store, order, 0)
    assert store.get(ord_no).status == "authenticated"


def test_the_checkout_shows_masked_phone_and_email(client):
    ord_no = create_order(client, ordTel="01012345678", ordEmail="buyer@example.com")
    html = client.get(f"/checkout/{ord_no}", headers={"User-Agent": UA["safari_ios"]}).get_data(as_text=True)
    assert "<dd class=\"mono\">010-****-5678</dd>" in html and "<dd class=\"mono\">b****@example.com</dd>" in html
    visible = html.split('<form id="kispg-auth"')[0]
    assert "01012345678" not in visible and "buyer@example.com" not in visible
