"""A standing delay per API endpoint: our own test aid for a slow KISPG, not KISPG behaviour.

`KISPG_SANDBOX_DELAY=payment=3` (or `webview-toolkit sandbox --delay payment=3`) makes every
/v2/payment call answer three seconds late; `cancel` and `order` take one too. The wait comes
before the request is handled, outside the sandbox's lock, so thirty slow approvals wait side by
side instead of one after another, and what a call does (an approval recorded) happens at the end
of its wait, as when KISPG waits on the card company. The wait is the sandbox state's `sleep`, so
tests hold it on an event instead of a clock.
"""
from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any, Mapping

from .admin import MAX_DELAY
from .state import FAULT_ENDPOINTS

CONFIG_KEY = "KISPG_SANDBOX_DELAY"


class DelayError(ValueError):
    """A delay setting that cannot be read; the message names the part at fault."""


def parse_delays(setting: str | Mapping[str, Any] | None) -> Mapping[str, float]:
    """{endpoint: seconds} from `payment=3,order=0.5` (or a mapping of the same); DelayError when bad."""
    if not setting:
        return MappingProxyType({})
    if isinstance(setting, str):
        pairs = []
        for part in setting.replace(" ", ",").split(","):
            if not part:
                continue
            name, sep, seconds = part.partition("=")
            if not sep:
                raise DelayError(f"{CONFIG_KEY} needs endpoint=seconds, got {part!r}")
            pairs.append((name.strip(), seconds.strip()))
    else:
        pairs = list(setting.items())
    delays = {}
    for name, seconds in pairs:
        if name not in FAULT_ENDPOINTS:
            raise DelayError(f"{CONFIG_KEY} endpoint must be one of {', '.join(FAULT_ENDPOINTS)}, got {name!r}")
        try:
            value = float(seconds) if not isinstance(seconds, bool) else math.nan
        except (TypeError, ValueError):
            value = math.nan
        if not 0 <= value <= MAX_DELAY:
            raise DelayError(f"{CONFIG_KEY} for {name} must be seconds between 0 and {MAX_DELAY:g}, got {seconds!r}")
        delays[name] = value
    return MappingProxyType(delays)
