"""The service's edge: request ids, trusted proxies, and the base of every absolute URL.

Absolute URLs (checkoutUrl, the auth form's returnUrl, QR codes) come from WEBVIEW_PUBLIC_URL
when it is set. Without it (the sandbox on a LAN, for phones) the request's Host counts only
when it names this machine (its loopback, its host name, its addresses) or came from a proxy
listed in WEBVIEW_TRUSTED_PROXIES; anything else is a 400, never a URL built from a stranger's Host.
"""
from __future__ import annotations

import ipaddress
import socket
from typing import Iterable
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .. import logs

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
OWN_HOSTS = "webview_toolkit_own_hosts"


def init_app(app: Flask) -> None:
    """Request ids on every request and response; ProxyFix for trusted proxies only; this machine's names."""
    app.before_request(_begin)
    app.after_request(_stamp)
    app.teardown_request(_end)
    proxies = app.config.get("WEBVIEW_TRUSTED_PROXIES") or ()
    if proxies:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, proxies)
    app.extensions[OWN_HOSTS] = own_hosts(app.config.get("WEBVIEW_LAN_URL"))


def lan_address() -> str | None:
    """This machine's LAN address, as the default route sees it (a UDP connect sends no packet)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def own_hosts(lan_url: str | None = None) -> frozenset[str]:
    """The names and addresses this machine answers to: loopback, its host name and its addresses."""
    names = set(LOOPBACK_NAMES)
    hostname = socket.gethostname().lower()
    names.add(hostname)
    try:
        # Resolves through /etc/hosts first; a name that does not resolve only loses its addresses.
        names.update(info[4][0] for info in socket.getaddrinfo(hostname, None))
    except OSError:
        pass
    for address in (lan_address(), urlsplit(lan_url or "").hostname):
        if address:
            names.add(address.lower())
    return frozenset(names)


def external_base() -> str:
    """The scheme and host absolute URLs start with (no trailing slash); 400 for a Host of someone else."""
    public = current_app.config.get("WEBVIEW_PUBLIC_URL")
    if public:
        return public.rstrip("/")
    proxied = request.environ.get("werkzeug.proxy_fix.orig") is not None
    host = (urlsplit("//" + request.host).hostname or "").lower()
    if proxied or host in current_app.extensions[OWN_HOSTS]:
        return request.host_url.rstrip("/")
    abort(400, description=f"the Host header {host!r} is not an address of this service; "
                           "set WEBVIEW_PUBLIC_URL to the address shoppers use")


class TrustedProxyFix:
    """werkzeug's ProxyFix (one hop), applied only to requests that come from a trusted proxy's address."""

    def __init__(self, app, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]):
        self.app = app
        self.networks = tuple(networks)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)

    def __call__(self, environ, start_response):
        """Hand the request to ProxyFix when its peer is trusted, else untouched (forwarded headers ignored)."""
        try:
            peer = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            peer = None
        if peer is not None and any(peer in network for network in self.networks):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


# Kept in the request's environ, not in `g`: a request this app makes to itself (the sandbox, in
# process) shares the outer request's app context, and so its `g`.
TOKEN_KEY = "webview_toolkit.request_id_token"


def _begin() -> None:
    environ = request.environ  # straight from the environ: this runs on every request (bench/)
    environ[TOKEN_KEY] = logs.begin_request(logs.new_request_id(environ.get("HTTP_X_REQUEST_ID")))


def _stamp(response):
    response.headers["X-Request-Id"] = logs.request_id()
    return response


def _end(_exc) -> None:
    token = request.environ.pop(TOKEN_KEY, None)
    if token is not None:
        try:
            logs.end_request(token)
        except ValueError:
            pass  # set in another context (a copied one): that context's end forgets it
