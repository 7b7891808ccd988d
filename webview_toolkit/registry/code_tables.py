"""The guide's §9 code tables: card companies, banks, virtual-account banks, telcos, easy-pay."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from ._fields import Problems

TABLES = ("card_company", "bank", "vbank", "telco", "easypay")


@dataclass(frozen=True, slots=True)
class CodeTables:
    """Code → name, one read-only mapping per table."""

    tables: Mapping[str, Mapping[str, str]]

    def name(self, table: str, code: str | None) -> str | None:
        """The name for a code, or None when the table does not know it."""
        if code is None:
            return None
        return self.tables.get(table, {}).get(code)


def parse_codes(raw: Any, file: str, problems: Problems) -> dict[str, dict[str, str]]:
    """Read `codes:` of one file into plain dicts, recording each malformed row."""
    tables: dict[str, dict[str, str]] = {}
    if not isinstance(raw, dict):
        problems.add(f"{file}: codes", "must be a mapping of table name to {code: name}")
        return tables
    for table, rows in raw.items():
        where = f"{file}: codes table {table!r}"
        if table not in TABLES:
            problems.add(where, f"unknown table; known: {', '.join(TABLES)}")
            continue
        if not isinstance(rows, dict):
            problems.add(where, "must be a mapping of code to name")
            continue
        parsed = tables.setdefault(table, {})
        for code, name in rows.items():
            if not isinstance(code, str):
                problems.add(f"{where}: code {code!r}", "must be a quoted string (leading zeros matter)")
            elif not isinstance(name, str) or not name.strip():
                problems.add(f"{where}: code {code!r}", "needs a non-empty name")
            else:
                parsed[code] = name.strip()
    return tables


def freeze_codes(tables: dict[str, dict[str, str]]) -> CodeTables:
    """Wrap parsed tables read-only."""
    return CodeTables(MappingProxyType({k: MappingProxyType(dict(v)) for k, v in sorted(tables.items())}))
