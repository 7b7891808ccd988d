"""Tests for `webview-toolkit serve` and `reconcile`."""
import flask
import pytest
from click.testing import CliRunner

from webview_toolkit.cli import main
from webview_toolkit.web.extensions import services


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ("KISPG_ENV", "KISPG_MID", "KISPG_MERCHANT_KEY", "KISPG_BASE_URL", "WEBVIEW_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEBVIEW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("WEBVIEW_INSTANCE_PATH", str(tmp_path / "instance"))
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
    # The sandbox is reached in-process, whatever the port: serve sets no KISPG_BASE_URL of its own.
    assert app.config["KISPG_BASE_URL"] is None
    assert services(app).client.base_url == "http://sandbox.internal/sandbox/kispg"
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


# -- issue 17: start-up errors are one line; serve, reconcile and db agree on the database ----------

@pytest.fixture
def bare_env(tmp_path, monkeypatch):
    """No service settings at all in the environment; the instance folder under tmp_path."""
    from webview_toolkit.config import ENV_KEYS
    for name in ENV_KEYS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(flask.Flask, "run", lambda self, **kw: None)
    monkeypatch.setattr("webview_toolkit.cli.serve_cmd.lan_address", lambda: None)
    return tmp_path


def one_line_error(result, *parts):
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: "), result.output
    assert "Traceback" not in result.output
    for part in parts:
        assert part in result.output, result.output


@pytest.mark.parametrize("command", [["serve"], ["reconcile"], ["db", "status"]])
def test_a_real_merchant_without_kispg_env_refuses_to_start(bare_env, monkeypatch, command):
    monkeypatch.setenv("KISPG_MID", "kistest00m")
    monkeypatch.setenv("KISPG_MERCHANT_KEY", "SeCrEt" * 10)
    result = CliRunner().invoke(main, command)
    one_line_error(result, "KISPG_ENV is not set but KISPG_MID, KISPG_MERCHANT_KEY are", "KISPG_ENV=prod")
    assert "SeCrEt" not in result.output


@pytest.mark.parametrize("name, value", [("KISPG_TIMEOUT", "nan"), ("KISPG_TIMEOUT", "inf"), ("KISPG_TIMEOUT", "1e309"),
                                         ("KISPG_RECONCILE_AFTER", "1e300"), ("WEBVIEW_ADMIN_TOKEN", "x")])
def test_bad_numbers_are_one_line(bare_env, monkeypatch, name, value):
    monkeypatch.setenv("KISPG_ENV", "sandbox")
    monkeypatch.setenv(name, value)
    one_line_error(CliRunner().invoke(main, ["serve"]), f"{name} must be")


@pytest.mark.parametrize("url, says", [
    ("not a url", "is not a database URL"),
    ("nosuchdb://user:hunter22@localhost/x", "names a database SQLAlchemy does not know"),
    ("mysql+pymysql://shop:hunter22@127.0.0.1:1/shop", "needs the database driver 'pymysql', which is not installed: "
                                                       "pip install 'PyMySQL'"),
    ("postgresql+psycopg://shop:hunter22@127.0.0.1:1/shop", "cannot be used"),
    ("sqlite:////nonexistent-folder-for-tests/x.sqlite3", "cannot be used: unable to open database file"),
])
@pytest.mark.parametrize("command", [["serve"], ["reconcile"], ["db", "upgrade"], ["db", "status"]])
def test_a_bad_database_url_is_one_line_without_its_password(bare_env, monkeypatch, url, says, command):
    monkeypatch.setenv("WEBVIEW_DATABASE_URL", url)
    result = CliRunner().invoke(main, command)
    one_line_error(result, says)
    assert "hunter22" not in result.output
    if "shop:" in url:
        assert "shop:***@127.0.0.1" in result.output


def test_serve_reconcile_and_db_use_one_database(bare_env, monkeypatch):
    instance = bare_env / "data" / "webview-toolkit"
    expected = f"sqlite:///{instance}/webview-toolkit.sqlite3"
    assert not instance.exists()
    served = CliRunner().invoke(main, ["serve"])
    assert served.exit_code == 0, served.output
    assert f"database:     {expected}" in served.output
    assert instance.is_dir(), "the missing instance folder was created"
    status = CliRunner().invoke(main, ["db", "status"])
    assert status.output.startswith(f"{expected}: at ")
    monkeypatch.chdir(bare_env)  # cron runs elsewhere: same database
    assert CliRunner().invoke(main, ["reconcile"]).exit_code == 0
    monkeypatch.setenv("WEBVIEW_INSTANCE_PATH", str(bare_env / "elsewhere"))
    moved = CliRunner().invoke(main, ["db", "status"])
    assert moved.output.startswith(f"sqlite:///{bare_env / 'elsewhere'}/webview-toolkit.sqlite3: at ")


def test_an_instance_folder_that_cannot_be_made_is_one_line(bare_env, monkeypatch):
    blocker = bare_env / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("WEBVIEW_INSTANCE_PATH", str(blocker / "instance"))
    one_line_error(CliRunner().invoke(main, ["serve"]), "set WEBVIEW_INSTANCE_PATH to a folder this user may write")


def test_reconcile_logs_its_run_under_one_id(bare_env, monkeypatch):
    from webview_toolkit import logs
    monkeypatch.setenv("WEBVIEW_LOG_FORMAT", "json")
    seen = []
    monkeypatch.setattr("webview_toolkit.payments.Payments.reconcile_all", lambda self: seen.append(logs.request_id()) or [])
    assert CliRunner().invoke(main, ["reconcile"]).exit_code == 0
    assert len(seen) == 1 and seen[0] != "-" and logs.request_id() == "-"
    import logging
    logs.handler().setFormatter(logging.Formatter(logs.TEXT_FORMAT))
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
