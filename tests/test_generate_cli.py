"""Tests for `webview-toolkit gen …`: each kind to stdout, the iOS cut on stderr, `gen all` and `--check`."""
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from webview_toolkit.cli import main
from webview_toolkit.cli.gen_cmd import default_out_dir
from webview_toolkit.generate import KINDS, OUTPUTS, Options, render
from webview_toolkit.registry import load_registry

FIXTURE = Path(__file__).parent / "golden" / "registry"


@pytest.fixture
def runner():
    return CliRunner()


def gen(runner, *args):
    return runner.invoke(main, ["gen", *args])


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_prints_exactly_the_rendered_text(runner, kind):
    result = gen(runner, kind, "--registry", str(FIXTURE))
    assert result.exit_code == 0, result.output
    assert result.stdout == render(kind, load_registry(FIXTURE))


def test_category_option(runner):
    result = gen(runner, "android-manifest", "--category", "pass", "--registry", str(FIXTURE))
    assert "com.sktelecom.tauth" in result.stdout and "kvp.jjy.MispAndroid320" not in result.stdout


def many_apps(directory: Path, count: int) -> Path:
    apps = [{"id": f"app{i:02d}", "name_ko": f"앱{i}", "name_en": f"App {i}", "category": "vaccine",
             "android_package": f"com.example.app{i:02d}", "ios_schemes": [f"scheme{i:02d}"], "priority": 100 + i}
            for i in range(53)]
    directory.mkdir()
    (directory / "apps.yaml").write_text(yaml.safe_dump({"apps": apps}, allow_unicode=True), encoding="utf-8")
    return directory


def test_plist_reports_what_it_left_out(runner, tmp_path):
    result = gen(runner, "ios-plist", "--registry", str(many_apps(tmp_path / "s", 53)))
    assert result.exit_code == 0
    assert result.stdout.count("<string>") == 50
    assert result.stderr.splitlines() == [
        f"ios-plist: left out 'scheme{i}' (app{i}, vaccine, priority {100 + i}): "
        "iOS reads only the first 50 LSApplicationQueriesSchemes entries" for i in (50, 51, 52)]


def test_plist_over_50_warns_loudly(runner, tmp_path):
    result = gen(runner, "ios-plist", "--allow-over-50", "--registry", str(many_apps(tmp_path / "s", 53)))
    assert result.exit_code == 0
    assert result.stdout.count("<string>") == 53
    assert result.stderr.startswith("WARNING: --allow-over-50 wrote 53 schemes; iOS IGNORES")


def test_broken_registry_is_one_line_and_exit_1(runner, tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "apps.yaml").write_text("apps: [{id: x}]\n", encoding="utf-8")
    result = gen(runner, "android-java", "--registry", str(tmp_path / "s"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: registry is invalid: ") and len(result.stderr.splitlines()) == 1


def test_gen_all_writes_then_checks(runner, tmp_path):
    out = tmp_path / "out"
    result = gen(runner, "all", "--out", str(out), "--registry", str(FIXTURE))
    assert result.exit_code == 0, result.output
    for output in OUTPUTS:
        text = (out / output.path).read_text(encoding="utf-8")
        assert "Do not edit by hand" in text.splitlines()[0] + text.splitlines()[1]
    assert gen(runner, "all", "--out", str(out), "--check", "--registry", str(FIXTURE)).exit_code == 0

    kotlin = out / "android_snippets" / "PaymentWebView.kt"
    kotlin.write_text(kotlin.read_text(encoding="utf-8") + "// hand edit\n", encoding="utf-8")
    (out / "ios_snippets" / "Info.plist").unlink()
    result = gen(runner, "all", "--out", str(out), "--check", "--registry", str(FIXTURE))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: out of date: android_snippets/PaymentWebView.kt, ios_snippets/Info.plist — run `webview-toolkit gen all`")
    assert "+++ generated/android_snippets/PaymentWebView.kt" in result.stderr
    assert "-// hand edit" in result.stderr


def test_committed_snippets_are_current(runner):
    """android_snippets/ and ios_snippets/ in the checkout are what the generator makes now."""
    assert (default_out_dir() / "schemes").is_dir()
    result = gen(runner, "all", "--check")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_default_flags_keep_the_output_byte_for_byte(runner, kind):
    """Spelling out the defaults changes nothing, so `gen all` without flags is the committed output."""
    plain = gen(runner, kind, "--registry", str(FIXTURE))
    explicit = gen(runner, kind, "--registry", str(FIXTURE), "--package", "com.example.payment")
    assert explicit.exit_code == 0 and explicit.stdout == plain.stdout


def test_flags_reach_the_output(runner):
    result = gen(runner, "android-kotlin", "--registry", str(FIXTURE), "--package", "com.shop.app",
                 "--app-scheme", "myshop", "--ua-token", "MyShopApp/1.0")
    assert result.exit_code == 0, result.output
    assert render("android-kotlin", load_registry(FIXTURE),
                  options=Options(package="com.shop.app", app_scheme="myshop", ua_token="MyShopApp/1.0")) == result.stdout


def test_gen_all_with_flags(runner, tmp_path):
    result = gen(runner, "all", "--out", str(tmp_path), "--registry", str(FIXTURE), "--app-scheme", "myshop")
    assert result.exit_code == 0, result.output
    assert "<string>myshop</string>" in (tmp_path / "ios_snippets" / "Info.plist").read_text(encoding="utf-8")


def test_bad_flag_is_one_line(runner):
    result = gen(runner, "ios-plist", "--registry", str(FIXTURE), "--app-scheme", "HTTPS")
    assert result.exit_code == 1
    assert result.stderr == "Error: --app-scheme 'HTTPS' is not a lower-case custom URL scheme like myshop\n"
