"""In Debian's Chromium: a tester on an iPhone records three apps with one tap each, then reads the matrix."""
from __future__ import annotations

import os
import shutil

from playwright.sync_api import expect

from .service_helpers import UA
from .e2e_helpers import DOCS, PROFILES, WAIT_MS, Watch, save_shot


def test_a_tester_fills_and_reads_a_report(browser, live_server):
    base, _ = live_server
    context = browser.new_context(user_agent=UA["kakaotalk_ios"], locale="ko-KR", **PROFILES["ios"])
    context.set_default_timeout(WAIT_MS)
    watch = Watch(base)
    watch.attach(context)
    page = context.new_page()
    page.goto(f"{base}/device-test")
    expect(page.locator('[data-field="escape"]')).to_have_text("kakaotalk_open_external")
    page.locator("#tester").fill("민수")
    for app, outcome in (("isp", "opened"), ("kb_pay", "store"), ("toss", "nothing"), ("isp", "nothing")):
        item = page.locator(f'li[data-report-app="{app}"]')
        with page.expect_response(lambda r: r.url.endswith("/results") and r.request.method == "POST") as answer:
            item.locator(f'button[data-outcome="{outcome}"]').tap()
        assert answer.value.status == 200
        expect(item).to_have_attribute("data-outcome", outcome)
        expect(item.locator(f'button[data-outcome="{outcome}"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#report-status")).to_contain_text("저장했습니다")
    button = page.locator('li[data-report-app="isp"] button[data-outcome="opened"]').bounding_box()
    assert button["height"] >= 44, "a thumb-sized target"
    save_shot(page, "device_report/device-test.png")

    page.goto(f"{base}/device-test/reports")
    [row] = page.locator("tbody tr").all()
    expect(row.locator("th")).to_contain_text("ios · kakaotalk")
    expect(row.locator("th")).to_contain_text("민수")
    expect(row.locator('td[data-app="isp"]')).to_have_text("반응 없음")
    expect(row.locator('td[data-app="kb_pay"]')).to_have_text("스토어 열림")
    expect(row.locator('td[data-app="toss"]')).to_have_text("반응 없음")
    path = save_shot(page, "device_report/reports.png", full_page=False)
    if os.environ.get("WEBVIEW_E2E_UPDATE_DOCS") == "1":
        shutil.copyfile(path, DOCS / "device-report.png")
    exported = context.request.get(f"{base}/device-test/reports.json").json()["reports"]
    assert [r["results"] for r in exported] == [{"isp": "nothing", "kb_pay": "store", "toss": "nothing"}]
    context.close()
    assert watch.blocked == []
