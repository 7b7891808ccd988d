"""The sandbox's standing delay per endpoint (KISPG_SANDBOX_DELAY, `sandbox --delay`): our own test aid."""
from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from flask import Flask

from webview_toolkit.config import ConfigError
from webview_toolkit.kispg.result_codes import TRX_APPROVED
from webview_toolkit.kispg.sandbox import create_sandbox_app
from webview_toolkit.kispg.sandbox.delays import DelayError, parse_delays
from webview_toolkit.kispg.testing import sandbox_authenticate

from .sandbox_helpers import KEY, MID, NOW, REGISTRY, approve, form, inquire


@pytest.mark.parametrize("setting, expected", [
    ("payment=3", {"payment": 3.0}),
    ("payment=3, order=0.5", {"payment": 3.0, "order": 0.5}),
    ("cancel=0", {"cancel": 0.0}),
    ({"payment": 2}, {"payment": 2.0}),
    ("", {}),
    (None, {}),
])
def test_delays_are_read(setting, expected):
    assert dict(parse_delays(setting)) == expected


@pytest.mark.parametrize("setting, message", [
    ("payment", "needs endpoint=seconds, got 'payment'"),
    ("auth=1", "endpoint must be one of payment, cancel, order, got 'auth'"),
    ("payment=soon", "for payment must be seconds between 0 and 120, got 'soon'"),
    ("payment=-1", "for payment must be seconds between 0 and 120"),
    ("payment=nan", "for payment must be seconds between 0 and 120"),
    ("payment=121", "for payment must be seconds between 0 and 120"),
    ({"payment": True}, "for payment must be seconds"),
])
def test_bad_delays_name_the_part(setting, message):
    with pytest.raises(DelayError, match="^KISPG_SANDBOX_DELAY ") as caught:
        parse_delays(setting)
    assert message in str(caught.value)


def delayed_sandbox(setting):
    return create_sandbox_app({"KISPG_MID": MID, "KISPG_MERCHANT_KEY": KEY, "KISPG_SANDBOX_DELAY": setting,
                               "KISPG_SANDBOX_CLOCK": lambda: NOW},
                              registry=REGISTRY)


def test_a_delayed_approval_is_recorded_at_the_end_of_its_wait():
    app = delayed_sandbox("payment=3")
    sandbox = app.extensions["kispg_sandbox"]
    web = app.test_client()
    tid = sandbox_authenticate(web, "/v2/auth", form())["tid"]
    waits = []

    def sleep(seconds):
        # Still waiting: KISPG has approved nothing yet.
        waits.append((seconds, tid in sandbox.payments))

    sandbox.sleep = sleep
    assert approve(web, tid)["resultCd"] == "3001"
    assert waits == [(3.0, False)]
    assert inquire(web, tid=tid)["trxStatus"] == TRX_APPROVED
    assert waits == [(3.0, False)], "no delay was set for /v2/order"


def test_slow_approvals_wait_side_by_side():
    """Two approvals both reach their wait at once: the delay does not hold the sandbox's lock."""
    app = delayed_sandbox({"payment": 3})
    sandbox = app.extensions["kispg_sandbox"]
    tids = [sandbox_authenticate(app.test_client(), "/v2/auth", form())["tid"] for _ in range(2)]
    together = threading.Barrier(2, timeout=30)
    sandbox.sleep = lambda seconds: together.wait()
    answers = []
    threads = [threading.Thread(target=lambda t=t: answers.append(approve(app.test_client(), t)["resultCd"]))
               for t in tids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["3001", "3001"] and not together.broken


def test_without_a_delay_nothing_waits():
    app = delayed_sandbox(None)
    sandbox = app.extensions["kispg_sandbox"]
    sandbox.sleep = lambda seconds: pytest.fail("slept without a delay")
    web = app.test_client()
    assert approve(web, sandbox_authenticate(web, "/v2/auth", form())["tid"])["resultCd"] == "3001"


def test_a_bad_delay_stops_the_sandbox_from_starting():
    with pytest.raises(DelayError, match="endpoint must be one of"):
        delayed_sandbox("auth=1")


def test_the_service_reads_the_delay_for_its_built_in_sandbox(tmp_path, monkeypatch):
    from webview_toolkit.web import create_app

    monkeypatch.delenv("KISPG_SANDBOX_DELAY", raising=False)
    config = {"WEBVIEW_DATABASE_URL": f"sqlite:///{tmp_path / 'd.sqlite3'}", "WEBVIEW_INSTANCE_PATH": str(tmp_path),
              "KISPG_ENV": "sandbox"}
    monkeypatch.setenv("KISPG_SANDBOX_DELAY", "payment=2.5")
    assert dict(create_app(config).config["KISPG_SANDBOX_DELAY"]) == {"payment": 2.5}
    monkeypatch.setenv("KISPG_SANDBOX_DELAY", "payment=later")
    with pytest.raises(ConfigError, match="KISPG_SANDBOX_DELAY for payment must be seconds"):
        create_app(config)


def test_cli_delay(monkeypatch):
    from webview_toolkit.cli import main

    served = {}
    monkeypatch.delenv("KISPG_SANDBOX_DELAY", raising=False)
    monkeypatch.setattr(Flask, "run", lambda self, **kw: served.update(app=self))
    result = CliRunner().invoke(main, ["sandbox", "--delay", "payment=3", "--delay", "order=0.5"])
    assert result.exit_code == 0, result.output
    assert "/v2/payment answers 3 s late" in result.output and "/v2/order answers 0.5 s late" in result.output
    assert dict(served["app"].config["KISPG_SANDBOX_DELAY"]) == {"payment": 3.0, "order": 0.5}
    from_env = CliRunner().invoke(main, ["sandbox"], env={"KISPG_SANDBOX_DELAY": "cancel=1"})
    assert "/v2/cancel answers 1 s late" in from_env.output


def test_cli_bad_delay_is_one_line(monkeypatch):
    from webview_toolkit.cli import main

    monkeypatch.setattr(Flask, "run", lambda self, **kw: pytest.fail("served with a bad delay"))
    result = CliRunner().invoke(main, ["sandbox", "--delay", "payment=soon"])
    assert result.exit_code == 1
    assert result.output == ("Error: --delay: KISPG_SANDBOX_DELAY for payment must be seconds between 0 and 120, "
                             "got 'soon'\n")
