"""The KISPG JSON API over a `requests.Session`: approval, cancel and order inquiry.

Every request is validated against its table before it leaves, signed with
`signing.sign`, and sent once: nothing here retries, because a retried approval
could charge twice. A timeout raises KispgTimeout; reconcile with `inquire(ord_no=...)`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Callable, Mapping

import requests
from requests.adapters import HTTPAdapter

from .result_codes import DEFAULT_SUCCESS, SuccessCodes
from .errors import (DeclinedError, HTTPStatusError, InvalidResponseError, KispgTimeout,
                     ResponseMismatchError, TransportError, UnregisteredServerError)
from .answers import Approval, Cancellation, Inquiry
from .signing import KST, edi_date_now, sign
from .specs import validate

log = logging.getLogger(__name__)

BASE_URLS = MappingProxyType({"test": "https://testapi.kispg.co.kr", "prod": "https://api.kispg.co.kr"})
ENVIRONMENTS = ("sandbox", "test", "prod")
DEFAULT_TIMEOUT = (3.05, 30.0)


def base_url_for(env: str, explicit: str | None = None, sandbox_url: str | None = None) -> str:
    """The API base URL: explicit wins, else sandbox_url for 'sandbox', else KISPG's test or prod host."""
    if explicit:
        return explicit.rstrip("/")
    if env == "sandbox":
        if not sandbox_url:
            raise ValueError("env 'sandbox' needs sandbox_url (where the sandbox blueprint is mounted)")
        return sandbox_url.rstrip("/")
    if env in BASE_URLS:
        return BASE_URLS[env]
    raise ValueError(f"unknown KISPG environment {env!r}; choose one of {', '.join(ENVIRONMENTS)}")


# Connections to KISPG kept open for reuse, per process: at least one per thread that may wait on
# KISPG at once (web/gunicorn_conf.py runs 32 per worker). requests keeps 10; an eleventh call at
# once opened its own connection, and urllib3 closed it afterwards with a warning, so under a slow
# KISPG every later call paid a new connection (and TLS handshake) again. Idle ones cost a socket.
KEPT_CONNECTIONS = 64


def session_for(base_url: str) -> requests.Session:
    """A session for one host whose environment (proxy, NO_PROXY, CA bundle) is read once, here.

    requests reads the environment again on every call when trust_env is on: for the one host a
    client talks to, that is the same answer each time, and it was a tenth of an approval's CPU (bench/).
    Change HTTPS_PROXY or REQUESTS_CA_BUNDLE and restart the service, as for any other setting.
    It keeps up to KEPT_CONNECTIONS connections for reuse, not requests' 10.
    """
    session = requests.Session()
    for prefix in ("https://", "http://"):
        session.mount(prefix, HTTPAdapter(pool_maxsize=KEPT_CONNECTIONS))
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies, session.verify = settings["proxies"], settings["verify"]
    session.trust_env = False
    return session


@dataclass(frozen=True, slots=True)
class Refund:
    """Where a virtual-account refund goes: bank code (§9), account number, holder."""

    bank_cd: str
    account: str
    name: str


class KispgClient:
    """A KISPG API client for one merchant; the session is injectable, so tests never open sockets."""

    __slots__ = ("base_url", "mid", "_key", "timeout", "session", "charset", "clock", "success")

    def __init__(self, base_url: str, mid: str, merchant_key: str,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT, session: requests.Session | None = None,
                 *, charset: str = "UTF-8", clock: Callable[[], datetime] | None = None,
                 success: SuccessCodes = DEFAULT_SUCCESS):
        self.base_url = base_url.rstrip("/")
        self.mid = mid
        self._key = merchant_key
        self.timeout = timeout
        self.session = session if session is not None else session_for(self.base_url)
        self.charset = charset
        self.clock = clock or (lambda: datetime.now(KST))
        self.success = success

    def __repr__(self) -> str:
        return f"KispgClient(base_url={self.base_url!r}, mid={self.mid!r})"

    def approve(self, tid: str, goods_amt: str | int) -> Approval:
        """Approve an authenticated payment once (§3.2); KispgTimeout means: ask inquire(), do not retry."""
        edi_date = edi_date_now(self.clock())
        fields = {"mid": self.mid, "tid": tid, "goodsAmt": str(goods_amt), "ediDate": edi_date,
                  "encData": sign(self.mid, edi_date, goods_amt, self._key), "charset": self.charset}
        data = self._call("/v2/payment", "approval_request", fields, "approval")
        _expect(data, "tid", tid)
        _expect(data, "amt", str(goods_amt))
        return Approval.from_response(data)

    def cancel(self, tid: str, can_amt: str | int, *, reason: str, pay_method: str = "card",
               partial: bool = False, ord_no: str | None = None, refund: Refund | None = None,
               can_id: str | None = None, can_nm: str | None = None, can_ip: str | None = None,
               mbs_reserved: str | None = None) -> Cancellation:
        """Cancel all (partial=False) or part of an approved payment (§3.3); refund for virtual accounts."""
        edi_date = edi_date_now(self.clock())
        fields: dict[str, Any] = {
            "payMethod": pay_method, "tid": tid, "mid": self.mid, "ordNo": ord_no, "canAmt": str(can_amt),
            "canId": can_id, "canNm": can_nm, "canMsg": reason, "canIp": can_ip,
            "partCanFlg": "1" if partial else "0", "encData": sign(self.mid, edi_date, can_amt, self._key),
            "ediDate": edi_date, "charset": self.charset, "mbsReserved": mbs_reserved,
        }
        if refund is not None:
            fields.update(refundBankCd=refund.bank_cd, refundAccnt=refund.account, refundNm=refund.name)
        data = self._call("/v2/cancel", "cancel_request", fields, "cancel", pay_method)
        _expect(data, "tid", tid)
        return Cancellation.from_response(data)

    def inquire(self, tid: str | None = None, ord_no: str | None = None, *, goods_amt: str | int) -> Inquiry:
        """The state of a payment by tid or ordNo (tid wins when both are given), §3.4."""
        edi_date = edi_date_now(self.clock())
        fields = {"mid": self.mid, "tid": tid, "ordNo": ord_no, "goodsAmt": str(goods_amt),
                  "encData": sign(self.mid, edi_date, goods_amt, self._key), "ediDate": edi_date}
        data = self._call("/v2/order", "inquiry_request", fields, "inquiry")
        if tid:
            _expect(data, "tid", tid)
        else:
            _expect(data, "ordNo", str(ord_no))
        try:
            return Inquiry.from_response(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidResponseError(f"cancelData is not the documented JSON list: {exc}",
                                       body=str(data.get("cancelData"))) from None

    def _call(self, path: str, spec: str, fields: Mapping[str, Any], operation: str,
              pay_method: str | None = None) -> dict[str, Any]:
        payload = validate(spec, fields, self.charset)
        url = self.base_url + path
        data = self._post(url, payload)
        result_cd = str(data["resultCd"])
        result_msg = str(data.get("resultMsg") or "")
        log.info("kispg %s tid=%s ordNo=%s resultCd=%s", path, payload.get("tid"), payload.get("ordNo"), result_cd)
        method = str(data.get("payMethod") or pay_method or "")
        if not self.success.is_success(operation, method, result_cd):
            raise DeclinedError(f"{path} declined: {result_cd} {result_msg}".rstrip(), result_cd=result_cd,
                                result_msg=result_msg, response=data)
        return data

    def _post(self, url: str, payload: Mapping[str, str]) -> dict[str, Any]:
        try:
            # Never follow a redirect: KISPG's API has none, and its firewall's 302 must not become "not JSON".
            response = self.session.post(url, json=payload, timeout=self.timeout, allow_redirects=False,
                                         headers={"Accept": "application/json"})
        except requests.ConnectTimeout:
            raise KispgTimeout(f"connect timeout to {url}: the request was not sent", url=url,
                               phase="connect") from None
        except requests.Timeout:
            raise KispgTimeout(f"read timeout from {url}: the request may have been processed", url=url,
                               phase="read") from None
        except requests.RequestException as exc:
            raise TransportError(f"{url}: {type(exc).__name__}", url=url) from None
        body = response.text
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location", "")
            raise UnregisteredServerError(
                f"{url} answered HTTP {response.status_code} to {location or 'another page'}: KISPG's firewall "
                "turns away servers it does not know; the server's address must be registered with KISPG "
                "(ask KISPG to register this server's public IP address)",
                status=response.status_code, body=body, url=url, location=location)
        if response.status_code != 200:
            raise HTTPStatusError(f"{url} answered HTTP {response.status_code}", status=response.status_code,
                                  body=body, url=url)
        try:
            data = response.json()
        except ValueError:
            raise InvalidResponseError(f"{url} answered something that is not JSON", body=body) from None
        if not isinstance(data, dict) or not data.get("resultCd"):
            raise InvalidResponseError(f"{url} answered JSON without resultCd", body=body)
        return data


def _expect(data: Mapping[str, Any], name: str, expected: str) -> None:
    actual = data.get(name)
    if actual not in (None, "") and str(actual) != expected:
        raise ResponseMismatchError(f"{name} in the answer is {actual}, expected {expected}",
                                    field=name, expected=expected, actual=str(actual))
