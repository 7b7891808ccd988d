"""The service under test: its settings, a shopper's user agents, and a checkout through the sandbox in-process.

The fixtures that build apps from these (`app`, `client`, `live_server`) are in conftest.py.
"""
from __future__ import annotations

from webview_toolkit.kispg.testing import FormParser, auth_result, wsgi_session

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
# KakaoTalk for Mac/Windows: an in-app browser on a desktop, so the PC pay window.
KAKAOTALK_PC = "Mozilla/5.0 (Macintosh; Intel Mac OS X) Safari/605.1.15 KAKAOTALK"


def service_config(tmp_path, **overrides) -> dict:
    """Test settings: a fresh SQLite file, a fixed merchant, the sandbox reached in-process."""
    config = {
        "TESTING": True,
        # Chosen explicitly: a merchant and tokens without KISPG_ENV refuse to start (issue 17).
        "KISPG_ENV": "sandbox", "WEBVIEW_INSTANCE_PATH": str(tmp_path / "instance"),
        "WEBVIEW_DATABASE_URL": f"sqlite:///{tmp_path / 'orders.sqlite3'}",
        "KISPG_MID": MID, "KISPG_MERCHANT_KEY": MERCHANT_KEY,
        "WEBVIEW_PUBLIC_URL": PUBLIC,
        "WEBVIEW_ADMIN_TOKEN": "admin-token", "WEBVIEW_APP_UA_TOKEN": "MyShopApp",
        "WEBVIEW_APP_SCHEME": "myshop://",
        # Settle unknown outcomes at once; tests of the waiting period set their own.
        "KISPG_RECONCILE_AFTER": 0, "WEBVIEW_INQUIRY_INTERVAL": 0,
        "KISPG_SESSION_FACTORY": lambda app: wsgi_session(app, PUBLIC),
    }
    config.update(overrides)
    return config


ORDER = {"goodsNm": "무선 이어폰", "goodsAmt": 39000, "ordNm": "홍길동", "ordTel": "01012345678"}


def create_order(client, **fields) -> str:
    """POST /api/orders and return the ordNo."""
    response = client.post("/api/orders", json={**ORDER, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["ordNo"]


def checkout_form(client, ord_no: str, ua: str) -> FormParser:
    """GET the checkout page as this browser and parse its auth form."""
    response = client.get(f"/checkout/{ord_no}", headers={"User-Agent": ua})
    assert response.status_code == 200
    parser = FormParser("kispg-auth")
    parser.feed(response.get_data(as_text=True))
    assert parser.action, "the checkout page has the auth form"
    return parser


def sandbox_result(client, form: FormParser, action: str = "approve") -> tuple[str, dict]:
    """Post the auth form to the sandbox with sandboxAction; where the result goes (either ending) and its fields."""
    response = client.post(form.action, data={**form.fields, "sandboxAction": action})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return auth_result(response.get_data(as_text=True), form.fields["returnUrl"])


def pay(client, ua: str = UA["safari_ios"], action: str = "approve", **order_fields) -> str:
    """A whole checkout through the sandbox; returns the ordNo."""
    ord_no = create_order(client, **order_fields)
    return_url, fields = sandbox_result(client, checkout_form(client, ord_no, ua), action)
    response = client.post(return_url, data=fields)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return ord_no
