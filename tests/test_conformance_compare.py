"""Masking, normalisation, verdicts: volatile values are ignored; codes, messages, statuses, field sets are not."""
from __future__ import annotations

import pytest

from webview_toolkit.conformance.compare import (CARD_DEPENDENT, DIFFERS, MATCH, NOT_COMPARABLE, compare, mask,
                                                 mask_value, normalise)
from webview_toolkit.conformance.exchange import Answer

APPROVAL = {"resultCd": "3001", "resultMsg": "카드 결제 성공", "tid": "kistest00m01012612011500001234",
            "appDtm": "20261201150000", "appNo": "30001234", "amt": "1004", "ordNo": "ORD-1",
            "cancelData": '[{"tid":"kistest00m01502112131505148341","ccDtm":"20211213150514","ccAmt":500}]'}


def json_answer(body, status=200, content_type="application/json"):
    return Answer(status=status, content_type=content_type, json=body)


def test_tids_dates_and_approval_numbers_are_ignored():
    other = {**APPROVAL, "tid": "kistest00m01012612011600009999", "appDtm": "20261201160000", "appNo": "99999999",
             "cancelData": '[{"tid":"kistest00m01502112131505140000","ccDtm":"20211213160514","ccAmt":500}]'}
    assert compare(json_answer(APPROVAL), json_answer(other)).verdict == MATCH


def test_a_tid_is_ignored_by_its_field_name_even_in_an_unexpected_format():
    live, sandbox = {"resultCd": "0000", "tid": "T-1"}, {"resultCd": "0000", "tid": "T-2"}
    assert compare(json_answer(live), json_answer(sandbox)).verdict == MATCH


def test_a_timestamp_inside_a_message_is_ignored():
    live = {"resultCd": "S102", "resultMsg": "전문요청일시 20261201150000 오류", "timestamp": "2026-12-01T06:00:00.123+00:00"}
    sandbox = {**live, "resultMsg": "전문요청일시 20261201151111 오류", "timestamp": "2026-12-01T06:01:00.000+00:00"}
    assert compare(json_answer(live), json_answer(sandbox)).verdict == MATCH


@pytest.mark.parametrize("change, expected", [
    ({"resultCd": "0000"}, 'resultCd: live "0000", sandbox "3001"'),
    ({"resultMsg": "승인 성공"}, 'resultMsg: live "승인 성공", sandbox "카드 결제 성공"'),
    ({"amt": "1000"}, 'amt: live "1000", sandbox "1004"'),
    ({"extra": "x"}, "fields only live sends: extra"),
], ids=["code", "message", "amount", "field set"])
def test_codes_messages_amounts_and_field_sets_are_compared(change, expected):
    comparison = compare(json_answer({**APPROVAL, **change}), json_answer(APPROVAL))
    assert comparison.verdict == DIFFERS
    assert comparison.differences == (expected,)


def test_a_field_the_sandbox_alone_sends_is_named():
    live = {k: v for k, v in APPROVAL.items() if k != "appNo"}
    assert compare(json_answer(live), json_answer(APPROVAL)).differences == ("fields only the sandbox sends: appNo",)


def test_empty_and_filled_volatile_values_differ():
    # A tid that is missing its value is not the same answer as one carrying a tid.
    assert compare(json_answer({**APPROVAL, "tid": ""}), json_answer(APPROVAL)).verdict == DIFFERS


def test_status_location_and_media_type_are_compared_and_text_bodies_are_not():
    live = Answer(status=302, content_type="text/html", location="https://kispg.example/firewall", text="<html>")
    sandbox = json_answer({"resultCd": "S104"})
    assert compare(live, sandbox).differences == (
        "HTTP status: live 302, sandbox 200", "Location: live https://kispg.example/firewall, sandbox (none)",
        "content type: live text/html, sandbox application/json", "body: live not JSON, sandbox JSON")
    same_status = Answer(status=415, content_type="text/plain; charset=utf-8", text="Unsupported")
    other_words = Answer(status=415, content_type="text/plain", text="Content-Type must be application/json")
    assert compare(same_status, other_words).verdict == MATCH


def test_an_error_on_either_side_is_not_comparable():
    timeout = Answer(error="read timeout after 15 s")
    assert compare(timeout, json_answer(APPROVAL)) .verdict == NOT_COMPARABLE
    assert compare(json_answer(APPROVAL), timeout).differences == ("sandbox: read timeout after 15 s",)


def test_card_dependent_fields_are_ignored_only_when_asked():
    live, sandbox = {**APPROVAL, "fnNm": "신한", "appCardCd": "04"}, {**APPROVAL, "fnNm": "국민", "appCardCd": "02"}
    assert compare(json_answer(live), json_answer(sandbox)).verdict == DIFFERS
    assert compare(json_answer(live), json_answer(sandbox), CARD_DEPENDENT).verdict == MATCH


@pytest.mark.parametrize("name, value, masked", [
    ("cardNo", "53692100****1234", "************1234"),
    ("ordTel", "010-1234-5678", "*********5678"),
    ("ordNm", "홍길동", "홍**"),
    ("ordEmail", "tester@example.com", "t*****************"),
    ("resultMsg", "홍길동", "홍길동"),
    ("ordNm", "", ""),
])
def test_personal_fields_are_masked(name, value, masked):
    assert mask_value(name, value) == masked


def test_card_numbers_are_masked_anywhere_in_text_but_dates_are_kept():
    text = mask({"resultMsg": "카드 5369210012341234 거절, 20261201150000"})["resultMsg"]
    assert text == "카드 ************1234 거절, 20261201150000"


def test_normalise_keeps_empty_values_and_the_field_set():
    normalised = normalise({"tid": "", "appNo": "1", "resultCd": "0000"})
    assert normalised == {"tid": "", "appNo": "<appNo>", "resultCd": "0000"}
