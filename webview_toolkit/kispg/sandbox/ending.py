"""How the pay window ends: a postMessage to the merchant page around it (PC), or a whole-page post (mobile).

Evidence: KISPG's PC sample `paySample.jsp` (qwerthong/qwerthong.github.io) posts the auth form into
`<iframe name="pay_frame">` with `model=WEB` and listens for `message` events whose data is
`{resultCode: "0000" | "XXXX", data: {...the returnUrl fields...}}`; on mobile (`model=MOB`) the window
is the whole page and posts the result to returnUrl. KISPG's operations team, quoted in
Stevewon/live-commerce-platform f268691: "PC: iframe 방식 / 모바일: 페이지 이동방식", and a PC page
submitted whole got no result at all ("postMessage 수신자 없음").
"""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlsplit

from flask import render_template

from ... import csp
from .. import result_codes

FRAMED_MODEL = "WEB"
# The wrapper's two codes, as the PC sample tests them.
MESSAGE_OK = "0000"
MESSAGE_FAILED = "XXXX"


def is_framed(fields: Mapping[str, str]) -> bool:
    """Whether this auth request opened the PC window, which ends by postMessage (model=WEB)."""
    return fields.get("model", "").upper() == FRAMED_MODEL


def self_approves(fields: Mapping[str, str]) -> bool:
    """Whether KISPG approves by itself: payReqType other than 1, or missing.

    Evidence: Stevewon/live-commerce-platform sent no payReqType (lib/kispg.ts at dd77095) and got
    `3001 카드 결제 성공` on returnUrl (commit dd77095), then `MOID 중복 또는 이미 처리된 주문` from
    /v2/payment (see KISPG_FACTS.md).
    """
    return fields.get("payReqType", "") != "1"


def message_for(result: Mapping[str, str]) -> dict[str, Any]:
    """The postMessage payload: the sample's wrapper, the real resultCd inside `data`.

    A self-approval's 3001 is wrapped as "0000" so that the merchant page posts it on: the sandbox's
    own choice, no public capture shows that case on PC.
    """
    ok = result["resultCd"] == result_codes.AUTH_OK or result_codes.DEFAULT_SUCCESS.is_success(
        "approval", result.get("payMethod"), result["resultCd"])
    return {"resultCode": MESSAGE_OK if ok else MESSAGE_FAILED, "data": dict(result)}


def target_origin(return_url: str) -> str:
    """The origin the message is posted to: returnUrl's (the sandbox's own choice; KISPG's is not public)."""
    parts = urlsplit(return_url)
    return f"{parts.scheme}://{parts.netloc}"


def render_ending(fields: Mapping[str, str], charset: str, result: Mapping[str, str]) -> str:
    """The last page of the pay window: postMessage when framed, else the auto-posting result form."""
    if is_framed(fields):
        return render_template("kispg_sandbox/result_message.html", message=message_for(result),
                               target_origin=target_origin(fields["returnUrl"]))
    # The page auto-posts to the merchant's returnUrl, wherever that is (checked to be http(s) at /v2/auth).
    target = urlsplit(fields["returnUrl"])
    csp.relax("form-action", f"{target.scheme}://{target.netloc}")
    return render_template("kispg_sandbox/result_post.html", return_url=fields["returnUrl"],
                           charset=charset, result=result)
