"""The benchmarks' shoppers: HTTP/1.1 over http.client, one kept connection per server.

requests cost the shoppers about 1.4 ms of CPU per request (its adapters, hooks, cookie jar and
header merging), on the same two cores as the service being measured; real shoppers spend theirs
on their phones. This client does what a browser does in a checkout and no more: GET, POST of a
form or of JSON, a cookie-less session with fixed headers, redirects not followed.
"""
from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlencode, urlsplit


class Answer:
    """A response: its status, headers (names in lower case) and body as text."""

    __slots__ = ("status", "headers", "text")

    def __init__(self, status: int, headers: dict[str, str], text: str):
        self.status, self.headers, self.text = status, headers, text

    def json(self) -> Any:
        return json.loads(self.text)


class Shopper:
    """One shopper's connections; keep_alive=False asks for a new connection per request (as sync workers serve)."""

    def __init__(self, headers: dict[str, str] | None = None, *, keep_alive: bool = True, timeout: float = 30):
        self.headers = dict(headers or {})
        if not keep_alive:
            self.headers["Connection"] = "close"
        self.timeout = timeout
        self._connections: dict[str, http.client.HTTPConnection] = {}

    def get(self, url: str, headers: dict[str, str] | None = None) -> Answer:
        return self._send("GET", url, None, headers)

    def post_form(self, url: str, fields: dict[str, str]) -> Answer:
        return self._send("POST", url, urlencode(fields).encode(),
                          {"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, url: str, body: Any) -> Answer:
        return self._send("POST", url, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str] | None) -> Answer:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection = self._connections.get(parts.netloc)
        if connection is None:
            connection = self._connections[parts.netloc] = http.client.HTTPConnection(parts.netloc, timeout=self.timeout)
        for attempt in (1, 2):
            try:
                connection.request(method, path, body, {**self.headers, **(headers or {})})
                response = connection.getresponse()
                text = response.read().decode("utf-8")
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed a kept connection between two requests: the request was not
                # read, so sending it again on a new connection is what a browser does too.
                connection.close()
                if attempt == 2:
                    raise
        if response.will_close:
            connection.close()  # http.client opens a new one on the next request
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, text)

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
