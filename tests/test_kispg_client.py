"""KispgClient against the sandbox in-process (and once over loopback), and each error path."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

import pytest
import requests
from requests.adapters import BaseAdapter

from webview_toolkit.kispg.client import KispgClient, Refund, base_url_for, session_for
from webview_toolkit.kispg.result_codes import DEFAULT_SUCCESS
from webview_toolkit.kispg.errors import (DeclinedError, FieldError, FieldSizeError, HTTPStatusError,
                                          InvalidResponseError, KispgError, KispgTimeout, MissingFieldError,
                                          ResponseMismatchError, TransportError, UnregisteredServerError)
from webview_toolkit.kispg.sandbox import create_sandbox_app
from webview_toolkit.kispg.signing import KST
from webview_toolkit.kispg.testing import auth_form, sandbox_authenticate, wsgi_session

from .loopback import served

MID = "webview01m"
KEY = "client-test-key/" + "Q" * 40
BASE = "http://kispg.test"


@pytest.fixture
def sandbox():
    return create_sandbox_app({"KISPG_MID": MID, "KISPG_MERCHANT_KEY": KEY})


@pytest.fixture
def kispg(sandbox):
    return KispgClient(BASE, MID, KEY, session=wsgi_session(sandbox, BASE))


_orders = count(1)


def authenticate(sandbox, amount=39000, **form) -> str:
    fields = sandbox_authenticate(sandbox.test_client(), "/v2/auth",
                                  auth_form(MID, KEY, ord_no=f"ord-{next(_orders)}", goods_amt=amount, **form))
    return fields["tid"]


def fault(sandbox, **body):
    assert sandbox.test_client().post("/_faults", json=body).status_code == 201


@pytest.mark.parametrize("env,explicit,sandbox_url,expected", [
    ("test", None, None, "https://testapi.kispg.co.kr"),
    ("prod", None, None, "https://api.kispg.co.kr"),
    ("sandbox", None, "http://127.0.0.1:5000/sandbox/kispg/", "http://127.0.0.1:5000/sandbox/kispg"),
    ("prod", "https://proxy.example/kispg/", None, "https://proxy.example/kispg"),
])
def test_base_url_for(env, explicit, sandbox_url, expected):
    assert base_url_for(env, explicit, sandbox_url) == expected


@pytest.mark.parametrize("env,sandbox_url,message", [
    ("sandbox", None, "needs sandbox_url"), ("staging", None, "unknown KISPG environment 'staging'"),
])
def test_base_url_for_refuses(env, sandbox_url, message):
    with pytest.raises(ValueError, match=message):
        base_url_for(env, sandbox_url=sandbox_url)


def test_approve_returns_a_frozen_approval(sandbox, kispg):
    tid = authenticate(sandbox)
    approval = kispg.approve(tid, 39000)
    assert (approval.result_cd, approval.tid, approval.amt, approval.pay_method) == ("3001", tid, "39000", "card")
    assert approval.raw["appNo"] == approval.app_no
    with pytest.raises(AttributeError):
        approval.amt = "1"  # type: ignore[misc]
    with pytest.raises(TypeError):
        approval.raw["amt"] = "1"  # type: ignore[index]


@pytest.mark.parametrize("method,code", [("bank", "4000"), ("vacnt", "4100")])
def test_other_methods_succeed_with_their_own_codes(sandbox, kispg, method, code):
    approval = kispg.approve(authenticate(sandbox, payMethod=method), 39000)
    assert approval.result_cd == code
    assert DEFAULT_SUCCESS.is_success("approval", method, code)
    assert not DEFAULT_SUCCESS.is_success("approval", "card", "4100")
    assert DEFAULT_SUCCESS.is_success("approval", None, code)
    assert not DEFAULT_SUCCESS.is_success("approval", None, "2001")


def test_a_second_approval_is_declined_with_its_code(sandbox, kispg):
    tid = authenticate(sandbox)
    kispg.approve(tid, 39000)
    with pytest.raises(DeclinedError, match=r"/v2/payment declined: A127") as caught:
        kispg.approve(tid, 39000)
    assert caught.value.result_cd == "A127" and "MOID" in caught.value.result_msg


def test_an_amount_other_than_the_auth_is_declined(sandbox, kispg):
    with pytest.raises(DeclinedError) as caught:
        kispg.approve(authenticate(sandbox), 1000)
    assert caught.value.result_cd == "A123"


def test_partial_then_full_cancel_and_inquiry(sandbox, kispg):
    tid = authenticate(sandbox, amount=3000)
    kispg.approve(tid, 3000)
    part = kispg.cancel(tid, 500, reason="부분취소", partial=True)
    assert (part.result_cd, part.cancel_yn, part.amt) == ("2001", "Y", "500")
    inquiry = kispg.inquire(tid=tid, goods_amt=3000)
    assert (inquiry.trx_status, inquiry.remaining, inquiry.cancels[0].cc_amt) == ("승인", 2500, 500)
    kispg.cancel(tid, 2500, reason="전체취소")
    inquiry = kispg.inquire(ord_no=inquiry.ord_no, goods_amt=3000)
    assert (inquiry.trx_status, inquiry.remaining, len(inquiry.cancels)) == ("취소", 0, 2)
    with pytest.raises(DeclinedError) as caught:
        kispg.cancel(tid, 100, reason="again", partial=True)
    assert caught.value.result_cd == "2013"


def test_cancel_over_the_balance_is_declined(sandbox, kispg):
    tid = authenticate(sandbox, amount=1000)
    kispg.approve(tid, 1000)
    with pytest.raises(DeclinedError) as caught:
        kispg.cancel(tid, 1001, reason="too much", partial=True)
    assert caught.value.result_cd == "2032"


def test_virtual_account_refund(sandbox, kispg):
    tid = authenticate(sandbox, payMethod="vacnt")
    approval = kispg.approve(tid, 39000)
    assert approval.vacnt_no and approval.lmt_day
    # The shopper pays the account in (the sandbox's bank), then the merchant refunds it.
    assert sandbox.test_client().post("/_deposit", json={"tid": tid, "amount": 39000}).status_code == 200
    refund = kispg.cancel(tid, 39000, reason="환불", pay_method="vacnt", refund=Refund("004", "123456789", "임꺽정"))
    assert refund.result_cd == "2211"


def test_inquiry_of_an_unknown_order_is_declined(kispg):
    with pytest.raises(DeclinedError) as caught:
        kispg.inquire(ord_no="never-paid", goods_amt=1000)
    assert caught.value.result_cd == "S104"


class Recorder(BaseAdapter):
    """A transport that raises or answers what it is told, and counts calls."""

    def __init__(self, outcome):
        super().__init__()
        self.outcome, self.calls = outcome, 0

    def send(self, request, **kwargs):
        self.calls += 1
        if isinstance(self.outcome, Exception):
            raise self.outcome
        response = requests.Response()
        response.status_code, body = self.outcome
        response._content = body.encode("utf-8")
        response.headers["Content-Type"] = "application/json"
        response.url, response.request = request.url, request
        return response

    def close(self):
        pass


def client_with(outcome) -> tuple[KispgClient, Recorder]:
    session, adapter = requests.Session(), Recorder(outcome)
    session.mount("https://", adapter)
    return KispgClient("https://testapi.kispg.co.kr", MID, KEY, session=session), adapter


@pytest.mark.parametrize("outcome,error,match", [
    (requests.ConnectTimeout("x"), KispgTimeout, "connect timeout .* not sent"),
    (requests.ReadTimeout("x"), KispgTimeout, "read timeout .* may have been processed"),
    (requests.ConnectionError("refused"), TransportError, "ConnectionError"),
    (requests.exceptions.SSLError("bad cert"), TransportError, "SSLError"),
    ((502, "<html>bad gateway</html>"), HTTPStatusError, "HTTP 502"),
    ((200, "<html>not json</html>"), InvalidResponseError, "not JSON"),
    ((200, '["resultCd"]'), InvalidResponseError, "without resultCd"),
    ((200, '{"resultMsg": "no code"}'), InvalidResponseError, "without resultCd"),
    ((200, '{"resultCd": "A211", "resultMsg": "해시"}'), DeclinedError, "declined: A211"),
    ((200, '{"resultCd": "3001", "tid": "other0000m01012405011200000001", "amt": "1004"}'),
     ResponseMismatchError, "tid in the answer"),
    ((200, '{"resultCd": "3001", "tid": "webview01m01012405011200000001", "amt": "9999"}'),
     ResponseMismatchError, "amt in the answer is 9999, expected 1004"),
], ids=["connect-timeout", "read-timeout", "connection", "tls", "http-502", "not-json", "not-object",
        "no-resultCd", "declined", "other-tid", "other-amount"])
def test_each_error_path_of_approve(outcome, error, match):
    kispg, adapter = client_with(outcome)
    with pytest.raises(error, match=match) as caught:
        kispg.approve("webview01m01012405011200000001", 1004)
    assert adapter.calls == 1, "an approval is never retried"
    assert KEY not in str(caught.value)
    assert isinstance(caught.value, KispgError)


def test_timeout_phase_and_status_context():
    kispg, _ = client_with(requests.ReadTimeout("x"))
    with pytest.raises(KispgTimeout) as caught:
        kispg.approve("webview01m01012405011200000001", 1004)
    assert caught.value.phase == "read" and caught.value.url.endswith("/v2/payment")
    kispg, _ = client_with((503, "x" * 2000))
    with pytest.raises(HTTPStatusError) as status:
        kispg.inquire(tid="webview01m01012405011200000001", goods_amt=1004)
    assert status.value.status == 503 and len(status.value.body) == 500


def test_invalid_cancel_data_is_an_invalid_response():
    kispg, _ = client_with((200, '{"resultCd": "0000", "tid": "t", "cancelData": "not json"}'))
    with pytest.raises(InvalidResponseError, match="cancelData"):
        kispg.inquire(tid="t", goods_amt=1004)


@pytest.mark.parametrize("call,error,field", [
    (lambda k: k.approve("", 1004), MissingFieldError, "tid"),
    (lambda k: k.approve("t" * 31, 1004), FieldSizeError, "tid"),
    (lambda k: k.approve("t", "1,004"), FieldError, "goodsAmt"),
    (lambda k: k.cancel("t", 100, reason=""), MissingFieldError, "canMsg"),
    (lambda k: k.cancel("t", 100, reason="가" * 51), FieldSizeError, "canMsg"),
    (lambda k: k.inquire(goods_amt=1004), MissingFieldError, "tid"),
])
def test_bad_fields_are_refused_before_anything_is_sent(call, error, field):
    kispg, adapter = client_with((200, "{}"))
    with pytest.raises(error) as caught:
        call(kispg)
    assert caught.value.field == field and adapter.calls == 0


def test_euckr_client_measures_in_euckr():
    session, adapter = requests.Session(), Recorder((200, '{"resultCd": "2001", "tid": "t"}'))
    session.mount("https://", adapter)
    kispg = KispgClient("https://testapi.kispg.co.kr", MID, KEY, session=session, charset="EUC-KR")
    assert kispg.cancel("t", 100, reason="가" * 50).result_cd == "2001"


def test_sandbox_faults_reach_the_client_as_errors(sandbox, kispg):
    tid = authenticate(sandbox)
    fault(sandbox, endpoint="payment", mode="error500")
    with pytest.raises(HTTPStatusError) as caught:
        kispg.approve(tid, 39000)
    assert caught.value.status == 500
    fault(sandbox, endpoint="payment", mode="garbled")
    with pytest.raises(InvalidResponseError):
        kispg.approve(tid, 39000)
    fault(sandbox, endpoint="payment", mode="timeout")
    with pytest.raises(KispgTimeout):
        kispg.approve(tid, 39000)
    with pytest.raises(DeclinedError, match="S104"):
        kispg.inquire(tid=tid, goods_amt=39000)  # a plain timeout approved nothing
    assert kispg.approve(tid, 39000).result_cd == "3001"


@pytest.mark.parametrize("endpoint, call", [
    ("payment", lambda k, tid: k.approve(tid, 39000)),
    ("cancel", lambda k, tid: k.cancel(tid, 39000, reason="고객요청")),
    ("order", lambda k, tid: k.inquire(tid=tid, goods_amt=39000)),
], ids=["approve", "cancel", "inquire"])
def test_the_firewall_redirect_is_not_followed_and_names_the_fix(sandbox, kispg, endpoint, call):
    tid = authenticate(sandbox)
    fault(sandbox, endpoint=endpoint, mode="firewall")
    seen = []
    kispg.session.hooks["response"].append(lambda response, *args, **kwargs: seen.append(response.url))
    with pytest.raises(UnregisteredServerError, match="address must be registered with KISPG") as caught:
        call(kispg, tid)
    assert (caught.value.status, caught.value.location) == (302, f"{BASE}/firewall.html")
    assert seen == [f"{BASE}/v2/{endpoint}"], "the notice page was never fetched"
    assert isinstance(caught.value, HTTPStatusError) and KEY not in str(caught.value)


def test_commit_then_timeout_is_reconciled_by_inquiry(sandbox, kispg):
    tid = authenticate(sandbox)
    fault(sandbox, endpoint="payment", mode="commit_then_timeout")
    with pytest.raises(KispgTimeout):
        kispg.approve(tid, 39000)
    inquiry = kispg.inquire(ord_no=sandbox.extensions["kispg_sandbox"].auths[tid].ord_no, goods_amt=39000)
    assert (inquiry.tid, inquiry.trx_status) == (tid, "승인")


def test_a_stale_clock_is_refused_by_the_sandbox(sandbox):
    late = KispgClient(BASE, MID, KEY, session=wsgi_session(sandbox, BASE),
                       clock=lambda: datetime.now(KST) - timedelta(minutes=11))
    with pytest.raises(DeclinedError) as caught:
        late.approve(authenticate(sandbox), 39000)
    assert caught.value.result_cd == "S102"


def test_wrong_key_is_a_hash_mismatch(sandbox):
    other = KispgClient(BASE, MID, "not-the-key", session=wsgi_session(sandbox, BASE))
    with pytest.raises(DeclinedError) as caught:
        other.approve(authenticate(sandbox), 39000)
    assert caught.value.result_cd == "A211"


def test_repr_hides_the_key(kispg):
    assert KEY not in repr(kispg) and MID in repr(kispg)


def test_over_a_real_loopback_socket(sandbox):
    with served(sandbox) as base:
        kispg = KispgClient(base, MID, KEY, timeout=(2, 5))
        tid = authenticate(sandbox, amount=1200)
        assert kispg.approve(tid, 1200).tid == tid
        assert kispg.cancel(tid, 1200, reason="loopback").result_cd == "2001"


def test_calls_at_once_reuse_their_connections(caplog):
    """30 threads calling KISPG at once (a gthread worker under a slow KISPG) keep their 30 connections."""
    ports = []

    class SlowKispg(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps connections, as KISPG's servers do

        def do_POST(self):
            ports.append(self.client_address[1])
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(0.2)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    class Listener(ThreadingHTTPServer):
        request_queue_size = 64  # socketserver's 5 overflowed under 30 connects at once: resets, SYNs sent again

    server = Listener(("127.0.0.1", 0), SlowKispg)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    session = session_for(base)
    try:
        with ThreadPoolExecutor(30) as pool:
            for _ in range(2):
                answers = pool.map(lambda _: session.post(f"{base}/v2/payment", json={}, timeout=5), range(30))
                assert {answer.status_code for answer in answers} == {200}
    finally:
        session.close()
        server.shutdown()
        server.server_close()
    assert len(ports) == 60
    assert set(ports[30:]) <= set(ports[:30]), "the second 30 calls opened connections of their own"
    assert "pool is full" not in caplog.text


def test_the_environment_is_read_once_when_the_client_is_built(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.shop.test:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = KispgClient("https://api.kispg.co.kr", MID, KEY)
    assert client.session.proxies["https"] == "http://proxy.shop.test:3128"
    assert client.session.verify == str(bundle) and client.session.trust_env is False
    monkeypatch.setenv("NO_PROXY", "api.kispg.co.kr")
    assert "https" not in KispgClient("https://api.kispg.co.kr", MID, KEY).session.proxies


def test_a_proxy_in_the_environment_carries_the_calls_unless_no_proxy_names_the_host(sandbox, monkeypatch):
    with served(sandbox) as base:
        tid = authenticate(sandbox, amount=1200)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        # Nothing listens on port 9 of loopback: a call that goes through the proxy fails to connect.
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        with pytest.raises(TransportError):
            KispgClient(base, MID, KEY, timeout=(2, 5)).inquire(tid, goods_amt=1200)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        client = KispgClient(base, MID, KEY, timeout=(2, 5))
        # Read at construction, not per call: the environment changing afterwards changes nothing.
        monkeypatch.setenv("NO_PROXY", "")
        monkeypatch.setattr(requests.utils, "get_environ_proxies",
                            lambda *a, **k: pytest.fail("the environment was read again for a call"))
        assert client.approve(tid, 1200).tid == tid
