"""Masking personal data, normalising volatile values, and the verdict: match, differs, not comparable.

Normalisation blanks what differs between any two runs (tids, approval numbers, dates and
times, hashes) but keeps what a merchant's code depends on: the HTTP status, the media
type, the set of fields, result codes and messages, amounts. Bodies that are not JSON are
recorded but not compared word by word (error pages are prose); their status and media
type still are.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .exchange import Answer

MATCH, DIFFERS, NOT_COMPARABLE = "match", "differs", "not_comparable"
VERDICTS = (MATCH, DIFFERS, NOT_COMPARABLE)

# Values that change on every run of the same request.
VOLATILE = frozenset({"tid", "appDtm", "appNo", "ediDate", "encData", "ccDtm", "vacntNo", "lmtDay",
                      "timestamp", "hashStr"})
# Fields that depend on the card the tester pays with, not on the protocol (guided payment only).
CARD_DEPENDENT = frozenset({"fnNm", "appCardCd", "acqCardCd", "cardNo", "quota", "cardType", "authType",
                            "nointFlg", "easyPayCd", "easyPayNm", "usePointAmt", "discountType", "discountAmt"})
# Personal data of the tester, and what a card or account number could reveal.
PERSONAL = frozenset({"ordNm", "ordTel", "ordEmail", "ordGuardEmail", "socHpNo", "canNm", "canId", "canIp",
                      "userIp", "mbsIp", "mbsUsrId", "rcvrAddr", "rcvrPost", "refundAccnt", "refundNm",
                      "crctNo", "vacntNo", "cardNo"})
_TID = re.compile(r"\b[A-Za-z0-9]{10}\d{20}\b")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\b\d{14}\b")
# 15 to 19 digits, maybe grouped: a card number (a 14-digit date is not one).
_CARD = re.compile(r"\b(?:\d[- ]?){14,18}\d\b")


@dataclass(frozen=True, slots=True)
class Comparison:
    """A verdict and the differences (or the reason it could not be compared), one line each."""

    verdict: str
    differences: tuple[str, ...] = ()


def mask_value(name: str, value: Any) -> Any:
    """A personal field with all but its first character (or last 4 digits of a number) starred."""
    if not isinstance(value, str) or not value or name not in PERSONAL:
        return value
    digits = value.replace("-", "").replace("*", "").replace(" ", "")
    if digits.isdigit():
        return "*" * max(len(value) - 4, 0) + value[-4:] if len(value) > 4 else "*" * len(value)
    return value[0] + "*" * (len(value) - 1)


def mask(data: Any, name: str = "") -> Any:
    """JSON-like data with every personal field masked and card-like digit runs starred in text."""
    if isinstance(data, Mapping):
        return {key: mask(value, key) for key, value in data.items()}
    if isinstance(data, list):
        return [mask(item, name) for item in data]
    if isinstance(data, str):
        masked = mask_value(name, data)
        return _CARD.sub(_star_card, masked)
    return data


def _star_card(match: re.Match) -> str:
    text = match.group()
    return re.sub(r"\d", "*", text[:-4]) + text[-4:]


def mask_answer(answer: Answer) -> Answer:
    """The answer with its body masked (what the report keeps)."""
    return Answer(status=answer.status, content_type=answer.content_type, location=answer.location,
                  json=mask(answer.json), text=mask(answer.text), error=answer.error)


def normalise(data: Any, name: str = "", volatile: frozenset[str] = VOLATILE) -> Any:
    """JSON-like data with volatile values replaced by placeholders (empty stays empty)."""
    if isinstance(data, Mapping):
        return {key: normalise(value, key, volatile) for key, value in data.items()}
    if isinstance(data, list):
        return [normalise(item, name, volatile) for item in data]
    if name in volatile and data not in (None, ""):
        return f"<{name}>"
    if isinstance(data, str):
        if name == "cancelData" and data.startswith("["):
            try:
                return normalise(json.loads(data), name, volatile)
            except ValueError:
                pass
        return _DATETIME.sub("<datetime>", _TID.sub("<tid>", data))
    return data


def compare(target: Answer, reference: Answer, ignore: frozenset[str] = frozenset()) -> Comparison:
    """Whether two answers to the same request agree once volatile (and ignored) values are normalised."""
    if target.error:
        return Comparison(NOT_COMPARABLE, (f"live: {target.error}",))
    if reference.error:
        return Comparison(NOT_COMPARABLE, (f"sandbox: {reference.error}",))
    found = []
    if target.status != reference.status:
        found.append(f"HTTP status: live {target.status}, sandbox {reference.status}")
    if target.location != reference.location:
        found.append(f"Location: live {target.location or '(none)'}, sandbox {reference.location or '(none)'}")
    if target.media_type != reference.media_type:
        found.append(f"content type: live {target.media_type or '(none)'}, sandbox {reference.media_type or '(none)'}")
    if target.is_json != reference.is_json:
        found.append(f"body: live {'JSON' if target.is_json else 'not JSON'}, "
                     f"sandbox {'JSON' if reference.is_json else 'not JSON'}")
    elif target.is_json:
        volatile = VOLATILE | ignore
        found.extend(json_differences(normalise(target.json, volatile=volatile),
                                      normalise(reference.json, volatile=volatile)))
    return Comparison(DIFFERS if found else MATCH, tuple(found))


def json_differences(live: Any, sandbox: Any) -> list[str]:
    """One line per difference between two normalised JSON bodies: missing fields, then values."""
    if not (isinstance(live, dict) and isinstance(sandbox, dict)):
        return [] if live == sandbox else [f"body: live {_show(live)}, sandbox {_show(sandbox)}"]
    found = []
    only_live, only_sandbox = sorted(live.keys() - sandbox.keys()), sorted(sandbox.keys() - live.keys())
    if only_live:
        found.append(f"fields only live sends: {', '.join(only_live)}")
    if only_sandbox:
        found.append(f"fields only the sandbox sends: {', '.join(only_sandbox)}")
    for key in sorted(live.keys() & sandbox.keys()):
        if live[key] != sandbox[key]:
            found.append(f"{key}: live {_show(live[key])}, sandbox {_show(sandbox[key])}")
    return found


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."
