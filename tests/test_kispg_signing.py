"""encData per §7 against the known-answer vectors, ediDate in KST, and auth-result verification."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from webview_toolkit.kispg.errors import (DeclinedError, MalformedSignature, SignatureError, SignatureMismatch,
                                          StaleSignature)
from webview_toolkit.kispg.signing import KST, check_edi_date, edi_date_now, sign, verify_auth_result

GUIDE_MID = "kistest00m"  # the guide's public test MID: known-answer tests only
GUIDE_KEY = "2d6ECGhR1pg/1QGE1lcRI4awsWEgshjEyI8UgYslLPJSuNeyPTkdrT8XWARezvDTUJClWQWhjxzBbu7AsuLZqg=="
MID, KEY = "webview01m", "made-up-key-for-signing-tests"
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=KST)


@pytest.mark.parametrize("edi_date,amount,expected", [
    ("20210325183601", "1004", "eb25d8493dd840c9b40c54de53e16d21cbcb37f169443468bf2c9ce74780321d"),
    ("20220325183601", "1004", "0d2b520a649eeb52eb516c594a9e62ae85d40f59ae7721c7da2b0018b9a3d416"),
    ("20220325183601", 1004, "0d2b520a649eeb52eb516c594a9e62ae85d40f59ae7721c7da2b0018b9a3d416"),
], ids=["auth-approval-inquiry", "cancel", "int-amount"])
def test_known_answer_vectors(edi_date, amount, expected):
    assert sign(GUIDE_MID, edi_date, amount, GUIDE_KEY) == expected


def test_edi_date_is_kst():
    assert edi_date_now(datetime(2024, 5, 1, 3, 4, 5, tzinfo=timezone.utc)) == "20240501120405"
    assert len(edi_date_now()) == 14


def test_edi_date_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        edi_date_now(datetime(2024, 5, 1))


def signed_result(at: datetime = NOW, amt: str = "39000", key: str = KEY) -> dict[str, str]:
    edi_date = edi_date_now(at)
    return {"resultCd": "0000", "resultMsg": "ok", "payMethod": "card", "tid": MID + "01012405011200000001",
            "ordNo": "ord-1", "amt": amt, "mbsReserved": "", "ediDate": edi_date,
            "encData": sign(MID, edi_date, amt, key)}


def test_a_good_auth_result_verifies_into_a_frozen_result():
    result = verify_auth_result(signed_result(), mid=MID, merchant_key=KEY, now=NOW + timedelta(minutes=9))
    assert (result.tid, result.amt, result.ord_no) == (MID + "01012405011200000001", "39000", "ord-1")
    with pytest.raises(AttributeError):
        result.amt = "1"  # type: ignore[misc]


def test_upper_case_hex_is_accepted():
    fields = signed_result()
    fields["encData"] = fields["encData"].upper()
    verify_auth_result(fields, mid=MID, merchant_key=KEY, now=NOW)


@pytest.mark.parametrize("change,field", [
    ({"encData": ""}, "encData"), ({"encData": "zz" * 32}, "encData"), ({"encData": "ab" * 31}, "encData"),
    ({"ediDate": "2024050112000"}, "ediDate"), ({"ediDate": "20241301120000"}, "ediDate"),
    ({"amt": "39,000"}, "amt"), ({"amt": ""}, "amt"),
])
def test_malformed(change, field):
    with pytest.raises(MalformedSignature, match=field) as caught:
        verify_auth_result({**signed_result(), **change}, mid=MID, merchant_key=KEY, now=NOW)
    assert caught.value.field == field


@pytest.mark.parametrize("fields", [
    signed_result(key="another-key"),
    {**signed_result(), "amt": "100"},
    {**signed_result(), "ediDate": "20240501115959"},
], ids=["other-key", "tampered-amount", "tampered-date"])
def test_mismatch(fields):
    with pytest.raises(SignatureMismatch, match="encData does not match"):
        verify_auth_result(fields, mid=MID, merchant_key=KEY, now=NOW)


def test_a_mismatch_against_another_mid():
    with pytest.raises(SignatureMismatch):
        verify_auth_result(signed_result(), mid="other0001m", merchant_key=KEY, now=NOW)


@pytest.mark.parametrize("age,stale", [(timedelta(minutes=10), False), (timedelta(minutes=10, seconds=1), True),
                                       (timedelta(seconds=-60), False), (timedelta(minutes=-2), True)])
def test_stale_after_ten_minutes_or_from_the_future(age, stale):
    fields = signed_result(at=NOW - age)
    if not stale:
        verify_auth_result(fields, mid=MID, merchant_key=KEY, now=NOW)
        return
    with pytest.raises(StaleSignature, match=r"older than 10 minutes|in the future") as caught:
        verify_auth_result(fields, mid=MID, merchant_key=KEY, now=NOW)
    assert caught.value.edi_date == fields["ediDate"]


def test_errors_are_distinct_signature_errors():
    kinds = {MalformedSignature, SignatureMismatch, StaleSignature}
    assert all(issubclass(kind, SignatureError) for kind in kinds)
    assert len(kinds) == 3


def test_a_failed_auth_is_declined_not_verified():
    with pytest.raises(DeclinedError, match="auth failed: XXXX") as caught:
        verify_auth_result({"resultCd": "XXXX", "resultMsg": "인증 실패"}, mid=MID, merchant_key=KEY, now=NOW)
    assert (caught.value.result_cd, caught.value.result_msg) == ("XXXX", "인증 실패")


def test_check_edi_date_returns_the_moment():
    assert check_edi_date("20240501115500", NOW) == datetime(2024, 5, 1, 11, 55, tzinfo=KST)


def test_the_key_never_appears_in_an_error():
    for fields in (signed_result(key="x"), signed_result(at=NOW - timedelta(hours=1)), {**signed_result(), "encData": "q"}):
        with pytest.raises(SignatureError) as caught:
            verify_auth_result(fields, mid=MID, merchant_key=KEY, now=NOW)
        assert KEY not in str(caught.value) and KEY not in repr(caught.value.args)


def test_a_deposit_deadline_is_the_end_of_lmt_day_in_kst():
    from webview_toolkit.kispg.signing import KST, deposit_deadline
    assert deposit_deadline("20261204") == datetime(2026, 12, 4, 23, 59, 59, tzinfo=KST)
    for value in (None, "", "2026124", "20261304", "2026-12-4", "２０２６１２０４"):
        assert deposit_deadline(value) is None, value
