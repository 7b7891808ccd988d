"""Order events in the log (issue 17): each payment step with ordNo, tid and a request id, as text
or one JSON object per line, and never the key, a token or a shopper's phone or name."""
from __future__ import annotations

import io
import json
import logging

import pytest

from webview_toolkit import logs
from webview_toolkit.web import create_app
from webview_toolkit.web.extensions import services

from .service_helpers import MERCHANT_KEY, ORDER, UA, checkout_form, create_order, sandbox_result, service_config

pytestmark = pytest.mark.postgres

ADMIN = {"Authorization": "Bearer admin-token"}


@pytest.fixture
def json_app(tmp_path, database_url):
    app = create_app(service_config(tmp_path, WEBVIEW_DATABASE_URL=database_url, WEBVIEW_LOG_FORMAT="json"))
    stream = io.StringIO()
    handler = logs.handler()
    old = handler.setStream(stream)
    yield app, stream
    handler.setStream(old)
    handler.setFormatter(logging.Formatter(logs.TEXT_FORMAT))
    services(app).store.dispose()


def entries(stream: io.StringIO, ord_no: str) -> list[dict]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [e for e in lines if e.get("ordNo") == ord_no]


def test_a_faulted_checkout_logs_every_step_as_json_lines(json_app):
    app, stream = json_app
    client = app.test_client()
    ord_no = create_order(client, ordEmail="buyer@example.com")
    # KISPG approves, then the answer is lost: unknown, asked about, settled as paid.
    armed = client.post("/sandbox/kispg/_faults", json={"endpoint": "payment", "mode": "commit_then_timeout"})
    assert armed.status_code == 201
    return_url, fields = sandbox_result(client, checkout_form(client, ord_no, UA["safari_ios"]))
    response = client.post(return_url, data=fields, headers={"X-Request-Id": "req-from-the-proxy-0001"})
    assert response.status_code == 303 and response.headers["X-Request-Id"] == "req-from-the-proxy-0001"
    forged = client.post(return_url, data={**fields, "amt": "1"})
    assert forged.status_code == 400
    assert client.post(f"/api/orders/{ord_no}/cancel", json={"amount": 1000}, headers=ADMIN).status_code == 200

    events = entries(stream, ord_no)
    kinds = [e["event"] for e in events]
    assert kinds == ["created", "authenticated", "approval_claimed", "approval_unknown", "reconciled_paid",
                     "return_rejected", "cancel_claimed", "cancelled"]
    tid = fields["tid"]
    assert all(e["tid"] == tid for e in events[1:])
    during_return = [e for e in events if e["event"] in ("authenticated", "approval_claimed", "approval_unknown",
                                                         "reconciled_paid")]
    assert {e["requestId"] for e in during_return} == {"req-from-the-proxy-0001"}
    ids = {e["requestId"] for e in events}
    assert len(ids) == 4 and "-" not in ids, "one id per request, none missing"
    assert {e["level"] for e in events if e["event"] in ("approval_unknown", "return_rejected")} == {"WARNING"}
    assert events[5]["detail"]["reason"].startswith("amount '1'")
    text = stream.getvalue()
    for secret in (MERCHANT_KEY, "admin-token", ORDER["ordTel"], ORDER["ordNm"], "buyer@example.com"):
        assert secret not in text


def test_declined_and_failed_auth_are_logged(json_app):
    app, stream = json_app
    client = app.test_client()
    ord_no = create_order(client)
    return_url, fields = sandbox_result(client, checkout_form(client, ord_no, UA["safari_ios"]), "fail")
    client.post(return_url, data=fields)
    [failed] = [e for e in entries(stream, ord_no) if e["event"] == "auth_failed"]
    assert failed["detail"]["resultCd"] == fields["resultCd"] and failed["message"].startswith(f"order {ord_no} auth_failed")


def test_text_lines_carry_the_request_id(client, caplog):
    stream = io.StringIO()
    handler = logs.handler()
    old = handler.setStream(stream)
    try:
        ord_no = client.post("/api/orders", json=ORDER, headers={"X-Request-Id": "abc12345-text"}).get_json()["ordNo"]
    finally:
        handler.setStream(old)
    assert f"[abc12345-text] order {ord_no} created tid=-" in stream.getvalue()


def test_only_well_formed_request_ids_are_kept():
    assert logs.new_request_id("abcd-1234-efgh") == "abcd-1234-efgh"
    for hostile in ("x", "a b c d e f g h", "<script>alert(1)</script>", "y" * 65, "abc\nINFO forged"):
        assert logs.new_request_id(hostile) != hostile


def test_details_are_allow_listed_and_cut():
    shown = logs.public_detail({"resultCd": "3001", "cardNo": "5369****1234", "ordNm": "홍길동",
                                "resultMsg": "x" * 500, "socHpNo": "01012345678"})
    assert set(shown) == {"resultCd", "resultMsg"} and len(shown["resultMsg"]) == 201


def test_json_formatter_writes_one_line_even_with_a_traceback():
    try:
        raise ValueError("line one\nline two")
    except ValueError:
        import sys
        record = logging.LogRecord("webview_toolkit.x", logging.ERROR, __file__, 1, "boom %s", ("a",), sys.exc_info())
    text = logs.JsonFormatter().format(record)
    assert "\n" not in text
    entry = json.loads(text)
    assert entry["message"] == "boom a" and "line two" in entry["exception"] and entry["requestId"] == "-"
