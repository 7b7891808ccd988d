"""The conformance report: JSON with stable keys, and a readable Korean/English summary of it.

Both pass through `scrub()`, which replaces the merchant key wherever it might have crept
in (an echoing server, say); answers are already masked by the runner.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Iterable, Sequence

from .. import __version__
from .compare import DIFFERS, MATCH, NOT_COMPARABLE, VERDICTS
from .guided import StepResult
from .runner import Merchant, ProbeResult

REPORT_VERSION = 1
REDACTED = "«merchant key removed»"
MARKS = MappingProxyType({MATCH: "match       ", DIFFERS: "DIFFERS     ", NOT_COMPARABLE: "not compared"})


def build_report(*, env: str, base_url: str, merchant: Merchant, probes: Sequence[ProbeResult],
                 payment: Sequence[StepResult] | None, started: datetime | None = None) -> dict[str, Any]:
    """The whole run as a dict with stable keys (never the merchant key)."""
    entries = [p.as_dict() for p in probes] + [s.as_dict() for s in payment or ()]
    counts = {verdict: sum(e["verdict"] == verdict for e in entries) for verdict in VERDICTS}
    redirected = [p.id for p in probes if p.target is not None and p.target.status and 300 <= p.target.status < 400]
    return {
        "report_version": REPORT_VERSION,
        "tool": f"webview-toolkit {__version__} conformance",
        "started_at": (started or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": env,
        "base_url": base_url,
        "mid": merchant.mid,
        "public_test_merchant": merchant.public_test,
        "counts": counts,
        "redirected": redirected,
        "probes": [p.as_dict() for p in probes],
        "payment": None if payment is None else [s.as_dict() for s in payment],
    }


def scrub(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret replaced (longest first, so no part of one survives)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def render_json(report: dict[str, Any], secrets: Iterable[str]) -> str:
    """The report as indented JSON, keys in a stable order, scrubbed."""
    return scrub(json.dumps(report, ensure_ascii=False, indent=2), secrets) + "\n"


def render_summary(report: dict[str, Any], secrets: Iterable[str]) -> str:
    """A readable summary: one line per probe or step, its differences indented under it."""
    counts = report["counts"]
    lines = [
        f"KISPG conformance / 적합성 점검: {report['base_url']} ({report['environment']}, MID {report['mid']})",
        f"  match {counts[MATCH]} · differs {counts[DIFFERS]} · not compared {counts[NOT_COMPARABLE]}"
        f"  (일치 {counts[MATCH]} · 다름 {counts[DIFFERS]} · 비교 불가 {counts[NOT_COMPARABLE]})",
    ]
    if report["redirected"]:
        lines.append("  ! the server answered with a redirect: KISPG's firewall sends unregistered servers to a "
                     "notice page — register this server's IP with KISPG / 서버 IP를 KISPG에 등록하세요")
    sections = [("probes / 자동 점검", report["probes"])]
    if report["payment"] is not None:
        sections.append(("guided payment / 안내 결제", report["payment"]))
    for title, entries in sections:
        lines.append(f"{title}:")
        for entry in entries:
            lines.append(f"  {MARKS[entry['verdict']]} {entry['id']}: {entry['title_en']} / {entry['title_ko']}"
                         f" — live {_brief(entry['live'])}; sandbox {_brief(entry['sandbox'])}")
            lines.extend(f"      {line}" for line in entry["differences"])
            lines.extend(f"      {key}: {json.dumps(value, ensure_ascii=False)}"
                         for key, value in entry.get("findings", {}).items())
    return scrub("\n".join(lines), secrets) + "\n"


def _brief(answer: dict[str, Any] | None) -> str:
    """An answer in a few words: status and resultCd/resultMsg, or the error."""
    if answer is None:
        return "not sent"
    if answer["error"]:
        return answer["error"]
    body = answer["json"]
    if isinstance(body, dict) and "resultCd" in body:
        return f"{answer['status']} {body['resultCd']} {body.get('resultMsg', '')}".rstrip()
    if answer["location"]:
        return f"{answer['status']} → {answer['location']}"
    media = answer["content_type"].split(";", 1)[0].strip() or "(no content type)"
    shown = answer["text"][:60] + ("…" if len(answer["text"]) > 60 else "")
    return f"{answer['status']} {media}" + (f" “{shown}”" if shown else "")
