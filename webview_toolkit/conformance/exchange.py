"""One request, one recorded answer: the target (live KISPG or a stand-in) and the in-process sandbox.

Nothing here retries or follows a redirect: a 302 is what we want to see (the firewall
case), and a resent approval could charge. Every request to the target goes through a
Pacer, which spaces requests out and refuses past a fixed budget.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Callable, Mapping

import requests

# The official sample waits 15 s to connect and 25 s to read; a probe needs less.
DEFAULT_TIMEOUT = (5.0, 15.0)
TEXT_LIMIT = 500
REFERENCE_BASE = "http://sandbox.reference"


class BudgetExceeded(RuntimeError):
    """More requests were asked of the target than the run's fixed budget allows."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What one request got back: status, content type, Location, JSON body or a text excerpt, or an error."""

    status: int | None = None
    content_type: str = ""
    location: str = ""
    json: Any = None
    text: str = ""
    error: str = ""

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower case ('' when none)."""
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def is_json(self) -> bool:
        """Whether the body decoded as JSON."""
        return self.json is not None

    def as_dict(self) -> dict[str, Any]:
        """The answer as the report's stable keys."""
        return {"status": self.status, "content_type": self.content_type, "location": self.location,
                "json": self.json, "text": self.text, "error": self.error}


class Pacer:
    """Spaces requests at least `interval` seconds apart and allows at most `budget` of them."""

    def __init__(self, interval: float, budget: int, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = interval
        self.budget = budget
        self.sent = 0
        self._clock = clock
        self._sleep = sleep
        self._last: float | None = None

    def wait_turn(self) -> None:
        """Block until the next request may go; BudgetExceeded once the budget is spent."""
        if self.sent >= self.budget:
            raise BudgetExceeded(f"the run may send at most {self.budget} requests")
        if self._last is not None:
            remaining = self.interval - (self._clock() - self._last)
            if remaining > 0:
                self._sleep(remaining)
        self.sent += 1
        self._last = self._clock()


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where requests go: a base URL, the session that carries them, their timeout and pacing."""

    base_url: str
    session: requests.Session
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    pacer: Pacer | None = None

    def post(self, path: str, fields: Mapping[str, str], body: str = "json") -> Answer:
        """POST fields to base_url + path once, as JSON or as a form; the answer, never an exception."""
        if self.pacer is not None:
            self.pacer.wait_turn()
        return post_once(self.session, self.base_url.rstrip("/") + path, fields, body, self.timeout)


def post_once(session: requests.Session, url: str, fields: Mapping[str, str], body: str,
              timeout: tuple[float, float]) -> Answer:
    """One POST without redirects or retries, recorded as an Answer (transport failures included)."""
    payload: dict[str, Any] = {"json": dict(fields)} if body == "json" else {"data": dict(fields)}
    try:
        response = session.post(url, timeout=timeout, allow_redirects=False,
                                headers={"Accept": "application/json"}, **payload)
    except requests.ConnectTimeout:
        return Answer(error=f"connect timeout after {timeout[0]:g} s (nothing was sent)")
    except requests.Timeout:
        return Answer(error=f"read timeout after {timeout[1]:g} s (the request may have been processed)")
    except requests.RequestException as exc:
        return Answer(error=f"{type(exc).__name__}: could not reach {url}")
    return record(response)


def record(response: requests.Response) -> Answer:
    """An Answer from a requests.Response: the JSON body when it is JSON, else a bounded text excerpt."""
    content_type = response.headers.get("Content-Type", "")
    text = response.content.decode(response.encoding or "utf-8", "replace")
    try:
        data = response.json() if response.content else None
    except ValueError:
        data = None
    if data is None and "html" in content_type.lower():
        text = visible_text(text)
    return Answer(status=response.status_code, content_type=content_type,
                  location=response.headers.get("Location", ""), json=data,
                  text="" if data is not None else text[:TEXT_LIMIT])


class _TextOnly(HTMLParser):
    HIDDEN = ("head", "script", "style")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """What a page shows, as one line: its text outside head, script and style, whitespace collapsed."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return re.sub(r"\s+", " ", " ".join(parser.parts)).strip()


def reference_sandbox(mid: str, merchant_key: str) -> tuple[Any, Endpoint]:
    """The built-in sandbox, in this process, knowing this merchant: (the Flask app, an Endpoint to it)."""
    from ..kispg.sandbox import create_sandbox_app
    from ..kispg.inprocess import wsgi_session

    app = create_sandbox_app({"KISPG_MID": mid, "KISPG_MERCHANT_KEY": merchant_key})
    return app, Endpoint(REFERENCE_BASE, wsgi_session(app, REFERENCE_BASE))
