"""Tests for webview_toolkit.web.escape_offer: the checkout's system-browser offer, server side."""
from html import unescape

import pytest

from webview_toolkit.config import ConfigError
from webview_toolkit.web import create_app
from webview_toolkit.web.extensions import services

from .service_helpers import PUBLIC, create_order, service_config
from .escape_uas import ESCAPE_UA


def page(client, ord_no, name, query=""):
    response = client.get(f"/checkout/{ord_no}{query}", headers={"User-Agent": ESCAPE_UA[name]})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_stranded_ios_app_is_asked_before_the_form_is_sent(client):
    ord_no = create_order(client)
    html = page(client, ord_no, "instagram_ios")
    assert 'id="escape-offer"' in html and 'data-mechanism="menu"' in html
    assert "Safari에서 결제해 주세요" in html and "외부 브라우저에서 열기" in html
    assert f'value="{PUBLIC}/checkout/{ord_no}?escaped=1"' in html, "the link to copy continues the same checkout"
    assert "form.submit()" not in html, "nothing is sent until the shopper chooses"
    assert html.index('id="escape-offer"') < html.index('id="kispg-auth"')
    assert 'type="submit"' in html, "paying here stays possible"


def test_line_gets_a_link_that_leaves(client):
    ord_no = create_order(client)
    html = page(client, ord_no, "line_ios")
    assert f'href="{PUBLIC}/checkout/{ord_no}?escaped=1&amp;openExternalBrowser=1"' in html
    assert "Safari에서 결제하기" in html and "location.replace" not in html


@pytest.mark.parametrize("name", ["kakaotalk_ios", "naver_ios", "facebook_ios", "safari_ios", "own_app",
                                  "instagram_android", "desktop_chrome"])
def test_others_pay_at_once(client, name):
    html = page(client, create_order(client), name)
    assert 'id="escape-offer"' not in html
    # Phones submit the whole page at once; desktop opens the PC window in its overlay at once.
    assert ('data-auto-open="true"' if name == "desktop_chrome" else "form.submit()") in html


def test_the_escaped_checkout_is_not_offered_again_and_is_signed_afresh(client):
    ord_no = create_order(client)
    html = page(client, ord_no, "instagram_ios", "?escaped=1")
    assert 'id="escape-offer"' not in html and "form.submit()" in html
    assert 'name="encData"' in html


@pytest.mark.parametrize(("mode", "offered", "leaves"), [("off", False, False), ("offer", True, False), ("auto", True, True)])
def test_modes(tmp_path, mode, offered, leaves):
    app = create_app(service_config(tmp_path, WEBVIEW_INAPP_ESCAPE=mode))
    client = app.test_client()
    html = page(client, create_order(client), "line_ios")
    assert ('id="escape-offer"' in html) is offered
    assert ("location.replace(link.href)" in html) is leaves
    assert ("form.submit()" in html) is not offered
    services(app).store.dispose()


def test_configured_android_app_gets_an_intent(tmp_path):
    app = create_app(service_config(tmp_path, WEBVIEW_INAPP_ESCAPE_APPS="instagram, band"))
    client = app.test_client()
    ord_no = create_order(client)
    html = unescape(page(client, ord_no, "band_android"))
    assert (f'href="intent://shop.test/checkout/{ord_no}?escaped=1#Intent;scheme=http;'
            f'S.browser_fallback_url=http%3A%2F%2Fshop.test%2Fcheckout%2F{ord_no}%3Fescaped%3D1;end"') in html
    assert "기본 브라우저에서 결제하기" in html
    services(app).store.dispose()


@pytest.mark.parametrize(("settings", "problem"), [
    ({"WEBVIEW_INAPP_ESCAPE": "always"}, "WEBVIEW_INAPP_ESCAPE must be one of off, offer, auto, got 'always'"),
    ({"WEBVIEW_INAPP_ESCAPE_APPS": "instagram,myspace"}, "'myspace' is not a registry browser id"),
    ({"WEBVIEW_INAPP_ESCAPE_APPS": "kakaotalk"}, "'kakaotalk' returns by its own scheme"),
    ({"WEBVIEW_INAPP_ESCAPE_APPS": "threads"}, "'threads' has no escape rule"),
])
def test_bad_settings_are_named(tmp_path, settings, problem):
    with pytest.raises(ConfigError, match=problem):
        create_app(service_config(tmp_path, **settings))
