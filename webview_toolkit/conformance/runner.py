"""Run the automatic probes: each request once to the target and once to the in-process sandbox, compared.

The target and the sandbox get the very same fields (same ediDate, same hash), so any
difference is in how they answer, not in what they were asked.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from ..kispg.signing import KST
from .compare import NOT_COMPARABLE, Comparison, compare, mask, mask_answer
from .exchange import Answer, Endpoint
from .probes import PROBES, Probe, build_request

# What the guide gives anyone for trying the test environment (§1, "테스트 가맹점").
PUBLIC_TEST_MID = "kistest00m"
PUBLIC_TEST_KEY = "2d6ECGhR1pg/1QGE1lcRI4awsWEgshjEyI8UgYslLPJSuNeyPTkdrT8XWARezvDTUJClWQWhjxzBbu7AsuLZqg=="
PUBLIC_TEST_WARNING = ("payments with the public test MID kistest00m are real card charges, cancelled "
                       "automatically at 23:30 the same day (KISPG guide) / 공용 테스트 MID 결제는 실제 승인이며 "
                       "당일 23:30에 자동 취소됩니다")


@dataclass(frozen=True, slots=True)
class Merchant:
    """The MID and key the run signs with; the key never appears in repr, reports or output."""

    mid: str
    key: str
    public_test: bool = False

    def __repr__(self) -> str:
        return f"Merchant(mid={self.mid!r}, public_test={self.public_test})"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe: what it sent, what the target and the sandbox answered (masked), and the verdict."""

    id: str
    endpoint: str
    path: str
    body: str
    title_en: str
    title_ko: str
    expect: str
    request: Mapping[str, Any]
    target: Answer | None
    reference: Answer
    comparison: Comparison

    def as_dict(self) -> dict[str, Any]:
        """The probe as the report's stable keys."""
        return {"id": self.id, "endpoint": self.endpoint, "path": self.path, "body": self.body,
                "title_en": self.title_en, "title_ko": self.title_ko, "expect": self.expect,
                "request": dict(self.request), "live": self.target.as_dict() if self.target else None,
                "sandbox": self.reference.as_dict(), "verdict": self.comparison.verdict,
                "differences": list(self.comparison.differences)}


def run_probes(target: Endpoint, reference: Endpoint, merchant: Merchant,
               probes: Iterable[Probe] = PROBES, now: datetime | None = None) -> list[ProbeResult]:
    """Send each probe to both; after a redirect (the firewall case) the rest are not sent to the target."""
    moment = now or datetime.now(KST)
    results: list[ProbeResult] = []
    redirected = False
    for probe in probes:
        fields = build_request(probe, merchant.mid, merchant.key, moment)
        reference_answer = reference.post(probe.path, fields, probe.body)
        if redirected:
            # Every later request would meet the same firewall: do not spend them.
            target_answer = None
            comparison = Comparison(NOT_COMPARABLE, ("not sent: an earlier probe was redirected (firewall?)",))
        else:
            target_answer = target.post(probe.path, fields, probe.body)
            comparison = compare(mask_answer(target_answer), mask_answer(reference_answer))
            redirected = is_redirect(target_answer)
        results.append(ProbeResult(
            id=probe.id, endpoint=probe.endpoint, path=probe.path, body=probe.body, title_en=probe.title_en,
            title_ko=probe.title_ko, expect=probe.expect, request=mask(fields),
            target=mask_answer(target_answer) if target_answer else None, reference=mask_answer(reference_answer),
            comparison=comparison))
    return results


def is_redirect(answer: Answer | None) -> bool:
    """Whether an answer is an HTTP redirect (KISPG's firewall answers unregistered servers with 302)."""
    return answer is not None and answer.status is not None and 300 <= answer.status < 400
