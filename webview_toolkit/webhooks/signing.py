"""The webhook signature, after Stripe's scheme: `t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`.

The timestamp is inside the signed text, so a captured request cannot be replayed later than
the receiver's tolerance; several `v1=` entries may be present (a secret being rotated).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

SIGNATURE_HEADER = "Webview-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds, as Stripe's default


class SignatureError(Exception):
    """A webhook whose signature does not prove it came from this service, now."""


class MalformedSignatureError(SignatureError):
    """The header is missing or is not `t=…,v1=…`, or the body is not a JSON object."""


class SignatureMismatchError(SignatureError):
    """No signature in the header matches the body under this secret."""


class StaleSignatureError(SignatureError):
    """The signature is genuine but its timestamp is outside the tolerance."""


def _digest(payload: bytes, timestamp: int, secret: str) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The signature header value for this body at `timestamp` (default: now)."""
    body = payload.encode() if isinstance(payload, str) else payload
    moment = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={moment},{SCHEME}={_digest(body, moment, secret)}"


def _parse(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise MalformedSignatureError(f"no {SIGNATURE_HEADER} header")
    timestamp, signatures = None, []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == SCHEME and value:
            signatures.append(value)
    if timestamp is None:
        raise MalformedSignatureError(f"the {SIGNATURE_HEADER} header has no timestamp (t=)")
    if not signatures:
        raise MalformedSignatureError(f"the {SIGNATURE_HEADER} header has no {SCHEME}= signature")
    return timestamp, signatures


def verify(payload: bytes | str, header: str | None, secret: str, tolerance: int = DEFAULT_TOLERANCE,
           now: float | None = None) -> dict[str, Any]:
    """The event in `payload` if `header` signs it under `secret` within `tolerance` seconds; else raise SignatureError."""
    body = payload.encode() if isinstance(payload, str) else payload
    timestamp, signatures = _parse(header)
    expected = _digest(body, timestamp, secret).encode()
    # Every candidate is compared in constant time, so the time taken says nothing about the digest.
    if not any(hmac.compare_digest(expected, candidate.encode()) for candidate in signatures):
        raise SignatureMismatchError("no signature matches the body (wrong secret, or the body was changed)")
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        raise StaleSignatureError(f"the signature's timestamp is {int(abs(age))} s away from now, "
                                  f"beyond the tolerance of {tolerance} s")
    try:
        event = json.loads(body)
    except ValueError:
        raise MalformedSignatureError("the body is not JSON") from None
    if not isinstance(event, dict):
        raise MalformedSignatureError("the body is not a JSON object")
    return event
