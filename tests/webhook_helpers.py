"""A webhook receiver on loopback for the tests: records each post, answers what the test says."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from werkzeug.serving import make_server

from .loopback import free_port

from webview_toolkit.webhooks import SIGNATURE_HEADER, verify

SECRET = "whsec_test-only-" + "Qx7" * 8


@dataclass
class Receiver:
    """A shop's webhook endpoint: `answers`, then `status`, is what it answers; `hold` keeps a request waiting."""

    port: int = field(default_factory=free_port)
    status: int = 200
    answers: list[int] = field(default_factory=list)  # answered first, one per post, before `status`
    hold: threading.Event | None = None
    posts: list[tuple[dict, bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    _server: object = None

    @property
    def url(self) -> str:
        """Where events are posted."""
        return f"http://127.0.0.1:{self.port}/hooks/kispg"

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        self.posts.append((headers, body))
        self.arrived.set()
        if self.hold is not None:
            self.hold.wait(30)
        status = self.answers.pop(0) if self.answers else self.status
        start_response(f"{status} Answer", [("Content-Type", "text/plain")])
        return [b"ok"]

    def start(self) -> "Receiver":
        """Listen on `port` in a thread."""
        self._server = make_server("127.0.0.1", self.port, self, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening (posts are refused again)."""
        if self._server is not None:
            if self.hold is not None:
                self.hold.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self, secret: str = SECRET) -> list[dict]:
        """Every event received, each checked with the package's own verify (raises on a bad one)."""
        return [verify(body, headers.get(SIGNATURE_HEADER), secret) for headers, body in self.posts]


# -- moving an order to a state through declared changes only (lifecycle.TRANSITIONS) ----------------

def _paths():
    from webview_toolkit.lifecycle import OrderStatus as S
    auth = [(S.AUTHENTICATED, "authenticated", {"bind_tid": None}), (S.APPROVING, "approval_claimed", {})]
    paid = auth + [(S.PAID, "approved", {})]
    cancelling = paid + [(S.CANCELLING, "cancel_claimed", {"status_before_cancel": S.PAID, "pending_cancel_amt": 1000})]
    return {
        S.AUTHENTICATED: auth[:1], S.APPROVING: auth, S.PAID: paid,
        S.FAILED: [(S.FAILED, "auth_failed", {"new_attempt": True})],
        S.UNKNOWN: [(S.UNKNOWN, "already_approved", {})],
        S.NEEDS_REVIEW: auth + [(S.NEEDS_REVIEW, "approval_mismatch", {})],
        S.AWAITING_DEPOSIT: auth + [(S.AWAITING_DEPOSIT, "vbank_issued", {})],
        S.EXPIRED: [(S.EXPIRED, "order_expired", {})],
        S.CANCELLING: cancelling,
        S.CANCELLED: cancelling + [(S.CANCELLED, "cancelled", {"cancelled_amt": 1000, "pending_cancel_amt": None})],
        S.PARTIALLY_CANCELLED: cancelling + [(S.PARTIALLY_CANCELLED, "cancelled",
                                              {"cancelled_amt": 300, "pending_cancel_amt": None})],
    }


def walk(store, ord_no: str, target, *, last: bool = True) -> None:
    """Move a created order to `target` through the declared changes (without the final one unless `last`)."""
    steps = _paths()[target]
    for to, event, extra in steps if last else steps[:-1]:
        if "bind_tid" in extra:
            extra = {**extra, "bind_tid": ("T" + ord_no)[:30].ljust(30, "0")}
        assert store.transition(ord_no, to, event, **extra), (to, event)


def last_step(store, ord_no: str, target):
    """The final change of `walk` to `target`: the order after it, or None."""
    to, event, extra = _paths()[target][-1]
    if "bind_tid" in extra:
        extra = {**extra, "bind_tid": ("T" + ord_no)[:30].ljust(30, "0")}
    return store.transition(ord_no, to, event, **extra)
