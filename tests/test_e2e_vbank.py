"""The virtual-account page in Debian's Chromium as KakaoTalk on iOS: the account, its copy button, the deposit.

KakaoTalk's in-app browser may offer no `navigator.clipboard`; the page must copy anyway
(a selected textarea and `document.execCommand('copy')`), and when even that fails leave the
number selected for a long press. The deposit is made at the sandbox's bank page; its
notification reaches the service over loopback, and the result page then says 입금 확인 완료.
"""
from __future__ import annotations

from playwright.sync_api import expect

from .conftest import UA, pay
from .e2e_helpers import save_shot
from .test_e2e_browser import WAIT_MS, browser, open_context  # noqa: F401  (fixtures)

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


def issue(live_server):
    base, app = live_server
    ord_no = pay(app.test_client(), payMethod="VACNT")
    return base, app, ord_no, app.test_client().get(f"/api/orders/{ord_no}").get_json()


def test_the_account_page_in_kakaotalk_ios_copies_without_a_clipboard_api_and_turns_paid(open_context, live_server):
    base, app, ord_no, order = issue(live_server)
    account = order["virtualAccount"]
    context, watch = open_context(UA["kakaotalk_ios"], "ios")
    context.add_init_script(NO_CLIPBOARD)
    page = context.new_page()
    page.goto(f"{base}/orders/{ord_no}")
    status = page.locator("h1.status")
    expect(status).to_have_attribute("data-status", "awaiting_deposit")
    expect(status).to_have_text("입금 대기 중")
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
    expect(status).to_have_attribute("data-status", "paid")
    expect(status).to_have_text("입금 확인 완료")
    expect(page.locator("#virtual-account")).to_have_count(0)
    save_shot(page, "kakaotalk_ios-vbank/paid.png")
    assert app.test_client().get(f"/api/orders/{ord_no}").get_json()["status"] == "paid"
    assert watch.blocked == []
