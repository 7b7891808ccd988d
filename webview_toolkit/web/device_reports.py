"""`/device-test/reports`: record what each app did on a tester's phone, and read it back as a matrix, CSV or JSON.

Writes take JSON only (a cross-site form cannot send it without a CORS preflight, which this
service never grants) and are bounded: a small body, a registry app id, one of three outcomes,
and the report's own token.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from .. import device_reports as reports
from ..registry import load_registry
from .client import request_client, user_agent
from .extensions import store

bp = Blueprint("device_reports", __name__)

MAX_BODY = 2048
OUTCOME_LABELS = {"opened": "앱 열림", "store": "스토어 열림", "nothing": "반응 없음"}


def _json_body() -> dict:
    """The request's JSON object, or a ReportError naming why not."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise reports.ReportError(f"body over {MAX_BODY} bytes", field="body", status=413)
    if not request.is_json:
        raise reports.ReportError("send application/json", field="body", status=415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise reports.ReportError("body must be a JSON object", field="body")
    return body


@bp.errorhandler(reports.ReportError)
def _refused(exc: reports.ReportError):
    return jsonify(error=str(exc), fields={exc.field: str(exc)}), exc.status


@bp.post("/device-test/reports")
def create():
    """Start this device's report: JSON `{"tester": optional name}` → 201 `{"id", "token"}`."""
    body = _json_body()
    tester = body.get("tester")
    if tester is not None and not isinstance(tester, str):
        raise reports.ReportError("tester must be a string", field="tester")
    ua = user_agent()
    client = request_client(ua=ua)
    report_id, token = reports.create_report(store().engine, ua, client, tester)
    return jsonify(id=report_id, token=token), 201


@bp.post("/device-test/reports/<report_id>/results")
def record(report_id: str):
    """One app's outcome: JSON `{"token", "app", "outcome": opened|store|nothing}`."""
    body = _json_body()
    values = {name: body.get(name) for name in ("token", "app", "outcome")}
    for name, value in values.items():
        if not isinstance(value, str) or not value or len(value) > 64:
            raise reports.ReportError(f"{name} must be a short string", field=name)
    known = {app.id for app in load_registry().apps}
    reports.record_result(store().engine, report_id, values["token"], values["app"], values["outcome"], known)
    return jsonify(app=values["app"], outcome=values["outcome"])


@bp.get("/device-test/reports")
def matrix():
    """Devices × apps: what each app did on each device."""
    listed = reports.list_reports(store().engine)
    tested = sorted({app_id for report in listed for app_id in report.results})
    names = {app.id: app.name_ko for app in load_registry().apps}
    return render_template("device/reports.html", reports=listed, apps=[(a, names.get(a, a)) for a in tested],
                           labels=OUTCOME_LABELS)


@bp.get("/device-test/reports.csv")
def as_csv():
    """Every outcome as CSV, one line per device and app."""
    return Response(reports.to_csv(reports.list_reports(store().engine)), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=device-reports.csv"})


@bp.get("/device-test/reports.json")
def as_json():
    """Every report as JSON."""
    return jsonify(reports=reports.to_json(reports.list_reports(store().engine)))
