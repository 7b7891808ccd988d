"""Tests for `webview-toolkit worker` and `webhooks list|retry`."""
from datetime import datetime, timedelta, timezone

import flask
import pytest
from click.testing import CliRunner

from webview_toolkit.cli import main
from webview_toolkit.store import OrderStore, new_ord_no
from webview_toolkit.webhooks.delivery import Deliverer

from .service_helpers import MERCHANT_KEY, MID
from .webhook_helpers import SECRET, walk


@pytest.fixture
def env(tmp_path, monkeypatch, receiver, merchant_key_scan):
    merchant_key_scan.keys.add(SECRET)
    for name in ("KISPG_ENV", "KISPG_BASE_URL", "WEBVIEW_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("WEBVIEW_DATABASE_URL", url)
    monkeypatch.setenv("KISPG_ENV", "sandbox")
    monkeypatch.setenv("KISPG_MID", MID)
    monkeypatch.setenv("KISPG_MERCHANT_KEY", MERCHANT_KEY)
    monkeypatch.setenv("WEBVIEW_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("WEBVIEW_WEBHOOK_SECRET", SECRET)
    monkeypatch.setattr(flask.Flask, "instance_path", str(tmp_path / "instance"), raising=False)
    store = OrderStore(url, webhook_urls=(receiver.url,))
    yield store
    store.dispose()


def paid_order(store) -> str:
    ord_no = new_ord_no()
    store.create(ord_no=ord_no, goods_nm="상품", goods_amt=1000, ord_nm="홍길동", ord_tel="01012345678")
    walk(store, ord_no, "paid")
    return ord_no


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_worker_once_delivers_what_is_due(env, receiver):
    paid_order(env)
    result = run("worker", "--once")
    assert result.exit_code == 0, result.output
    assert result.output == "1 delivered, 0 to retry, 0 dead\n"
    assert [e["type"] for e in receiver.events()] == ["order.paid"]


def test_worker_without_receivers_says_so(env, monkeypatch):
    monkeypatch.delenv("WEBVIEW_WEBHOOK_URL")
    result = run("worker", "--once")
    assert result.exit_code == 1
    assert result.output == "Error: no WEBVIEW_WEBHOOK_URL is set: there is nothing to deliver\n"


def test_list_dead_and_retry(env, receiver):
    receiver.status = 500
    ord_no = paid_order(env)
    later = datetime.now(timezone.utc) + timedelta(hours=25)
    Deliverer(env, SECRET, allow_private=True).deliver_due(now=later)
    listed = run("webhooks", "list", "--dead")
    assert listed.exit_code == 0, listed.output
    line, = listed.output.splitlines()
    event_id = line.split()[0]
    assert event_id.startswith("evt_") and f"order.paid  {ord_no}  dead  attempts 1" in line
    assert receiver.url in line and "HTTP 500" in line
    assert run("webhooks", "list").output.splitlines() == [line]
    retried = run("webhooks", "retry", event_id)
    assert retried.exit_code == 0 and retried.output == f"{event_id}: 1 delivery queued again\n"
    assert run("webhooks", "list", "--dead").output == "no dead deliveries\n"
    receiver.status = 200
    assert run("worker", "--once").output == "1 delivered, 0 to retry, 0 dead\n"


def test_retry_of_an_unknown_event(env):
    result = run("webhooks", "retry", "evt_nope")
    assert result.exit_code == 1
    assert result.output.startswith("Error: no dead delivery of event 'evt_nope'")


def test_the_secret_is_in_no_output(env, receiver):
    paid_order(env)
    for args in (("worker", "--once"), ("webhooks", "list")):
        assert SECRET not in run(*args).output
