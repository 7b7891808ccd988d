"""Service settings: embedded defaults, then environment variables, then the test config."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Mapping

ENVIRONMENTS = ("sandbox", "test", "prod")

# Environment variable → config key; everything the service reads from the environment.
ENV_KEYS = (
    "KISPG_ENV", "KISPG_MID", "KISPG_MERCHANT_KEY", "KISPG_BASE_URL", "KISPG_TIMEOUT", "KISPG_RECONCILE_AFTER",
    "WEBVIEW_DATABASE_URL", "WEBVIEW_PUBLIC_URL", "WEBVIEW_ADMIN_TOKEN", "WEBVIEW_API_TOKEN",
    "WEBVIEW_APP_UA_TOKEN", "WEBVIEW_APP_SCHEME",
    "WEBVIEW_WEBHOOK_URL", "WEBVIEW_WEBHOOK_SECRET", "WEBVIEW_WEBHOOK_ALLOW_PRIVATE", "WEBVIEW_WEBHOOK_WORKER",
)

DEFAULTS = {
    "KISPG_ENV": "sandbox",
    "KISPG_MID": None,
    "KISPG_MERCHANT_KEY": None,
    "KISPG_BASE_URL": None,
    "KISPG_TIMEOUT": 10.0,
    "KISPG_CONNECT_TIMEOUT": 3.0,
    # Seconds after which KISPG not showing an approval or cancel means it did not happen.
    "KISPG_RECONCILE_AFTER": None,
    "WEBVIEW_DATABASE_URL": None,
    "WEBVIEW_PUBLIC_URL": None,
    "WEBVIEW_ADMIN_TOKEN": None,
    "WEBVIEW_API_TOKEN": None,
    "WEBVIEW_APP_UA_TOKEN": None,
    "WEBVIEW_APP_SCHEME": None,
    # One or more receiver URLs (comma or space separated), and the secret their events are signed with.
    "WEBVIEW_WEBHOOK_URL": None,
    "WEBVIEW_WEBHOOK_SECRET": None,
    # Loopback and private receivers are refused outside the sandbox unless this is set.
    "WEBVIEW_WEBHOOK_ALLOW_PRIVATE": False,
    # Whether `serve` runs the delivery worker in a thread (set 0 when `webview-toolkit worker` runs apart).
    "WEBVIEW_WEBHOOK_WORKER": True,
}
WEBHOOK_SECRET_MIN = 16
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")

SANDBOX_MID = "sandbox00m"


class ConfigError(Exception):
    """The settings cannot run the service; the message names every missing or bad setting."""


def from_environment(environ: Mapping[str, str]) -> dict:
    """The settings given in the environment (empty values count as unset)."""
    return {key: environ[key] for key in ENV_KEYS if environ.get(key)}


def resolve(config: dict, instance_path: str) -> None:
    """Fill derived settings in place and refuse what cannot run; raise ConfigError."""
    problems = []
    env = config["KISPG_ENV"]
    if env not in ENVIRONMENTS:
        problems.append(f"KISPG_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    try:
        config["KISPG_TIMEOUT"] = float(config["KISPG_TIMEOUT"])
        if config["KISPG_TIMEOUT"] <= 0:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(f"KISPG_TIMEOUT must be a positive number of seconds, got {config['KISPG_TIMEOUT']!r}")
    else:
        if config.get("KISPG_RECONCILE_AFTER") is None:
            # Past twice the read timeout (and a margin) a lost request is no longer being processed.
            config["KISPG_RECONCILE_AFTER"] = config["KISPG_TIMEOUT"] * 2 + 5
    if config.get("KISPG_RECONCILE_AFTER") is not None:
        try:
            config["KISPG_RECONCILE_AFTER"] = float(config["KISPG_RECONCILE_AFTER"])
            if config["KISPG_RECONCILE_AFTER"] < 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append("KISPG_RECONCILE_AFTER must be a number of seconds, at least 0, "
                            f"got {config['KISPG_RECONCILE_AFTER']!r}")
    if env == "sandbox":
        if not config["KISPG_MID"] or not config["KISPG_MERCHANT_KEY"]:
            config["KISPG_MID"], config["KISPG_MERCHANT_KEY"] = sandbox_merchant(instance_path)
    else:
        required = ("KISPG_MID", "KISPG_MERCHANT_KEY", "WEBVIEW_PUBLIC_URL", "WEBVIEW_ADMIN_TOKEN", "WEBVIEW_API_TOKEN")
        missing = [key for key in required if not config.get(key)]
        if missing:
            problems.append(f"KISPG_ENV={env} needs {', '.join(missing)} (set them in the environment)")
    mid = config.get("KISPG_MID")
    if mid and len(mid.encode()) != 10:
        problems.append(f"KISPG_MID must be 10 bytes, got {len(mid.encode())}")
    public = config.get("WEBVIEW_PUBLIC_URL")
    if public and not public.startswith(("http://", "https://")):
        problems.append(f"WEBVIEW_PUBLIC_URL must be an absolute http(s) URL, got {public!r}")
    scheme = config.get("WEBVIEW_APP_SCHEME")
    if scheme and "://" not in scheme:
        # The guide's resultScheme examples are "kistestapp://"; a bare name would not open the app.
        problems.append(f"WEBVIEW_APP_SCHEME must look like 'myapp://', got {scheme!r}")
    problems += _webhook_problems(config, env)
    if problems:
        raise ConfigError("; ".join(problems))
    if not config["WEBVIEW_DATABASE_URL"]:
        config["WEBVIEW_DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "webview-toolkit.sqlite3")


def flag(value: object) -> bool | None:
    """A boolean setting from a bool or its usual spellings; None when it is neither."""
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    return True if text in TRUE else False if text in FALSE else None


def _webhook_problems(config: dict, env: str) -> list[str]:
    """Check the webhook settings, filling WEBVIEW_WEBHOOK_URLS (a tuple) and the flags; the problems."""
    from .webhooks import receivers

    problems = []
    for key in ("WEBVIEW_WEBHOOK_ALLOW_PRIVATE", "WEBVIEW_WEBHOOK_WORKER"):
        given = config.get(key, DEFAULTS[key])
        value = flag(given)
        if value is None:
            problems.append(f"{key} must be 1 or 0, got {given!r}")
        config[key] = bool(value)
    urls = receivers.parse_urls(config.get("WEBVIEW_WEBHOOK_URL"))
    config["WEBVIEW_WEBHOOK_URLS"] = urls
    # The sandbox runs on a laptop: a receiver there is on loopback or the LAN.
    allow_private = config["WEBVIEW_WEBHOOK_ALLOW_PRIVATE"] or env == "sandbox"
    for url in urls:
        problem = receivers.url_problem(url, allow_private=allow_private)
        if problem:
            problems.append(f"WEBVIEW_WEBHOOK_URL {receivers.shown(url)!r} {problem}")
    secret = config.get("WEBVIEW_WEBHOOK_SECRET")
    if urls and not secret:
        problems.append("WEBVIEW_WEBHOOK_URL needs WEBVIEW_WEBHOOK_SECRET (the key events are signed with)")
    elif secret and len(secret) < WEBHOOK_SECRET_MIN:
        # Only the length is said: the secret itself never appears in a message.
        problems.append(f"WEBVIEW_WEBHOOK_SECRET must be at least {WEBHOOK_SECRET_MIN} characters, "
                        f"got {len(secret)}")
    return problems


def sandbox_merchant(instance_path: str) -> tuple[str, str]:
    """The generated sandbox merchant, made once per instance folder so every worker agrees."""
    path = Path(instance_path) / "sandbox-merchant.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f".sandbox-merchant.{os.getpid()}.{secrets.token_hex(4)}")
        draft.write_text(json.dumps({"mid": SANDBOX_MID, "merchant_key": secrets.token_urlsafe(48)}), encoding="utf-8")
        draft.chmod(0o600)
        try:
            # A hard link is atomic and refuses to replace: the first worker's merchant wins.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["mid"], data["merchant_key"]
