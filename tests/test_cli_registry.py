"""Tests for `webview-toolkit registry validate|list`."""
import json

import pytest
from click.testing import CliRunner

from webview_toolkit.cli import main

from .registry_helpers import write_registry


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def fixture_registry(tmp_path, monkeypatch):
    """Point the CLI at a small registry of two apps."""
    directory = write_registry(tmp_path / "schemes", extra_apps=[
        {"id": "vac", "name_ko": "백신", "name_en": "Vaccine", "category": "vaccine",
         "android_package": "com.example.vac"},
    ])
    monkeypatch.setenv("WEBVIEW_REGISTRY_DIR", str(directory))
    return directory


def test_validate_clean(runner, fixture_registry):
    result = runner.invoke(main, ["registry", "validate"])
    assert result.exit_code == 0
    assert result.output == "ok: 2 apps, 0 browsers, 1 code tables\n"


def test_validate_prints_each_problem_and_exits_1(runner, tmp_path, monkeypatch):
    directory = write_registry(tmp_path / "schemes", extra_apps=[
        {"id": "x", "name_ko": "가", "name_en": "X", "category": "card", "android_package": "com.hanaskard.paycla"},
        {"id": "y", "name_ko": "나", "name_en": "Y", "category": "card", "ios_schemes": ["BASESCHEME"]},
    ])
    monkeypatch.setenv("WEBVIEW_REGISTRY_DIR", str(directory))
    result = runner.invoke(main, ["registry", "validate"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "schemes/extra.yaml: app 'x': field 'android_package': 'com.hanaskard.paycla' is a known typo of 'com.hanaskcard.paycla'",
        "schemes/extra.yaml: app 'y': field 'ios_schemes': scheme 'basescheme' is already claimed by app 'base'",
    ]


def test_list_json(runner, fixture_registry):
    result = runner.invoke(main, ["registry", "list", "--format", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [row["id"] for row in rows] == ["base", "vac"]
    base = rows[0]
    assert base["name"] == "기본" and base["category"] == "card"
    assert base["android_package"] == "com.example.base"
    assert base["android_schemes"] == ["basescheme"] and base["ios_schemes"] == ["basescheme"]
    assert base["app_store_id"] == "12345678"
    assert rows[1]["ios_schemes"] == [] and rows[1]["app_store_id"] is None


def test_list_filters(runner, fixture_registry):
    by_category = json.loads(runner.invoke(main, ["registry", "list", "--category", "vaccine", "--format", "json"]).output)
    assert [row["id"] for row in by_category] == ["vac"]
    on_ios = json.loads(runner.invoke(main, ["registry", "list", "--platform", "ios", "--format", "json"]).output)
    assert [row["id"] for row in on_ios] == ["base"]


def test_list_table(runner, fixture_registry):
    result = runner.invoke(main, ["registry", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "category", "android", "ios", "name"]
    assert lines[1].split() == ["base", "card", "com.example.base", "basescheme", "기본"]
    assert lines[-1] == "2 apps"


def test_list_on_broken_registry_is_one_line_error(runner, tmp_path, monkeypatch):
    directory = write_registry(tmp_path / "schemes", extra_text="apps: [{id: x}]\n")
    monkeypatch.setenv("WEBVIEW_REGISTRY_DIR", str(directory))
    result = runner.invoke(main, ["registry", "list"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: registry is invalid: schemes/extra.yaml: app 'x': field 'category': is required (and 2 more)")
    assert "Traceback" not in result.output and len(result.output.splitlines()) == 1


def test_unknown_category_is_a_usage_error(runner, fixture_registry):
    result = runner.invoke(main, ["registry", "list", "--category", "wallet"])
    assert result.exit_code == 2
    assert "Invalid value for '--category'" in result.output


def test_validate_takes_the_registry_that_gen_errors_name(runner, tmp_path):
    """`gen --registry DIR` on a broken registry says which command lists every problem, and that command works."""
    directory = write_registry(tmp_path / "schemes", extra_text="apps: [{id: x}]\n")
    generated = runner.invoke(main, ["gen", "android-manifest", "--registry", str(directory)])
    assert generated.exit_code == 1
    assert generated.output.strip().endswith(f"run `webview-toolkit registry validate --registry {directory}`")
    validated = runner.invoke(main, ["registry", "validate", "--registry", str(directory)])
    assert validated.exit_code == 1 and validated.output.startswith("schemes/extra.yaml: app 'x'")
