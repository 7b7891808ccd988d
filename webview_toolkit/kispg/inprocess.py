"""A requests session that routes a base URL into a WSGI app in-process, instead of a socket.

The service reaches its built-in sandbox this way (web/extensions.py), so approvals do not depend
on the port or host it happens to run on; the tests use it to run the service and the sandbox
without sockets. The sandbox marks a simulated timeout with the FAULT_HEADER header; the adapter
turns it into requests.ReadTimeout, so timeouts are tested without sleeping.
"""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.test import EnvironBuilder, run_wsgi_app

FAULT_HEADER = "X-Sandbox-Fault"


class WSGIAdapter(BaseAdapter):
    """A transport adapter that hands each request to a WSGI app instead of a socket."""

    def __init__(self, app: Callable[..., Any]):
        super().__init__()
        self.app = app

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        """Run the request through the app and wrap its answer as a requests.Response."""
        parts = urlsplit(request.url)
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        builder = EnvironBuilder(path=parts.path or "/", base_url=f"{parts.scheme}://{parts.netloc}",
                                 query_string=parts.query, method=request.method,
                                 headers=dict(request.headers), data=body or b"",
                                 # In-process is this machine: the sandbox's loopback-only routes answer it.
                                 environ_base={"REMOTE_ADDR": "127.0.0.1"})
        try:
            app_iter, status, headers = run_wsgi_app(self.app, builder.get_environ())
            content = b"".join(app_iter)
            if hasattr(app_iter, "close"):
                app_iter.close()
        finally:
            builder.close()
        if headers.get(FAULT_HEADER) == "timeout":
            raise requests.ReadTimeout(f"simulated read timeout for {request.url}", request=request)
        response = requests.Response()
        response.status_code = int(status.split(" ", 1)[0])
        response.reason = status.split(" ", 1)[1] if " " in status else ""
        response.headers = CaseInsensitiveDict(headers.items())
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = content
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release."""


def wsgi_session(app: Callable[..., Any], base_url: str,
                 session: requests.Session | None = None) -> requests.Session:
    """A session (new, or the given one) whose requests under base_url go to app in-process."""
    if session is None:
        session = requests.Session()
        session.trust_env = False  # no proxy or CA bundle stands between this process and itself
    parts = urlsplit(base_url)
    session.mount(f"{parts.scheme}://{parts.netloc}/", WSGIAdapter(app))
    return session
