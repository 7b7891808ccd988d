"""Service settings: embedded defaults, then environment variables, then the test config."""
from __future__ import annotations

import ipaddress
import json
import math
import os
import secrets
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from .kispg.client import ENVIRONMENTS


# Environment variable → config key; everything the service reads from the environment.
ENV_KEYS = (
    "KISPG_ENV", "KISPG_MID", "KISPG_MERCHANT_KEY", "KISPG_BASE_URL", "KISPG_TIMEOUT", "KISPG_RECONCILE_AFTER",
    "WEBVIEW_INQUIRY_INTERVAL",
    "WEBVIEW_DATABASE_URL", "WEBVIEW_PUBLIC_URL", "WEBVIEW_ADMIN_TOKEN", "WEBVIEW_API_TOKEN",
    "WEBVIEW_APP_UA_TOKEN", "WEBVIEW_APP_SCHEME", "WEBVIEW_CHECKOUT_MODE", "WEBVIEW_INAPP_ESCAPE",
    "WEBVIEW_INAPP_ESCAPE_APPS", "WEBVIEW_INSTANCE_PATH", "WEBVIEW_ORDER_TTL",
    "WEBVIEW_TRUSTED_PROXIES", "WEBVIEW_LOG_FORMAT", "WEBVIEW_MAX_CONTENT_LENGTH",
    "WEBVIEW_WEBHOOK_URL", "WEBVIEW_WEBHOOK_SECRET", "WEBVIEW_WEBHOOK_ALLOW_PRIVATE", "WEBVIEW_WEBHOOK_WORKER",
    "KISPG_NOTI_ALLOW", "KISPG_SANDBOX_DELAY",
)
INAPP_ESCAPE_MODES = ("off", "offer", "auto")

DEFAULTS = {
    # None: not chosen. `resolve` makes it "sandbox" unless the rest looks like a real deployment.
    "KISPG_ENV": None,
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
    # auto: the PC pay window in an overlay iframe on desktop browsers, the whole page elsewhere (README).
    "WEBVIEW_CHECKOUT_MODE": "auto",
    # Offer the system browser at checkout where paying in the app's browser would strand the
    # shopper (webview_toolkit/escape.py): off, offer (ask first) or auto (leave at once).
    "WEBVIEW_INAPP_ESCAPE": "offer",
    # Registry browser ids offered the system browser on every platform, beyond iOS's stranded ones.
    "WEBVIEW_INAPP_ESCAPE_APPS": "",
    "WEBVIEW_INSTANCE_PATH": None,
    # Seconds a created order may wait for its payment before it expires.
    "WEBVIEW_ORDER_TTL": 1800,
    # Proxy addresses (or networks) whose X-Forwarded-* headers count; none by default.
    "WEBVIEW_TRUSTED_PROXIES": None,
    "WEBVIEW_LOG_FORMAT": "text",
    # Request bodies above this many bytes are refused with 413 before they are read.
    "WEBVIEW_MAX_CONTENT_LENGTH": 64 * 1024,
    # One or more receiver URLs (comma or space separated), and the secret their events are signed with.
    "WEBVIEW_WEBHOOK_URL": None,
    "WEBVIEW_WEBHOOK_SECRET": None,
    # Loopback and private receivers are refused outside the sandbox unless this is set.
    "WEBVIEW_WEBHOOK_ALLOW_PRIVATE": False,
    # Whether `serve` runs the delivery worker in a thread (set 0 when `webview-toolkit worker` runs apart).
    "WEBVIEW_WEBHOOK_WORKER": True,
    # Where KISPG's notifications may come from (addresses or networks, comma-separated; '*' any).
    # Unset: the guide's two senders (§2.2), or any address with the sandbox.
    "KISPG_NOTI_ALLOW": None,
}
WEBHOOK_SECRET_MIN = 16
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")

CHECKOUT_MODES = ("auto", "page", "iframe")

SANDBOX_MID = "sandbox00m"
# Bearer tokens shorter than this are refused at start-up: a guessable token is no protection.
MIN_TOKEN_LENGTH = 8
MAX_TIMEOUT = 300.0  # seconds; past that a shopper has long given up on the page
TIMEOUT_RANGE = (1e-3, MAX_TIMEOUT)  # the KISPG_TIMEOUT start-up takes
KISPG_CALLS_PER_REQUEST = 4  # the most one returnUrl post makes (longest_kispg_wait says which)
MAX_RECONCILE_AFTER = 86400.0  # one day: an approval is never in flight longer
MAX_ORDER_TTL = 7 * 86400
LOG_FORMATS = ("text", "json")
# Settings that only a real deployment has: with any of them and no KISPG_ENV, start-up refuses
# rather than silently running the sandbox (which hands out `paid` orders without money).
PRODUCTION_HINTS = ("KISPG_MID", "KISPG_MERCHANT_KEY", "WEBVIEW_API_TOKEN", "WEBVIEW_ADMIN_TOKEN")


class ConfigError(Exception):
    """The settings cannot run the service; the message names every missing or bad setting."""


def from_environment(environ: Mapping[str, str]) -> dict:
    """The settings given in the environment (empty values count as unset)."""
    return {key: environ[key] for key in ENV_KEYS if environ.get(key)}


def longest_kispg_wait(environ: Mapping[str, str]) -> float:
    """Seconds one request may wait on KISPG under these settings, at most.

    The most calls one request makes is a returnUrl post's (payments.py): the approval; when it
    is declined, the inquiry by ordNo before the attempt ends; when that cannot say, the check
    that asks by tid and then by ordNo. Four calls, each up to the connect and read timeouts.
    A KISPG_TIMEOUT that start-up would refuse counts as the default here (start-up says what
    is wrong with it).
    """
    settings, problems = {"KISPG_TIMEOUT": environ.get("KISPG_TIMEOUT") or DEFAULTS["KISPG_TIMEOUT"]}, []
    _number(settings, "KISPG_TIMEOUT", *TIMEOUT_RANGE, problems, "")
    read = DEFAULTS["KISPG_TIMEOUT"] if problems else settings["KISPG_TIMEOUT"]
    return KISPG_CALLS_PER_REQUEST * (DEFAULTS["KISPG_CONNECT_TIMEOUT"] + read)


def instance_path(environ: Mapping[str, str], explicit: str | None = None) -> str:
    """Where the SQLite database and the sandbox merchant live: one place whatever the install.

    WEBVIEW_INSTANCE_PATH, else the per-user data directory ($XDG_DATA_HOME/webview-toolkit,
    ~/.local/share/webview-toolkit): `serve`, `reconcile` and `db` run from cron, another
    directory or another install of the package all find the same database.
    """
    chosen = explicit or environ.get("WEBVIEW_INSTANCE_PATH")
    if chosen:
        return str(Path(chosen).expanduser().resolve())
    data_home = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(data_home).expanduser().resolve() / "webview-toolkit")


def production_hints(config: Mapping) -> list[str]:
    """The settings that say this is a real deployment (a merchant, tokens, a public https URL)."""
    hints = [key for key in PRODUCTION_HINTS if config.get(key)]
    public = config.get("WEBVIEW_PUBLIC_URL") or ""
    host = urlsplit(public).hostname or ""
    if public.startswith("https://") and host not in ("localhost", "127.0.0.1", "::1"):
        hints.append("WEBVIEW_PUBLIC_URL")
    return hints


def _number(config: dict, key: str, low: float, high: float, problems: list[str], what: str) -> None:
    """Read a finite number of seconds in [low, high] in place, or add a problem naming the key."""
    value = config.get(key)
    try:
        number = float(value)
        if not math.isfinite(number) or not low <= number <= high:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        problems.append(f"{key} must be {what} (at most {high:g}), got {value!r}")
        return
    config[key] = number


def resolve(config: dict, instance_path: str) -> None:
    """Fill derived settings in place and refuse what cannot run; raise ConfigError."""
    problems = []
    if not config.get("KISPG_ENV"):
        hints = production_hints(config)
        if hints:
            raise ConfigError(f"KISPG_ENV is not set but {', '.join(hints)} {'is' if len(hints) == 1 else 'are'}: "
                              "set KISPG_ENV=prod (or test) for KISPG, or KISPG_ENV=sandbox to run the sandbox")
        config["KISPG_ENV"] = "sandbox"
    env = config["KISPG_ENV"]
    if env not in ENVIRONMENTS:
        problems.append(f"KISPG_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    _number(config, "KISPG_TIMEOUT", *TIMEOUT_RANGE, problems, "a positive number of seconds")
    if config.get("KISPG_RECONCILE_AFTER") is None and isinstance(config["KISPG_TIMEOUT"], float):
        # Past twice the read timeout (and a margin) a lost request is no longer being processed.
        config["KISPG_RECONCILE_AFTER"] = config["KISPG_TIMEOUT"] * 2 + 5
    if config.get("KISPG_RECONCILE_AFTER") is not None:
        _number(config, "KISPG_RECONCILE_AFTER", 0, MAX_RECONCILE_AFTER, problems, "a number of seconds, at least 0")
    _number(config, "WEBVIEW_ORDER_TTL", 1, MAX_ORDER_TTL, problems, "a positive number of seconds")
    _number(config, "WEBVIEW_INQUIRY_INTERVAL", 0, 3600, problems, "a number of seconds, at least 0")
    try:
        config["WEBVIEW_MAX_CONTENT_LENGTH"] = int(config["WEBVIEW_MAX_CONTENT_LENGTH"])
        if config["WEBVIEW_MAX_CONTENT_LENGTH"] < 1024:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(f"WEBVIEW_MAX_CONTENT_LENGTH must be a number of bytes, at least 1024, "
                        f"got {config['WEBVIEW_MAX_CONTENT_LENGTH']!r}")
    if config.get("WEBVIEW_LOG_FORMAT") not in LOG_FORMATS:
        problems.append(f"WEBVIEW_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, "
                        f"got {config.get('WEBVIEW_LOG_FORMAT')!r}")
    for key in ("WEBVIEW_ADMIN_TOKEN", "WEBVIEW_API_TOKEN"):
        token = config.get(key)
        if token and len(token) < MIN_TOKEN_LENGTH:
            # The token itself is never echoed: only its length.
            problems.append(f"{key} must be at least {MIN_TOKEN_LENGTH} characters, got {len(token)}")
    allow = config.get("KISPG_NOTI_ALLOW")
    if allow is None:
        from .notifications import GUIDE_SOURCES
        allow = ("*",) if config.get("KISPG_ENV") in (None, "sandbox") else GUIDE_SOURCES
    elif isinstance(allow, str):
        allow = tuple(part.strip() for part in allow.split(",") if part.strip())
    config["KISPG_NOTI_ALLOW"] = tuple(allow)
    for rule in config["KISPG_NOTI_ALLOW"]:
        if rule != "*":
            try:
                ipaddress.ip_network(rule, strict=False)
            except ValueError:
                problems.append(f"KISPG_NOTI_ALLOW has {rule!r}, not an address or network")
    if env == "sandbox" and config.get("KISPG_SANDBOX_DELAY"):
        from .kispg.sandbox.delays import DelayError, parse_delays
        try:
            config["KISPG_SANDBOX_DELAY"] = parse_delays(config["KISPG_SANDBOX_DELAY"])
        except DelayError as exc:
            problems.append(str(exc))
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
    mode = config.get("WEBVIEW_CHECKOUT_MODE") or "auto"
    if mode not in CHECKOUT_MODES:
        problems.append(f"WEBVIEW_CHECKOUT_MODE must be one of {', '.join(CHECKOUT_MODES)}, got {mode!r}")
    config["WEBVIEW_CHECKOUT_MODE"] = mode
    if config.get("WEBVIEW_INAPP_ESCAPE") not in INAPP_ESCAPE_MODES:
        problems.append(f"WEBVIEW_INAPP_ESCAPE must be one of {', '.join(INAPP_ESCAPE_MODES)}, "
                        f"got {config.get('WEBVIEW_INAPP_ESCAPE')!r}")
    apps = config.get("WEBVIEW_INAPP_ESCAPE_APPS") or ""
    if isinstance(apps, str):
        config["WEBVIEW_INAPP_ESCAPE_APPS"] = frozenset(a.strip() for a in apps.split(",") if a.strip())
    proxies = config.get("WEBVIEW_TRUSTED_PROXIES")
    if isinstance(proxies, str):
        try:
            config["WEBVIEW_TRUSTED_PROXIES"] = tuple(
                ipaddress.ip_network(part.strip(), strict=False) for part in proxies.split(",") if part.strip())
        except ValueError as exc:
            problems.append(f"WEBVIEW_TRUSTED_PROXIES must be addresses or networks separated by commas: {exc}")
    problems += _webhook_problems(config, env)
    if problems:
        raise ConfigError("; ".join(problems))
    if not config["WEBVIEW_DATABASE_URL"]:
        Path(instance_path).mkdir(parents=True, exist_ok=True)
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
