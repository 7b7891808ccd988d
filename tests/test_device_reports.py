"""Tests for webview_toolkit.device_reports: storing outcomes per device, the token, bounds, exports, migration."""
import csv
import io
import time

import pytest
from sqlalchemy import create_engine, inspect

from webview_toolkit import device_reports as reports
from webview_toolkit import migrations
from webview_toolkit.store import OrderStore
from webview_toolkit.useragent import classify

from .service_helpers import UA
from .sqlite_helpers import another_writer_holding

APPS = frozenset({"isp", "kbpay"})


@pytest.fixture
def engine(tmp_path):
    store = OrderStore(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    yield store.engine
    store.dispose()


def test_listing_reports_waits_for_no_writer(engine):
    """The list is a read: while another writer holds SQLite's lock it answers at once, it does not queue."""
    ua = UA["kakaotalk_ios"]
    report_id, _ = reports.create_report(engine, ua, classify(ua), None)
    with another_writer_holding(engine):
        started = time.monotonic()
        assert [report.id for report in reports.list_reports(engine)] == [report_id]
        assert time.monotonic() - started < 1.0


def test_a_report_keeps_the_device_and_the_latest_outcome_per_app(engine):
    ua = UA["kakaotalk_ios"]
    report_id, token = reports.create_report(engine, ua, classify(ua), " 민수 ")
    reports.record_result(engine, report_id, token, "isp", "nothing", APPS)
    reports.record_result(engine, report_id, token, "isp", "opened", APPS)
    reports.record_result(engine, report_id, token, "kbpay", "store", APPS)
    [report] = reports.list_reports(engine)
    assert (report.user_agent, report.platform, report.in_app, report.app, report.escape, report.tester) == (
        ua, "ios", True, "kakaotalk", "kakaotalk_open_external", "민수")
    assert report.results == {"isp": "opened", "kbpay": "store"}


@pytest.mark.parametrize(("change", "field", "status"), [
    ({"outcome": "crashed"}, "outcome", 400),
    ({"app": "myspace"}, "app", 400),
    ({"token": "wrong"}, "token", 403),
    ({"report_id": "nope"}, "report", 404),
])
def test_refused_writes_name_the_field_and_change_nothing(engine, change, field, status):
    report_id, token = reports.create_report(engine, "UA", classify("UA"), None)
    args = {"report_id": report_id, "token": token, "app": "isp", "outcome": "opened", **change}
    with pytest.raises(reports.ReportError) as info:
        reports.record_result(engine, args["report_id"], args["token"], args["app"], args["outcome"], APPS)
    assert (info.value.field, info.value.status) == (field, status)
    assert reports.list_reports(engine)[0].results == {}


def test_sizes_are_bounded(engine, monkeypatch):
    with pytest.raises(reports.ReportError, match="40자"):
        reports.create_report(engine, "UA", classify("UA"), "가" * 41)
    report_id, _ = reports.create_report(engine, "x" * 5000, classify("x"), None)
    assert len(reports.list_reports(engine)[0].user_agent) == reports.UA_MAX
    monkeypatch.setattr(reports, "MAX_REPORTS", 1)
    with pytest.raises(reports.ReportError) as info:
        reports.create_report(engine, "UA", classify("UA"), None)
    assert info.value.status == 429


def test_csv_has_a_line_per_device_and_app(engine):
    report_id, token = reports.create_report(engine, UA["chrome_android"], classify(UA["chrome_android"]), None)
    reports.record_result(engine, report_id, token, "kbpay", "store", APPS)
    reports.record_result(engine, report_id, token, "isp", "opened", APPS)
    reports.create_report(engine, UA["safari_ios"], classify(UA["safari_ios"]), "지수")
    rows = list(csv.DictReader(io.StringIO(reports.to_csv(reports.list_reports(engine)))))
    assert [(r["platform"], r["app_id"], r["outcome"], r["tester"]) for r in rows] == [
        ("android", "isp", "opened", ""), ("android", "kbpay", "store", ""), ("ios", "", "", "지수")]
    assert reports.to_json(reports.list_reports(engine))[0]["results"] == {"isp": "opened", "kbpay": "store"}


def test_its_migration_creates_the_tables_the_metadata_has(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    with engine.begin() as conn:
        from alembic import command
        command.upgrade(migrations.alembic_config(conn), "0001_initial")
        assert "device_reports" not in inspect(conn).get_table_names()
    before, after = migrations.upgrade(engine)
    assert (before, after) == ("0001_initial", migrations.head())
    columns = {t: [(c["name"], str(c["type"]), c["nullable"]) for c in inspect(engine).get_columns(t)]
               for t in ("device_reports", "device_report_results")}
    fresh = create_engine(f"sqlite:///{tmp_path / 'f.sqlite3'}")
    reports.metadata.create_all(fresh)
    assert columns == {t: [(c["name"], str(c["type"]), c["nullable"]) for c in inspect(fresh).get_columns(t)]
                       for t in columns}
    engine.dispose()
    fresh.dispose()
