"""In Debian's Chromium: where the checkout offers the system browser, the URL following it opens, and the modes.

Each case starts the service on loopback with its WEBVIEW_INAPP_ESCAPE settings and opens a
checkout in a phone-sized context with an app's user agent. Links that leave the app are
captured, never opened: kakaotalk:// and intent:// through CDP (Watch.launches), LINE's
https link by a route that records and aborts it.
"""
from __future__ import annotations

import os
import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from .service_helpers import ORDER
from .e2e_helpers import DOCS, PROFILES, WAIT_MS, Watch, save_shot
from .escape_uas import ESCAPE_UA

PLATFORM = {"instagram_ios": "ios", "line_ios": "ios", "everytime_ios": "ios", "kakaotalk_ios": "ios",
            "naver_ios": "ios", "facebook_ios": "ios", "safari_ios": "ios", "own_app": "android",
            "chrome_android": "android", "instagram_android": "android", "band_android": "android"}


@pytest.fixture
def shop(browser, live_server_factory):
    """`shop(**config)` → (base, open): the service with these settings, and `open(name)` → (page, watch, ordNo, url)."""
    opened = []

    def start(**config):
        base, _ = live_server_factory(**config)

        def open_(name: str):
            context = browser.new_context(user_agent=ESCAPE_UA[name], locale="ko-KR", **PROFILES[PLATFORM[name]])
            context.set_default_timeout(WAIT_MS)
            watch = Watch(base)
            watch.attach(context)
            opened.append((context, watch))
            response = context.request.post(f"{base}/api/orders", data=ORDER)
            assert response.status == 201, response.text()
            body = response.json()
            page = context.new_page()
            watch.watch_page(context, page)
            return page, watch, body["ordNo"], body["checkoutUrl"]

        return base, open_

    yield start
    for context, watch in opened:
        context.close()
        assert watch.blocked == [], f"requests left 127.0.0.1: {watch.blocked}"


def capture_line_escapes(page) -> list[str]:
    """Record and abort every navigation to a LINE openExternalBrowser link (captured, not opened)."""
    captured = []

    def record(route):
        captured.append(route.request.url)
        route.abort()

    page.route(lambda url: "openExternalBrowser=1" in url, record)
    return captured


def not_sent(page) -> bool:
    """The auth form was not submitted (the page's auto-submit marks it before it posts)."""
    return page.evaluate("() => !document.getElementById('kispg-auth').dataset.sent")


@pytest.mark.parametrize("name", ["instagram_ios", "everytime_ios", "line_ios"])
def test_offered_where_ios_would_strand_the_payment(shop, name):
    _, open_ = shop()
    page, watch, ord_no, url = open_(name)
    page.goto(url)
    offer = page.locator("#escape-offer")
    expect(offer).to_be_visible()
    expect(offer.locator("h2")).to_have_text("Safari에서 결제해 주세요")
    assert not_sent(page) and page.url == url and watch.navigations == [("GET", url)]
    expect(page.locator("form#kispg-auth button[type=submit]")).to_be_enabled()  # paying here stays possible


@pytest.mark.parametrize("name", ["kakaotalk_ios", "naver_ios", "facebook_ios", "safari_ios", "own_app",
                                  "chrome_android", "instagram_android"])
def test_not_offered_elsewhere_the_form_goes_at_once(shop, name):
    base, open_ = shop()
    page, _, _, url = open_(name)
    page.goto(url)
    page.wait_for_url(f"{base}/sandbox/kispg/v2/auth")
    expect(page.locator("#escape-offer")).to_have_count(0)


def test_instagram_ios_shows_its_menu_and_copies_the_link(shop):
    base, open_ = shop()
    page, _, ord_no, url = open_("instagram_ios")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.goto(url)
    expect(page.locator("#escape-instruction")).to_contain_text("외부 브라우저에서 열기")
    expect(page.locator("#escape-link")).to_have_count(0)
    expect(page.locator("#escape-url")).to_have_value(f"{base}/checkout/{ord_no}?escaped=1")
    path = save_shot(page, "escape_instagram_ios/checkout.png", full_page=False)
    if os.environ.get("WEBVIEW_E2E_UPDATE_DOCS") == "1":
        shutil.copyfile(path, DOCS / "checkout-instagram-ios.png")
    page.locator("#escape-copy").click()
    expect(page.locator("#escape-copy")).to_have_attribute("data-copied", "1")
    assert page.evaluate("() => navigator.clipboard.readText()") == f"{base}/checkout/{ord_no}?escaped=1"
    assert not_sent(page)


def test_line_leaves_by_open_external_browser_and_the_link_continues_the_checkout(shop):
    base, open_ = shop()
    page, _, ord_no, url = open_("line_ios")
    captured = capture_line_escapes(page)
    page.goto(url)
    with page.expect_event("requestfailed", lambda r: "openExternalBrowser=1" in r.url):
        page.locator("#escape-link").click()
    [left] = captured
    assert left.startswith(f"{base}/checkout/{ord_no}?")
    assert parse_qs(urlsplit(left).query) == {"escaped": ["1"], "openExternalBrowser": ["1"]}
    # The system browser opens that link: the same checkout, signed afresh, offered nothing, sent.
    page2, _, _, _ = open_("safari_ios")
    page2.goto(left)
    page2.wait_for_url(f"{base}/sandbox/kispg/v2/auth")
    expect(page2.locator("main")).to_contain_text(f"주문번호 {ord_no}")


@pytest.mark.parametrize("name", ["band_android", "instagram_android"])
def test_configured_android_app_leaves_by_intent(shop, name):
    base, open_ = shop(WEBVIEW_INAPP_ESCAPE_APPS="band,instagram")
    page, watch, ord_no, url = open_(name)
    page.goto(url)
    expect(page.locator("#escape-link")).to_have_text("기본 브라우저에서 결제하기")
    with page.expect_event("requestfailed", lambda r: urlsplit(r.url).scheme == "intent"):
        page.locator("#escape-link").click()
    host = urlsplit(base).netloc
    assert watch.launches == [f"intent://{host}/checkout/{ord_no}?escaped=1#Intent;scheme=http;"
                              f"S.browser_fallback_url=http%3A%2F%2F{host.replace(':', '%3A')}%2Fcheckout%2F"
                              f"{ord_no}%3Fescaped%3D1;end"]


def test_auto_leaves_at_once(shop):
    base, open_ = shop(WEBVIEW_INAPP_ESCAPE="auto")
    page, _, ord_no, url = open_("line_ios")
    captured = capture_line_escapes(page)
    with page.expect_event("requestfailed", lambda r: "openExternalBrowser=1" in r.url):
        page.goto(url, wait_until="commit")
    assert captured == [f"{base}/checkout/{ord_no}?escaped=1&openExternalBrowser=1"]


def test_off_never_leaves(shop):
    base, open_ = shop(WEBVIEW_INAPP_ESCAPE="off")
    page, watch, _, url = open_("line_ios")
    captured = capture_line_escapes(page)
    page.goto(url)
    page.wait_for_url(f"{base}/sandbox/kispg/v2/auth")
    assert captured == [] and watch.launches == []
    expect(page.locator("#escape-offer")).to_have_count(0)
