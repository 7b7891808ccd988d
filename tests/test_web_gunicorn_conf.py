"""A slow KISPG stalls nobody else (issue 18): while one approval waits, other shoppers' pages are served.

Under both default server models: gunicorn with webview_toolkit/web/gunicorn_conf.py (gthread) and a
separate sandbox, and `webview-toolkit serve` (threaded, the sandbox in-process). The sandbox's
approval delay waits on an event the test releases, so nothing here waits on a clock.
"""
from __future__ import annotations

import os
import runpy
import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urljoin

import flask
import pytest
import requests
from click.testing import CliRunner
from werkzeug.serving import make_server

from webview_toolkit.cli import main
from webview_toolkit.kispg.sandbox import create_sandbox_app
from webview_toolkit.kispg.testing import FormParser, parse_result_form
from webview_toolkit.store import OrderStore
from webview_toolkit.web.extensions import services

from .loopback import free_port, gunicorn
from .service_helpers import MERCHANT_KEY, MID, ORDER, UA

WAIT = 30  # seconds any one step may take before the test gives up (never a synchronisation)


class HeldApproval:
    """The sandbox's delay, held until released: `waiting` is set once an approval is inside it."""

    def __init__(self):
        self.waiting, self.release = threading.Event(), threading.Event()

    def __call__(self, _seconds: float) -> None:
        self.waiting.set()
        assert self.release.wait(WAIT), "the test never released the approval"


@pytest.fixture
def serving():
    """Serve a WSGI app on a loopback port in threads; stopped after the test."""
    servers = []

    def start(app, threaded: bool = True) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=threaded)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join()
        server.server_close()


def ready_to_pay(base: str, headers: dict) -> tuple[str, str, dict]:
    """A new order through its checkout page and the sandbox's window: (ordNo, returnUrl, the result)."""
    ord_no = requests.post(f"{base}/api/orders", json=ORDER, headers=headers, timeout=WAIT).json()["ordNo"]
    page = requests.get(f"{base}/checkout/{ord_no}", headers={"User-Agent": UA["kakaotalk_ios"]}, timeout=WAIT)
    form = FormParser("kispg-auth")
    form.feed(page.text)
    window = requests.post(urljoin(base, form.action), data={**form.fields, "sandboxAction": "approve"}, timeout=WAIT)
    return_url, fields = parse_result_form(window.text)
    return ord_no, return_url, fields


@contextmanager
def paying(return_url: str, fields: dict, held: HeldApproval) -> Iterator[list]:
    """Post the result to returnUrl in a thread; the block runs while its approval waits at the sandbox.

    Yields the list its answer is put in, empty until the block has released the approval.
    """
    answers = []
    thread = threading.Thread(target=lambda: answers.append(
        requests.post(return_url, data=fields, allow_redirects=False, timeout=WAIT * 2)))
    thread.start()
    try:
        assert held.waiting.wait(WAIT), "the approval never reached the sandbox"
        yield answers
        assert thread.is_alive() and not answers, "the approval was answered before it was released"
    finally:
        held.release.set()
        thread.join()


def others_are_served_while_an_approval_waits(base: str, held: HeldApproval, headers: dict) -> None:
    """One shopper's approval waits at KISPG; another shopper orders and loads both pages meanwhile."""
    ord_no, return_url, fields = ready_to_pay(base, headers)
    with paying(return_url, fields, held) as answers:
        other = requests.post(f"{base}/api/orders", json=ORDER, headers=headers, timeout=WAIT).json()["ordNo"]
        checkout = requests.get(f"{base}/checkout/{other}", headers={"User-Agent": UA["kakaotalk_ios"]}, timeout=WAIT)
        result = requests.get(f"{base}/orders/{other}", timeout=WAIT)
        assert checkout.status_code == 200 and "kispg-auth" in checkout.text
        assert result.status_code == 200
    assert answers[0].status_code == 303
    order = requests.get(f"{base}/api/orders/{ord_no}", headers=headers, timeout=WAIT).json()
    assert order["status"] == "paid"


def held_sandbox(serving) -> tuple[str, HeldApproval]:
    """A sandbox on loopback whose approvals wait until released: its URL and the hold."""
    sandbox = create_sandbox_app({"KISPG_MID": MID, "KISPG_MERCHANT_KEY": MERCHANT_KEY, "KISPG_SANDBOX_DELAY": "payment=3"})
    held = sandbox.extensions["kispg_sandbox"].sleep = HeldApproval()
    return serving(sandbox), held


def service_env(tmp_path, base: str, sandbox_url: str) -> dict:
    return {**os.environ, "KISPG_ENV": "test", "KISPG_MID": MID, "KISPG_MERCHANT_KEY": MERCHANT_KEY,
            "KISPG_BASE_URL": sandbox_url, "WEBVIEW_DATABASE_URL": f"sqlite:///{tmp_path / 'orders.sqlite3'}",
            "WEBVIEW_PUBLIC_URL": base, "WEBVIEW_ADMIN_TOKEN": "admin-token", "WEBVIEW_API_TOKEN": "api-token"}


def test_gunicorn_with_the_service_settings_serves_others_while_an_approval_waits(serving, tmp_path):
    sandbox_url, held = held_sandbox(serving)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(tmp_path, base, sandbox_url)
    # One worker: the waiting approval and the other shopper's pages share its process.
    with gunicorn(tmp_path, port, env, 1, "-c", "python:webview_toolkit.web.gunicorn_conf") as log:
        try:
            others_are_served_while_an_approval_waits(base, held, {"Authorization": "Bearer api-token"})
        except (AssertionError, requests.RequestException) as exc:
            raise AssertionError(f"{exc}\n{log.read_text(errors='replace')[-3000:]}") from None
    calls = [c for c in requests.get(f"{sandbox_url}/_calls", timeout=WAIT).json() if c["endpoint"] == "payment"]
    assert len(calls) == 1


@pytest.mark.parametrize("read_timeout, grace", [(None, 62), ("10", 62), ("120", 502), ("not a number", 62)])
def test_the_grace_on_a_stop_covers_the_longest_wait_on_kispg(monkeypatch, read_timeout, grace):
    """gunicorn's own 30 s cut a returnUrl post's four KISPG calls short (4 × (3 + 10) s at the defaults)."""
    monkeypatch.delenv("KISPG_TIMEOUT", raising=False)
    if read_timeout is not None:
        monkeypatch.setenv("KISPG_TIMEOUT", read_timeout)
    settings = runpy.run_module("webview_toolkit.web.gunicorn_conf")  # as gunicorn's -c python: reads it
    assert settings["graceful_timeout"] == grace and isinstance(settings["graceful_timeout"], int)  # gunicorn refuses a float


def test_a_stop_lets_the_approval_a_worker_holds_finish(serving, tmp_path):
    """SIGTERM while an approval waits at KISPG: the worker stops taking connections, answers it, then exits."""
    sandbox_url, held = held_sandbox(serving)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pid_file = tmp_path / "gunicorn.pid"
    env = service_env(tmp_path, base, sandbox_url)
    with gunicorn(tmp_path, port, env, 1,
                  "-c", "python:webview_toolkit.web.gunicorn_conf", "--pid", str(pid_file)) as log:
        ord_no, return_url, fields = ready_to_pay(base, {"Authorization": "Bearer api-token"})
        with paying(return_url, fields, held) as answers:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
            deadline = time.monotonic() + WAIT
            while answers_new_requests(base):  # until the worker, told to stop, takes no new request
                assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
    assert answers and answers[0].status_code == 303, log.read_text(errors="replace")[-3000:]
    store = OrderStore(env["WEBVIEW_DATABASE_URL"])  # the stopped service's database
    try:
        assert store.get(ord_no).status == "paid"
    finally:
        store.dispose()


def answers_new_requests(base: str) -> bool:
    """Whether a new request is answered within a second (a stopping gunicorn worker leaves it unaccepted)."""
    try:
        requests.get(f"{base}/healthz", timeout=1)
    except requests.RequestException:
        return False
    return True


def test_serve_serves_others_while_an_approval_waits(serving, tmp_path, monkeypatch):
    """`webview-toolkit serve`'s own server options, its sandbox in-process (no KISPG_BASE_URL)."""
    for name in ("KISPG_ENV", "KISPG_MID", "KISPG_MERCHANT_KEY", "KISPG_BASE_URL", "WEBVIEW_PUBLIC_URL",
                 "WEBVIEW_API_TOKEN", "WEBVIEW_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEBVIEW_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.sqlite3'}")
    monkeypatch.setenv("KISPG_SANDBOX_DELAY", "payment=3")
    runs = []
    monkeypatch.setattr(flask.Flask, "run", lambda self, **options: runs.append((self, options)))
    monkeypatch.setattr("webview_toolkit.cli.serve_cmd.lan_address", lambda: None)
    assert CliRunner().invoke(main, ["serve", "--no-webhook-worker"]).exit_code == 0
    app, options = runs[0]
    assert services(app).client.base_url.startswith("http://sandbox.internal")
    held = app.extensions["kispg_sandbox"].sleep = HeldApproval()
    base = serving(app, threaded=options["threaded"])
    others_are_served_while_an_approval_waits(base, held, {})
    services(app).store.dispose()
