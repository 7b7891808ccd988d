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
