"""Conformance-test helpers: the sandbox, altered sandboxes, and a scripted tester (served by tests/loopback.py).

The "live" KISPG of these tests is always the built-in sandbox on a loopback socket;
an altered one answers one chosen request differently, so a test can check that the
report flags exactly that.
"""
from __future__ import annotations

import re
from contextlib import nullcontext
from typing import Callable

import requests
from flask import Flask, jsonify, request

from webview_toolkit.kispg.sandbox import create_sandbox_app
from webview_toolkit.kispg.testing import FormParser, parse_result_form

MID = "conform01m"
KEY = "C0nformanceKey+/only-for-tests-" + "Qx7" * 19


def sandbox_app(mid: str = MID, key: str = KEY) -> Flask:
    """The built-in sandbox knowing this merchant, as a standalone app."""
    return create_sandbox_app({"KISPG_MID": mid, "KISPG_MERCHANT_KEY": key})


def altered(app: Flask, matches: Callable[[], bool], answer: Callable[[], object]) -> Flask:
    """The app, answering `answer()` instead for every request where `matches()` holds (in request context)."""

    @app.before_request
    def _alter():
        if matches():
            return answer()
        return None

    return app


def cancel_without_partcanflg() -> bool:
    """The request of the probe cancel_missing_partcanflg, and no other probe's."""
    body = request.get_json(silent=True) if request.is_json else None
    return request.path == "/v2/cancel" and isinstance(body, dict) and "partCanFlg" not in body


def other_code_for_missing_partcanflg():
    """What the altered sandbox answers instead: another resultCd, the same message."""
    return jsonify(resultCd="9001", resultMsg="필수입력항목이 빠져있습니다.(partCanFlg)")


def pay_through_window(page_url: str, action: str = "approve", card_index: int = 1,
                       session: requests.Session | None = None) -> requests.Response:
    """A scripted tester: open the checkout page, submit the sandbox pay window, post the result to returnUrl.

    `session` carries the tester's requests (one with the sandbox mounted in-process, say).
    """
    with nullcontext(session) if session is not None else requests.Session() as browser:
        page = browser.get(page_url, timeout=5)
        form = FormParser("conformance-auth")
        form.feed(page.text)
        window = browser.post(form.action, data=form.fields, timeout=5)
        token = _token(window.text)
        codes = re.findall(r'name="cardCode" value="([^"]+)"', window.text)
        launch = browser.post(_sibling(form.action, "/v2/auth/choose"),
                              data={"token": token, "cardCode": codes[card_index % len(codes)]}, timeout=5)
        result = browser.post(_sibling(form.action, "/v2/auth/finish"),
                              data={"token": _token(launch.text), "action": action}, timeout=5)
        return_url, fields = parse_result_form(result.text)
        return browser.post(return_url, data=fields, timeout=5)


def _token(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, f"no token in the pay window page: {html[:300]}"
    return found.group(1)


def _sibling(auth_url: str, path: str) -> str:
    return auth_url[: -len("/v2/auth")] + path
