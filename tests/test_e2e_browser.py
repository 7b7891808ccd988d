"""End to end in Debian's Chromium: the checkout as KakaoTalk, NAVER, Safari, Chrome and the merchant's app see it on phones.

Each case opens a checkout created through the API in a fresh phone-sized context with that
browser's user agent: the page posts itself (target=_self, same tab, no pop-up) into the
sandbox's pay window, a card company is chosen, the app launch is captured (intent:// on
Android, the registry's scheme on iOS), the shopper approves and lands on the result page, and
the API says `paid`. Nothing leaves 127.0.0.1: every other request is aborted and recorded.
Screenshots go to tests/artifacts/; WEBVIEW_E2E_UPDATE_DOCS=1 copies the README's into docs/.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from webview_toolkit.registry import load_registry

from .e2e_helpers import WAIT_MS, Watch, create_checkout, expect_status, order_status, save_shot
from .service_helpers import UA, pay

NAVER_ANDROID = ("Mozilla/5.0 (Linux; Android 13; SM-A426N Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
                 "(KHTML, like Gecko) Version/4.0 Chrome/114.0.0.0 Whale/1.0.0.0 Crosswalk/28.114.0.25 "
                 "Mobile Safari/537.36 NAVER(inapp; search; 2000; 12.9.2)")


@dataclass(frozen=True)
class Case:
    """One browser: its UA, screen, what the checkout form must carry, and how the card app launches."""

    id: str
    ua: str
    platform: str                     # ios | android | desktop: the screen and the launch kind
    detected: str                     # the checkout page's "접속 환경" line
    fields: dict                      # hidden inputs that depend on the browser; None: absent
    card_code: str = "01"


MOBILE = {"model": "MOB", "channel": "0002"}
CASES = [
    Case("kakaotalk_ios", UA["kakaotalk_ios"], "ios", "ios · kakaotalk (인앱)",
         {**MOBILE, "mbsReserved": "app_scheme=kakaotalk://"}),
    Case("kakaotalk_android", UA["kakaotalk_android"], "android", "android · kakaotalk (인앱)",
         {**MOBILE, "mbsReserved": None}),
    Case("naver_ios", UA["naver_ios"], "ios", "ios · naver (인앱)",
         {**MOBILE, "mbsReserved": "app_scheme=naversearchapp://"}, card_code="15"),
    Case("naver_android", NAVER_ANDROID, "android", "android · naver (인앱)",
         {**MOBILE, "mbsReserved": None}, card_code="15"),
    Case("safari_ios", UA["safari_ios"], "ios", "ios · safari", {**MOBILE, "mbsReserved": None}),
    Case("chrome_android", UA["chrome_android"], "android", "android · chrome", {**MOBILE, "mbsReserved": None}),
    Case("own_app", UA["own_app"], "android", "android · webview_android (인앱)",
         {**MOBILE, "appSchemeFlg": "1", "resultScheme": "myshop://", "cancelScheme": "myshop://"}),
]
# Desktop browsers get KISPG's PC window in an overlay iframe instead: tests/test_e2e_desktop.py.
BY_ID = {case.id: case for case in CASES}


def check_checkout_page(open_context, base: str, case: Case, url: str, *, shots: str) -> None:
    """The checkout with JavaScript off, so it stays put: its form, its words, and a screenshot."""
    context, _ = open_context(case.ua, case.platform, java_script_enabled=False)
    page = context.new_page()
    page.goto(url)
    form = page.locator("form#kispg-auth")
    # Guide §6.1: KakaoTalk and NAVER lose a pay window opened anywhere but this same tab.
    expect(form).to_have_attribute("target", "_self")
    expect(page.locator("iframe, dialog")).to_have_count(0)  # the whole page, never the PC overlay
    expect(form).to_have_attribute("method", "post")
    assert form.evaluate("f => f.action") == f"{base}/sandbox/kispg/v2/auth"
    for name, value in {"appSchemeFlg": None, **case.fields}.items():
        field = form.locator(f'input[name="{name}"]')
        if value is None:
            expect(field).to_have_count(0)
        else:
            expect(field).to_have_value(value)
    expect(page.locator("h1")).to_have_text("주문 결제")
    expect(page.locator(".amount")).to_have_text("39,000원")
    expect(form.locator("button[type=submit]")).to_have_text("39,000원 결제하기")
    expect(page.locator(".detected")).to_have_text(f"접속 환경: {case.detected}")
    save_shot(page, f"{shots}/checkout.png")


def open_pay_window(open_context, base: str, case: Case, *, shots: str):
    """A fresh context opens the checkout, which posts itself into the pay window in the same tab."""
    context, watch = open_context(case.ua, case.platform)
    ord_no, url = create_checkout(context, base)
    check_checkout_page(open_context, base, case, url, shots=shots)
    page = context.new_page()
    watch.watch_page(context, page)
    popups = []
    page.on("popup", lambda popup: popups.append(popup))
    page.goto(url)
    page.wait_for_url(f"{base}/sandbox/kispg/v2/auth", timeout=WAIT_MS)
    assert ("POST", f"{base}/sandbox/kispg/v2/auth") in watch.navigations, watch.navigations
    assert watch.navigations[0] == ("GET", url), "the pay window came from the checkout, in the same tab"
    assert popups == [] and watch.pages == [page], "no pop-up, no new page"
    expect(page.locator("main")).to_contain_text("무선 이어폰")
    expect(page.locator("main")).to_contain_text("39,000원")
    expect(page.locator("main")).to_contain_text(f"주문번호 {ord_no}")
    save_shot(page, f"{shots}/pay-window.png")
    return context, watch, page, ord_no


def choose_card(page, watch: Watch, case: Case, base: str, *, shots: str) -> None:
    """Pick the card company; the launch page must try the registry's app for this platform."""
    button = page.locator(f'[data-card-code="{case.card_code}"]')
    app = load_registry().app(button.get_attribute("data-app-id"))
    if case.platform == "desktop":
        button.click()
        page.wait_for_url(f"{base}/sandbox/kispg/v2/auth/choose")
        expect(page.locator("#launch")).to_have_count(0)
        expect(page.locator("main")).to_contain_text("앱을 실행하지 않습니다")
    else:
        # Wait until Chromium has given up on the app (no app here): a click before that races it.
        with page.expect_event("requestfailed", lambda r: urlsplit(r.url).scheme not in ("http", "https")):
            button.click()
        for _ in range(20):  # the CDP event precedes the request event; this only drains the queue
            if watch.launches:
                break
            page.evaluate("0")
        [launched] = watch.launches
        if case.platform == "android":
            assert launched.startswith("intent://") and launched.endswith(";end"), launched
            assert f";package={app.android_package};" in launched, (launched, app.android_package)
            assert any(f"#Intent;scheme={s};" in launched for s in app.android_schemes), launched
        else:
            assert urlsplit(launched).scheme in app.ios_schemes, (launched, app.ios_schemes)
            assert launched == f"{app.ios_schemes[0]}://"
        # Chromium could not open the app; the page must stay, with its result buttons usable.
        assert page.url == f"{base}/sandbox/kispg/v2/auth/choose"
        expect(page.locator("#launch")).to_have_attribute("href", launched)
    expect(page.locator("h2").first).to_be_visible()
    expect(page.locator('[data-sandbox-action="approve"]')).to_be_enabled()
    save_shot(page, f"{shots}/launch.png")


def press(page, case: Case, action: str) -> None:
    """Tap the pay window's approve / fail / cancel button.

    After a launch attempt, desktop Chromium (new headless is the full browser) may raise its
    "Open xdg-open?" tab-modal dialog, which makes the tab ignore mouse and keyboard input at a
    random moment; phones have no such dialog. There, HTMLElement.click() activates the same
    submit button, so the same form posts with the same name/value.
    """
    button = page.locator(f'[data-sandbox-action="{action}"]')
    expect(button).to_be_visible()
    expect(button).to_be_enabled()
    if case.platform == "desktop":
        button.click()
    else:
        button.evaluate("button => button.click()")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_checkout_pays_in_the_same_tab(open_context, live_server, case):
    base, _ = live_server
    context, watch, page, ord_no = open_pay_window(open_context, base, case, shots=case.id)
    choose_card(page, watch, case, base, shots=case.id)

    press(page, case, "approve")
    page.wait_for_url(f"{base}/orders/{ord_no}")
    expect_status(page, "paid", "결제 완료")
    expect(page.locator(".message")).to_have_text("결제가 정상적으로 완료되었습니다.")
    expect(page.locator(".summary")).to_contain_text(ord_no)
    save_shot(page, f"{case.id}/result.png")

    order = order_status(context, base, ord_no)
    assert (order["status"], order["goodsAmt"], order["cardCode"]) == ("paid", 39000, case.card_code), order
    assert len(watch.launches) == (0 if case.platform == "desktop" else 1), watch.launches
    assert watch.pages == [page], "the whole checkout stayed in one tab"


@pytest.mark.parametrize("action, reason", [("fail", "인증에 실패하였습니다."),
                                            ("cancel", "사용자가 결제를 취소하였습니다.")], ids=["fail", "cancel"])
def test_failure_and_cancel_end_in_a_clear_korean_message(open_context, live_server, action, reason):
    base, _ = live_server
    case = BY_ID["kakaotalk_android"]
    shots = f"{case.id}-{action}"
    context, watch, page, ord_no = open_pay_window(open_context, base, case, shots=shots)
    choose_card(page, watch, case, base, shots=shots)

    press(page, case, action)
    page.wait_for_url(f"{base}/orders/{ord_no}")
    expect_status(page, "failed", "결제 실패")
    expect(page.locator(".message")).to_have_text("결제가 완료되지 않았습니다. 청구된 금액은 없습니다.")
    expect(page.locator(".summary")).to_contain_text(reason)
    save_shot(page, f"{shots}/result.png")
    assert order_status(context, base, ord_no)["status"] == "failed"

    # The failure ended that attempt, not the order: paying again opens a new pay window under
    # the next attempt's own ordNo (KISPG refuses an ordNo it has seen).
    again = page.get_by_role("link", name="다시 결제하기")
    expect(again).to_be_visible()
    again.evaluate("link => link.click()")  # after an app launch the tab may ignore input (see press)
    page.wait_for_url(f"{base}/sandbox/kispg/v2/auth", timeout=WAIT_MS)
    expect(page.get_by_text(f"주문번호 {ord_no}-2")).to_be_visible()
    attempts = order_status(context, base, ord_no)["attempts"]
    assert [(a["n"], a["kispgOrdNo"], a["outcome"]) for a in attempts] == [
        (1, ord_no, "failed"), (2, f"{ord_no}-2", "open")]
    assert watch.pages == [page]


def test_device_test_shows_the_browser_and_a_qr_code_of_itself(open_context, live_server):
    base, _ = live_server
    context, _ = open_context(UA["kakaotalk_ios"], "ios")
    page = context.new_page()
    page.goto(f"{base}/device-test")
    expect(page.locator('[data-field="platform"]')).to_have_text("ios (모바일)")
    expect(page.locator('[data-field="in_app"]')).to_have_text("예")
    expect(page.locator('[data-field="app"]')).to_have_text("kakaotalk")
    expect(page.locator('[data-field="app_scheme"]')).to_have_text("kakaotalk://")
    expect(page.locator('[data-field="own_app"]')).to_have_text("아니오")
    expect(page.locator('a[data-app="isp"]')).to_have_attribute("href", "ispmobile://")

    image = page.locator("figure.qr img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR image loaded"
    from_screen = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.screenshot())))
    response = context.request.get(base + image.get_attribute("src"))
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    from_bytes = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.body())))
    assert [c.text for c in from_screen] == [c.text for c in from_bytes] == [page.url] == [f"{base}/device-test"]
    save_shot(page, "device_test/device-test.png")


# -- the virtual-account page: KakaoTalk's in-app browser may offer no navigator.clipboard; the page
# must copy anyway (a selected textarea and document.execCommand('copy')), and when even that fails
# leave the number selected for a long press. The deposit is made at the sandbox's bank page; its
# notification reaches the service over loopback, and the result page then says 입금 확인 완료.

# What the in-app browser lacks, and a spy on the legacy copy: the text selected when it ran.
NO_CLIPBOARD = """
Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined, configurable: true});
window.__copies = [];
const original = Document.prototype.execCommand;
Document.prototype.execCommand = function (command, ...rest) {
  const active = document.activeElement;
  window.__copies.push([command, active && 'value' in active ? active.value : String(getSelection())]);
  return window.__copyFails ? false : original.call(this, command, ...rest);
};
"""


def issue_account(live_server):
    base, app = live_server
    ord_no = pay(app.test_client(), payMethod="VACNT")
    return base, app, ord_no, app.test_client().get(f"/api/orders/{ord_no}").get_json()


def test_the_account_page_in_kakaotalk_ios_copies_without_a_clipboard_api_and_turns_paid(open_context, live_server):
    base, app, ord_no, order = issue_account(live_server)
    account = order["virtualAccount"]
    context, watch = open_context(UA["kakaotalk_ios"], "ios")
    context.add_init_script(NO_CLIPBOARD)
    page = context.new_page()
    page.goto(f"{base}/orders/{ord_no}")
    expect_status(page, "awaiting_deposit", "입금 대기 중")
    box = page.locator("#virtual-account")
    expect(box).to_contain_text("국민")
    expect(page.locator("#account-no")).to_have_text(account["accountNo"])
    expect(box).to_contain_text("39,000원")
    expect(page.locator(".account-deadline")).to_contain_text("23:59까지")
    assert page.evaluate("navigator.clipboard") is None
    save_shot(page, "kakaotalk_ios-vbank/awaiting.png")

    page.get_by_role("button", name="계좌번호 복사").tap()
    expect(page.locator("#copy-status")).to_have_text("복사되었습니다")
    assert page.evaluate("window.__copies") == [["copy", account["accountNo"]]]

    # When even the legacy copy is refused, the number is left selected for a long press.
    page.evaluate("window.__copyFails = true")
    page.get_by_role("button", name="계좌번호 복사").tap()
    expect(page.locator("#copy-status")).to_have_text("번호를 길게 눌러 복사하세요")
    assert page.evaluate("String(getSelection())") == account["accountNo"]

    page.get_by_role("link", name="샌드박스 은행에서 입금하기").tap()
    page.wait_for_url(f"{base}/sandbox/kispg/_vacnt/{order['tid']}", timeout=WAIT_MS)
    page.locator("#deposit").tap()
    expect(page.locator("#deposited")).to_be_visible()
    page.goto(f"{base}/orders/{ord_no}")
    expect_status(page, "paid", "입금 확인 완료")
    expect(page.locator("#virtual-account")).to_have_count(0)
    save_shot(page, "kakaotalk_ios-vbank/paid.png")
    assert app.test_client().get(f"/api/orders/{ord_no}").get_json()["status"] == "paid"
    assert watch.blocked == []
