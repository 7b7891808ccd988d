"""The benchmarks' shoppers read a form with two regular expressions instead of html.parser.

html.parser took about 1.5 ms of the shoppers' CPU per checkout, on the same two cores as the
service it measures; real shoppers parse on their phones. The pages read here are this project's
own (double-quoted attributes), and every checkout a benchmark drives is checked to end paid, so a
form read wrongly shows as a failed checkout, not as a faster one.
"""
from __future__ import annotations

import re
from html import unescape

_ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
_INPUT = re.compile(r"<input\b([^>]*)>")


def form(html: str, form_id: str) -> tuple[str, dict[str, str]]:
    """The action and the named inputs' values of the form with this id (ValueError if it is absent)."""
    found = re.search(rf'<form\b([^>]*\bid="{re.escape(form_id)}"[^>]*)>(.*?)</form>', html, re.S)
    if found is None:
        raise ValueError(f"no form id={form_id} in the page")
    action = dict(_ATTRIBUTE.findall(found.group(1))).get("action", "")
    fields = {}
    for attributes in _INPUT.findall(found.group(2)):
        values = dict(_ATTRIBUTE.findall(attributes))
        if values.get("name"):
            fields[unescape(values["name"])] = unescape(values.get("value", ""))
    return unescape(action), fields
