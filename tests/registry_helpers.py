"""Registries written for a test: a valid one-app registry to add to, and the KISPG guide's own sections."""
from __future__ import annotations

from pathlib import Path

import yaml

BASE = {
    "apps": [{
        "id": "base", "name_ko": "기본", "name_en": "Base", "category": "card",
        "android_package": "com.example.base", "android_schemes": ["basescheme"],
        "ios_schemes": ["basescheme"], "app_store_id": "12345678", "card_codes": ["01"],
    }],
    "codes": {"card_company": {"01": "비씨"}},
}


def write_registry(directory: Path, extra_apps=None, extra_text=None, extra_browsers=None) -> Path:
    """A valid one-app registry, plus extra apps and browsers (or raw text) in schemes/extra.yaml."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "base.yaml").write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    if extra_apps is not None or extra_browsers is not None:
        document = {"apps": extra_apps or []}
        if extra_browsers is not None:
            document["browsers"] = extra_browsers
        text = yaml.safe_dump(document, allow_unicode=True)
        (directory / "extra.yaml").write_text(text, encoding="utf-8")
    if extra_text is not None:
        (directory / "extra.yaml").write_text(extra_text, encoding="utf-8")
    return directory


GUIDE = (Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_c50ecce6f2dfe9c6.txt")


def guide_section(start: str, end: str) -> str:
    """The guide's text from the heading `start` up to the heading `end`."""
    text = GUIDE.read_text(encoding="utf-8")
    return text[text.index(start):text.index(end)]
