"""Tests for the webhook signature: what `sign` makes, and every way `verify` refuses."""
import json
import time

import pytest

from webview_toolkit.webhooks import (
    MalformedSignatureError, SignatureMismatchError, StaleSignatureError, sign, verify,
)
from webview_toolkit.webhooks import signing

SECRET = "whsec_signing-tests-0123456789"
BODY = json.dumps({"id": "evt_1", "type": "order.paid", "order": {"ordNo": "A1", "goodsAmt": 1000}}).encode()


def test_a_signed_body_verifies_and_is_returned_as_the_event():
    header = sign(BODY, SECRET)
    assert verify(BODY, header, SECRET)["type"] == "order.paid"
    assert verify(BODY.decode(), header, SECRET)["id"] == "evt_1"


def test_the_scheme_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac
    header = sign(BODY, SECRET, timestamp=1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_a_tampered_body_is_a_mismatch():
    header = sign(BODY, SECRET)
    tampered = BODY.replace(b"1000", b"9000")
    with pytest.raises(SignatureMismatchError, match="no signature matches"):
        verify(tampered, header, SECRET)


def test_another_secret_is_a_mismatch():
    with pytest.raises(SignatureMismatchError):
        verify(BODY, sign(BODY, "whsec_someone-else-000000"), SECRET)


def test_a_moved_timestamp_is_a_mismatch():
    header = sign(BODY, SECRET)
    t, v1 = header.split(",")
    with pytest.raises(SignatureMismatchError):
        verify(BODY, f"t={int(t[2:]) + 1},{v1}", SECRET)


def test_a_stale_timestamp_is_refused():
    old = int(time.time()) - 301
    with pytest.raises(StaleSignatureError, match="beyond the tolerance of 300 s"):
        verify(BODY, sign(BODY, SECRET, timestamp=old), SECRET)
    # The same signature inside a wider tolerance is fine; one from the future is as stale.
    assert verify(BODY, sign(BODY, SECRET, timestamp=old), SECRET, tolerance=600)
    with pytest.raises(StaleSignatureError):
        verify(BODY, sign(BODY, SECRET, timestamp=int(time.time()) + 400), SECRET)


@pytest.mark.parametrize("header, message", [
    (None, "no Webview-Signature header"),
    ("", "no Webview-Signature header"),
    ("v1=abc", "no timestamp"),
    ("t=abc,v1=abc", "no timestamp"),
    ("t=1700000000", "no v1= signature"),
    ("t=1700000000,v0=abc", "no v1= signature"),
])
def test_a_malformed_header_is_refused(header, message):
    with pytest.raises(MalformedSignatureError, match=message):
        verify(BODY, header, SECRET)


def test_one_of_several_signatures_may_match():
    # A receiver rotating its secret gets one v1 per secret.
    good = sign(BODY, SECRET).split(",")[1]
    header = f"t={int(time.time())},v1={'0' * 64},{good}"
    assert verify(BODY, header, SECRET)["id"] == "evt_1"


@pytest.mark.parametrize("body, message", [(b"not json", "not JSON"), (b"[1]", "not a JSON object")])
def test_a_signed_body_that_is_no_event_is_malformed(body, message):
    with pytest.raises(MalformedSignatureError, match=message):
        verify(body, sign(body, SECRET), SECRET)


def test_the_comparison_is_constant_time(monkeypatch):
    seen = []
    real = signing.hmac.compare_digest
    monkeypatch.setattr(signing.hmac, "compare_digest", lambda a, b: seen.append((a, b)) or real(a, b))
    verify(BODY, sign(BODY, SECRET), SECRET)
    assert seen, "verify compares with hmac.compare_digest"
