"""Campaign definitions for tests: valid as Kore.ai documents them, overridable field by field."""

from __future__ import annotations

import copy
from typing import Any

#: A voice campaign in Agentless mode on one list, every documented field filled.
VOICE_SPEC: dict[str, Any] = {
    "name": "Renewals outreach",
    "description": "Calls customers whose policy renews this month",
    "contactLists": ["Renewal Due - August 2025"],
    "priority": "5",
    "dialingMode": "Agentless",
    "experienceFlowName": "Renewal reminder flow",
    "enableMachineDetect": False,
    "dialingStrategy": {
        "callerId": {"phoneNumber": "+14155550100"},
        "callingHours": {
            "frequency": "WEEKLY",
            "timezone": "America/New_York",
            "days": [{"day": day, "start": "9:00 AM", "end": "6:00 PM"} for day in ("MO", "TU", "WE")],
        },
        "dialingOrder": "FIFO",
        "maxAttemptsPerRecord": 3,
        "defaultRetryPeriod": 30,
        "maxRingTime": 30,
    },
    "schedule": {"isSchedulingEnabled": False},
}


def voice_spec(**overrides: Any) -> dict[str, Any]:
    """A deep copy of :data:`VOICE_SPEC` with top-level fields replaced (``None`` removes one)."""
    spec = copy.deepcopy(VOICE_SPEC)
    for key, value in overrides.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return spec
