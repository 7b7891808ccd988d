"""Request guards the service and the standalone sandbox share: bearer tokens, loopback clients,
body size, and JSON nesting.

`install_limits(app)` gives an app the body limit (`MAX_CONTENT_LENGTH`, refused with 413 before
the body is read) and a JSON provider that refuses nesting past MAX_JSON_DEPTH with a 400 naming
the problem (the standard library's parser would recurse until a RecursionError, a 500).
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import re
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

MAX_JSON_DEPTH = 32
DEFAULT_MAX_CONTENT_LENGTH = 64 * 1024
# Strings first, so brackets inside them do not count; then every bracket in order.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')
# Headers only a proxy adds: a request carrying one came through something we do not trust.
FORWARDED_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-Ip")


class JSONTooDeepError(BadRequest):
    """A JSON body nested deeper than MAX_JSON_DEPTH."""

    description = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in a JSON text (0 for a scalar); it stops past the limit."""
    depth = deepest = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif token in "]}":
            depth -= 1
    return deepest


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing nesting past MAX_JSON_DEPTH before the parser recurses into it."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; JSONTooDeepError (a 400) when it nests too deeply."""
        text = s.decode("utf-8", "replace") if isinstance(s, (bytes, bytearray)) else s
        if json_depth(text) > MAX_JSON_DEPTH:
            raise JSONTooDeepError()
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise JSONTooDeepError() from None


def install_limits(app: Flask, max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH) -> None:
    """The body size limit and the bounded JSON provider, for this app."""
    app.config["MAX_CONTENT_LENGTH"] = max_content_length
    app.json_provider_class = BoundedJSONProvider
    app.json = BoundedJSONProvider(app)
    app.before_request(_refuse_large_body)


def _refuse_large_body() -> None:
    # Werkzeug refuses a large body only when a view reads it; refuse it for every view, at once.
    if not request.environ.get("CONTENT_LENGTH"):
        return  # most requests (GETs) have no body: skip the parsing below, it runs on every one (bench/)
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge(f"the request body is over {limit} bytes")


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 6750)."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_matches(header: str | None, expected: str | None) -> bool:
    """Whether the Authorization header carries exactly the expected bearer token (in constant time)."""
    given = bearer_token(header)
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def is_loopback(address: str | None) -> bool:
    """Whether an address is this machine's loopback (127.0.0.0/8, ::1, or ::ffff:127.x)."""
    try:
        parsed = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(parsed, "ipv4_mapped", None)
    return (mapped or parsed).is_loopback


def loopback_client() -> bool:
    """Whether this request comes from this machine itself, not relayed by an untrusted proxy.

    A reverse proxy on the same machine makes every shopper look like loopback; its forwarded
    headers give that away (and with WEBVIEW_TRUSTED_PROXIES, ProxyFix has already replaced
    remote_addr with the real client and removed nothing we rely on here).
    """
    if not is_loopback(request.remote_addr):
        return False
    return not any(request.headers.get(name) for name in FORWARDED_HEADERS) or request.environ.get(
        "werkzeug.proxy_fix.orig") is not None
