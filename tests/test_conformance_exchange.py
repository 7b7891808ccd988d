"""One request, one answer: no redirect followed, explicit timeouts, failures recorded, pacing and a hard budget."""
from __future__ import annotations

import socket

import pytest
import requests
from flask import Flask, Response, jsonify

from webview_toolkit.conformance.exchange import (DEFAULT_TIMEOUT, TEXT_LIMIT, BudgetExceeded, Endpoint, Pacer,
                                                  post_once)
from webview_toolkit.kispg.testing import wsgi_session

from .loopback import served

BASE = "http://kispg.test"


class FakeTime:
    """A monotonic clock that moves only when slept on (or advanced by the test)."""

    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pacer_spaces_requests_and_refuses_past_its_budget():
    time = FakeTime()
    pacer = Pacer(1.0, 3, clock=time.clock, sleep=time.sleep)
    pacer.wait_turn()
    time.now += 0.25
    pacer.wait_turn()
    time.now += 2.0
    pacer.wait_turn()
    assert time.slept == [0.75]
    with pytest.raises(BudgetExceeded, match="at most 3 requests"):
        pacer.wait_turn()


def redirecting_app() -> Flask:
    app = Flask(__name__)

    @app.post("/v2/order")
    def order():
        return Response("", status=302, headers={"Location": "/firewall"})

    @app.route("/firewall", methods=["GET", "POST"])
    def firewall():
        return jsonify(resultCd="0000", resultMsg="a followed redirect would land here")

    @app.post("/v2/page")
    def page():
        return Response("<html><head><title>t</title><style>p {}</style></head><body><p>방화벽\n  안내</p>"
                        "<script>var x;</script><p>등록되지 않은 IP</p></body></html>", mimetype="text/html")

    @app.post("/v2/big")
    def big():
        return Response("x" * 5000, mimetype="text/html")

    return app


def test_a_redirect_is_recorded_not_followed():
    answer = post_once(wsgi_session(redirecting_app(), BASE), BASE + "/v2/order", {"mid": "m"}, "json",
                       DEFAULT_TIMEOUT)
    assert (answer.status, answer.location, answer.json) == (302, "/firewall", None)


def test_an_html_page_is_kept_as_the_text_it_shows():
    answer = post_once(wsgi_session(redirecting_app(), BASE), BASE + "/v2/page", {}, "json", DEFAULT_TIMEOUT)
    assert answer.text == "방화벽 안내 등록되지 않은 IP"


def test_a_text_body_is_cut_to_the_limit():
    answer = post_once(wsgi_session(redirecting_app(), BASE), BASE + "/v2/big", {}, "json", DEFAULT_TIMEOUT)
    assert answer.status == 200 and not answer.is_json and answer.text == "x" * TEXT_LIMIT


class Recording(requests.Session):
    """A session that records what each request asked for and answers like the sandbox's timeout fault."""

    def __init__(self):
        super().__init__()
        self.calls: list[dict] = []

    def post(self, url, **kwargs):
        self.calls.append({"url": url, **kwargs})
        raise requests.ReadTimeout("simulated")


def test_every_request_has_an_explicit_timeout_and_no_redirects_and_a_timeout_is_an_answer():
    session = Recording()
    endpoint = Endpoint(BASE, session, (2.0, 7.0), Pacer(0, 5))
    answer = endpoint.post("/v2/payment", {"mid": "m"}, "form")
    assert answer.error == "read timeout after 7 s (the request may have been processed)"
    (call,) = session.calls
    assert call["timeout"] == (2.0, 7.0) and call["allow_redirects"] is False and call["data"] == {"mid": "m"}


def test_an_unreachable_server_is_recorded_as_an_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    answer = post_once(requests.Session(), f"http://127.0.0.1:{port}/v2/order", {}, "json", (1.0, 1.0))
    assert answer.status is None and answer.error.startswith("ConnectionError: could not reach")


def test_a_form_probe_really_sends_a_form_over_a_socket():
    app = Flask(__name__)

    @app.post("/v2/cancel")
    def cancel():
        from flask import request
        return jsonify(mimetype=request.mimetype, fields=request.form.to_dict())

    with served(app) as base:
        answer = post_once(requests.Session(), base + "/v2/cancel", {"partCanFlg": "0"}, "form", (1.0, 5.0))
    assert answer.json == {"mimetype": "application/x-www-form-urlencoded", "fields": {"partCanFlg": "0"}}
