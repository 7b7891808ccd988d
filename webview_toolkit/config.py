"""Service settings: embedded defaults, then environment variables, then the test config."""
from __future__ import annotations

import ipaddress
import json
import os
import secrets
from pathlib import Path
from typing import Mapping

ENVIRONMENTS = ("sandbox", "test", "prod")

# Environment variable → config key; everything the service reads from the environment.
ENV_KEYS = (
    "KISPG_ENV", "KISPG_MID", "KISPG_MERCHANT_KEY", "KISPG_BASE_URL", "KISPG_TIMEOUT", "KISPG_RECONCILE_AFTER",
    "WEBVIEW_INQUIRY_INTERVAL",
    "WEBVIEW_DATABASE_URL", "WEBVIEW_PUBLIC_URL", "WEBVIEW_ADMIN_TOKEN", "WEBVIEW_API_TOKEN",
    "WEBVIEW_APP_UA_TOKEN", "WEBVIEW_APP_SCHEME", "KISPG_NOTI_ALLOW", "WEBVIEW_TRUSTED_PROXIES",
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
    # Seconds between two inquiries about one order, however many result-page views ask.
    "WEBVIEW_INQUIRY_INTERVAL": 10.0,
    "WEBVIEW_DATABASE_URL": None,
    "WEBVIEW_PUBLIC_URL": None,
    "WEBVIEW_ADMIN_TOKEN": None,
    "WEBVIEW_API_TOKEN": None,
    "WEBVIEW_APP_UA_TOKEN": None,
    "WEBVIEW_APP_SCHEME": None,
    # Where KISPG's notifications may come from (addresses or networks, comma-separated; '*' any).
    # Unset: the guide's two senders (§2.2), or any address with the sandbox.
    "KISPG_NOTI_ALLOW": None,
    # How many reverse proxies in front of the service to believe X-Forwarded-For from (0: none).
    "WEBVIEW_TRUSTED_PROXIES": 0,
}

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
    try:
        config["WEBVIEW_INQUIRY_INTERVAL"] = float(config["WEBVIEW_INQUIRY_INTERVAL"])
        if not 0 <= config["WEBVIEW_INQUIRY_INTERVAL"] <= 3600:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("WEBVIEW_INQUIRY_INTERVAL must be a number of seconds from 0 to 3600, "
                        f"got {config['WEBVIEW_INQUIRY_INTERVAL']!r}")
    allow = config.get("KISPG_NOTI_ALLOW")
    if allow is None:
        from .notifications import GUIDE_SOURCES
        allow = ("*",) if env == "sandbox" else GUIDE_SOURCES
    elif isinstance(allow, str):
        allow = tuple(part.strip() for part in allow.split(",") if part.strip())
    config["KISPG_NOTI_ALLOW"] = tuple(allow)
    for rule in config["KISPG_NOTI_ALLOW"]:
        if rule != "*":
            try:
                ipaddress.ip_network(rule, strict=False)
            except ValueError:
                problems.append(f"KISPG_NOTI_ALLOW has {rule!r}, not an address or network")
    try:
        config["WEBVIEW_TRUSTED_PROXIES"] = int(config["WEBVIEW_TRUSTED_PROXIES"])
        if not 0 <= config["WEBVIEW_TRUSTED_PROXIES"] <= 10:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("WEBVIEW_TRUSTED_PROXIES must be a whole number from 0 to 10, "
                        f"got {config['WEBVIEW_TRUSTED_PROXIES']!r}")
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
    if problems:
        raise ConfigError("; ".join(problems))
    if not config["WEBVIEW_DATABASE_URL"]:
        config["WEBVIEW_DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "webview-toolkit.sqlite3")


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
