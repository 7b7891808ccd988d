"""Hostile input as hypothesis strategies, and what every refusal of it must look like."""
from __future__ import annotations

import json
from urllib.parse import quote_from_bytes

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from .service_helpers import UA


SETTINGS = settings(max_examples=80, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


SCRIPT = "<script>alert('x')</script>"

SPECIAL = st.sampled_from([
    "", " ", "\x00", "a\x00b", "0", "-1", "1e309", "NaN", "99999999999999", "3000000000", "0000", "3001",
    "가" * 3000, "x" * 70000, SCRIPT, "\"><img src=x onerror=alert(1)>", "'; DROP TABLE orders; --",
    "\u202e\ufeff", "\ud800", "뷁", "１２３", "EUC-KR", "euc-kr", "UTF-8", "latin-1", "card", "CARD",
])

TEXT = st.one_of(SPECIAL, st.text(max_size=40), st.text(st.characters(codec="utf-8"), min_size=100, max_size=400))

JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**15, max_value=10**40) | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)

# Raw bytes a browser or a proxy could send: random, invalid UTF-8, Korean in EUC-KR.
KOREAN = st.text(st.sampled_from("가나다라마바사뷁똠햏홍길동결제취소"), max_size=20)

RAW_VALUE = st.one_of(
    TEXT.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=60),
    KOREAN.map(lambda s: s.encode("euc-kr", "ignore")),
    st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xb0\xa1\xff", b"%", b"%zz"]),
)


def form_body(names):
    """An urlencoded body from (name, raw value) pairs: names repeat, values are any bytes."""
    pair = st.tuples(st.one_of(st.sampled_from(names), TEXT.map(lambda s: s.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))), RAW_VALUE)
    return st.lists(pair, max_size=12).map(
        lambda pairs: "&".join(f"{quote_from_bytes(k.encode('utf-8', 'surrogatepass'))}={quote_from_bytes(v)}"
                               for k, v in pairs).encode("ascii"))


def json_body(names):
    """A JSON body: an object over the endpoint's names (some repeated in the text), another value, or junk bytes."""
    objects = st.dictionaries(st.one_of(st.sampled_from(names), TEXT), JSON_VALUE, max_size=8)
    repeated = st.tuples(st.sampled_from(names), JSON_VALUE, JSON_VALUE).map(
        lambda t: f'{{"{t[0]}": {json.dumps(t[1])}, "{t[0]}": {json.dumps(t[2])}}}'.encode())
    return st.one_of(objects.map(lambda d: json.dumps(d).encode()), JSON_VALUE.map(lambda v: json.dumps(v).encode()),
                     repeated, st.binary(max_size=200))


CONTENT_TYPES = st.sampled_from([
    "application/json", "application/json; charset=euc-kr", "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=EUC-KR", "text/plain", "multipart/form-data", "",
])

HOSTILE_UA = st.one_of(
    st.sampled_from([SCRIPT, UA["kakaotalk_ios"] + SCRIPT, "\"><svg onload=alert(1)>", "", "x" * 8000]),
    st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=200),
)


def clear_4xx(response, *, json_error: bool):
    """A refusal the caller can read: 4xx and a message (JSON `error`, or an HTML page saying why)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    if json_error:
        body = response.get_json(silent=True)
        assert isinstance(body, dict) and body.get("error"), response.get_data()[:300]
    else:
        assert response.get_data(as_text=True).strip(), "an empty refusal"


def no_raw_markup(page) -> None:
    """No posted markup survives unescaped in an HTML page (JSON answers are data, not pages)."""
    if not isinstance(page, str):
        if page.mimetype != "text/html":
            return
        page = page.get_data(as_text=True)
    for raw in ("<script>alert", "<svg onload", "<img src=x"):
        assert raw not in page
