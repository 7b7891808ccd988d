"""The service's edge (issue 17): security headers on every route, absolute URLs from trusted
sources only, bounded input, Korean error pages and JSON API errors, the sandbox's admin routes."""
from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from jinja2 import StrictUndefined
from werkzeug.exceptions import TooManyRequests

from webview_toolkit.kispg.sandbox import create_sandbox_blueprint
from webview_toolkit.kispg.testing import FormParser
from webview_toolkit.web import create_app
from webview_toolkit.web.extensions import services

from .service_helpers import MERCHANT_KEY, MID, ORDER, UA, checkout_form, create_order, pay, service_config

pytestmark = pytest.mark.postgres

ADMIN = {"Authorization": "Bearer admin-token"}
LAN = {"REMOTE_ADDR": "192.168.0.77"}
NONCE_RE = re.compile(r"script-src 'nonce-([A-Za-z0-9_-]+)'")


def csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as directive → sources."""
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


def check_headers(response, where: str) -> None:
    """What every response carries, and what every page carries besides."""
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "no-referrer", where
    if response.mimetype in ("text/html", "application/json"):
        assert response.headers.get("Cache-Control") == "no-store", where
    if response.mimetype != "text/html":
        return
    policy = csp(response)
    nonce = NONCE_RE.search(response.headers["Content-Security-Policy"]).group(1)
    assert policy["script-src"] == [f"'nonce-{nonce}'"], where
    assert policy["form-action"][0] == "'self'" and policy["object-src"] == ["'none'"], where
    assert policy["base-uri"] == ["'none'"], where
    framed_by = policy["frame-ancestors"]
    assert framed_by == (["'self'"] if "/sandbox/kispg/" in where else ["'none'"]), where
    html = response.get_data(as_text=True)
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
        assert f'nonce="{nonce}"' in tag, (where, tag)
    assert not re.search(r"\son[a-z]+=", html), f"{where}: an inline event handler no policy nonce can allow"


def test_every_route_sends_the_security_headers(app, client):
    ord_no = create_order(client)
    paid = pay(client)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    assert len(rules) >= 15
    seen = 0
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            values = {name: (paid if "cancel" in rule.rule else ord_no) for name in rule.arguments}
            if "kind" in rule.arguments:
                values["kind"] = "png"
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), rule.rule)
            query = {"url": "http://shop.test/device-test"} if "qr" in rule.rule else None
            headers = {**ADMIN, "User-Agent": UA["kakaotalk_ios"]}
            # JSON endpoints get an empty object; forms get an empty form: every answer is checked, refusals too.
            json_body = {} if method != "GET" and ("/v2/" in path or "/api/" in path) else None
            response = client.open(path, method=method, headers=headers, query_string=query, json=json_body)
            check_headers(response, f"{method} {path} → {response.status_code}")
            seen += 1
    # And the pages behind a flow: the pay window, the app-launch page, the result post, a refusal.
    form = checkout_form(client, create_order(client), UA["kakaotalk_ios"])
    window = client.post(form.action, data=form.fields, headers={"User-Agent": UA["kakaotalk_ios"]})
    check_headers(window, "POST /sandbox/kispg/v2/auth (pay window)")
    token = re.search(r'name="token" value="([^"]+)"', window.get_data(as_text=True)).group(1)
    launch = client.post("/sandbox/kispg/v2/auth/choose", data={"token": token, "cardCode": "04"},
                         headers={"User-Agent": UA["kakaotalk_ios"]})
    check_headers(launch, "POST /sandbox/kispg/v2/auth/choose (launch)")
    posted = client.post("/sandbox/kispg/v2/auth/finish", data={"token": token, "action": "approve"})
    check_headers(posted, "POST /sandbox/kispg/v2/auth/finish (result post)")
    assert "http://shop.test" in csp(posted)["form-action"], "the result form posts to the merchant's returnUrl"
    check_headers(client.post("/sandbox/kispg/v2/auth/finish", data={"token": "gone", "action": "approve"}),
                  "POST /sandbox/kispg/v2/auth/finish (error page)")
    assert seen >= 18


def test_the_nonce_is_new_for_every_response_and_on_the_checkout_script(client):
    ord_no = create_order(client)
    first, second = (client.get(f"/checkout/{ord_no}", headers={"User-Agent": UA["safari_ios"]}) for _ in range(2))
    nonces = [NONCE_RE.search(r.headers["Content-Security-Policy"]).group(1) for r in (first, second)]
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 22
    assert f'<script nonce="{nonces[0]}">' in first.get_data(as_text=True)


def test_checkout_may_frame_the_pay_window_and_post_only_to_kispg(tmp_path, client):
    sandbox = csp(client.get(f"/checkout/{create_order(client)}"))
    assert sandbox["frame-src"] == ["'self'"] and sandbox["form-action"] == ["'self'"]
    (tmp_path / "t").mkdir()
    app = create_app(service_config(tmp_path / "t", KISPG_ENV="test", WEBVIEW_API_TOKEN="api-token"))
    test_client = app.test_client()
    ord_no = test_client.post("/api/orders", json=ORDER,
                              headers={"Authorization": "Bearer api-token"}).get_json()["ordNo"]
    real = csp(test_client.get(f"/checkout/{ord_no}"))
    assert real["form-action"] == ["'self'", "https://testapi.kispg.co.kr", "https://*.kispg.co.kr"]
    assert real["frame-src"] == ["https://testapi.kispg.co.kr", "https://*.kispg.co.kr"]
    result = csp(test_client.get(f"/orders/{ord_no}"))
    assert result["frame-src"] == ["'none'"] and result["frame-ancestors"] == ["'none'"]
    services(app).store.dispose()


def test_templates_use_strict_undefined(app):
    assert app.jinja_env.undefined is StrictUndefined
    with app.test_request_context():
        with pytest.raises(Exception, match="undefined"):
            app.jinja_env.from_string("{{ missing }}").render()


# -- absolute URLs ---------------------------------------------------------------------------------

def test_public_url_wins_over_a_hostile_host(client):
    response = client.post("/api/orders", json=ORDER, headers={"Host": "evil.example"})
    assert response.get_json()["checkoutUrl"].startswith("http://shop.test/checkout/")
    ord_no = response.get_json()["ordNo"]
    fields = FormParser("kispg-auth")
    fields.feed(client.get(f"/checkout/{ord_no}", headers={"Host": "evil.example"}).get_data(as_text=True))
    assert fields.fields["returnUrl"].startswith("http://shop.test/kispg/return?")
    assert client.get("/qr.png", query_string={"url": "http://evil.example/device-test"},
                      headers={"Host": "evil.example"}).status_code == 400


@pytest.fixture
def lan_client(tmp_path, database_url):
    """The service as `serve` runs it on a LAN: no WEBVIEW_PUBLIC_URL, a LAN address found."""
    app = create_app(service_config(tmp_path, WEBVIEW_DATABASE_URL=database_url, WEBVIEW_PUBLIC_URL=None,
                                    WEBVIEW_LAN_URL="http://192.168.0.23:5000"))
    yield app.test_client()
    services(app).store.dispose()


def test_without_a_public_url_only_this_machines_names_count(lan_client):
    for host in ("localhost", "127.0.0.1:5000", "192.168.0.23:5000"):
        response = lan_client.post("/api/orders", json=ORDER, headers={"Host": host})
        assert response.status_code == 201 and response.get_json()["checkoutUrl"].startswith(f"http://{host}/")
    store = services(lan_client.application).store
    count = store.count()
    refused = lan_client.post("/api/orders", json=ORDER, headers={"Host": "evil.example"})
    assert refused.status_code == 400 and "WEBVIEW_PUBLIC_URL" in refused.get_json()["error"]
    assert store.count() == count, "the refused request left no order behind"
    ord_no = create_order(lan_client)
    page = lan_client.get(f"/checkout/{ord_no}", headers={"Host": "evil.example"})
    assert page.status_code == 400 and "잘못된 요청입니다" in page.get_data(as_text=True)
    device = lan_client.get("/device-test", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "http://192.168.0.23:5000/device-test" in device and "evil.example" not in device


def test_forwarded_headers_count_only_from_a_trusted_proxy(tmp_path):
    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "shop.example", "X-Forwarded-Proto": "https"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    untrusted = create_app(service_config(tmp_path / "a", WEBVIEW_PUBLIC_URL=None))
    body = untrusted.test_client().post("/api/orders", json=ORDER, headers=forwarded).get_json()
    assert body["checkoutUrl"].startswith("http://localhost/")
    order = services(untrusted).store.get(body["ordNo"])
    assert order.user_ip == "127.0.0.1", "X-Forwarded-For from anyone is ignored"
    trusted = create_app(service_config(tmp_path / "b", WEBVIEW_PUBLIC_URL=None, WEBVIEW_TRUSTED_PROXIES="127.0.0.1"))
    body = trusted.test_client().post("/api/orders", json=ORDER, headers=forwarded).get_json()
    assert body["checkoutUrl"].startswith("https://shop.example/checkout/")
    assert services(trusted).store.get(body["ordNo"]).user_ip == "203.0.113.9"
    for app in (untrusted, trusted):
        services(app).store.dispose()


# -- the sandbox's admin routes --------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [("GET", "/sandbox/kispg/_calls"), ("GET", "/sandbox/kispg/_faults"),
                                          ("POST", "/sandbox/kispg/_faults"), ("DELETE", "/sandbox/kispg/_faults")])
def test_sandbox_admin_routes_answer_loopback_or_the_admin_token(client, method, path):
    body = {"endpoint": "payment", "mode": "timeout"} if method == "POST" else None
    refused = client.open(path, method=method, json=body, environ_base=LAN)
    assert refused.status_code == 403 and "admin token" in refused.get_json()["error"]
    relayed = client.open(path, method=method, json=body, headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 403, "a proxy on this machine does not make its clients loopback"
    for scheme in ("Bearer", "bearer", "BEARER"):
        allowed = client.open(path, method=method, json=body, environ_base=LAN,
                              headers={"Authorization": f"{scheme} admin-token"})
        assert allowed.status_code in (200, 201, 204), (scheme, allowed.status_code)
    assert client.open(path, method=method, json=body).status_code in (200, 201, 204), "loopback"
    # The pay window itself stays open to every shopper.
    assert client.post("/sandbox/kispg/v2/auth", data={}, environ_base=LAN).status_code == 400


def test_every_underscore_route_is_guarded_even_one_added_later():
    bp = create_sandbox_blueprint()
    bp.add_url_rule("/_added_later", endpoint="added_later", view_func=lambda: ("done", 200), methods=["POST"])
    service = Flask("service")
    service.config.update(KISPG_MID=MID, KISPG_MERCHANT_KEY=MERCHANT_KEY, WEBVIEW_ADMIN_TOKEN="admin-token")
    service.register_blueprint(bp, url_prefix="/sandbox/kispg")
    client = service.test_client()
    assert client.post("/sandbox/kispg/_added_later", environ_base=LAN).status_code == 403
    assert client.post("/sandbox/kispg/_added_later", environ_base=LAN, headers=ADMIN).status_code == 200
    assert client.post("/sandbox/kispg/_added_later", environ_base=LAN,
                       headers={"Authorization": "Bearer admin-tokeN"}).status_code == 403


# -- bounded input ----------------------------------------------------------------------------------

def test_a_large_body_is_refused_with_413(client):
    paid = pay(client)
    big = b'{"goodsNm": "' + b"x" * 100_000 + b'"}'
    api = client.post("/api/orders", data=big, content_type="application/json")
    assert api.status_code == 413 and "65536 bytes" in api.get_json()["error"]
    page = client.post("/kispg/return", data=b"resultCd=" + b"0" * 100_000,
                       content_type="application/x-www-form-urlencoded")
    assert page.status_code == 413 and "요청이 너무 큽니다" in page.get_data(as_text=True)
    cancel = client.post(f"/api/orders/{paid}/cancel", data=big, content_type="application/json", headers=ADMIN)
    assert cancel.status_code == 413
    assert client.get(f"/api/orders/{paid}").get_json()["status"] == "paid"


def test_the_body_limit_is_configurable(tmp_path):
    app = create_app(service_config(tmp_path, WEBVIEW_MAX_CONTENT_LENGTH="200000"))
    big = {**ORDER, "goodsNm": "x" * 100_000}
    response = app.test_client().post("/api/orders", json=big)
    assert response.status_code == 400 and "goodsNm" in response.get_json()["fields"], "read, then refused by field"
    services(app).store.dispose()


@pytest.mark.parametrize("path", ["/api/orders", "/api/orders/{paid}/cancel", "/sandbox/kispg/v2/payment",
                                  "/sandbox/kispg/v2/cancel", "/sandbox/kispg/v2/order", "/sandbox/kispg/_faults"])
def test_json_nested_too_deeply_is_a_400_naming_it(client, path):
    paid = pay(client)
    before = client.get(f"/api/orders/{paid}").get_json()
    # Under the body limit (64 KB), so the depth check, not the size check, refuses them.
    for body in ("[" * 60_000, '{"a":' * 12_000, "[" * 33 + "]" * 33):
        response = client.post(path.format(paid=paid), data=body, content_type="application/json", headers=ADMIN)
        assert response.status_code == 400, (path, response.status_code)
        assert "nested deeper than 32 levels" in response.get_json()["error"]
    assert client.get(f"/api/orders/{paid}").get_json() == before


def test_json_within_the_depth_limit_is_read(client):
    nested = {**ORDER, "mbsUsrId": None}
    value = nested
    for _ in range(30):
        value = [value]
    response = client.post("/api/orders", json=value)
    assert response.status_code == 400 and response.get_json()["fields"] == {"(body)": "must be a JSON object"}


def test_a_long_qr_url_is_a_400(client):
    response = client.get("/qr.png", query_string={"url": "http://shop.test/" + "a" * 5000})
    assert response.status_code == 400 and response.get_json()["fields"] == {"url": "too long"}


def test_long_user_agents_are_cut_before_classification(client, monkeypatch):
    from webview_toolkit import useragent
    seen = []
    original = useragent._classify_cached
    monkeypatch.setattr(useragent, "_classify_cached", lambda rules, ua, token: seen.append(len(ua)) or original(rules, ua, token))
    ord_no = create_order(client)
    long_ua = UA["kakaotalk_ios"][:60] + "x" * 65_000 + " KAKAOTALK 10.6.5"
    started = time.perf_counter()
    html = client.get(f"/checkout/{ord_no}", headers={"User-Agent": long_ua}).get_data(as_text=True)
    assert time.perf_counter() - started < 0.3
    assert seen and max(seen) <= useragent.MAX_UA
    assert "kakaotalk" in html.lower(), "the app token at the tail survives the cut"
    assert useragent.classify(long_ua).app == "kakaotalk"


# -- errors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, status, title", [
    ("GET", "/checkout/no-such-order", 404, "페이지를 찾을 수 없습니다"),
    ("GET", "/orders/no-such-order", 404, "페이지를 찾을 수 없습니다"),
    ("GET", "/nowhere", 404, "페이지를 찾을 수 없습니다"),
    ("GET", "/kispg/return", 405, "허용되지 않는 요청입니다"),
])
def test_html_errors_are_korean_pages_in_the_layout(client, method, path, status, title):
    response = client.open(path, method=method)
    html = response.get_data(as_text=True)
    assert response.status_code == status and response.mimetype == "text/html"
    assert title in html and 'lang="ko"' in html and 'name="viewport"' in html and "/frame/site.css" in html
    check_headers(response, path)


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/api/nowhere", 404), ("DELETE", "/api/orders", 405), ("GET", "/api/orders/none", 404),
    ("POST", "/api/orders/none/cancel", 401),
])
def test_api_errors_are_json(client, method, path, status):
    response = client.open(path, method=method)
    body = response.get_json()
    assert response.status_code == status and response.mimetype == "application/json"
    assert body["error"]


def test_429_and_500_are_korean_pages_or_json(tmp_path, monkeypatch):
    app = create_app(service_config(tmp_path, TESTING=False))

    @app.get("/busy")
    def busy():
        raise TooManyRequests()

    client = app.test_client()
    assert "요청이 너무 많습니다" in client.get("/busy").get_data(as_text=True)
    monkeypatch.setattr(services(app).store, "get", lambda *a: 1 / 0)
    page = client.get("/orders/x")
    assert page.status_code == 500 and "일시적인 오류가 발생했습니다" in page.get_data(as_text=True)
    assert "ZeroDivisionError" not in page.get_data(as_text=True)
    api = client.get("/api/orders/x")
    assert api.status_code == 500 and api.get_json() == {"error": "internal error", "fields": {}}
    services(app).store.dispose()


# -- orders carry their environment; Bearer is case-insensitive -------------------------------------

def test_orders_carry_their_environment(client):
    created = client.post("/api/orders", json=ORDER).get_json()
    assert created["environment"] == "sandbox"
    assert client.get(f"/api/orders/{created['ordNo']}").get_json()["environment"] == "sandbox"


@pytest.mark.parametrize("header, status", [
    ("bearer admin-token", 200), ("BEARER admin-token", 200), ("Bearer  admin-token ", 200),
    ("Basic admin-token", 401), ("Bearer", 401), ("admin-token", 401),
])
def test_bearer_scheme_is_case_insensitive(client, header, status):
    paid = pay(client)
    response = client.post(f"/api/orders/{paid}/cancel", json={"amount": 1}, headers={"Authorization": header})
    assert response.status_code == status
