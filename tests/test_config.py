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
                      WEBVIEW_PUBLIC_URL="https://shop.example", WEBVIEW_ADMIN_TOKEN="admin-token", WEBVIEW_API_TOKEN="api-token")
    resolve(config, str(tmp_path))
    assert config["KISPG_TIMEOUT"] == 10.0
    assert config["KISPG_RECONCILE_AFTER"] == 25.0, "twice the read timeout and a margin"


@pytest.mark.parametrize("values, problem", [
    ({"KISPG_ENV": "staging"}, "KISPG_ENV must be one of sandbox, test, prod"),
    ({"KISPG_TIMEOUT": "soon"}, "KISPG_TIMEOUT must be a positive number"),
    ({"KISPG_TIMEOUT": "-1"}, "KISPG_TIMEOUT must be a positive number"),
    ({"KISPG_RECONCILE_AFTER": "-5"}, "KISPG_RECONCILE_AFTER must be a number of seconds, at least 0"),
    ({"KISPG_ENV": "sandbox", "KISPG_MID": "short", "KISPG_MERCHANT_KEY": "k"}, "KISPG_MID must be 10 bytes"),
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


@pytest.mark.parametrize("given, expected", [(None, "auto"), ("", "auto"), ("page", "page"), ("iframe", "iframe")])
def test_checkout_mode_defaults_to_auto(tmp_path, given, expected):
    config = settings(WEBVIEW_CHECKOUT_MODE=given)
    resolve(config, str(tmp_path))
    assert config["WEBVIEW_CHECKOUT_MODE"] == expected


def test_checkout_mode_is_read_from_the_environment_and_checked(tmp_path):
    config = settings(**from_environment({"WEBVIEW_CHECKOUT_MODE": "popup"}))
    with pytest.raises(ConfigError, match="WEBVIEW_CHECKOUT_MODE must be one of auto, page, iframe, got 'popup'"):
        resolve(config, str(tmp_path))


# -- issue 17: no silent sandbox, bounded numbers, token minimum, one instance folder ---------------

@pytest.mark.parametrize("values, named", [
    ({"KISPG_MID": "kistest00m", "KISPG_MERCHANT_KEY": "k" * 40}, "KISPG_MID, KISPG_MERCHANT_KEY are"),
    ({"WEBVIEW_API_TOKEN": "api-token-1234"}, "WEBVIEW_API_TOKEN is"),
    ({"WEBVIEW_PUBLIC_URL": "https://shop.example"}, "WEBVIEW_PUBLIC_URL is"),
])
def test_production_settings_without_kispg_env_refuse_to_start(tmp_path, values, named):
    with pytest.raises(ConfigError) as info:
        resolve(settings(**values), str(tmp_path))
    message = str(info.value)
    assert message == (f"KISPG_ENV is not set but {named}: set KISPG_ENV=prod (or test) for KISPG, "
                       "or KISPG_ENV=sandbox to run the sandbox")
    assert "\n" not in message and "k" * 40 not in message


@pytest.mark.parametrize("values", [{}, {"WEBVIEW_PUBLIC_URL": "http://192.168.0.5:5000"},
                                    {"WEBVIEW_PUBLIC_URL": "https://localhost:5000"}])
def test_nothing_production_like_runs_the_sandbox(tmp_path, values):
    config = settings(**values)
    resolve(config, str(tmp_path))
    assert config["KISPG_ENV"] == "sandbox"


def test_the_sandbox_chosen_explicitly_may_have_a_merchant(tmp_path):
    config = settings(KISPG_ENV="sandbox", KISPG_MID="kistest00m", KISPG_MERCHANT_KEY="k" * 40)
    resolve(config, str(tmp_path))
    assert config["KISPG_MID"] == "kistest00m"


@pytest.mark.parametrize("key, value", [
    ("KISPG_TIMEOUT", "nan"), ("KISPG_TIMEOUT", "inf"), ("KISPG_TIMEOUT", "1e309"), ("KISPG_TIMEOUT", "-inf"),
    ("KISPG_TIMEOUT", "100000"), ("KISPG_RECONCILE_AFTER", "1e300"), ("KISPG_RECONCILE_AFTER", "nan"),
    ("KISPG_RECONCILE_AFTER", "inf"), ("WEBVIEW_ORDER_TTL", "0"), ("WEBVIEW_ORDER_TTL", "soon"),
    ("WEBVIEW_ORDER_TTL", "1e309"), ("WEBVIEW_MAX_CONTENT_LENGTH", "10"), ("WEBVIEW_MAX_CONTENT_LENGTH", "big"),
    ("WEBVIEW_LOG_FORMAT", "xml"), ("WEBVIEW_TRUSTED_PROXIES", "10.0.0.1, proxy.internal"),
])
def test_unusable_numbers_and_choices_are_named(tmp_path, key, value):
    with pytest.raises(ConfigError, match=f"^{key} must be") as info:
        resolve(settings(KISPG_ENV="sandbox", **{key: value}), str(tmp_path))
    assert "\n" not in str(info.value)


def test_new_settings_have_documented_defaults(tmp_path):
    config = settings()
    resolve(config, str(tmp_path))
    assert config["WEBVIEW_ORDER_TTL"] == 1800 and config["WEBVIEW_MAX_CONTENT_LENGTH"] == 65536
    assert config["WEBVIEW_LOG_FORMAT"] == "text" and not config["WEBVIEW_TRUSTED_PROXIES"]
    proxies = settings(WEBVIEW_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8")
    resolve(proxies, str(tmp_path))
    assert [str(n) for n in proxies["WEBVIEW_TRUSTED_PROXIES"]] == ["127.0.0.1/32", "10.0.0.0/8"]


@pytest.mark.parametrize("key", ["WEBVIEW_ADMIN_TOKEN", "WEBVIEW_API_TOKEN"])
def test_short_tokens_are_refused(tmp_path, key):
    with pytest.raises(ConfigError, match=f"{key} must be at least 8 characters, got 1"):
        resolve(settings(KISPG_ENV="sandbox", **{key: "x"}), str(tmp_path))
    config = settings(KISPG_ENV="sandbox", **{key: "x" * 8})
    resolve(config, str(tmp_path))


def test_the_instance_folder_is_one_place_whatever_the_install(tmp_path, monkeypatch):
    from webview_toolkit.config import instance_path
    assert instance_path({"WEBVIEW_INSTANCE_PATH": str(tmp_path / "x")}) == str(tmp_path / "x")
    assert instance_path({"XDG_DATA_HOME": str(tmp_path)}) == str(tmp_path / "webview-toolkit")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert instance_path({}) == str(tmp_path / "home" / ".local" / "share" / "webview-toolkit")
    monkeypatch.chdir(tmp_path)
    assert instance_path({"WEBVIEW_INSTANCE_PATH": "rel"}) == str(tmp_path / "rel"), "made absolute once"


def test_a_missing_instance_folder_is_created(tmp_path):
    folder = tmp_path / "not" / "yet"
    config = settings(KISPG_ENV="sandbox", KISPG_MID="kistest00m", KISPG_MERCHANT_KEY="k" * 40)
    resolve(config, str(folder))
    assert folder.is_dir() and config["WEBVIEW_DATABASE_URL"] == f"sqlite:///{folder}/webview-toolkit.sqlite3"
# -- webhooks -------------------------------------------------------------------------------------------

PROD = dict(KISPG_ENV="prod", KISPG_MID="kistest00m", KISPG_MERCHANT_KEY="k" * 20,
            WEBVIEW_PUBLIC_URL="https://shop.example", WEBVIEW_ADMIN_TOKEN="admin-token-a", WEBVIEW_API_TOKEN="api-token-b")
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
