"""The URL table (tests/data/url_table.yaml) and the toolchains that execute the generated handlers.

Helpers shared by the generator tests: which decision each handler must take for each URL,
the cases file the JVM and Node runners read, and where the toolchains of scripts/setup live.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "tests" / "data" / "url_table.yaml"
RUNNERS = Path(__file__).resolve().parent
TOOLCHAINS = ROOT / ".cache" / "toolchains"
NODE_MODULES = TOOLCHAINS / "node_modules"
KOTLIN_HOME = NODE_MODULES / "kotlin-compiler"
MODES = ("installed", "missing")


@dataclass(frozen=True, slots=True)
class Case:
    """One row of the table: a URL and the expected decision per handler and mode."""

    url: str
    what: str
    android: dict[str, str] | None
    android_js: dict[str, str] | None
    ios: dict[str, str] | None


def _modes(value: str | dict[str, str] | None) -> dict[str, str] | None:
    if value is None or isinstance(value, dict):
        return value
    return {mode: value for mode in MODES}


def load_cases() -> list[Case]:
    """Every row of tests/data/url_table.yaml."""
    rows = yaml.safe_load(TABLE.read_text(encoding="utf-8"))["cases"]
    cases = []
    for row in rows:
        android = _modes(row.get("android"))
        cases.append(Case(row["url"], row["what"], android, _modes(row.get("android_js")) or android,
                          _modes(row.get("ios"))))
    return cases


def require(path: Path | str | None, what: str) -> str:
    """The tool's path; a failure in CI when it is missing, else a skip that says how to get it."""
    found = shutil.which(str(path)) if path is not None else None
    if found is None:
        message = f"{what} is not installed (scripts/setup installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def compare(expected: list[tuple[str, str]], actual: str, handler: str) -> list[str]:
    """Lines "handler mode url: expected X, got Y" for each row whose decision differs."""
    decisions = actual.splitlines()
    assert len(decisions) == len(expected), f"{handler}: {len(decisions)} decisions for {len(expected)} URLs"
    return [f"{handler} {label}: expected {want!r}, got {got!r}"
            for (label, want), got in zip(expected, decisions) if want != got]


# Every generator flag set at once, so the code the flags add is compiled and type-checked too.
SHOP_OPTIONS = dict(package="com.shop.app", app_scheme="myshop", ua_token="MyShopApp/1.0")


def run(command, **kwargs) -> subprocess.CompletedProcess:
    """Run a toolchain command; fail the test with its output unless it exits 0."""
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command[:3]))} failed:\n{result.stdout}{result.stderr}"
    return result
