"""Fixtures and hooks only: a service app wired to its own sandbox in-process, the sandbox alone, a
live server, the session's browser, and the merchant-key scan. Helpers live in tests/*_helpers.py.

A module marked `pytestmark = pytest.mark.postgres` runs every test that uses `app`, `client`
or `live_server` (any test asking for `database_url`) twice: on a fresh SQLite file and on a
fresh database in a throwaway PostgreSQL cluster (tests/pg_cluster.py), started once per
session. Without the server binaries those runs are skipped, except in CI (CI=true), where
that is a failure.

Every response any Flask app produces in the suite, every log record and every CliRunner
output is scanned for the merchant keys in play; a leak fails the session's last test.
"""
from __future__ import annotations

import logging
import os
from contextlib import ExitStack

import pytest
from hypothesis import settings

from webview_toolkit.kispg.sandbox import create_sandbox_app
from webview_toolkit.web.extensions import services

from .key_leak_scan import KeyLeakScan
from .loopback import served
from .pg_cluster import PgCluster, PgUnavailable
from .sandbox_helpers import KEY, MID, REGISTRY, Clock
from .service_helpers import service_config

# CI replays the same generated examples every run, so a green build stays green; local runs
# keep exploring new ones (and a failure there is printed with the example to pin it by).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc):
    # The `postgres` marker (pyproject.toml) says which tests also run on PostgreSQL.
    if "database_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker("postgres"):
        metafunc.parametrize("database_url", BACKENDS, indirect=True)


@pytest.fixture(scope="session", autouse=True)
def instance_folder(tmp_path_factory):
    """Whatever a test forgets to configure, the suite never writes to the real per-user data folder."""
    folder = tmp_path_factory.mktemp("instance")
    old = os.environ.get("WEBVIEW_INSTANCE_PATH")
    os.environ["WEBVIEW_INSTANCE_PATH"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("WEBVIEW_INSTANCE_PATH", None)
    else:
        os.environ["WEBVIEW_INSTANCE_PATH"] = old


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster on loopback for the whole session."""
    try:
        cluster = PgCluster.start()
    except PgUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"CI must run the PostgreSQL tests: {exc}")
        pytest.skip(str(exc))
    yield cluster
    cluster.stop()


@pytest.fixture
def database_url(request, tmp_path):
    """A fresh, empty database for one test: a SQLite file, or a new database in the session's cluster."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'orders.sqlite3'}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.create_database()
    yield url
    cluster.drop_database(url)


@pytest.fixture
def app(tmp_path, database_url):
    from webview_toolkit.web import create_app
    app = create_app(service_config(tmp_path, WEBVIEW_DATABASE_URL=database_url))
    yield app
    services(app).store.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_server_factory(tmp_path, database_url):
    """Start the service on a real loopback socket (threaded), talking to its sandbox over HTTP.

    `start(**config)` → (base URL, app); settings override service_config's. Stopped after the test.
    """
    from webview_toolkit.web import create_app

    with ExitStack() as running:
        def start(**overrides):
            holder = {}
            # Exits run last-first: the server stops before its store is disposed.
            running.callback(lambda: holder and services(holder["app"]).store.dispose())
            # The app needs its own URL, known once the socket is bound: the server calls it through holder.
            base = running.enter_context(served(lambda environ, respond: holder["app"](environ, respond)))
            holder["app"] = create_app(service_config(
                tmp_path, WEBVIEW_DATABASE_URL=database_url, WEBVIEW_PUBLIC_URL=base,
                KISPG_BASE_URL=f"{base}/sandbox/kispg", KISPG_SESSION_FACTORY=None, **overrides))
            return base, holder["app"]

        yield start


@pytest.fixture
def live_server(live_server_factory):
    """The service on a real loopback socket (threaded), talking to its sandbox over HTTP."""
    return live_server_factory()


# -- a webhook receiver, for the webhook tests ----------------------------------------------------------

@pytest.fixture
def receiver():
    """A webhook receiver listening on loopback (tests/webhook_helpers.py), stopped after the test."""
    from .webhook_helpers import Receiver
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


# -- the sandbox alone, for tests/test_kispg_sandbox*.py (tests/sandbox_helpers.py) ----------------------

@pytest.fixture
def clock():
    """The sandbox's clock, fixed at sandbox_helpers.NOW; a test moves it by setting `.now`."""
    return Clock()


@pytest.fixture
def sandbox(clock):
    """The sandbox as its own app, on the small registry, with sleeps (the timeout fault) skipped."""
    app = create_sandbox_app({"KISPG_MID": MID, "KISPG_MERCHANT_KEY": KEY, "KISPG_SANDBOX_CLOCK": clock},
                             registry=REGISTRY)
    app.extensions["kispg_sandbox"].sleep = lambda seconds: None
    return app


@pytest.fixture
def web(sandbox):
    """A test client of the sandbox app."""
    return sandbox.test_client()


# -- the browser, for tests/test_e2e_*.py (here so that every e2e module shares the one session browser) ----

@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; each case gets its own context."""
    from playwright.sync_api import expect, sync_playwright

    from .e2e_helpers import LAUNCH_ARGS, WAIT_MS, chromium_or_skip, update_docs
    executable = chromium_or_skip()
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()
    if os.environ.get("WEBVIEW_E2E_UPDATE_DOCS") == "1":
        update_docs()


@pytest.fixture
def open_context(browser, live_server):
    """`open_context(ua, platform, **options)` → (context, Watch); closed, and checked loopback-only, after the test."""
    from .e2e_helpers import PROFILES, WAIT_MS, Watch
    base, _ = live_server
    opened = []

    def open_(ua: str, platform: str, **options):
        context = browser.new_context(user_agent=ua, locale="ko-KR", **PROFILES[platform], **options)
        context.set_default_timeout(WAIT_MS)
        watch = Watch(base)
        watch.attach(context)
        opened.append((context, watch))
        return context, watch

    yield open_
    for context, watch in opened:
        context.close()
    for _, watch in opened:
        assert watch.blocked == [], f"requests left 127.0.0.1: {watch.blocked}"


# -- the merchant key never leaves: a scan over the whole session ---------------------------------------

@pytest.fixture(scope="session", autouse=True)
def merchant_key_scan():
    """Install the scan for the session; its finalizer fails the run when a key leaked."""
    from click.testing import CliRunner
    from flask import request_finished

    scan = KeyLeakScan()
    root, ours = logging.getLogger(), logging.getLogger("webview_toolkit")
    old_levels = root.level, ours.level
    root.addHandler(scan)
    # Every library's INFO and up, and our package's DEBUG, is made and scanned (urllib3's chatty DEBUG is not).
    root.setLevel(logging.INFO)
    ours.setLevel(logging.DEBUG)
    request_finished.connect(scan.response, weak=False)
    invoke = CliRunner.invoke

    def scanned_invoke(self, cli, args=None, **kwargs):
        result = invoke(self, cli, args, **kwargs)
        scan.check(f"CLI {getattr(cli, 'name', cli)} {args}", f"{result.output}\n{result.exception!r}")
        return result

    CliRunner.invoke = scanned_invoke
    yield scan
    CliRunner.invoke = invoke
    request_finished.disconnect(scan.response)
    root.removeHandler(scan)
    root.setLevel(old_levels[0])
    ours.setLevel(old_levels[1])
    assert not scan.leaks, f"the merchant key leaked {len(scan.leaks)} times:\n" + "\n".join(scan.leaks[:20])
