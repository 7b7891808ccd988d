"""Page security headers: a Content-Security-Policy with a per-response script nonce, and the rest.

Every HTML response gets `Cache-Control: no-store` (pages carry a signed form or personal data),
`Referrer-Policy: no-referrer`, `X-Content-Type-Options: nosniff` and a policy that runs only
scripts carrying this response's nonce (`{{ csp_nonce() }}` in templates), posts forms only to
this service and the configured KISPG origins, and lets no one frame the page. A view widens
its own page's policy with `relax(directive, *sources)` (the checkout frames the KISPG pay
window; the sandbox's pay window may be framed by this service). Every response gets nosniff
and the referrer policy; JSON gets no-store too (orders carry personal data).
"""
from __future__ import annotations

import functools
import secrets
from typing import Iterable

from flask import Flask, Response, current_app, request

EXTENSION = "webview_toolkit_csp"
# Per request, in its environ rather than `g`: a request the app makes to itself in process (the
# sandbox) shares the outer request's app context, and would share its nonce and its policy.
NONCE_KEY = "webview_toolkit.csp_nonce"
NONCE_SLOT = "{nonce}"
RELAX_KEY = "webview_toolkit.csp_relax"


def nonce() -> str:
    """This response's script nonce (made on first use)."""
    value = request.environ.get(NONCE_KEY)
    if value is None:
        value = request.environ[NONCE_KEY] = secrets.token_urlsafe(18)
    return value


def relax(directive: str, *sources: str) -> None:
    """Add sources to one directive of this response's policy (replacing 'none')."""
    # Kept as a tuple of (directive, sources) pairs: the very key _template's cache looks policies up by.
    environ = request.environ
    environ[RELAX_KEY] = environ.get(RELAX_KEY, ()) + ((directive, sources),)


def install(app: Flask, *, form_origins: Iterable[str] = (), frame_origins: Iterable[str] = (),
            only_under: str = "") -> None:
    """Send the headers on every response of this app; `csp_nonce()` becomes a template global.

    `form_origins`: where pages may post besides this service (KISPG); `frame_origins`: what the
    pages that call `relax_for_kispg_frames()` may frame (KISPG's pay window).
    """
    form = tuple(form_origins)
    # The usual policy (no view relaxed it) is built once; each response only puts its nonce in.
    # only_under: a host app mounting the service (web.init_app) keeps its own pages' policies.
    app.extensions[EXTENSION] = {"form": form, "frame": tuple(frame_origins), "usual": policy(NONCE_SLOT, form),
                                 "under": only_under}
    app.jinja_env.globals["csp_nonce"] = nonce
    app.after_request(_secure)


def allow_kispg_frames() -> None:
    """Let this page frame the KISPG pay window (the desktop checkout's overlay)."""
    relax("frame-src", *current_app.extensions[EXTENSION]["frame"])


def policy(script_nonce: str, form_origins: Iterable[str], extra: dict[str, list[str]] | None = None) -> str:
    """The Content-Security-Policy header value."""
    directives = {
        "default-src": ["'self'"],
        "script-src": [f"'nonce-{script_nonce}'"],
        "style-src": ["'self'", f"'nonce-{script_nonce}'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'", *form_origins],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    for directive, sources in (extra or {}).items():
        current = [s for s in directives.get(directive, []) if s != "'none'"]
        directives[directive] = list(dict.fromkeys(current + list(sources))) or ["'none'"]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


@functools.lru_cache(maxsize=64)
def _template(form_origins: tuple[str, ...], relaxed: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    # A handful of distinct policies exist (the checkout's, the sandbox's, a result post's per
    # merchant origin): build each once.
    extra: dict[str, list[str]] = {}
    for directive, sources in relaxed:
        extra.setdefault(directive, []).extend(sources)
    return policy(NONCE_SLOT, form_origins, extra)


def _secure(response: Response) -> Response:
    # `add`, not `set`: no view sets these, and this runs on every checkout view (bench/).
    settings = current_app.extensions[EXTENSION]
    if settings["under"] and not request.path.startswith(settings["under"] + "/"):
        return response
    headers = response.headers
    headers.add("X-Content-Type-Options", "nosniff")
    headers.add("Referrer-Policy", "no-referrer")
    mimetype = response.mimetype
    if mimetype == "text/html" or mimetype == "application/json":
        headers.add("Cache-Control", "no-store")
    if mimetype == "text/html":
        relaxed = request.environ.get(RELAX_KEY)
        template = _template(settings["form"], relaxed) if relaxed else settings["usual"]
        headers.add("Content-Security-Policy", template.replace(NONCE_SLOT, nonce()))
    return response
