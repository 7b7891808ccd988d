"""Every error the KISPG layer raises, each carrying its context as keyword arguments.

    KispgError
    ├── FieldError(field=, limit=)              a field breaks the guide's table; nothing was sent
    │   ├── MissingFieldError                   required and absent or empty
    │   ├── UnknownFieldError                   not a field of that table (a typo, most likely)
    │   ├── DigitsOnlyError                     an amount or number with something else in it
    │   ├── FieldSizeError                      more bytes than allowed, or not the fixed size
    │   └── UnencodableFieldError               the charset cannot encode the value (EUC-KR)
    ├── SignatureError                          encData / ediDate of a KISPG message
    │   ├── MalformedSignature(field=)          missing, not hex, or not a date
    │   ├── SignatureMismatch                   the hash is not ours
    │   └── StaleSignature(edi_date=)           outside the 10-minute window
    ├── TransportError(url=)                    the request may not have reached KISPG
    │   └── KispgTimeout(url=, phase=)          connect or read timeout: reconcile by inquiry
    ├── HTTPStatusError(status=, body=)         KISPG answered with a non-200 status
    │   └── UnregisteredServerError(location=)  a redirect: KISPG's firewall does not know this server
    ├── InvalidResponseError(body=)             a 200 that is not a JSON object with resultCd
    ├── ResponseMismatchError(field=, ...)      a success that names another tid or amount
    └── DeclinedError(result_cd=, result_msg=)  KISPG answered, and the answer is not a success

No message ever contains the merchant key; bodies are cut to 500 characters.
"""
from __future__ import annotations

from typing import Any, Mapping

BODY_LIMIT = 500


class KispgError(Exception):
    """Root of every error raised by webview_toolkit.kispg."""


class FieldError(KispgError, ValueError):
    """A request field breaks the guide's table; the message names the field and the limit."""

    def __init__(self, message: str, *, field: str, limit: Any = None, spec: str | None = None):
        super().__init__(message)
        self.field = field
        self.limit = limit
        self.spec = spec


class MissingFieldError(FieldError):
    """A required field is absent or empty."""


class UnknownFieldError(FieldError):
    """A field that the table does not list."""


class DigitsOnlyError(FieldError):
    """A digits-only field holds something else."""


class FieldSizeError(FieldError):
    """A field is longer, in bytes of the charset, than the table allows (or not its fixed size)."""

    def __init__(self, message: str, *, field: str, limit: Any = None, spec: str | None = None,
                 size: int, charset: str):
        super().__init__(message, field=field, limit=limit, spec=spec)
        self.size = size
        self.charset = charset


class UnencodableFieldError(FieldError):
    """The charset cannot encode the value."""


class SignatureError(KispgError):
    """encData or ediDate of a KISPG message does not check out."""


class MalformedSignature(SignatureError):
    """encData, ediDate or the amount is missing or not in its format."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.field = field


class SignatureMismatch(SignatureError):
    """encData is well formed but is not the hash of this message with our key."""


class StaleSignature(SignatureError):
    """ediDate is older than the allowed age, or too far in the future."""

    def __init__(self, message: str, *, edi_date: str):
        super().__init__(message)
        self.edi_date = edi_date


class TransportError(KispgError):
    """The HTTP exchange failed below HTTP: DNS, TCP, TLS."""

    def __init__(self, message: str, *, url: str):
        super().__init__(message)
        self.url = url


class KispgTimeout(TransportError):
    """No answer in time; phase is 'connect' (never sent) or 'read' (may have been processed)."""

    def __init__(self, message: str, *, url: str, phase: str):
        super().__init__(message, url=url)
        self.phase = phase


class HTTPStatusError(KispgError):
    """KISPG answered with an HTTP status other than 200."""

    def __init__(self, message: str, *, status: int, body: str, url: str | None = None):
        super().__init__(message)
        self.status = status
        self.body = body[:BODY_LIMIT]
        self.url = url


class UnregisteredServerError(HTTPStatusError):
    """KISPG redirected the request (HTTP 3xx) instead of answering: its firewall turns away this server.

    Seen from the live service: an unregistered address gets a 302 to kisvan.co.kr/firewall.html
    (Stevewon/live-commerce-platform 4507dcf). The request never reached KISPG's API.
    """

    def __init__(self, message: str, *, status: int, body: str, url: str | None = None, location: str = ""):
        super().__init__(message, status=status, body=body, url=url)
        self.location = location


class InvalidResponseError(KispgError):
    """A 200 answer that is not a JSON object carrying resultCd."""

    def __init__(self, message: str, *, body: str):
        super().__init__(message)
        self.body = body[:BODY_LIMIT]


class ResponseMismatchError(KispgError):
    """A success answer about another transaction than the one asked for."""

    def __init__(self, message: str, *, field: str, expected: str, actual: str | None):
        super().__init__(message)
        self.field = field
        self.expected = expected
        self.actual = actual


class DeclinedError(KispgError):
    """KISPG processed the request and refused it."""

    def __init__(self, message: str, *, result_cd: str, result_msg: str,
                 response: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.result_cd = result_cd
        self.result_msg = result_msg
        self.response = response or {}
