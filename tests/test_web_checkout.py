"""Tests for the checkout page: the signed auth form, whole page (`_self`) or into the PC overlay iframe."""
import re
import hashlib

import pytest
from webview_toolkit.kispg.testing import FormParser
from webview_toolkit.web.extensions import services

from .service_helpers import (KAKAOTALK_PC, MERCHANT_KEY, MID, PUBLIC, UA, checkout_form, create_order,
                              service_config)

CASES = [
    # ua, model, channel, mbsReserved, own-app fields
    ("kakaotalk_ios", "MOB", "0002", "app_scheme=kakaotalk://", False),
    ("naver_ios", "MOB", "0002", "app_scheme=naversearchapp://", False),
    ("kakaotalk_android", "MOB", "0002", None, False),
    ("safari_ios", "MOB", "0002", None, False),
    ("chrome_android", "MOB", "0002", None, False),
    ("desktop_chrome", "WEB", "0001", None, False),
    ("own_app", "MOB", "0002", None, True),
]


@pytest.mark.parametrize("ua, model, channel, reserved, own", CASES, ids=[c[0] for c in CASES])
def test_form_fields_follow_the_user_agent(client, ua, model, channel, reserved, own):
    ord_no = create_order(client)
    form = checkout_form(client, ord_no, UA[ua])
    fields = form.fields
    # KISPG's PC window (WEB) lives in the overlay iframe; the mobile one (MOB) takes the whole page.
    assert form.target == ("pay_frame" if model == "WEB" else "_self")
    assert form.action == "/sandbox/kispg/v2/auth"
    assert (fields["model"], fields["channel"]) == (model, channel)
    assert fields.get("mbsReserved") == reserved
    if own:
        assert (fields["appSchemeFlg"], fields["resultScheme"], fields["cancelScheme"]) == ("1", "myshop://", "myshop://")
    else:
        assert "appSchemeFlg" not in fields and "resultScheme" not in fields


def test_form_is_signed_and_complete(client):
    ord_no = create_order(client, ordEmail="buyer@example.com", payMethod="card")
    fields = checkout_form(client, ord_no, UA["safari_ios"]).fields
    expected = hashlib.sha256(f"{MID}{fields['ediDate']}39000{MERCHANT_KEY}".encode()).hexdigest()
    assert fields["encData"] == expected
    assert fields["mid"] == MID and fields["ordNo"] == ord_no and fields["goodsAmt"] == "39000"
    assert fields["payMethod"] == "CARD" and fields["ordEmail"] == "buyer@example.com"
    [attempt] = services(client.application).store.attempts(ord_no)
    assert fields["returnUrl"] == f"{PUBLIC}/kispg/return?ordNo={ord_no}&t={attempt.token}"
    assert fields["charset"] == "UTF-8" and fields["payReqType"] == "1" and fields["currencyType"] == "KRW"
    assert len(fields["ediDate"]) == 14 and fields["ediDate"].isdigit()


def test_page_auto_submits_in_the_same_tab(client):
    ord_no = create_order(client)
    html = client.get(f"/checkout/{ord_no}", headers={"User-Agent": UA["kakaotalk_ios"]}).get_data(as_text=True)
    assert 'form.submit()' in html
    assert "window.open" not in html and "<iframe" not in html
    assert 'type="submit"' in html, "a visible button is the fallback"


def test_bots_get_no_auto_submit(client):
    ord_no = create_order(client)
    html = client.get(f"/checkout/{ord_no}", headers={"User-Agent": "facebookexternalhit/1.1"}).get_data(as_text=True)
    assert 'form.submit()' not in html


def test_merchant_key_is_not_in_the_page(client):
    ord_no = create_order(client)
    for ua in UA.values():
        html = client.get(f"/checkout/{ord_no}", headers={"User-Agent": ua}).get_data(as_text=True)
        assert MERCHANT_KEY not in html


def test_the_page_never_echoes_the_user_agent(client):
    """The page is built from what the User-Agent means (an iPhone's mobile window), never from its text."""
    ord_no = create_order(client)
    ua = UA["safari_ios"] + ' "><script>alert(1)</script> ua-marker-7f3a'
    form = checkout_form(client, ord_no, ua)
    assert (form.fields["model"], form.target) == ("MOB", "_self")
    html = client.get(f"/checkout/{ord_no}", headers={"User-Agent": ua}).get_data(as_text=True)
    assert "ua-marker-7f3a" not in html and "alert(1)" not in html  # neither raw nor escaped


def test_goods_name_is_escaped(client):
    ord_no = create_order(client, goodsNm='<img src=x onerror=alert(1)>"')
    html = client.get(f"/checkout/{ord_no}").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_hidden_fields_carry_markup_characters_back_exactly(client):
    name, buyer = """무선 "이어폰" <2> & 'Pro'""", "홍'길동\""
    ord_no = create_order(client, goodsNm=name, ordNm=buyer)
    form = checkout_form(client, ord_no, UA["kakaotalk_ios"])
    assert (form.fields["goodsNm"], form.fields["ordNm"]) == (name, buyer)
    html = client.get(f"/checkout/{ord_no}").get_data(as_text=True)
    assert 'value="무선 &quot;이어폰&quot; &lt;2&gt; &amp; &#x27;Pro&#x27;"' in html


def test_a_service_mounted_under_a_prefix_keeps_it_in_every_url(client):
    ord_no = create_order(client)
    response = client.get(f"/checkout/{ord_no}", base_url="http://localhost/shop",
                          headers={"User-Agent": UA["kakaotalk_ios"]})
    form = FormParser("kispg-auth")
    form.feed(response.get_data(as_text=True))
    assert form.action == "/shop/sandbox/kispg/v2/auth"
    assert form.fields["returnUrl"].startswith(f"{PUBLIC}/shop/kispg/return?ordNo={ord_no}&t=")
    assert 'href="/shop/frame/site.css"' in response.get_data(as_text=True)


def test_unknown_order_is_404(client):
    assert client.get("/checkout/nope").status_code == 404


def test_checkout_of_a_paid_order_goes_to_its_result(client):
    from .service_helpers import pay
    ord_no = pay(client)
    response = client.get(f"/checkout/{ord_no}")
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{ord_no}"


def test_sandbox_form_posts_to_this_host_even_with_a_loopback_base_url(tmp_path):
    """`serve` points the server's client at 127.0.0.1; a phone must still reach the pay window."""
    from webview_toolkit.web import create_app

    from .service_helpers import service_config
    client = create_app(service_config(tmp_path, KISPG_BASE_URL="http://127.0.0.1:5000/sandbox/kispg")).test_client()
    form = checkout_form(client, create_order(client), UA["chrome_android"])
    assert form.action == "/sandbox/kispg/v2/auth"


def test_real_kispg_form_posts_to_its_auth_url(tmp_path):
    from webview_toolkit.web import create_app

    from .service_helpers import service_config
    app = create_app(service_config(tmp_path, KISPG_ENV="test", WEBVIEW_API_TOKEN="api-token"))
    client = app.test_client()
    ord_no = client.post("/api/orders", json={"goodsNm": "상품", "goodsAmt": 1000, "ordNm": "홍길동", "ordTel": "01000000000"},
                         headers={"Authorization": "Bearer api-token"}).get_json()["ordNo"]
    assert checkout_form(client, ord_no, UA["safari_ios"]).action == "https://testapi.kispg.co.kr/v2/auth"
    assert client.get("/sandbox/kispg/_calls").status_code == 404, "no sandbox outside KISPG_ENV=sandbox"


def _corpus():
    from .useragent_helpers import CORPUS
    return [row for row in CORPUS if row["bot"] != "true"]


def test_corpus_user_agents_pick_the_form_fields(tmp_path):
    """Every labelled user agent of the corpus gets model/channel and app_scheme from its labels."""
    from webview_toolkit.web import create_app

    from .service_helpers import service_config
    rows = _corpus()
    client = create_app(service_config(tmp_path, WEBVIEW_APP_UA_TOKEN=None)).test_client()
    ord_no = create_order(client)
    wrong = []
    for row in rows:
        fields = checkout_form(client, ord_no, row["ua"]).fields
        # In-app browsers keep the whole page even on a desktop (KakaoTalk PC): no iframe there (guide §6.1).
        whole_page = row["mobile"] == "true" or row["in_app"] == "true"
        expected = ("MOB", "0002") if whole_page else ("WEB", "0001")
        reserved = f"app_scheme={row['app_scheme']}" if row["app_scheme"] != "-" else None
        if (fields["model"], fields["channel"]) != expected or fields.get("mbsReserved") != reserved:
            wrong.append((row["ua"][:80], fields["model"], fields.get("mbsReserved")))
    assert len(rows) >= 150 and wrong == []
    assert sum(row["app_scheme"] != "-" for row in rows) >= 10


def page_html(client, ua: str) -> str:
    """The checkout page of a new order as this browser."""
    return client.get(f"/checkout/{create_order(client)}", headers={"User-Agent": ua}).get_data(as_text=True)


def test_desktop_gets_the_pc_window_in_an_accessible_overlay(client):
    html = page_html(client, UA["desktop_chrome"])
    assert 'target="pay_frame"' in html and '<iframe name="pay_frame" id="pay-frame" title="KISPG 결제창"' in html
    assert '<dialog id="pay-overlay" class="pay-overlay" aria-labelledby="pay-overlay-title"' in html
    assert 'id="pay-close"' in html and "결제창을 닫아도 청구되지 않습니다" in html
    assert 'role="status" aria-live="polite"' in html and "<noscript>" in html
    assert 'data-message-origin=""' in html, "the sandbox's messages come from this page's own origin"
    assert re.search(r'<script src="/static/checkout-frame.js" defer nonce="[^"]+"></script>', html) and "form.submit()" not in html
    assert 'data-auto-open="true"' in html


def test_the_frame_script_is_served(client):
    response = client.get("/static/checkout-frame.js")
    assert response.status_code == 200 and "event.origin !== kispgOrigin" in response.get_data(as_text=True)


def test_a_desktop_bot_gets_no_automatic_overlay(client):
    assert 'data-auto-open="false"' in page_html(client, "Mozilla/5.0 (compatible; Googlebot/2.1)")


def test_a_desktop_in_app_browser_keeps_the_whole_page(client):
    html = page_html(client, KAKAOTALK_PC)
    assert 'target="_self"' in html and "<iframe" not in html and "form.submit()" in html


@pytest.mark.parametrize("mode, ua, target, model", [
    ("page", "desktop_chrome", "_self", "MOB"), ("page", "kakaotalk_android", "_self", "MOB"),
    ("iframe", "desktop_chrome", "pay_frame", "WEB"), ("iframe", "chrome_android", "pay_frame", "WEB"),
    ("auto", "desktop_chrome", "pay_frame", "WEB"), ("auto", "chrome_android", "_self", "MOB"),
])
def test_checkout_mode_forces_one_pattern_with_its_model(tmp_path, mode, ua, target, model):
    from webview_toolkit.web import create_app

    from .service_helpers import service_config
    client = create_app(service_config(tmp_path, WEBVIEW_CHECKOUT_MODE=mode)).test_client()
    form = checkout_form(client, create_order(client), UA[ua])
    assert (form.target, form.fields["model"], form.fields["channel"]) == \
        (target, model, "0001" if model == "WEB" else "0002")


def test_real_kispg_messages_must_come_from_its_origin(tmp_path):
    from webview_toolkit.web import create_app

    from .service_helpers import service_config
    client = create_app(service_config(tmp_path, KISPG_ENV="test", WEBVIEW_API_TOKEN="api-token-t")).test_client()
    ord_no = client.post("/api/orders", json={"goodsNm": "상품", "goodsAmt": 1000, "ordNm": "홍길동",
                                              "ordTel": "01000000000"}, headers={"Authorization": "Bearer api-token-t"})
    html = client.get(f"/checkout/{ord_no.get_json()['ordNo']}",
                      headers={"User-Agent": UA["desktop_chrome"]}).get_data(as_text=True)
    assert 'data-message-origin="https://testapi.kispg.co.kr"' in html


@pytest.mark.parametrize("framed", [True, False])
def test_the_page_scripts_take_a_csp_nonce(app, framed):
    """Issue 17's policy passes a nonce; every script tag of the page carries it."""
    from types import SimpleNamespace
    order = SimpleNamespace(goods_nm="상품", goods_amt=1000, ord_nm="홍길동", ord_no="o-1")
    client = SimpleNamespace(platform="desktop", app=None, in_app=False)
    with app.test_request_context():
        macro = app.jinja_env.get_template("checkout/page.html").module.checkout_page
        html = str(macro("", order, "", "/sandbox/kispg/v2/auth", client, auto_submit=True, framed=framed,
                         script_nonce="n0nce"))
    assert html.count("<script") == html.count('nonce="n0nce"') == 1


def test_an_in_memory_database_serves_the_checkout_page(tmp_path):
    """WEBVIEW_DATABASE_URL=sqlite:// (one database per thread, SingletonThreadPool) once failed at startup."""
    from webview_toolkit.web import create_app

    app = create_app(service_config(tmp_path, WEBVIEW_DATABASE_URL="sqlite://"))
    client = app.test_client()
    ord_no = create_order(client)
    assert checkout_form(client, ord_no, UA["kakaotalk_ios"]).fields["ordNo"] == ord_no
    services(app).store.dispose()


@pytest.mark.parametrize("reloads", [False, True], ids=["kept", "reloaded"])
def test_the_page_macro_is_kept_unless_templates_reload(app, client, reloads):
    """The view keeps the page's macro between views, except where templates reload (debug): there an edit shows."""
    from jinja2 import ChoiceLoader, DictLoader

    source = app.jinja_env.loader.get_source(app.jinja_env, "checkout/page.html")[0]
    edited = {"checkout/page.html": source.replace("주문 결제", "첫 판")}
    app.jinja_env.loader = ChoiceLoader([DictLoader(edited), app.jinja_env.loader])
    app.jinja_env.auto_reload = reloads
    ord_no = create_order(client)
    assert "첫 판" in client.get(f"/checkout/{ord_no}").get_data(as_text=True)
    edited["checkout/page.html"] = source.replace("주문 결제", "둘째 판")
    page = client.get(f"/checkout/{ord_no}").get_data(as_text=True)
    assert ("둘째 판" in page) is reloads and ("첫 판" in page) is not reloads
