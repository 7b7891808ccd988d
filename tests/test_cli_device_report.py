"""Tests for `webview-toolkit device-report`."""
import json

import flask
import pytest
from click.testing import CliRunner

from webview_toolkit import device_reports as reports
from webview_toolkit.cli import main
from webview_toolkit.store import OrderStore
from webview_toolkit.useragent import classify

from .service_helpers import UA


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ("KISPG_ENV", "KISPG_MID", "KISPG_MERCHANT_KEY", "KISPG_BASE_URL", "WEBVIEW_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("WEBVIEW_DATABASE_URL", url)
    monkeypatch.setattr(flask.Flask, "instance_path", str(tmp_path / "instance"), raising=False)
    store = OrderStore(url)
    report_id, token = reports.create_report(store.engine, UA["safari_ios"], classify(UA["safari_ios"]), "지수")
    reports.record_result(store.engine, report_id, token, "isp", "opened", {"isp"})
    store.dispose()
    return report_id


def test_csv(env):
    result = CliRunner().invoke(main, ["device-report", "--format", "csv"])
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    assert header == ",".join(reports.CSV_HEADER)
    assert row.startswith(f"{env},") and row.endswith(",isp,opened") and ",지수,ios,false,safari," in row


def test_json(env):
    result = CliRunner().invoke(main, ["device-report", "--format", "json"])
    assert result.exit_code == 0
    [report] = json.loads(result.output)["reports"]
    assert (report["id"], report["tester"], report["results"]) == (env, "지수", {"isp": "opened"})


def test_bad_format_is_one_line(env):
    result = CliRunner().invoke(main, ["device-report", "--format", "xml"])
    assert result.exit_code == 2 and "'xml' is not one of 'csv', 'json'" in result.output
