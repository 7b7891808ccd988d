"""Tests for the lifecycle table: the one place states and changes are declared."""
import re
from pathlib import Path

from webview_toolkit import lifecycle
from webview_toolkit.lifecycle import FINAL, TRANSITIONS, OrderStatus, diagram_edges, sources

ROOT = Path(__file__).resolve().parent.parent
TABLE = {(row.source.value, row.event, row.target.value) for row in TRANSITIONS}


def test_the_module_diagram_draws_exactly_the_table():
    assert diagram_edges(lifecycle.__doc__) == TABLE


def test_the_readme_diagram_is_the_modules():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    drawn = lifecycle.__doc__.split("```")[1].strip()
    assert drawn in readme, "README's state diagram differs from webview_toolkit/lifecycle.py's"


def test_every_state_is_reachable_and_only_final_states_have_no_way_out():
    targets = {row.target for row in TRANSITIONS} | {OrderStatus.CREATED}
    assert targets == set(OrderStatus)
    leaving = {row.source for row in TRANSITIONS}
    assert set(OrderStatus) - leaving == set(FINAL)


def test_sources_answers_from_the_table():
    assert sources(OrderStatus.PAID, "approved") == (OrderStatus.APPROVING,)
    assert sources(OrderStatus.PAID, "no_such_event") == ()


def test_no_state_name_is_spelled_as_a_bare_string_outside_the_table():
    """A status compared, listed or keyed by its literal name (event names may share the words)."""
    names = "|".join(sorted((s.value for s in OrderStatus), key=len, reverse=True))
    literal = rf"""["'](?:{names})["']"""
    uses = re.compile(rf"status\w*\s*(?:==|!=|\bin\b)\s*[(\[]?\s*{literal}"  # status == "paid", in ("a", …
                      rf"|{literal}\s*,\s*{literal}"  # ("approving", "unknown")
                      rf"|^\s*{literal}\s*:")  # "paid": (… as a dict key
    offenders = []
    for path in sorted((ROOT / "webview_toolkit").rglob("*")):
        if path.suffix not in (".py", ".html", ".js") or path.name == "lifecycle.py" or "migrations" in path.parts:
            continue  # a migration freezes the names of its own day, on purpose
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if uses.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_bare_string_check_finds_what_it_looks_for():
    names = "|".join(s.value for s in OrderStatus)
    literal = rf"""["'](?:{names})["']"""
    uses = re.compile(rf"status\w*\s*(?:==|!=|\bin\b)\s*[(\[]?\s*{literal}|{literal}\s*,\s*{literal}|^\s*{literal}\s*:")
    for line in ('if order.status == "paid":', 'status in ("approving", "unknown")', '    "failed": ("결제 실패", "…"),',
                 '{% if order.status == "failed" %}'):
        assert uses.search(line), line
    assert not uses.search('store.transition(ord_no, S.PAID, "cancelled", detail={})')
