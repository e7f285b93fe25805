"""The notifications service reads the indicator feed in either Kafka binding (contract
section 1); what it cannot read is poison, explained without the record's values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from services.notifications.records import decode_indicators
from shared.envelope import PoisonRecord, encode_binary, encode_structured, new_event
from shared.outbound import INDICATORS_EVENT_TYPE
from tests.unit.test_notification_rules import TARGET, share, status


@dataclass
class FeedRecord:
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]
    topic: str = "gender-equality.indicators.v1"
    partition: int = 0
    offset: int = 0
    key: bytes | None = None
    timestamp: int = 0


def record(data: dict[str, object], *, binary: bool, subject: str = "D1") -> FeedRecord:
    event = new_event(
        source="parity/indicators",
        type_=INDICATORS_EVENT_TYPE,
        subject=subject,
        time=datetime(2026, 11, 21, tzinfo=UTC),
        data=data,
    )
    value, headers = (encode_binary if binary else encode_structured)(event)
    return FeedRecord(value, headers)


@pytest.mark.parametrize("binary", [False, True], ids=["structured", "binary"])
def test_a_record_of_the_feed_is_read_in_either_binding(binary: bool) -> None:
    update = status("D1", 3, female_key_leader_division_share=share(1, 2, target=TARGET))
    decoded = decode_indicators(record(update.model_dump(mode="json"), binary=binary))
    assert decoded == update


def test_invalid_data_is_poison_and_its_reason_names_fields_not_values() -> None:
    data = status("D1", 3).model_dump(mode="json")
    data["version"] = "secret-looking-value"
    with pytest.raises(PoisonRecord) as caught:
        decode_indicators(record(data, binary=False))
    assert caught.value.kind == "invalid_data"
    assert "version" in str(caught.value)
    assert "secret-looking-value" not in str(caught.value)
