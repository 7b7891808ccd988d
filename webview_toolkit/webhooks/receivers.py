"""Which webhook URLs may receive events: http(s), and not loopback or private outside the sandbox.

A service that posts to any configured address can be turned against the network it runs in
(its database, a cloud metadata endpoint): such addresses need an explicit opt-in.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from typing import Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str], Iterable[str]]


def parse_urls(setting: str | Iterable[str] | None) -> tuple[str, ...]:
    """The receiver URLs in a setting: one or more, separated by commas or whitespace."""
    if not setting:
        return ()
    if isinstance(setting, str):
        return tuple(part for part in re.split(r"[\s,]+", setting) if part)
    return tuple(setting)


def shown(url: str) -> str:
    """A URL as messages and the CLI show it: no credentials, no query (either may carry a token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if _port(parts) else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _port(parts) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def is_private(address: str) -> bool:
    """Whether an IP address is loopback, private, link-local or otherwise not the public internet."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """What is wrong with a receiver URL as configured (without resolving names), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http:// or https:// URL"
    if allow_private:
        return None
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "is a loopback address (set WEBVIEW_WEBHOOK_ALLOW_PRIVATE=1 to allow it)"
    try:
        private = is_private(host)
    except ValueError:
        return None  # a name: checked again, resolved, before each delivery
    if private:
        return "is a loopback or private address (set WEBVIEW_WEBHOOK_ALLOW_PRIVATE=1 to allow it)"
    return None


def resolve_host(host: str) -> list[str]:
    """Every address a host name resolves to."""
    return [info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]


def delivery_problem(url: str, *, allow_private: bool, resolve: Resolver = resolve_host) -> str | None:
    """What refuses a delivery to this URL now (its name resolving to a private address), or None."""
    problem = url_problem(url, allow_private=allow_private)
    if problem or allow_private:
        return problem
    try:
        addresses = list(resolve(urlsplit(url).hostname))
    except OSError as exc:
        return f"cannot resolve the receiver's host: {exc}"
    if any(is_private(address) for address in addresses):
        return "the receiver's host resolves to a loopback or private address"
    return None
