"""Tests for `webview-toolkit serve` and `reconcile`."""
import flask
import pytest
from click.testing import CliRunner

from webview_toolkit.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ("KISPG_ENV", "KISPG_MID", "KISPG_MERCHANT_KEY", "KISPG_BASE_URL", "WEBVIEW_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEBVIEW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setattr(flask.Flask, "instance_path", str(tmp_path / "instance"), raising=False)
    return tmp_path


def test_serve_prints_urls_and_a_qr_code(env, monkeypatch):
    runs = []
    monkeypatch.setattr(flask.Flask, "run", lambda self, **kw: runs.append((self, kw)))
    monkeypatch.setattr("webview_toolkit.cli.serve_cmd.lan_address", lambda: "192.168.0.23")
    result = CliRunner().invoke(main, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "local:        http://127.0.0.1:8123/device-test" in result.output
    assert "phone:        http://192.168.0.23:8123/device-test" in result.output
    assert "█" in result.output or "▀" in result.output
    app, options = runs[0]
    assert options == {"host": "0.0.0.0", "port": 8123, "threaded": True, "use_reloader": False}
    assert app.config["KISPG_BASE_URL"] == "http://127.0.0.1:8123/sandbox/kispg"
    assert app.config["KISPG_MERCHANT_KEY"] not in result.output


def test_serve_refuses_incomplete_prod_settings(env, monkeypatch):
    monkeypatch.setenv("KISPG_ENV", "prod")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: configuration: KISPG_ENV=prod needs KISPG_MID, KISPG_MERCHANT_KEY")
    assert "Traceback" not in result.output


def test_reconcile_with_nothing_stuck(env):
    result = CliRunner().invoke(main, ["reconcile"])
    assert result.exit_code == 0, result.output
    assert result.output == "0 orders looked at, 0 still unresolved\n"


@pytest.mark.parametrize("args, threads", [([], 1), (["--no-webhook-worker"], 0)])
def test_serve_delivers_webhooks_from_a_thread_unless_told_not_to(env, monkeypatch, args, threads):
    monkeypatch.setenv("WEBVIEW_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("WEBVIEW_WEBHOOK_SECRET", "whsec_serve-test-0123456789")
    monkeypatch.setattr(flask.Flask, "run", lambda self, **kw: None)
    started = []
    monkeypatch.setattr("webview_toolkit.webhooks.delivery.start_thread", lambda deliverer: started.append(deliverer))
    result = CliRunner().invoke(main, ["serve", "--port", "8124", *args])
    assert result.exit_code == 0, result.output
    assert len(started) == threads
    assert ("delivered from this process" in result.output) is bool(threads)
    assert "whsec_serve-test" not in result.output
