"""Tests for webview_toolkit.escape: the link each mechanism builds, and who is offered the system browser."""
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from webview_toolkit.escape import continue_url, escape_url, offer_for
from webview_toolkit.registry import load_registry
from webview_toolkit.useragent import classify

from .escape_uas import ESCAPE_UA

CHECKOUT = "https://shop.example/checkout/ORD-1"
CONTINUE = "https://shop.example/checkout/ORD-1?escaped=1"


def test_continue_url_marks_the_checkout_once():
    assert continue_url(CHECKOUT) == CONTINUE
    assert continue_url(CONTINUE) == CONTINUE
    assert continue_url(CHECKOUT + "?a=b") == CHECKOUT + "?a=b&escaped=1"


def test_kakaotalk_opens_the_url_externally():
    url = escape_url("kakaotalk_open_external", CONTINUE)
    assert url == "kakaotalk://web/openExternal?url=https%3A%2F%2Fshop.example%2Fcheckout%2FORD-1%3Fescaped%3D1"


def test_line_adds_open_external_browser():
    url = escape_url("line_open_external_browser", CONTINUE)
    assert parse_qs(urlsplit(url).query) == {"escaped": ["1"], "openExternalBrowser": ["1"]}
    assert url.startswith(CHECKOUT + "?")


def test_android_intent_hands_the_page_to_the_default_browser():
    url = escape_url("android_intent", CONTINUE)
    assert url == ("intent://shop.example/checkout/ORD-1?escaped=1#Intent;scheme=https;"
                   "S.browser_fallback_url=https%3A%2F%2Fshop.example%2Fcheckout%2FORD-1%3Fescaped%3D1;end")
    assert ";package=" not in url, "no package: the shopper's own default browser"
    assert unquote(url.split("S.browser_fallback_url=")[1].split(";")[0]) == CONTINUE


def test_android_intent_keeps_an_http_port():
    assert escape_url("android_intent", "http://127.0.0.1:5000/checkout/X?escaped=1").startswith(
        "intent://127.0.0.1:5000/checkout/X?escaped=1#Intent;scheme=http;")


def test_menu_has_no_link_and_unknown_mechanisms_fail():
    assert escape_url("menu", CONTINUE) is None
    with pytest.raises(ValueError, match="unknown escape mechanism"):
        escape_url("teleport", CONTINUE)


def _offer(name, *, mode="offer", apps=frozenset(), escaped=False, token=None):
    return offer_for(classify(ESCAPE_UA[name], app_token=token), load_registry(), mode=mode, apps=apps,
                     checkout_url=CHECKOUT, escaped=escaped)


@pytest.mark.parametrize(("name", "mechanism", "href"), [
    ("instagram_ios", "menu", None),
    ("everytime_ios", "menu", None),
    ("line_ios", "line_open_external_browser", CHECKOUT + "?escaped=1&openExternalBrowser=1"),
])
def test_stranded_ios_apps_are_offered(name, mechanism, href):
    offer = _offer(name)
    assert (offer.mechanism, offer.href, offer.continue_url, offer.target_name) == (mechanism, href, CONTINUE, "Safari")
    assert (offer.instruction is not None) == (mechanism == "menu")


@pytest.mark.parametrize("name", ["kakaotalk_ios", "naver_ios", "facebook_ios", "safari_ios", "kakaotalk_android",
                                  "instagram_android", "band_android", "chrome_android", "desktop_chrome"])
def test_confirmed_apps_browsers_and_android_are_not_offered_by_default(name):
    assert _offer(name) is None


def test_android_apps_are_offered_when_configured():
    offer = _offer("instagram_android", apps=frozenset({"instagram"}))
    assert offer.mechanism == "android_intent" and offer.href.startswith("intent://shop.example/checkout/ORD-1")
    assert offer.target_name == "기본 브라우저"
    # A confirmed app stays put even when listed (config refuses the listing, too).
    assert _offer("kakaotalk_android", apps=frozenset({"kakaotalk"})) is None


def test_own_app_off_and_escaped_are_never_offered():
    assert _offer("instagram_ios", token="Instagram") is None
    assert _offer("line_ios", mode="off") is None
    assert _offer("line_ios", escaped=True) is None


def test_auto_leaves_only_where_there_is_a_link():
    assert _offer("line_ios", mode="auto").auto is True
    assert _offer("instagram_ios", mode="auto").auto is False
    assert _offer("line_ios").auto is False
