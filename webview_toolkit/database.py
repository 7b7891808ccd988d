"""What a bad database setting looks like to an operator: one line naming the URL (never its password) and the fix."""
from __future__ import annotations

import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

# Drivers SQLAlchemy may ask for, and the package that provides each.
DRIVER_PACKAGES = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "pymysql": "PyMySQL",
                   "mysqldb": "mysqlclient", "asyncpg": "asyncpg", "pg8000": "pg8000"}


def shown_url(url: str) -> str:
    """The URL without its password, even when it does not parse."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


def describe(url: str, exc: BaseException) -> str:
    """One line: what is wrong with WEBVIEW_DATABASE_URL and what to do about it."""
    shown = shown_url(url)
    if isinstance(exc, ModuleNotFoundError):
        module = (exc.name or "").split(".")[0]
        package = DRIVER_PACKAGES.get(module.lower(), module)
        return (f"WEBVIEW_DATABASE_URL {shown} needs the database driver {module!r}, which is not installed: "
                f"pip install '{package}'")
    if isinstance(exc, NoSuchModuleError):
        return (f"WEBVIEW_DATABASE_URL {shown} names a database SQLAlchemy does not know; "
                "use e.g. sqlite:///path/orders.sqlite3 or postgresql+psycopg://user@host/db")
    if isinstance(exc, (ArgumentError, ValueError)):
        return (f"WEBVIEW_DATABASE_URL {shown} is not a database URL; "
                "use e.g. sqlite:///path/orders.sqlite3 or postgresql+psycopg://user@host/db")
    if isinstance(exc, DBAPIError):
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()
        first = reason[0] if reason else type(exc).__name__
        password = _password(url)
        if password:
            first = first.replace(password, "***")
        return (f"the database {shown} cannot be used: {first[:200]}; check WEBVIEW_DATABASE_URL, "
                "that the server runs and accepts this user, and that the folder exists")
    return f"the database {shown} cannot be opened: {type(exc).__name__}: {str(exc)[:200]}"
