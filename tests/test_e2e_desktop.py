"""End to end in Debian's Chromium, desktop: KISPG's PC window in the checkout's overlay iframe.

Every case goes through the public flow: the API creates the order, the checkout page opens the
sandbox's pay window in the overlay iframe, the window ends by postMessage, and the checkout page
posts the result to returnUrl in the top window. The forged-message cases hold a real, signed
auth result, so only the origin, the sender or the shape stops it; each is answered by the overlay's
data-ignored count (an event to await, not a sleep), then the same result is shown to pass from the
right sender. The second origin is a tiny server on 127.0.0.1 reached as `localhost:<port>`.
"""
from __future__ import annotations

import json
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError, expect
from werkzeug.wrappers import Response

from webview_toolkit.kispg.testing import parse_result_message

from .e2e_helpers import create_checkout, expect_status, order_status, save_shot
from .loopback import served
from .service_helpers import UA

CLOSE_NAME = "닫기 (결제창을 닫아도 청구되지 않습니다)"
# A page of the second origin that posts the message in its URL fragment to its parent, as a forger would.
FORGER = ('<!doctype html><title>forger</title><script>parent.postMessage('
          'JSON.parse(decodeURIComponent(location.hash.slice(1))), "*");</script>')


@pytest.fixture
def other_origin():
    """A second origin on loopback: http://localhost:<port>/ serving the forger page."""
    with served(Response(FORGER, mimetype="text/html")) as base:
        yield base.replace("http://127.0.0.1", "localhost")


class Desktop:
    """One desktop shopper at the checkout: the page, its overlay and pay frame, and what it posted."""

    def __init__(self, open_context, base: str, *, allow: tuple[str, ...] = ()):
        self.base = base
        self.context, self.watch = open_context(UA["desktop_chrome"], "desktop")
        self.watch.also.update(allow)
        self.ord_no, self.url = create_checkout(self.context, base)
        self.page = self.context.new_page()
        self.watch.watch_page(self.context, self.page)
        self.returns: list[tuple[bool, str]] = []   # (from the top window?, method) of every returnUrl request
        self.page.on("request", self._on_request)
        self.overlay = self.page.locator("#pay-overlay")
        self.frame_view = self.page.frame_locator("#pay-frame")

    def _on_request(self, request) -> None:
        if request.url.startswith(f"{self.base}/kispg/return"):
            self.returns.append((request.frame == self.page.main_frame, request.method))

    @property
    def frame(self):
        return self.page.frame(name="pay_frame")

    def open(self) -> None:
        """Load the checkout: the overlay opens by itself, holding the pay window."""
        self.page.goto(self.url)
        expect(self.overlay).to_have_attribute("data-state", "open")
        expect(self.page.get_by_role("dialog", name="KISPG 결제창 · 39,000원")).to_be_visible()
        expect(self.frame_view.locator("main")).to_contain_text(f"주문번호 {self.ord_no}")
        assert self.page.url == self.url, "the pay window opened over the checkout, not in its place"
        assert self.frame.url == f"{self.base}/sandbox/kispg/v2/auth"

    def choose_card(self, code: str = "01") -> None:
        self.frame_view.locator(f'[data-card-code="{code}"]').click()
        self.frame.wait_for_url(f"{self.base}/sandbox/kispg/v2/auth/choose")
        expect(self.frame_view.locator("main")).to_contain_text("앱을 실행하지 않습니다")

    def press(self, action: str) -> None:
        self.frame_view.locator(f'[data-sandbox-action="{action}"]').click()

    def signed_result(self) -> dict:
        """A real auth result for this order, as the pay window would post it (the sandbox signs it)."""
        fields = self.page.evaluate(
            "() => Object.fromEntries(new FormData(document.getElementById('kispg-auth')))")
        response = self.context.request.post(f"{self.base}/sandbox/kispg/v2/auth",
                                             form={**fields, "sandboxAction": "approve"})
        assert response.status == 200, response.text()
        origin, message = parse_result_message(response.text())
        assert origin == self.base and message["resultCode"] == "0000"
        return message

    def expect_ignored(self, count: int, reason: str) -> None:
        expect(self.overlay).to_have_attribute("data-ignored", str(count))
        assert self.overlay.get_attribute("data-last-ignored").startswith(reason), \
            self.overlay.get_attribute("data-last-ignored")

    def expect_nothing_changed(self) -> None:
        assert self.returns == [], "nothing was posted to returnUrl"
        assert self.page.url == self.url
        expect(self.overlay).to_have_attribute("data-state", "open")
        assert order_status(self.context, self.base, self.ord_no)["status"] == "created"

    def expect_result(self, status: str, headline: str) -> None:
        """The result page, in the top window, reached by one POST to returnUrl from the top window."""
        self.page.wait_for_url(f"{self.base}/orders/{self.ord_no}")
        expect_status(self.page, status, headline)
        assert self.returns == [(True, "POST")], self.returns
        assert len(self.page.frames) == 1, "no frame is left: the result page is the top window"
        assert self.watch.pages == [self.page], "no pop-up, no new tab"
        assert order_status(self.context, self.base, self.ord_no)["status"] == status


def test_desktop_pays_through_the_overlay_and_lands_on_the_result_in_the_top_window(open_context, live_server):
    base, _ = live_server
    shopper = Desktop(open_context, base)
    shopper.open()
    save_shot(shopper.page, "desktop_chrome/overlay.png", full_page=False)
    shopper.choose_card("01")
    shopper.press("approve")
    shopper.expect_result("paid", "결제 완료")
    expect(shopper.page.locator(".message")).to_have_text("결제가 정상적으로 완료되었습니다.")
    assert ("POST", f"{base}/sandbox/kispg/v2/auth") not in shopper.watch.navigations, \
        "the auth form went into the frame, never the top window"
    save_shot(shopper.page, "desktop_chrome/result.png")
    order = order_status(shopper.context, base, shopper.ord_no)
    assert (order["goodsAmt"], order["cardCode"]) == (39000, "01")


@pytest.mark.parametrize("action, reason", [("fail", "인증에 실패하였습니다."),
                                            ("cancel", "사용자가 결제를 취소하였습니다.")], ids=["fail", "cancel"])
def test_a_failure_in_the_overlay_shows_the_failure(open_context, live_server, action, reason):
    base, _ = live_server
    shopper = Desktop(open_context, base)
    shopper.open()
    shopper.choose_card("01")
    shopper.press(action)
    shopper.expect_result("failed", "결제 실패")
    expect(shopper.page.locator(".message")).to_have_text("결제가 완료되지 않았습니다. 청구된 금액은 없습니다.")
    expect(shopper.page.locator(".summary")).to_contain_text(reason)


def test_closing_the_overlay_by_keyboard_charges_nothing_and_the_shopper_can_reopen_it(open_context, live_server):
    base, _ = live_server
    shopper = Desktop(open_context, base)
    shopper.open()
    page = shopper.page
    close = page.get_by_role("button", name=CLOSE_NAME)
    expect(close).to_be_focused()  # a modal dialog moves focus inside: the close control comes first
    page.keyboard.press("Enter")
    expect(shopper.overlay).to_have_attribute("data-state", "closed")
    expect(shopper.overlay).not_to_be_visible()
    expect(page.locator("#pay-status")).to_have_text(
        "결제창을 닫았습니다. 결제되지 않았으며 청구된 금액은 없습니다. 다시 결제하려면 버튼을 눌러 주세요.")
    pay = page.get_by_role("button", name="39,000원 결제하기")
    expect(pay).to_be_focused()
    assert shopper.frame.url == "about:blank" and shopper.returns == []
    assert order_status(shopper.context, base, shopper.ord_no)["status"] == "created"

    page.keyboard.press("Enter")  # the pay button opens it again
    expect(shopper.overlay).to_have_attribute("data-state", "open")
    expect(shopper.frame_view.locator("main")).to_contain_text(f"주문번호 {shopper.ord_no}")
    page.keyboard.press("Escape")  # Escape closes it the same way
    expect(shopper.overlay).to_have_attribute("data-state", "closed")
    expect(page.locator("#pay-status")).to_contain_text("청구된 금액은 없습니다")

    pay.click()
    expect(shopper.frame_view.locator("main")).to_contain_text(f"주문번호 {shopper.ord_no}")
    shopper.choose_card("01")
    shopper.press("approve")
    shopper.expect_result("paid", "결제 완료")


def test_another_origin_cannot_even_be_framed_by_the_checkout(open_context, live_server, other_origin):
    """The page's Content-Security-Policy (frame-src) is the first line: no other site in the pay frame."""
    base, _ = live_server
    shopper = Desktop(open_context, base, allow=(other_origin,))
    shopper.open()
    with pytest.raises(PlaywrightError, match="ERR_BLOCKED_BY_CSP"):
        shopper.frame.goto(f"http://{other_origin}/forge#{quote(json.dumps(shopper.signed_result()))}")
    shopper.expect_nothing_changed()


def test_a_message_from_another_origin_is_ignored(open_context, live_server, other_origin):
    """The listener's own origin check, the second line: tested with the page's policy taken off."""
    base, _ = live_server
    shopper = Desktop(open_context, base, allow=(other_origin,))

    def without_policy(route):
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
        route.fulfill(response=response, headers=headers)

    shopper.page.route(shopper.url, without_policy)
    shopper.open()
    message = shopper.signed_result()
    # The forger takes the pay frame's place, so only its origin differs from the real window's.
    shopper.frame.goto(f"http://{other_origin}/forge#{quote(json.dumps(message))}")
    shopper.expect_ignored(1, f"origin http://{other_origin}")
    shopper.expect_nothing_changed()

    # The very same message from the sandbox's origin, in the pay frame, is a payment: only the origin stopped it.
    # (The form is sent into the frame again from the top window: a frame that changed sites cannot be
    # navigated back from its own, closed, handle.)
    shopper.page.evaluate("() => document.getElementById('kispg-auth').submit()")
    expect(shopper.frame_view.locator("main")).to_contain_text(f"주문번호 {shopper.ord_no}")
    shopper.frame.evaluate("message => parent.postMessage(message, '*')", message)
    shopper.expect_result("paid", "결제 완료")


def test_messages_from_another_sender_or_of_a_forged_shape_are_ignored(open_context, live_server):
    base, _ = live_server
    shopper = Desktop(open_context, base)
    shopper.open()
    message = shopper.signed_result()
    data = message["data"]
    # From the top window itself: the right origin (the sandbox is served here), but not the pay frame.
    shopper.page.evaluate("message => window.postMessage(message, '*')", message)
    shopper.expect_ignored(1, "source")
    forged = [
        ("0000", "shape: resultCode"),
        ({"resultCode": "0001", "data": data}, "shape: resultCode"),
        ({"resultCode": "0000", "data": json.dumps(data)}, "shape: data"),
        ({"resultCode": "0000", "data": [data]}, "shape: data"),
        ({"resultCode": "0000", "data": {**data, "extra": {"nested": "1"}}}, "shape: field extra"),
        ({"resultCode": "0000", "data": {**data, "bad name": "1"}}, "shape: field bad name"),
        ({"resultCode": "0000", "data": {**data, "resultCd": "XXXX"}}, "shape: resultCode/resultCd"),
        ({"resultCode": "XXXX", "data": data}, "shape: resultCode/resultCd"),
        ({"resultCode": "0000", "data": {**data, "ordNo": "someone-elses-order"}}, "shape: tid/ordNo"),
        ({"resultCode": "0000", "data": {k: v for k, v in data.items() if k != "tid"}}, "shape: tid/ordNo"),
    ]
    for count, (forgery, reason) in enumerate(forged, start=2):
        shopper.frame.evaluate("message => parent.postMessage(message, '*')", forgery)
        shopper.expect_ignored(count, reason)
    shopper.expect_nothing_changed()

    shopper.frame.evaluate("message => parent.postMessage(message, '*')", message)
    shopper.expect_result("paid", "결제 완료")


def test_a_desktop_page_forced_to_the_whole_page_mode_submits_itself(open_context, live_server_factory):
    """WEBVIEW_CHECKOUT_MODE=page: the mobile pattern (MOB/0002, target=_self) on a desktop, ending on returnUrl."""
    base, _ = live_server_factory(WEBVIEW_CHECKOUT_MODE="page")
    context, watch = open_context(UA["desktop_chrome"], "desktop")
    watch.also.add(urlsplit(base).netloc)  # this second service, beside the fixture's own
    ord_no, url = create_checkout(context, base)
    page = context.new_page()
    watch.watch_page(context, page)
    page.goto(url)
    page.wait_for_url(f"{base}/sandbox/kispg/v2/auth")
    assert page.locator("iframe").count() == 0
    page.locator('[data-card-code="01"]').click()
    page.locator('[data-sandbox-action="approve"]').click()
    page.wait_for_url(f"{base}/orders/{ord_no}")
    expect_status(page, "paid")
    assert watch.navigations[:2] == [("GET", url), ("POST", f"{base}/sandbox/kispg/v2/auth")]


def test_a_pc_window_submitted_as_a_whole_page_gets_no_result(open_context, live_server):
    """The reported mistake (Stevewon/live-commerce-platform f268691): model=WEB without the iframe tells nobody."""
    base, _ = live_server
    shopper = Desktop(open_context, base)
    shopper.open()
    page = shopper.page
    page.evaluate("() => { const form = document.getElementById('kispg-auth'); form.target = '_self'; form.submit(); }")
    page.wait_for_url(f"{base}/sandbox/kispg/v2/auth")
    page.locator('[data-card-code="01"]').click()
    page.locator('[data-sandbox-action="approve"]').click()
    ending = page.locator("#kispg-ending")
    expect(ending).to_have_attribute("data-delivered", "no-parent")
    expect(page.locator("#delivery")).to_contain_text("결과를 받을 창이 없어")
    assert shopper.returns == [] and page.url == f"{base}/sandbox/kispg/v2/auth/finish"
    assert order_status(shopper.context, base, shopper.ord_no)["status"] == "created"
