"""Shared fixtures: a service app wired to its own sandbox in-process, and a checkout driver."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from webview_toolkit.kispg.testing import parse_result_form, wsgi_session

PUBLIC = "http://shop.test"
MID = "webview01m"
# A made-up key for tests; the test that scans pages and logs looks for it.
MERCHANT_KEY = "T3stMerchantKey+/only-for-tests-" + "Zk9" * 10

UA = {
    "kakaotalk_ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.6.5",
    "kakaotalk_android": "Mozilla/5.0 (Linux; Android 14; SM-S918N Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 KAKAOTALK/10.7.0 (INAPP)",
    "naver_ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 NAVER(inapp; search; 2000; 12.5.1; 15PRO)",
    "safari_ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "chrome_android": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "desktop_chrome": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "own_app": "Mozilla/5.0 (Linux; Android 14; SM-S918N Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 MyShopApp/3.2",
}


def service_config(tmp_path, **overrides) -> dict:
    """Test settings: a fresh SQLite file, a fixed merchant, the sandbox reached in-process."""
    config = {
        "TESTING": True,
        "WEBVIEW_DATABASE_URL": f"sqlite:///{tmp_path / 'orders.sqlite3'}",
        "KISPG_MID": MID, "KISPG_MERCHANT_KEY": MERCHANT_KEY,
        "WEBVIEW_PUBLIC_URL": PUBLIC,
        "WEBVIEW_ADMIN_TOKEN": "admin-token", "WEBVIEW_APP_UA_TOKEN": "MyShopApp",
        "WEBVIEW_APP_SCHEME": "myshop://",
        "KISPG_SESSION_FACTORY": lambda app: wsgi_session(app, PUBLIC),
    }
    config.update(overrides)
    return config


@pytest.fixture
def app(tmp_path):
    from webview_toolkit.web import create_app
    app = create_app(service_config(tmp_path))
    yield app
    app.extensions["webview_toolkit"].store.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


ORDER = {"goodsNm": "무선 이어폰", "goodsAmt": 39000, "ordNm": "홍길동", "ordTel": "01012345678"}


def create_order(client, **fields) -> str:
    """POST /api/orders and return the ordNo."""
    response = client.post("/api/orders", json={**ORDER, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["ordNo"]


class FormParser(HTMLParser):
    """The first form with the given id: its action, target and inputs."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.action = self.target = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and values.get("id") == self.form_id:
            self.inside, self.action, self.target = True, values.get("action"), values.get("target")
        elif tag == "input" and self.inside and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def checkout_form(client, ord_no: str, ua: str) -> FormParser:
    """GET the checkout page as this browser and parse its auth form."""
    response = client.get(f"/checkout/{ord_no}", headers={"User-Agent": ua})
    assert response.status_code == 200
    parser = FormParser("kispg-auth")
    parser.feed(response.get_data(as_text=True))
    assert parser.action, "the checkout page has the auth form"
    return parser


def sandbox_result(client, form: FormParser, action: str = "approve") -> tuple[str, dict]:
    """Post the auth form to the sandbox with sandboxAction; the result form it auto-posts."""
    response = client.post(form.action, data={**form.fields, "sandboxAction": action})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return parse_result_form(response.get_data(as_text=True))


def pay(client, ua: str = UA["safari_ios"], action: str = "approve", **order_fields) -> str:
    """A whole checkout through the sandbox; returns the ordNo."""
    ord_no = create_order(client, **order_fields)
    return_url, fields = sandbox_result(client, checkout_form(client, ord_no, ua), action)
    response = client.post(return_url, data=fields)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return ord_no


@pytest.fixture
def live_server(tmp_path):
    """The service on a real loopback socket (threaded), talking to its sandbox over HTTP."""
    import threading

    from werkzeug.serving import make_server

    from webview_toolkit.web import create_app

    holder = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = create_app(service_config(
        tmp_path, WEBVIEW_PUBLIC_URL=base, KISPG_BASE_URL=f"{base}/sandbox/kispg", KISPG_SESSION_FACTORY=None))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, holder["app"]
    server.shutdown()
    thread.join()
    holder["app"].extensions["webview_toolkit"].store.dispose()
