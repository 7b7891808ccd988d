"""KISPG's notifications: bodies in any shape, the source allowlist, hashes, and concurrent duplicates."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

import pytest
import requests

from webview_toolkit import notifications
from webview_toolkit.kispg.sandbox.notify import BACKOFF, MAX_SENDS, Notifier
from webview_toolkit.notifications import NoticeRefused
from webview_toolkit.web import create_app
from webview_toolkit.web.extensions import services

from .service_helpers import MERCHANT_KEY, MID, service_config
from .vbank_helpers import issue, kinds, notice

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(tmp_path, database_url):
    app = create_app(service_config(tmp_path, WEBVIEW_DATABASE_URL=database_url, KISPG_SANDBOX_AUTO_RESEND=False))
    yield app
    services(app).store.dispose()


def deposit(client, order, **extra):
    return client.post("/sandbox/kispg/_deposit", json={"tid": order["tid"], "amount": order["goodsAmt"], **extra})


# -- bodies --------------------------------------------------------------------------------------------

def test_form_bodies_in_utf8_and_euc_kr_and_json_bodies_decode_alike():
    fields = {"ordNo": "o1", "fnNm": "국민", "goodsName": "무선 이어폰"}
    utf8 = urlencode(fields).encode()
    euc = urlencode(fields, encoding="euc-kr").encode()
    form = "application/x-www-form-urlencoded"
    assert notifications.decode(utf8, form) == fields
    assert notifications.decode(euc, form) == fields  # undeclared: not UTF-8, so EUC-KR
    assert notifications.decode(euc, form + "; charset=EUC-KR") == fields
    assert notifications.decode(euc + b"&charSet=1", form) == {**fields, "charSet": "1"}  # KORPAY's charSet=1
    as_json = '{"ordNo": "o1", "fnNm": "국민", "goodsName": "무선 이어폰", "amt": 1004}'
    assert notifications.decode(as_json.encode("euc-kr"), "application/json") == {**fields, "amt": "1004"}
    assert notifications.decode(as_json.encode(), "text/plain") == {**fields, "amt": "1004"}
    for body, kind in ((b"{not json", "application/json"), (b"[1]", "application/json"),
                       (("fnNm=" + quote(b"\xff\xfe\xff")).encode(), form)):
        with pytest.raises(NoticeRefused) as refused:
            notifications.decode(body, kind)
        assert refused.value.status == 400


def test_the_hash_is_checked_when_present():
    signed = notice({"tid": "t", "attempts": [{"kispgOrdNo": "o"}], "goodsAmt": 1004})
    assert notifications.check_hash(signed, MID, MERCHANT_KEY) is True
    assert notifications.check_hash({**signed, "hashStr": signed["hashStr"].upper()}, MID, MERCHANT_KEY) is True
    assert notifications.check_hash({k: v for k, v in signed.items() if k != "hashStr"}, MID, MERCHANT_KEY) is False
    for forged in ({"amt": "1005"}, {"ediDate": "20200101000000"}, {"hashStr": "x"}):
        with pytest.raises(NoticeRefused) as refused:
            notifications.check_hash({**signed, **forged}, MID, MERCHANT_KEY)
        assert refused.value.status == 403


def test_a_json_notice_in_euc_kr_is_taken(client):
    order = issue(client)
    deposit(client, order)  # the sandbox's own notice settles it; this one is a resend in another shape
    body = str(notice(order, fnNm="국민")).replace("'", '"').encode("euc-kr")
    response = client.post("/kispg/noti", data=body, content_type="application/json; charset=EUC-KR")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "OK")


# -- where it came from ------------------------------------------------------------------------------

def test_source_rules_and_forwarded_addresses():
    assert notifications.source_allowed("61.40.40.74", notifications.GUIDE_SOURCES)
    assert not notifications.source_allowed("127.0.0.1", notifications.GUIDE_SOURCES)
    assert notifications.source_allowed("10.1.2.3", ["10.0.0.0/8"]) and notifications.source_allowed("x", ["*"])
    assert not notifications.source_allowed(None, ["10.0.0.0/8"])


def test_outside_the_sandbox_only_the_guides_senders_are_heard(tmp_path):
    app = create_app(service_config(tmp_path, KISPG_ENV="test", WEBVIEW_API_TOKEN="api-token-x"))
    assert app.config["KISPG_NOTI_ALLOW"] == ("1.233.179.201", "61.40.40.74")
    client = app.test_client()
    stranger = client.post("/kispg/noti", data={"ordNo": "x"})
    assert stranger.status_code == 403 and "127.0.0.1" in stranger.get_data(as_text=True)
    spoofed = client.post("/kispg/noti", data={"ordNo": "x"}, headers={"X-Forwarded-For": "61.40.40.74"})
    assert spoofed.status_code == 403  # no proxy is trusted: the header is the sender's word
    kispg = client.post("/kispg/noti", data={"ordNo": "x"}, environ_base={"REMOTE_ADDR": "61.40.40.74"})
    assert kispg.status_code == 400  # heard, and refused for its content
    services(app).store.dispose()


def test_behind_a_trusted_proxy_the_forwarded_address_counts(tmp_path):
    # The test client is 127.0.0.1: as a trusted proxy, its X-Forwarded-For names the sender (ProxyFix, one hop).
    app = create_app(service_config(tmp_path, KISPG_NOTI_ALLOW="61.40.40.74", WEBVIEW_TRUSTED_PROXIES="127.0.0.1"))
    client = app.test_client()
    via_proxy = client.post("/kispg/noti", data={"ordNo": "x"}, headers={"X-Forwarded-For": "6.6.6.6, 61.40.40.74"})
    assert via_proxy.status_code == 400
    forged = client.post("/kispg/noti", data={"ordNo": "x"}, headers={"X-Forwarded-For": "61.40.40.74, 6.6.6.6"})
    assert forged.status_code == 403
    services(app).store.dispose()


def test_bad_allowlist_and_proxy_settings_are_refused(tmp_path):
    from webview_toolkit.config import ConfigError
    with pytest.raises(ConfigError, match="KISPG_NOTI_ALLOW has 'kispg.co.kr'"):
        create_app(service_config(tmp_path, KISPG_NOTI_ALLOW="61.40.40.74, kispg.co.kr"))
    with pytest.raises(ConfigError, match="WEBVIEW_TRUSTED_PROXIES"):
        create_app(service_config(tmp_path, WEBVIEW_TRUSTED_PROXIES="many"))


# -- duplicates at once ------------------------------------------------------------------------------

def test_concurrent_duplicate_notices_settle_the_order_once(live_server_factory):
    base, app = live_server_factory(KISPG_SANDBOX_NOTI_URL="", KISPG_SANDBOX_AUTO_RESEND=False)
    client = app.test_client()
    order = issue(client)
    assert deposit(client, order).get_json()["notification"] is None
    fields, answers, start = notice(order), [], threading.Barrier(8)

    def send():
        start.wait()
        response = requests.post(f"{base}/kispg/noti", data=fields, timeout=30)
        answers.append((response.status_code, response.text))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [(200, "OK")] * 8
    assert client.get(f"/api/orders/{order['ordNo']}").get_json()["status"] == "paid"
    assert kinds(app, order["ordNo"]).count("deposit_confirmed") == 1


# -- the sandbox's resends ---------------------------------------------------------------------------

class Merchant:
    """A notification receiver that fails a set number of times, then answers OK."""

    def __init__(self, failures: int):
        self.failures, self.seen = failures, []

    def post(self, url, data, timeout):
        self.seen.append(dict(data))
        response = requests.Response()
        response.status_code, response._content = (503, b"FAIL") if len(self.seen) <= self.failures else (200, b"OK\n")
        return response


def test_the_sandbox_resends_with_back_off_and_gives_up_after_a_bounded_count():
    moments = [datetime(2026, 12, 1, 12, 0)]
    merchant = Merchant(failures=100)
    notifier = Notifier(clock=lambda: moments[0], session_factory=lambda: merchant, auto_resend=False)
    notifier.enqueue("http://shop.test/kispg/noti", {"ordNo": "o"})
    for wait in BACKOFF:
        [sent] = notifier.deliver_due()
        assert notifier.deliver_due() == []  # not again before the back-off
        moments[0] += timedelta(seconds=wait)
    [last] = notifier.deliver_due()
    assert last.sends == MAX_SENDS == len(merchant.seen) and last.given_up and not last.delivered
    moments[0] += timedelta(days=1)
    assert notifier.deliver_due() == []


def test_the_sandbox_stops_resending_once_the_merchant_says_ok():
    moments = [datetime(2026, 12, 1, 12, 0)]
    merchant = Merchant(failures=2)
    notifier = Notifier(clock=lambda: moments[0], session_factory=lambda: merchant, auto_resend=False)
    notifier.enqueue("http://shop.test/kispg/noti", {"ordNo": "o"})
    for _ in range(5):
        notifier.deliver_due()
        moments[0] += timedelta(hours=1)
    assert len(merchant.seen) == 3 and notifier.get(1).delivered


def test_the_sandbox_resends_by_itself_until_taken():
    """With auto_resend, a timer makes the resends (no test drives them); awaited, not slept on."""
    merchant, taken = Merchant(failures=2), threading.Event()
    real_post = merchant.post

    def post(url, data, timeout):
        response = real_post(url, data, timeout)
        if response.status_code == 200:
            taken.set()
        return response

    merchant.post = post
    notifier = Notifier(clock=datetime.now, session_factory=lambda: merchant, backoff=(0.0, 0.0, 0.0))
    notifier.enqueue("http://shop.test/kispg/noti", {"ordNo": "o"})
    notifier.deliver_due()
    assert taken.wait(10), "the timer resent until the merchant said OK"
    assert len(merchant.seen) == 3
