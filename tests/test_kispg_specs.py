"""The guide's §3 tables as data, and validate(): required, digits-only, bytes per charset."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from webview_toolkit.kispg.errors import (DigitsOnlyError, FieldError, FieldSizeError, MissingFieldError,
                                          UnencodableFieldError, UnknownFieldError)
from webview_toolkit.kispg.specs import SPECS, validate

# (required fields, digits-only fields, {field: max bytes} spot checks), straight from the guide's tables.
GUIDE = {
    "auth_request": (
        {"trxCd", "mid", "goodsNm", "currencyType", "ordNo", "goodsAmt", "ordNm", "ordTel", "model",
         "ediDate", "encData", "returnUrl"},
        {"goodsAmt", "discountAmt", "mbsFeeAmt", "ordTel", "goodsSplAmt", "goodsVat", "goodsSvsAmt",
         "cupDepositAmt", "ediDate"},
        {"payMethod": 10, "goodsNm": 100, "ordNo": 40, "mbsReserved": 500, "rcvrMsg": 255, "period": 21,
         "encData": 256, "returnUrl": 255, "resultScheme": 256, "charset": 6, "rcvrPost": 6},
    ),
    "auth_result": (
        {"resultCd", "resultMsg"}, {"amt", "ediDate"},
        {"resultCd": 4, "resultMsg": 100, "tid": 30, "ordNo": 40, "amt": 15, "mbsReserved": 500, "encData": 256},
    ),
    "approval_request": (
        {"mid", "tid", "goodsAmt", "ediDate", "encData"}, {"goodsAmt", "ediDate"},
        {"mid": 10, "tid": 30, "goodsAmt": 15, "ediDate": 14, "encData": 256, "charset": 6},
    ),
    "approval_response": (
        {"resultCd", "resultMsg"}, {"amt"},
        {"appDtm": 14, "appNo": 20, "goodsName": 100, "fnNm": 20, "usePointAmt": 12, "lmtDay": 8,
         "easyPayNm": None, "mbsFeeAmt": 15},
    ),
    "cancel_request": (
        {"payMethod", "tid", "mid", "canAmt", "canMsg", "partCanFlg", "encData", "ediDate"},
        {"canAmt", "partCanFlg", "ediDate", "goodsSplAmt", "goodsVat", "goodsSvsAmt"},
        {"canId": 20, "canNm": 30, "canMsg": 100, "refundBankCd": 3, "refundAccnt": 20, "refundNm": 30,
         "encData": 255, "charset": 10},
    ),
    "cancel_response": (
        {"resultCd", "resultMsg"}, {"amt"}, {"cancelYN": 1, "mbsReserved": 500, "appNo": 20},
    ),
    "inquiry_request": (
        {"mid", "goodsAmt", "encData", "ediDate"}, {"goodsAmt", "ediDate"},
        {"tid": 30, "ordNo": 40, "encData": 255},
    ),
    "inquiry_response": (
        {"resultCd", "resultMsg"}, {"amt"}, {"trxStatus": 12, "cancelData": None, "vacntNo": 20},
    ),
}

VALID = {
    "auth_request": {"trxCd": "0", "mid": "kistest00m", "goodsNm": "컴퓨터", "currencyType": "KRW",
                     "ordNo": "1335233672723", "goodsAmt": "1004", "ordNm": "홍길동", "ordTel": "01020001234",
                     "model": "MOB", "ediDate": "20210327121212", "encData": "ab" * 32,
                     "returnUrl": "https://shop.test/return"},
    "auth_result": {"resultCd": "0000", "resultMsg": "ok"},
    "approval_request": {"mid": "kistest00m", "tid": "kis000001m01012012220824180732", "goodsAmt": 1004,
                         "ediDate": "20210327121212", "encData": "ab" * 32},
    "approval_response": {"resultCd": "3001", "resultMsg": "ok"},
    "cancel_request": {"payMethod": "card", "tid": "kis000001m01012012220824180732", "mid": "kistest00m",
                       "canAmt": "1004", "canMsg": "고객요청", "partCanFlg": "0", "encData": "ab" * 32,
                       "ediDate": "20220324121212"},
    "cancel_response": {"resultCd": "2001", "resultMsg": "ok"},
    "inquiry_request": {"mid": "kistest00m", "tid": "kis000001m01012012220824180732", "goodsAmt": "1004",
                        "encData": "ab" * 32, "ediDate": "20220324121212"},
    "inquiry_response": {"resultCd": "0000", "resultMsg": "ok"},
}


def test_every_table_is_there():
    assert set(SPECS) == set(GUIDE)


@pytest.mark.parametrize("name", sorted(GUIDE), ids=str)
def test_table_matches_the_guide(name):
    spec = SPECS[name]
    required, digits, sizes = GUIDE[name]
    assert len(spec.names) == len(set(spec.names)), "no duplicate rows"
    assert {f.name for f in spec.fields if f.required} == required
    assert {f.name for f in spec.fields if f.digits} == digits
    for field, size in sizes.items():
        assert spec.field(field).size == size, field


@pytest.mark.parametrize("name", sorted(VALID), ids=str)
def test_a_minimal_valid_message_passes_as_strings(name):
    assert validate(name, VALID[name]) == {k: str(v) for k, v in VALID[name].items()}


REQUIRED_CASES = [(name, field) for name in sorted(GUIDE) for field in sorted(GUIDE[name][0])]


@pytest.mark.parametrize("name,field", REQUIRED_CASES, ids=[f"{n}.{f}" for n, f in REQUIRED_CASES])
@pytest.mark.parametrize("absent", ["drop", "", None])
def test_each_required_field_is_named_when_missing(name, field, absent):
    fields = dict(VALID[name])
    if absent == "drop":
        del fields[field]
    else:
        fields[field] = absent
    with pytest.raises(MissingFieldError, match=rf"^{field}: required") as caught:
        validate(name, fields)
    assert caught.value.field == field and caught.value.limit == "required"


DIGIT_CASES = [(name, field) for name in sorted(GUIDE) for field in sorted(GUIDE[name][1])]


@pytest.mark.parametrize("name,field", DIGIT_CASES, ids=[f"{n}.{f}" for n, f in DIGIT_CASES])
@pytest.mark.parametrize("bad", ["1,004", "-1", "１２３", "12a"])
def test_digits_only_fields_refuse_anything_else(name, field, bad):
    with pytest.raises(DigitsOnlyError, match=rf"^{field}: digits only") as caught:
        validate(name, {**VALID[name], field: bad})
    assert caught.value.field == field


@pytest.mark.parametrize("name", ["auth_request", "approval_request", "cancel_request"])
def test_euckr_fits_the_charset_field_although_the_guide_says_5_bytes(name):
    validate(name, {**VALID[name], "charset": "EUC-KR"}, charset="EUC-KR")


def test_optional_empty_fields_are_dropped_not_sent():
    assert "discountAmt" not in validate("auth_request", {**VALID["auth_request"], "discountAmt": ""})


@pytest.mark.parametrize("charset,length,ok", [
    ("UTF-8", 33, True), ("UTF-8", 34, False), ("UTF-8", 40, False),
    ("EUC-KR", 40, True), ("EUC-KR", 50, True), ("EUC-KR", 51, False),
])
def test_goods_name_is_measured_in_bytes_of_the_charset(charset, length, ok):
    fields = {**VALID["auth_request"], "goodsNm": "가" * length}
    if ok:
        validate("auth_request", fields, charset=charset)
        return
    with pytest.raises(FieldSizeError, match=rf"goodsNm: {length * (3 if charset == 'UTF-8' else 2)} bytes in {charset}, limit 100") as caught:
        validate("auth_request", fields, charset=charset)
    assert (caught.value.field, caught.value.limit, caught.value.charset) == ("goodsNm", 100, charset)


@pytest.mark.parametrize("charset", ["UTF-8", "EUC-KR"])
def test_an_ascii_value_is_measured_too(charset):
    validate("auth_request", {**VALID["auth_request"], "goodsNm": "a" * 100}, charset=charset)
    with pytest.raises(FieldSizeError, match=rf"^goodsNm: 101 bytes in {charset}, limit 100") as caught:
        validate("auth_request", {**VALID["auth_request"], "goodsNm": "a" * 101}, charset=charset)
    assert caught.value.size == 101


def test_forty_korean_characters_are_120_bytes_in_utf8_and_80_in_euckr():
    fields = {**VALID["auth_request"], "goodsNm": "한" * 40}
    validate("auth_request", fields, charset="EUC-KR")
    with pytest.raises(FieldSizeError) as caught:
        validate("auth_request", fields, charset="UTF-8")
    assert caught.value.size == 120


@pytest.mark.parametrize("value", ["커피😀", "뷁", "abcdefgh뷁"])
def test_a_value_euckr_cannot_encode_is_an_error_naming_the_field(value):
    validate("auth_request", {**VALID["auth_request"], "ordNm": value}, charset="UTF-8")
    with pytest.raises(UnencodableFieldError, match=r"^ordNm: .* cannot be encoded in EUC-KR") as caught:
        validate("auth_request", {**VALID["auth_request"], "ordNm": value}, charset="EUC-KR")
    assert caught.value.field == "ordNm"


@pytest.mark.parametrize("mid", ["kistest0m", "kistest00mm"])
def test_mid_is_exactly_ten_bytes(mid):
    with pytest.raises(FieldSizeError, match=r"^mid: must be exactly 10 bytes"):
        validate("approval_request", {**VALID["approval_request"], "mid": mid})


def test_unknown_fields_are_refused_unless_allowed():
    with pytest.raises(UnknownFieldError, match=r"^goodsNM: not a field of auth_request"):
        validate("auth_request", {**VALID["auth_request"], "goodsNM": "x"})
    assert "sandboxAction" in validate("auth_request", {**VALID["auth_request"], "sandboxAction": "approve"},
                                       extra=("sandboxAction",))


def test_inquiry_needs_tid_or_ord_no():
    fields = {k: v for k, v in VALID["inquiry_request"].items() if k != "tid"}
    with pytest.raises(MissingFieldError, match=r"^tid or ordNo: inquiry_request needs one of them"):
        validate("inquiry_request", fields)
    validate("inquiry_request", {**fields, "ordNo": "1335233672723"})


def test_a_float_amount_is_refused_not_rounded():
    with pytest.raises(FieldError, match=r"^goodsAmt: must be a string or an int"):
        validate("approval_request", {**VALID["approval_request"], "goodsAmt": 1004.0})


def test_unknown_charset_is_a_value_error():
    with pytest.raises(ValueError, match="charset must be one of UTF-8, EUC-KR"):
        validate("auth_request", VALID["auth_request"], charset="latin-1")


@given(st.text(alphabet=st.sampled_from("a가😀"), max_size=60), st.sampled_from(["UTF-8", "EUC-KR"]))
def test_never_truncates_either_passes_within_limit_or_raises(text, charset):
    fields = {**VALID["auth_request"], "goodsNm": text or "x"}
    try:
        out = validate("auth_request", fields, charset=charset)
    except FieldSizeError as exc:
        assert exc.size > 100
    except UnencodableFieldError:
        assert charset == "EUC-KR" and "😀" in text
    else:
        assert out["goodsNm"] == (text or "x")
        assert len(out["goodsNm"].encode(charset.lower())) <= 100
