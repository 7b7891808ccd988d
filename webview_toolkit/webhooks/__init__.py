"""Webhooks: every outcome a shop acts on, written to an outbox with the change and delivered signed.

`outbox` (the table and `enqueue`), `signing` (the signature scheme and `verify` for receivers),
`delivery` (the worker), `receivers` (which URLs may receive). Receivers need only `verify`.
"""
from .signing import (  # noqa: F401  (the receiver's API)
    SIGNATURE_HEADER, MalformedSignatureError, SignatureError, SignatureMismatchError, StaleSignatureError,
    sign, verify,
)
