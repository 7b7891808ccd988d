"""Test helpers: result parsers, and (from kispg.inprocess) the session that reaches a WSGI app in-process.

    session = wsgi_session(app, "http://kispg.test")
    client = KispgClient("http://kispg.test", mid, key, session=session)
"""
from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from typing import Any, Callable
from urllib.parse import urlsplit

import requests

from .inprocess import FAULT_HEADER, WSGIAdapter, wsgi_session  # noqa: F401  (the tests' names)


class FormParser(HTMLParser):
    """The form with the given id in a page: its action, target and named inputs (feed it HTML)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.action: str | None = None
        self.target: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and values.get("id") == self.form_id:
            self.action, self.target, self._inside = values.get("action", ""), values.get("target"), True
        elif tag == "input" and self._inside and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def parse_result_form(html: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the sandbox's auto-posting result form (ValueError if absent)."""
    parser = FormParser("kispg-result")
    parser.feed(html)
    if parser.action is None:
        raise ValueError("no result form (id=kispg-result) in the page")
    return parser.action, parser.fields


def parse_result_message(html: str) -> tuple[str, dict[str, Any]]:
    """The target origin and the postMessage payload of the sandbox's PC ending (ValueError if absent)."""
    found = re.search(r'<script type="application/json" id="kispg-message">(.*?)</script>', html, re.S)
    origin = re.search(r'data-target-origin="([^"]*)"', html)
    if found is None or origin is None:
        raise ValueError("no framed ending (id=kispg-message) in the page")
    return unescape(origin.group(1)), json.loads(found.group(1))


def auth_result(html: str, return_url: str) -> tuple[str, dict[str, str]]:
    """Where the result goes and its fields, for either ending: the merchant page posts `data` to its returnUrl."""
    try:
        return parse_result_form(html)
    except ValueError:
        return return_url, parse_result_message(html)[1]["data"]


def auth_form(mid: str, merchant_key: str, *, ord_no: str, goods_amt: int | str = 1004,
              return_url: str = "https://shop.test/kispg/return", now: Any = None, **extra: str) -> dict[str, str]:
    """A complete, signed /v2/auth form for tests (mobile, card, UTF-8); extra fields override."""
    from .signing import edi_date_now, sign

    edi_date = edi_date_now(now)
    form = {
        "payMethod": "card", "trxCd": "0", "mid": mid, "goodsNm": "테스트 상품", "currencyType": "KRW",
        "ordNo": ord_no, "goodsAmt": str(goods_amt), "ordNm": "홍길동", "ordTel": "01012345678",
        "model": "MOB", "channel": "0002", "ediDate": edi_date, "returnUrl": return_url,
        "encData": sign(mid, edi_date, goods_amt, merchant_key), "charset": "UTF-8", "payReqType": "1",
    }
    form.update(extra)
    return form


def sandbox_authenticate(flask_client: Any, auth_url: str, form: dict[str, str],
                         action: str = "approve", card_code: str = "") -> dict[str, str]:
    """Post an auth form with sandboxAction through a Flask test client; the auth result fields."""
    data = {**form, "sandboxAction": action}
    if card_code:
        data["sandboxCardCode"] = card_code
    response = flask_client.post(auth_url, data=data)
    if response.status_code != 200:
        raise AssertionError(f"sandbox refused the auth form: {response.get_data(as_text=True)[:300]}")
    return auth_result(response.get_data(as_text=True), form["returnUrl"])[1]
