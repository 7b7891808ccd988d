"""The probe table: every row builds the request it claims, and the sandbox answers each one."""
from __future__ import annotations

from datetime import datetime

import pytest

from webview_toolkit.conformance.exchange import reference_sandbox
from webview_toolkit.conformance.probes import (JSON_ENDPOINTS, PROBES, PROBES_BY_ID, STALE_BY, UNKNOWN_ORD_NO,
                                                WRONG_ENC_DATA, build_request, unknown_tid)
from webview_toolkit.kispg import result_codes
from webview_toolkit.kispg.signing import KST, edi_date_now, parse_edi_date, sign

from .conformance_helpers import KEY, MID

NOW = datetime(2026, 12, 1, 15, 0, 0, tzinfo=KST)


def test_ids_are_unique_and_every_endpoint_gets_every_kind_of_probe():
    assert len(PROBES_BY_ID) == len(PROBES)
    for endpoint in JSON_ENDPOINTS:
        mine = [p for p in PROBES if p.endpoint == endpoint]
        assert any(p.wrong_hash for p in mine) and any(p.stale for p in mine)
        assert any(p.body == "form" for p in mine) and any(p.omit for p in mine)
    assert any(p.rename.get("charset") == "charSet" for p in PROBES)


def test_the_unknown_tid_is_a_well_formed_tid_that_cannot_exist():
    tid = unknown_tid(MID)
    assert len(tid) == 30 and tid.startswith(MID)
    # yyMMddHHmmss after mid + method + kind: 2000-01-01 00:00:00, before KISPG's v2 API.
    assert tid[14:26] == "000101000000"


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.id)
def test_each_probe_is_signed_unless_it_means_not_to_be(probe):
    fields = build_request(probe, MID, KEY, NOW)
    edi_date = fields["ediDate"]
    expected_age = STALE_BY if probe.stale else STALE_BY * 0
    assert NOW - parse_edi_date(edi_date) == expected_age
    amount = fields.get("canAmt") or fields.get("goodsAmt") or "1004"
    if probe.wrong_hash:
        assert fields["encData"] == WRONG_ENC_DATA != sign(MID, edi_date, amount, KEY)
    else:
        assert fields["encData"] == sign(MID, edi_date, amount, KEY)
    if probe.omit:
        assert probe.omit not in fields
    for old, new in probe.rename.items():
        assert old not in fields and new in fields
    assert KEY not in str(fields)


def expected_sandbox_answer(probe) -> tuple[int, str | None]:
    """What our sandbox answers each kind of probe, derived from the row (None: any JSON code)."""
    if probe.endpoint == "auth":
        return 400, result_codes.HASH_MISMATCH  # its error page, carrying the code
    if probe.body == "form":
        return 415, None
    if probe.omit:
        return 200, result_codes.missing_field_message(probe.omit)
    if probe.wrong_hash:
        return 200, result_codes.MESSAGES[result_codes.HASH_MISMATCH]
    if probe.stale:
        return 200, result_codes.MESSAGES[result_codes.STALE_EDI_DATE]
    if probe.rename:
        return 200, None  # the charSet spelling: the sandbox's answer is what the probe is there to compare
    return 200, result_codes.MESSAGES[result_codes.UNKNOWN_TRANSACTION]


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.id)
def test_the_sandbox_answers_each_probe_the_way_its_row_describes(probe):
    _, sandbox = reference_sandbox(MID, KEY)
    answer = sandbox.post(probe.path, build_request(probe, MID, KEY, datetime.now(KST)), probe.body)
    status, message = expected_sandbox_answer(probe)
    assert answer.status == status
    if probe.endpoint == "auth":
        assert answer.media_type == "text/html" and answer.text.endswith(f"결과코드 {message} 이전 화면으로")
    elif status == 200:
        assert answer.is_json and answer.json["resultCd"]
        if message is not None:
            assert answer.json["resultMsg"] == message


def test_the_unknown_ordno_probe_asks_by_ordno():
    fields = build_request(PROBES_BY_ID["order_unknown_ordno"], MID, KEY, NOW)
    assert fields["ordNo"] == UNKNOWN_ORD_NO and "tid" not in fields
    assert fields["ediDate"] == edi_date_now(NOW)
