"""Whether a unit's freshly computed status is news for the feed (pure).

The feed carries one record per change of any indicator of a unit (contract section 4):
``content`` is everything in the record but ``as_of`` and ``version``, and a record is
published when it differs from the last one. A unit that closes publishes one last record
with ``active: false`` and nothing after it; a unit never registered (only named by
others) publishes nothing.
"""

from __future__ import annotations

from typing import Any

from shared.contract import IndicatorValue
from shared.internal import UnitChanged

Content = dict[str, Any]


def content_of(unit: UnitChanged, values: dict[str, IndicatorValue]) -> Content:
    return {
        "unit_id": unit.unit_id,
        "name": unit.name,
        "level": unit.level,
        "parent_id": unit.parent_id,
        "active": unit.registered and unit.active,
        "indicators": {k: v.model_dump(mode="json") for k, v in values.items()},
    }


def is_news(unit: UnitChanged, content: Content, last: Content | None) -> bool:
    if not unit.registered:
        return False
    if last is None:
        return True
    if not content["active"] and not last["active"]:
        return False  # its last record is out already
    return content != last
