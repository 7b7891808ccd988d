"""Tests for the result page: plain Korean states, card company names from the §9 tables."""
from webview_toolkit.lifecycle import OrderStatus as S
import pytest

from webview_toolkit.web import create_app
from webview_toolkit.web.extensions import services

from .service_helpers import UA, checkout_form, create_order, pay, sandbox_result, service_config

pytestmark = pytest.mark.postgres


def test_paid_page_names_the_card_company(client):
    ord_no = create_order(client)
    return_url, fields = sandbox_result(client, checkout_form(client, ord_no, UA["safari_ios"]))
    client.post(return_url, data=fields)
    state = client.get(f"/api/orders/{ord_no}").get_json()
    html = client.get(f"/orders/{ord_no}").get_data(as_text=True)
    assert 'data-status="paid"' in html and "결제 완료" in html and "39,000원" in html
    from webview_toolkit.registry import load_registry
    name = load_registry().codes.name("card_company", state["cardCode"])
    assert name and name in html


@pytest.mark.parametrize("action, status, text", [("fail", "failed", "결제 실패"), ("cancel", "failed", "결제 실패")])
def test_unsuccessful_pages(client, action, status, text):
    ord_no = pay(client, action=action)
    html = client.get(f"/orders/{ord_no}").get_data(as_text=True)
    assert f'data-status="{status}"' in html and text in html and "청구된 금액은 없습니다" in html


def test_cancelled_page(client):
    ord_no = pay(client)
    client.post(f"/api/orders/{ord_no}/cancel", headers={"Authorization": "Bearer admin-token"})
    html = client.get(f"/orders/{ord_no}").get_data(as_text=True)
    assert 'data-status="cancelled"' in html and "결제 취소됨" in html and "취소 금액" in html


def test_own_app_gets_a_way_back(tmp_path):
    client = create_app(service_config(tmp_path)).test_client()
    ord_no = pay(client, ua=UA["own_app"])
    page = client.get(f"/orders/{ord_no}", headers={"User-Agent": UA["own_app"]}).get_data(as_text=True)
    assert 'href="myshop://"' in page
    for ua in ("kakaotalk_ios", "safari_ios", "desktop_chrome"):
        page = client.get(f"/orders/{ord_no}", headers={"User-Agent": UA[ua]}).get_data(as_text=True)
        assert "myshop://" not in page and "앱으로 돌아가기" not in page


def test_no_app_link_without_an_app_scheme(tmp_path):
    client = create_app(service_config(tmp_path, WEBVIEW_APP_SCHEME=None)).test_client()
    ord_no = pay(client)
    assert "앱으로 돌아가기" not in client.get(f"/orders/{ord_no}").get_data(as_text=True)


def test_created_order_page_and_404(client):
    ord_no = create_order(client)
    assert "결제 대기 중" in client.get(f"/orders/{ord_no}").get_data(as_text=True)
    assert client.get("/orders/nope").status_code == 404


def test_only_a_pending_page_refreshes_itself(app, client):
    refresh = '<meta http-equiv="refresh" content="3">'
    waiting = create_order(client)
    services(app).store.transition(waiting, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    assert refresh in client.get(f"/orders/{waiting}").get_data(as_text=True)
    assert refresh not in client.get(f"/orders/{pay(client)}").get_data(as_text=True)
    assert refresh not in client.get(f"/orders/{create_order(client)}").get_data(as_text=True)
