"""Browser-test helpers: Debian's Chromium, phone profiles, a loopback-only fence, launch capture, screenshots."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .service_helpers import ORDER

CHROMIUM = Path("/usr/bin/chromium")
# Fail fast: a page that does not move within this is broken, not slow.
WAIT_MS = 5_000
# `playwright install` cannot download here; Debian's build runs headless as root with these.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Fail fast: a page that does not move within this is broken, not slow.
WAIT_MS = 5_000

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DOCS = Path(__file__).resolve().parent.parent / "docs"
# artifact → committed picture for the README; copied only when WEBVIEW_E2E_UPDATE_DOCS=1.
DOC_SHOTS = {
    "kakaotalk_ios/checkout.png": "checkout-kakaotalk-ios.png",
    "kakaotalk_ios/pay-window.png": "pay-window.png",
    "chrome_android/launch.png": "launch-android.png",
    "kakaotalk_ios/result.png": "result-paid.png",
    "kakaotalk_android-fail/result.png": "result-failed.png",
    "device_test/device-test.png": "device-test.png",
    "desktop_chrome/overlay.png": "checkout-desktop-overlay.png",
    "kakaotalk_ios-vbank/awaiting.png": "result-vbank-awaiting.png",
    "kakaotalk_ios-vbank/paid.png": "result-vbank-paid.png",
}

# Phone-sized contexts: iPhone 14 and Pixel 7 CSS viewports (scale 2 keeps the pictures small).
IPHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
ANDROID = {"viewport": {"width": 412, "height": 915}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1}
PROFILES = {"ios": IPHONE, "android": ANDROID, "desktop": DESKTOP}


def chromium_or_skip() -> str:
    """The Chromium path; skip when it is absent, but fail under CI=true, where it must be there."""
    import pytest

    if CHROMIUM.exists():
        return str(CHROMIUM)
    reason = f"{CHROMIUM} is absent (scripts/setup apt-installs Debian's chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class Watch:
    """What one browser context did: requests fenced off loopback, app launches, pages opened."""

    base: str
    blocked: list[str] = field(default_factory=list)
    launches: list[str] = field(default_factory=list)
    pages: list = field(default_factory=list)
    navigations: list[tuple[str, str]] = field(default_factory=list)
    # Further loopback hosts a test serves itself (a second origin, e.g. localhost:<port>).
    also: set[str] = field(default_factory=set)

    def attach(self, context) -> None:
        """Fence the context to this service on 127.0.0.1 (and `also`) and count the pages it opens."""
        own = urlsplit(self.base).netloc
        context.on("page", lambda page: self.pages.append(page))

        def fence(route):
            netloc = urlsplit(route.request.url).netloc
            if netloc == own or netloc in self.also:
                route.continue_()
            else:
                self.blocked.append(route.request.url)
                route.abort()

        context.route("**/*", fence)

    def watch_page(self, context, page) -> None:
        """Record the page's main-frame navigations, and every non-http one as an app launch.

        Chromium fails intent:// and custom schemes; Playwright's `request` event shows them
        without their #fragment, where intent:// keeps `;package=…`, so the full URL comes from
        CDP's Page.frameRequestedNavigation, which fires before Chromium gives up on it.
        """
        def on_request(request):
            if request.is_navigation_request() and request.frame == page.main_frame:
                self.navigations.append((request.method, request.url))

        page.on("request", on_request)
        cdp = context.new_cdp_session(page)
        cdp.send("Page.enable")

        def on_requested(event):
            if urlsplit(event["url"]).scheme not in ("http", "https", "about", "data"):
                self.launches.append(event["url"])

        cdp.on("Page.frameRequestedNavigation", on_requested)


def save_shot(page, name: str, *, full_page: bool = True) -> Path:
    """Screenshot the page into tests/artifacts/<name> (git-ignored)."""
    path = ARTIFACTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


def update_docs() -> list[Path]:
    """Copy the README's pictures from tests/artifacts/ into docs/ (WEBVIEW_E2E_UPDATE_DOCS=1)."""
    copied = []
    for source, target in DOC_SHOTS.items():
        if (ARTIFACTS / source).exists():
            DOCS.mkdir(exist_ok=True)
            shutil.copyfile(ARTIFACTS / source, DOCS / target)
            copied.append(DOCS / target)
    return copied


def create_checkout(context, base: str) -> tuple[str, str]:
    """POST /api/orders through the context; (ordNo, checkoutUrl)."""
    response = context.request.post(f"{base}/api/orders", data=ORDER)
    assert response.status == 201, response.text()
    body = response.json()
    return body["ordNo"], body["checkoutUrl"]


def order_status(context, base: str, ord_no: str) -> dict:
    """GET /api/orders/<ordNo>."""
    response = context.request.get(f"{base}/api/orders/{ord_no}")
    assert response.status == 200, response.text()
    return response.json()


def expect_status(page, status: str, headline: str | None = None) -> None:
    """The result page's heading carries this order status (and, when given, says this headline)."""
    from playwright.sync_api import expect
    heading = page.locator("h1.status")
    expect(heading).to_have_attribute("data-status", status)
    if headline is not None:
        expect(heading).to_have_text(headline)
