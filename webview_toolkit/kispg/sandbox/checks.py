"""The checks every sandbox view runs, and the Refusal they raise: form decoding in its charset, fields
against the guide's tables, signed requests against the merchant; plus the app's sandbox state and merchant.
"""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import parse_qsl

from flask import current_app, request

from .. import result_codes
from ..errors import FieldError, MalformedSignature, MissingFieldError, SignatureMismatch, StaleSignature
from ..signing import check_edi_date, check_signature, parse_edi_date
from ..specs import codec_for, validate
from .state import EXTENSION, SandboxState


class Refusal(Exception):
    """The sandbox refuses a request with a KISPG-style result code."""

    def __init__(self, result_cd: str, result_msg: str | None = None, status: int = 200):
        super().__init__(result_cd)
        self.result_cd = result_cd
        self.result_msg = result_msg or result_codes.MESSAGES.get(result_cd, "")
        self.status = status


def state() -> SandboxState:
    """The sandbox state of the current app."""
    return current_app.extensions[EXTENSION]


def merchant() -> tuple[str, str]:
    """(mid, merchant key) the sandbox knows, from the app config."""
    return current_app.config["KISPG_MID"], current_app.config["KISPG_MERCHANT_KEY"]


def decode_form() -> tuple[dict[str, str], str]:
    """The posted form decoded with its own charset/charSet field (UTF-8 when absent), and that charset."""
    text = request.get_data(cache=True).decode("latin-1")
    charset = form_charset(dict(parse_qsl(text, keep_blank_values=True, encoding="latin-1")))
    try:
        codec = codec_for(charset)
    except ValueError:
        raise Refusal(result_codes.INVALID_FIELD, "지원하지 않는 인코딩입니다.(charset)", 400) from None
    try:
        fields = dict(parse_qsl(text, keep_blank_values=True, encoding=codec, errors="strict"))
    except UnicodeDecodeError:
        raise Refusal(result_codes.INVALID_FIELD, f"{charset}로 해석할 수 없는 값이 있습니다.", 400) from None
    if "charSet" in fields:
        spelled = fields.pop("charSet")
        fields["charset"] = fields.get("charset") or spelled
    return fields, charset


def form_charset(probe: Mapping[str, str]) -> str:
    """The form's charset: `charset`, else `charSet`, else UTF-8; both given and different is refused.

    The guide's table spells it `charset`; KISPG's own paySample.jsp sends `charSet` (KISPG_FACTS.md).
    An empty value counts as absent. Refusing a disagreement is the sandbox's own choice: which one
    KISPG reads then is not known, so a merchant should not rely on either.
    """
    given = {name: probe[name].strip() for name in ("charset", "charSet") if probe.get(name, "").strip()}
    if len({value.upper() for value in given.values()}) > 1:
        raise Refusal(result_codes.INVALID_FIELD, "charset과 charSet의 값이 다릅니다.(charset, charSet)", 400)
    return (given.get("charset") or given.get("charSet") or "UTF-8").upper()


def check_fields(spec: str, fields: Mapping[str, Any], charset: str = "UTF-8",
                 extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Validate against a table, refusing like KISPG: a missing field is named in the message."""
    try:
        return validate(spec, fields, charset, extra)
    except MissingFieldError as exc:
        raise Refusal(result_codes.MISSING_FIELD, result_codes.missing_field_message(exc.field)) from None
    except FieldError as exc:
        raise Refusal(result_codes.INVALID_FIELD, f"입력값 형식 오류입니다.({exc.field})") from None
    except ValueError:
        raise Refusal(result_codes.INVALID_FIELD, "지원하지 않는 인코딩입니다.(charset)") from None


def check_signed(fields: Mapping[str, str], amount_field: str) -> None:
    """Refuse an unknown mid (S103), a bad ediDate (S102) or a hash mismatch (A211)."""
    mid, key = merchant()
    if fields.get("mid") != mid:
        raise Refusal(result_codes.UNKNOWN_MERCHANT)
    try:
        parse_edi_date(fields["ediDate"])
    except MalformedSignature:
        raise Refusal(result_codes.STALE_EDI_DATE) from None
    try:
        check_signature(fields["encData"], mid, fields["ediDate"], fields[amount_field], key)
    except (MalformedSignature, SignatureMismatch):
        raise Refusal(result_codes.HASH_MISMATCH) from None
    try:
        check_edi_date(fields["ediDate"], state().now())
    except StaleSignature:
        raise Refusal(result_codes.STALE_EDI_DATE) from None
