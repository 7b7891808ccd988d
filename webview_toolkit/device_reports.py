"""What testers saw on real phones: per device (its UA and what the server made of it), each app's launch outcome.

A report is one device's session on `/device-test`; each tap stores one app's outcome
(`opened`, `store`, `nothing`), replacing that app's earlier one. Reports are created with a
random token that later writes must present, so one device cannot edit another's report.
The tables live in the store's metadata (migration 0003_device_reports).
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    Boolean, Column, DateTime, ForeignKey, String, Table, func, insert, select, update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .engines import snapshot_reads, writing
from .tables import metadata
from .useragent import ClientContext

OUTCOMES = ("opened", "store", "nothing")
UA_MAX = 512
TESTER_MAX = 40
MAX_REPORTS = 10_000  # a bound on what anonymous writers can pile up
REPORT_ID_RE = re.compile(r"^[0-9a-f]{24}$")

device_reports = Table(
    "device_reports", metadata,
    Column("id", String(24), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("user_agent", String(UA_MAX), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("in_app", Boolean, nullable=False),
    Column("app", String(40)),
    Column("escape", String(40)),
    Column("tester", String(TESTER_MAX)),
)

device_results = Table(
    "device_report_results", metadata,
    Column("report_id", String(24), ForeignKey("device_reports.id"), primary_key=True),
    Column("app_id", String(40), primary_key=True),
    Column("outcome", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


class ReportError(Exception):
    """A write the reports refuse; `field` names what was wrong, `status` the HTTP status it maps to."""

    def __init__(self, message: str, *, field: str, status: int = 400):
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True, slots=True)
class Report:
    """One device's report: who and what it was, and each app's outcome."""

    id: str
    created_at: datetime
    user_agent: str
    platform: str
    in_app: bool
    app: str | None
    escape: str | None
    tester: str | None
    results: dict[str, str]

    def as_dict(self) -> dict:
        """The JSON shape of one report."""
        return {"id": self.id, "createdAt": self.created_at.isoformat(), "userAgent": self.user_agent,
                "platform": self.platform, "inApp": self.in_app, "app": self.app, "escape": self.escape,
                "tester": self.tester, "results": dict(sorted(self.results.items()))}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def create_report(engine: Engine, user_agent: str, client: ClientContext, tester: str | None) -> tuple[str, str]:
    """Start a report for this device; (report id, the token its later writes need)."""
    tester = (tester or "").strip() or None
    if tester is not None and len(tester) > TESTER_MAX:
        raise ReportError(f"테스터 이름은 {TESTER_MAX}자 이하로 적어 주세요", field="tester")
    if tester is not None and not tester.isprintable():
        raise ReportError("테스터 이름에 쓸 수 없는 문자가 있습니다", field="tester")
    # PostgreSQL refuses NUL in text; no browser sends one, so dropping it loses nothing real.
    user_agent = user_agent.replace("\x00", "")
    report_id, token = secrets.token_hex(12), secrets.token_urlsafe(24)
    with writing(engine) as conn:
        if conn.execute(select(func.count()).select_from(device_reports)).scalar_one() >= MAX_REPORTS:
            raise ReportError("보고서가 너무 많습니다", field="report", status=429)
        conn.execute(insert(device_reports).values(
            id=report_id, token_hash=_hash(token), created_at=_now(), user_agent=user_agent[:UA_MAX],
            platform=client.platform, in_app=client.in_app, app=client.app, escape=client.escape, tester=tester))
    return report_id, token


def record_result(engine: Engine, report_id: str, token: str, app_id: str, outcome: str, known_apps) -> None:
    """Store one app's outcome in the report (replacing an earlier one); ReportError names a bad field."""
    if outcome not in OUTCOMES:
        raise ReportError(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
    if app_id not in known_apps:
        raise ReportError("app must be a registry app id", field="app")
    if not REPORT_ID_RE.match(report_id):
        raise ReportError("no such report", field="report", status=404)
    with writing(engine) as conn:
        stored = conn.execute(select(device_reports.c.token_hash).where(device_reports.c.id == report_id)).scalar()
        if stored is None:
            raise ReportError("no such report", field="report", status=404)
        if not hmac.compare_digest(stored, _hash(token or "")):
            raise ReportError("token does not match this report", field="token", status=403)
        key = (device_results.c.report_id == report_id) & (device_results.c.app_id == app_id)
        if conn.execute(update(device_results).where(key).values(outcome=outcome, at=_now())).rowcount == 0:
            try:
                with conn.begin_nested():
                    conn.execute(insert(device_results).values(report_id=report_id, app_id=app_id,
                                                               outcome=outcome, at=_now()))
            except IntegrityError:  # a simultaneous first tap of the same app: the later one wins
                conn.execute(update(device_results).where(key).values(outcome=outcome, at=_now()))


def list_reports(engine: Engine) -> list[Report]:
    """Every report, oldest first, with its results (two reads of one snapshot, no write lock)."""
    with snapshot_reads(engine).connect() as conn:
        rows = conn.execute(select(device_reports).order_by(device_reports.c.created_at, device_reports.c.id)).mappings().all()
        results: dict[str, dict[str, str]] = {}
        for row in conn.execute(select(device_results)).mappings():
            results.setdefault(row["report_id"], {})[row["app_id"]] = row["outcome"]
    return [Report(id=r["id"], created_at=r["created_at"], user_agent=r["user_agent"], platform=r["platform"],
                   in_app=r["in_app"], app=r["app"], escape=r["escape"], tester=r["tester"],
                   results=results.get(r["id"], {})) for r in rows]


CSV_HEADER = ("report", "created_at", "tester", "platform", "in_app", "app", "escape", "user_agent", "app_id", "outcome")


def to_csv(reports: list[Report]) -> str:
    """One line per (device, app) outcome; a device without any outcome gets one line with empty app."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for report in reports:
        head = (report.id, report.created_at.isoformat(), report.tester or "", report.platform,
                "true" if report.in_app else "false", report.app or "", report.escape or "", report.user_agent)
        for app_id, outcome in sorted(report.results.items()) or [("", "")]:
            writer.writerow(head + (app_id, outcome))
    return out.getvalue()


def to_json(reports: list[Report]) -> list[dict]:
    """Every report as its JSON shape."""
    return [report.as_dict() for report in reports]
