"""`webview-toolkit conformance`: exit codes, one-line errors, the report file, and --pay, all on loopback."""
from __future__ import annotations

import json
import socket

import pytest
from click.testing import CliRunner

from webview_toolkit.cli import conformance_cmd, main
from webview_toolkit.conformance.probes import PROBES
from webview_toolkit.conformance.runner import PUBLIC_TEST_KEY, PUBLIC_TEST_MID

from .conformance_helpers import (KEY, MID, altered, cancel_without_partcanflg, other_code_for_missing_partcanflg,
                                  pay_through_window, sandbox_app)
from .loopback import served


@pytest.fixture
def merchant_env(monkeypatch):
    monkeypatch.setenv("KISPG_MID", MID)
    monkeypatch.setenv("KISPG_MERCHANT_KEY", KEY)


@pytest.fixture
def no_merchant_env(monkeypatch):
    monkeypatch.delenv("KISPG_MID", raising=False)
    monkeypatch.delenv("KISPG_MERCHANT_KEY", raising=False)


def run(*args: str):
    return CliRunner().invoke(main, ["conformance", *args])


def test_prod_is_refused_without_yes_prod(merchant_env):
    result = run("--env", "prod", "--base-url", "http://127.0.0.1:9")
    assert (result.exit_code, result.output) == (2, "Error: refusing to probe prod without --yes-prod\n")


def test_prod_needs_the_merchant_from_the_environment(no_merchant_env):
    result = run("--env", "prod", "--yes-prod", "--base-url", "http://127.0.0.1:9")
    assert (result.exit_code, result.output) == (
        2, "Error: --env prod needs KISPG_MID and KISPG_MERCHANT_KEY in the environment\n")


def test_a_guided_payment_on_prod_is_refused(merchant_env):
    result = run("--env", "prod", "--yes-prod", "--pay", "--base-url", "http://127.0.0.1:9")
    assert (result.exit_code, result.output) == (
        2, "Error: --pay runs only with --env test: a prod payment is a real charge\n")


def test_half_a_merchant_is_refused(monkeypatch, no_merchant_env):
    monkeypatch.setenv("KISPG_MID", MID)
    result = run("--env", "test", "--base-url", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert result.output == ("Error: set both KISPG_MID and KISPG_MERCHANT_KEY, or neither "
                             "(test only: the public test MID)\n")


def test_env_is_required():
    result = run()
    assert result.exit_code == 2 and "Missing option '--env'" in result.output


def test_against_the_sandbox_every_probe_matches_and_the_report_is_written(merchant_env, tmp_path):
    report_file = tmp_path / "report.json"
    with served(sandbox_app()) as base:
        result = run("--env", "test", "--base-url", base, "--interval", "0", "--report", str(report_file))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"KISPG conformance / 적합성 점검: {base} (test, MID {MID})"
    assert lines[1].startswith(f"  match {len(PROBES)} · differs 0 · not compared 0")
    assert lines[-1] == f"report written to {report_file}"
    text = report_file.read_text(encoding="utf-8")
    assert KEY not in text and KEY not in result.output
    report = json.loads(text)
    assert report["counts"] == {"match": len(PROBES), "differs": 0, "not_comparable": 0}
    assert [p["id"] for p in report["probes"]] == [p.id for p in PROBES] and report["payment"] is None


def test_a_difference_exits_1_and_is_the_only_one_reported(merchant_env, tmp_path):
    report_file = tmp_path / "report.json"
    app = altered(sandbox_app(), cancel_without_partcanflg, other_code_for_missing_partcanflg)
    with served(app) as base:
        result = run("--env", "test", "--base-url", base, "--interval", "0", "--report", str(report_file))
    assert result.exit_code == 1
    flagged = [line for line in result.output.splitlines() if line.startswith("  DIFFERS")]
    assert len(flagged) == 1 and "cancel_missing_partcanflg" in flagged[0]
    assert '      resultCd: live "9001", sandbox "S100"' in result.output.splitlines()
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert [p["id"] for p in report["probes"] if p["verdict"] != "match"] == ["cancel_missing_partcanflg"]


def test_an_unreachable_service_is_not_comparable_and_exits_1(merchant_env):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run("--env", "test", "--base-url", f"http://127.0.0.1:{port}", "--interval", "0")
    assert result.exit_code == 1
    assert f"not compared {len(PROBES)}" in result.output.splitlines()[1]
    assert "Traceback" not in result.output


def test_without_a_merchant_the_public_test_mid_is_used_with_a_warning(no_merchant_env):
    with served(sandbox_app(PUBLIC_TEST_MID, PUBLIC_TEST_KEY)) as base:
        result = CliRunner().invoke(main, ["conformance", "--env", "test", "--base-url", base, "--interval", "0"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("WARNING: no KISPG_MID/KISPG_MERCHANT_KEY, using the guide's public test "
                                    "merchant: payments with the public test MID kistest00m are real card charges")
    assert "23:30" in result.stderr
    assert f"MID {PUBLIC_TEST_MID}" in result.stdout and PUBLIC_TEST_KEY not in result.output


def test_pay_prints_a_url_and_a_qr_code_and_reports_every_step(merchant_env, tmp_path, monkeypatch):
    report_file = tmp_path / "report.json"
    announce = conformance_cmd.announce

    def announce_and_pay(url: str, ord_no: str) -> None:
        announce(url, ord_no)
        pay_through_window(url)

    monkeypatch.setattr(conformance_cmd, "announce", announce_and_pay)
    with served(sandbox_app()) as base:
        result = run("--env", "test", "--base-url", base, "--interval", "0", "--pay", "--pay-wait", "30",
                     "--report", str(report_file))
    assert result.exit_code == 0, result.output
    assert "Open on a phone and pay 1,004 won" in result.output and "▀" in result.output
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert [(s["id"], s["verdict"]) for s in report["payment"]] == [
        ("return_url", "match"), ("approval", "match"), ("inquiry", "match"), ("cancel", "match")]
    assert report["payment"][0]["findings"]["live_encdata_verifies"] is True
    assert KEY not in report_file.read_text(encoding="utf-8")


def test_a_taken_pay_port_stops_the_run_before_any_request(merchant_env):
    seen = []
    app = sandbox_app()
    app.before_request(lambda: seen.append(1))
    with socket.socket() as taken, served(app) as base:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--env", "test", "--base-url", base, "--interval", "0", "--pay", "--pay-port", str(port))
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: could not start the returnUrl server on 127.0.0.1:{port}: ")
    assert len(result.output.splitlines()) == 1 and seen == []


def test_listening_on_every_interface_needs_a_fixed_port(merchant_env, monkeypatch):
    monkeypatch.setattr("webview_toolkit.cli.serve_cmd.lan_address", lambda: "192.168.0.7")
    result = run("--env", "test", "--base-url", "http://127.0.0.1:9", "--pay", "--pay-host", "0.0.0.0")
    assert (result.exit_code, result.output) == (
        2, "Error: --pay-host 0.0.0.0 needs --pay-port, so the printed URL names a fixed port\n")


def test_a_report_in_a_missing_folder_is_refused_before_any_request(merchant_env, tmp_path):
    result = run("--env", "test", "--base-url", "http://127.0.0.1:9", "--report", str(tmp_path / "no" / "r.json"))
    assert (result.exit_code, result.output) == (
        2, f"Error: --report {tmp_path / 'no' / 'r.json'}: the folder {tmp_path / 'no'} does not exist\n")
