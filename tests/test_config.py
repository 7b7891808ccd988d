"""Tests for settings: defaults, environment, refusal outside the sandbox."""
import pytest

from webview_toolkit.config import DEFAULTS, ConfigError, from_environment, resolve, sandbox_merchant


def settings(**values):
    return {**DEFAULTS, **values}


def test_sandbox_defaults(tmp_path):
    config = settings()
    resolve(config, str(tmp_path))
    assert config["KISPG_MID"] == "sandbox00m" and len(config["KISPG_MERCHANT_KEY"]) >= 32
    assert config["WEBVIEW_DATABASE_URL"] == f"sqlite:///{tmp_path}/webview-toolkit.sqlite3"


def test_generated_sandbox_merchant_is_shared_by_every_worker(tmp_path):
    assert sandbox_merchant(str(tmp_path)) == sandbox_merchant(str(tmp_path))
    assert oct((tmp_path / "sandbox-merchant.json").stat().st_mode)[-3:] == "600"


@pytest.mark.parametrize("env", ["test", "prod"])
def test_real_kispg_needs_credentials_and_tokens(tmp_path, env):
    with pytest.raises(ConfigError) as info:
        resolve(settings(KISPG_ENV=env), str(tmp_path))
    message = str(info.value)
    for name in ("KISPG_MID", "KISPG_MERCHANT_KEY", "WEBVIEW_PUBLIC_URL", "WEBVIEW_ADMIN_TOKEN", "WEBVIEW_API_TOKEN"):
        assert name in message


def test_complete_prod_settings(tmp_path):
    config = settings(KISPG_ENV="prod", KISPG_MID="kistest00m", KISPG_MERCHANT_KEY="k" * 20,
                      WEBVIEW_PUBLIC_URL="https://shop.example", WEBVIEW_ADMIN_TOKEN="a", WEBVIEW_API_TOKEN="b")
    resolve(config, str(tmp_path))
    assert config["KISPG_TIMEOUT"] == 10.0
    assert config["KISPG_RECONCILE_AFTER"] == 25.0, "twice the read timeout and a margin"


@pytest.mark.parametrize("values, problem", [
    ({"KISPG_ENV": "staging"}, "KISPG_ENV must be one of sandbox, test, prod"),
    ({"KISPG_TIMEOUT": "soon"}, "KISPG_TIMEOUT must be a positive number"),
    ({"KISPG_TIMEOUT": "-1"}, "KISPG_TIMEOUT must be a positive number"),
    ({"KISPG_RECONCILE_AFTER": "-5"}, "KISPG_RECONCILE_AFTER must be a number of seconds, at least 0"),
    ({"KISPG_MID": "short", "KISPG_MERCHANT_KEY": "k"}, "KISPG_MID must be 10 bytes"),
    ({"WEBVIEW_PUBLIC_URL": "shop.example"}, "WEBVIEW_PUBLIC_URL must be an absolute"),
    ({"WEBVIEW_APP_SCHEME": "myshop"}, "WEBVIEW_APP_SCHEME must look like 'myapp://'"),
])
def test_bad_settings_are_named(tmp_path, values, problem):
    with pytest.raises(ConfigError, match=problem):
        resolve(settings(**values), str(tmp_path))


def test_merchant_key_is_never_in_an_error(tmp_path):
    key = "SeCrEtKeY" * 8
    with pytest.raises(ConfigError) as info:
        resolve(settings(KISPG_ENV="prod", KISPG_MID="bad", KISPG_MERCHANT_KEY=key), str(tmp_path))
    assert key not in str(info.value)


def test_environment_overrides_and_empty_values():
    env = {"KISPG_ENV": "test", "KISPG_MID": "", "UNRELATED": "x", "WEBVIEW_API_TOKEN": "t"}
    assert from_environment(env) == {"KISPG_ENV": "test", "WEBVIEW_API_TOKEN": "t"}


# -- webhooks -------------------------------------------------------------------------------------------

PROD = dict(KISPG_ENV="prod", KISPG_MID="kistest00m", KISPG_MERCHANT_KEY="k" * 20,
            WEBVIEW_PUBLIC_URL="https://shop.example", WEBVIEW_ADMIN_TOKEN="a", WEBVIEW_API_TOKEN="b")
WEBHOOK_SECRET = "whsec_config-tests-" + "x" * 12


def test_webhook_urls_are_one_or_more(tmp_path):
    config = settings(**PROD, WEBVIEW_WEBHOOK_URL="https://a.example/hook, https://b.example/hook\nhttp://c.example",
                      WEBVIEW_WEBHOOK_SECRET=WEBHOOK_SECRET)
    resolve(config, str(tmp_path))
    assert config["WEBVIEW_WEBHOOK_URLS"] == ("https://a.example/hook", "https://b.example/hook", "http://c.example")
    assert config["WEBVIEW_WEBHOOK_WORKER"] is True and config["WEBVIEW_WEBHOOK_ALLOW_PRIVATE"] is False


def test_no_webhook_url_means_no_receivers(tmp_path):
    config = settings()
    resolve(config, str(tmp_path))
    assert config["WEBVIEW_WEBHOOK_URLS"] == ()


@pytest.mark.parametrize("url, problem", [
    ("ftp://shop.example/hook", "must be an absolute http:// or https:// URL"),
    ("shop.example/hook", "must be an absolute http:// or https:// URL"),
    ("http://127.0.0.1:8000/hook", "loopback or private address"),
    ("http://localhost/hook", "loopback address"),
    ("http://10.1.2.3/hook", "loopback or private address"),
    ("http://192.168.0.10/hook", "loopback or private address"),
    ("http://169.254.169.254/latest/meta-data", "loopback or private address"),
    ("http://[::1]/hook", "loopback or private address"),
    ("http://[::ffff:10.0.0.1]/hook", "loopback or private address"),
    ("http://shop.example:port/hook", "is not a URL"),
])
def test_a_bad_or_private_receiver_is_refused_outside_the_sandbox(tmp_path, url, problem):
    with pytest.raises(ConfigError, match=problem):
        resolve(settings(**PROD, WEBVIEW_WEBHOOK_URL=url, WEBVIEW_WEBHOOK_SECRET=WEBHOOK_SECRET), str(tmp_path))


def test_private_receivers_when_allowed_and_in_the_sandbox(tmp_path):
    allowed = settings(**PROD, WEBVIEW_WEBHOOK_URL="http://10.0.0.7/hook", WEBVIEW_WEBHOOK_SECRET=WEBHOOK_SECRET,
                       WEBVIEW_WEBHOOK_ALLOW_PRIVATE="1")
    resolve(allowed, str(tmp_path))
    sandbox = settings(WEBVIEW_WEBHOOK_URL="http://127.0.0.1:9000/hook", WEBVIEW_WEBHOOK_SECRET=WEBHOOK_SECRET)
    resolve(sandbox, str(tmp_path))
    assert sandbox["WEBVIEW_WEBHOOK_URLS"] == ("http://127.0.0.1:9000/hook",)


def test_a_receiver_url_needs_a_secret_and_the_secret_is_never_shown(tmp_path):
    with pytest.raises(ConfigError, match="WEBVIEW_WEBHOOK_URL needs WEBVIEW_WEBHOOK_SECRET"):
        resolve(settings(WEBVIEW_WEBHOOK_URL="http://127.0.0.1:9/h"), str(tmp_path))
    short = "tiny-secret"
    with pytest.raises(ConfigError, match="at least 16 characters, got 11") as info:
        resolve(settings(WEBVIEW_WEBHOOK_URL="http://127.0.0.1:9/h", WEBVIEW_WEBHOOK_SECRET=short), str(tmp_path))
    assert short not in str(info.value)


def test_receiver_credentials_are_not_shown_in_errors(tmp_path):
    with pytest.raises(ConfigError) as info:
        resolve(settings(**PROD, WEBVIEW_WEBHOOK_URL="http://user:pa55word@10.0.0.1/h?token=abc",
                         WEBVIEW_WEBHOOK_SECRET=WEBHOOK_SECRET), str(tmp_path))
    assert "pa55word" not in str(info.value) and "token=abc" not in str(info.value)


@pytest.mark.parametrize("key", ["WEBVIEW_WEBHOOK_ALLOW_PRIVATE", "WEBVIEW_WEBHOOK_WORKER"])
def test_webhook_flags_are_booleans(tmp_path, key):
    with pytest.raises(ConfigError, match=f"{key} must be 1 or 0, got 'maybe'"):
        resolve(settings(**{key: "maybe"}), str(tmp_path))
    config = settings(**{key: "0"})
    resolve(config, str(tmp_path))
    assert config[key] is False
