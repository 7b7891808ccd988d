"""Test helpers: a requests session that routes a base URL into a WSGI app in-process, and result parsers.

    session = wsgi_session(app, "http://kispg.test")
    client = KispgClient("http://kispg.test", mid, key, session=session)

The sandbox marks a simulated timeout with the FAULT_HEADER header; the adapter turns it
into requests.ReadTimeout, so timeouts are tested without sleeping.
"""
from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.test import EnvironBuilder, run_wsgi_app

FAULT_HEADER = "X-Sandbox-Fault"


class WSGIAdapter(BaseAdapter):
    """A transport adapter that hands each request to a WSGI app instead of a socket."""

    def __init__(self, app: Callable[..., Any]):
        super().__init__()
        self.app = app

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        """Run the request through the app and wrap its answer as a requests.Response."""
        parts = urlsplit(request.url)
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        builder = EnvironBuilder(path=parts.path or "/", base_url=f"{parts.scheme}://{parts.netloc}",
                                 query_string=parts.query, method=request.method,
                                 headers=dict(request.headers), data=body or b"",
                                 # In-process is this machine: the sandbox's loopback-only routes answer it.
                                 environ_base={"REMOTE_ADDR": "127.0.0.1"})
        try:
            app_iter, status, headers = run_wsgi_app(self.app, builder.get_environ())
            content = b"".join(app_iter)
            if hasattr(app_iter, "close"):
                app_iter.close()
        finally:
            builder.close()
        if headers.get(FAULT_HEADER) == "timeout":
            raise requests.ReadTimeout(f"simulated read timeout for {request.url}", request=request)
        response = requests.Response()
        response.status_code = int(status.split(" ", 1)[0])
        response.reason = status.split(" ", 1)[1] if " " in status else ""
        response.headers = CaseInsensitiveDict(headers.items())
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = content
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release."""


def wsgi_session(app: Callable[..., Any], base_url: str,
                 session: requests.Session | None = None) -> requests.Session:
    """A session (new, or the given one) whose requests under base_url go to app in-process."""
    session = session if session is not None else requests.Session()
    parts = urlsplit(base_url)
    session.mount(f"{parts.scheme}://{parts.netloc}/", WSGIAdapter(app))
    return session


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
