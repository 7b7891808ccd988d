"""The typed answers read every field under the guide's own name, and keep what KISPG sent."""
from __future__ import annotations

from dataclasses import fields

import pytest

from webview_toolkit.kispg.answers import Approval, AuthResult, Cancellation, Inquiry, _wire_name
from webview_toolkit.kispg.specs import SPECS

# Which guide table each answer is read from.
TABLES = {AuthResult: "auth_result", Approval: "approval_response", Cancellation: "cancel_response",
          Inquiry: "inquiry_response"}
PARSED = {"raw", "cancels"}


@pytest.mark.parametrize("answer", TABLES, ids=lambda cls: cls.__name__)
def test_every_field_is_read_under_a_name_of_its_guide_table(answer):
    names = set(SPECS[TABLES[answer]].names)
    wire = {f.name: _wire_name(f.name) for f in fields(answer) if f.name not in PARSED}
    assert {field: name for field, name in wire.items() if name not in names} == {}


@pytest.mark.parametrize("answer", [Approval, Cancellation, Inquiry], ids=lambda cls: cls.__name__)
def test_each_field_comes_from_the_answer_and_raw_keeps_all_of_it(answer):
    names = [f.name for f in fields(answer) if f.name not in PARSED]
    data = {_wire_name(name): f"v{i}" for i, name in enumerate(names)} | {"extra": 7, "cancelData": ""}
    read = answer.from_response(data)
    assert [getattr(read, name) for name in names] == [f"v{i}" for i in range(len(names))]
    assert dict(read.raw) == data
    with pytest.raises(TypeError):
        read.raw["extra"] = 8  # read-only


def test_a_missing_or_null_field_is_empty_text():
    read = Approval.from_response({"resultCd": "3001", "vacntNo": None, "amt": 1004})
    assert (read.result_cd, read.vacnt_no, read.amt, read.app_no) == ("3001", "", "1004", "")


def test_auth_result_reads_the_posted_form():
    form = {"resultCd": "0000", "resultMsg": "ok", "payMethod": "card", "tid": "t1", "ordNo": "o1", "amt": "1004",
            "mbsReserved": "m", "ediDate": "20261201120000"}
    assert AuthResult.from_fields(form) == AuthResult("0000", "ok", "card", "t1", "o1", "1004", "m", "20261201120000")


def test_inquiry_parses_cancel_data_and_what_remains():
    read = Inquiry.from_response({"amt": "1000", "cancelData": '[{"tid": "c1", "ccDtm": "20261201120000", '
                                                                 '"ccAmt": 300, "remainAmt": 700}]'})
    assert [(row.tid, row.cc_amt, row.remain_amt) for row in read.cancels] == [("c1", 300, 700)]
    assert read.remaining == 700
    assert Inquiry.from_response({"amt": "1000"}).remaining == 1000
