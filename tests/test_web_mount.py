"""Tests for `init_app`: the service mounted under a prefix inside a shop's own Flask app, with its config."""
import pytest
from flask import Flask, session

from webview_toolkit.kispg.testing import FormParser, wsgi_session
from webview_toolkit.web import init_app
from webview_toolkit.webhooks import verify
from webview_toolkit.web.extensions import services

from .service_helpers import MERCHANT_KEY, MID, ORDER, PUBLIC, UA, sandbox_result
from .webhook_helpers import SECRET

pytestmark = pytest.mark.postgres


@pytest.fixture
def host(tmp_path, database_url, receiver):
    """A shop's existing app: its own routes, SECRET_KEY and config, with the service under /pay."""
    app = Flask("shop_backend", instance_path=str(tmp_path / "shop-instance"))
    app.config.update(
        SECRET_KEY="the-shop's-own-session-key", TESTING=True,
        KISPG_ENV="sandbox", KISPG_MID=MID, KISPG_MERCHANT_KEY=MERCHANT_KEY, WEBVIEW_PUBLIC_URL=PUBLIC,
        WEBVIEW_DATABASE_URL=database_url, WEBVIEW_ADMIN_TOKEN="admin-token", KISPG_RECONCILE_AFTER=0,
        WEBVIEW_WEBHOOK_URL=receiver.url, WEBVIEW_WEBHOOK_SECRET=SECRET,
        KISPG_SESSION_FACTORY=lambda app: wsgi_session(app, PUBLIC),
    )

    @app.get("/")
    def home():
        session["visits"] = session.get("visits", 0) + 1
        return f"shop home, visit {session['visits']}"

    @app.get("/orders/mine")
    def my_orders():
        return "the shop's own order page"

    init_app(app, url_prefix="/pay")
    yield app
    services(app).store.dispose()


def test_the_host_keeps_its_routes_and_secret_key(host):
    client = host.test_client()
    assert client.get("/").get_data(as_text=True) == "shop home, visit 1"
    assert client.get("/").get_data(as_text=True) == "shop home, visit 2"  # its session, its key
    assert host.config["SECRET_KEY"] == "the-shop's-own-session-key"
    assert client.get("/orders/mine").get_data(as_text=True) == "the shop's own order page"
    assert client.get("/nothing").mimetype == "text/html"  # the host's 404, not the API's
    assert client.get("/pay/api/nothing").get_json()["fields"] == {}
    assert client.get("/pay/healthz").get_json() == {"status": "ok", "kispgEnv": "sandbox"}
    assert client.get("/api/orders").status_code == 404  # nothing of ours outside the prefix


def test_a_whole_checkout_under_the_prefix(host, receiver):
    client = host.test_client()
    created = client.post("/pay/api/orders", json={**ORDER, "merchantOrderId": "shop-1"})
    assert created.status_code == 201
    ord_no = created.get_json()["ordNo"]
    assert created.get_json()["checkoutUrl"] == f"{PUBLIC}/pay/checkout/{ord_no}"  # absolute URLs come from WEBVIEW_PUBLIC_URL
    page = client.get(f"/pay/checkout/{ord_no}", headers={"User-Agent": UA["safari_ios"]})
    assert page.status_code == 200
    assert "/pay/frame/site.css" in page.get_data(as_text=True)
    assert client.get("/pay/frame/site.css").status_code == 200
    form = FormParser("kispg-auth")
    form.feed(page.get_data(as_text=True))
    assert form.action == "/pay/sandbox/kispg/v2/auth"
    assert form.fields["returnUrl"].startswith(f"{PUBLIC}/pay/kispg/return?")
    return_url, fields = sandbox_result(client, form)
    answer = client.post(return_url.replace(PUBLIC, ""), data=fields)
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/pay/orders/{ord_no}")
    assert client.get(f"/pay/api/orders/{ord_no}").get_json()["status"] == "paid"
    result = client.get(f"/pay/orders/{ord_no}").get_data(as_text=True)
    assert "결제 완료" in result and "/pay/frame/site.css" in result
    assert services(host).webhooks.deliver_due().delivered == 1
    headers, body = receiver.posts[0]
    event = verify(body, headers["Webview-Signature"], SECRET)
    assert event["type"] == "order.paid" and event["order"]["merchantOrderId"] == "shop-1"


def test_a_prefix_must_start_with_a_slash(tmp_path):
    app = Flask("shop_backend", instance_path=str(tmp_path / "i"))
    with pytest.raises(ValueError, match="must start with '/'"):
        init_app(app, url_prefix="pay")
