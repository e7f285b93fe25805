"""Once and quiet, retries with backoff, webhook signatures, subscriptions and messages."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

import pytest
from pydantic import ValidationError

from services.notifications.delivery.signature import SignatureError, signature, verify
from services.notifications.domain.messages import render
from services.notifications.domain.policy import (
    Held,
    LastWord,
    QuietMark,
    RetryPolicy,
    admit,
    after_attempt,
    channel_policy,
    releasable,
)
from services.notifications.domain.rules import RULES, Candidate
from services.notifications.domain.subscriptions import Subscription
from tests.unit.test_notification_rules import TARGET, share, status

NOW = dt.datetime(2026, 11, 21, 2, 30, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def breach(version: int, rule: str = "target_breached", unit: str = "D1") -> Candidate:
    return Candidate(
        rule=rule,
        unit_id=unit,
        severity="warning",
        condition=("female_key_leader_division_share", str(version)),
        details={"indicator": "female_key_leader_division_share"},
    )


def test_a_logged_notification_is_known_not_raised_again() -> None:
    first = breach(1)
    admission, marks = admit(
        [first], logged=frozenset({first.notification_id}), quiet={}, now=NOW, quiet_period=HOUR
    )
    assert (admission.raised, admission.known, marks) == ([], [first], {})


def test_a_flapping_indicator_is_quiet_for_the_quiet_period_per_unit_and_rule() -> None:
    flaps = [breach(1), breach(2, "target_recovered"), breach(3), breach(4, "target_recovered")]
    admission, marks = admit(flaps, logged=frozenset(), quiet={}, now=NOW, quiet_period=HOUR)
    assert admission.raised == flaps[:2]
    assert admission.suppressed == flaps[2:]
    assert len(marks) == 2
    later, _ = admit(
        [breach(5)], logged=frozenset(), quiet=marks, now=NOW + 2 * HOUR, quiet_period=HOUR
    )
    assert later.raised == [breach(5)]
    other_unit, _ = admit(
        [breach(5, unit="D2")], logged=frozenset(), quiet=marks, now=NOW, quiet_period=HOUR
    )
    assert other_unit.raised == [breach(5, unit="D2")]


def test_a_mark_of_the_same_notification_does_not_suppress_it() -> None:
    """A crash between the quiet mark and the log: the retry raises the same notification."""
    candidate = breach(1)
    quiet = {str(candidate.quiet_key): QuietMark(candidate.notification_id, NOW)}
    admission, _ = admit([candidate], logged=frozenset(), quiet=quiet, now=NOW, quiet_period=HOUR)
    assert admission.raised == [candidate]


def test_a_suppressed_breach_is_held_unless_it_says_what_subscribers_were_told() -> None:
    flaps = [breach(1), breach(2, "target_recovered"), breach(3)]
    admission, marks = admit(flaps, logged=frozenset(), quiet={}, now=NOW, quiet_period=HOUR)
    state = str(breach(1).state_key)
    assert admission.suppressed == [breach(3)]
    assert admission.words == {
        state: LastWord("target_recovered", Held(breach(3), breach(1).notification_id, NOW + HOUR))
    }
    # it flaps back: nothing left to say once the quiet period ends
    back, _ = admit(
        [breach(4, "target_recovered")],
        logged=frozenset(),
        quiet=marks,
        now=NOW,
        quiet_period=HOUR,
        words=admission.words,
    )
    assert back.words == {state: LastWord("target_recovered", None)}
    # below, unknown, below again: the second breach says what subscribers were told
    again, _ = admit(
        [breach(5)],
        logged=frozenset(),
        quiet={str(breach(5).quiet_key): QuietMark(breach(1).notification_id, NOW)},
        now=NOW,
        quiet_period=HOUR,
        words={state: LastWord("target_breached")},
    )
    assert (again.suppressed, again.words) == ([breach(5)], {state: LastWord("target_breached")})


def test_the_rules_of_one_direction_are_quiet_but_never_held() -> None:
    repeat = [breach(1, "last_female_key_leader_left"), breach(2, "last_female_key_leader_left")]
    admission, _ = admit(repeat, logged=frozenset(), quiet={}, now=NOW, quiet_period=HOUR)
    assert (admission.suppressed, admission.words) == ([repeat[1]], {})


def test_a_held_transition_comes_out_if_still_in_its_state_and_not_superseded() -> None:
    held = breach(3)
    mark = QuietMark(breach(1).notification_id, NOW)
    due = [Held(held, mark.notification_id, NOW + HOUR)]
    quiet = {str(held.quiet_key): mark}
    below = {"D1": status("D1", 4, female_key_leader_division_share=share(0, 1, target=TARGET))}
    meeting = {"D1": status("D1", 4, female_key_leader_division_share=share(1, 1, target=TARGET))}
    closed = {
        "D1": status(
            "D1", 4, active=False, female_key_leader_division_share=share(0, 1, target=TARGET)
        )
    }
    assert releasable(due, logged=frozenset(), quiet=quiet, statuses=below) == [held]
    assert releasable(due, logged=frozenset(), quiet=quiet, statuses=meeting) == []
    assert releasable(due, logged=frozenset(), quiet=quiet, statuses=closed) == []
    assert releasable(due, logged=frozenset(), quiet=quiet, statuses={}) == []
    logged = frozenset({held.notification_id})  # a crash after it came out
    assert releasable(due, logged=logged, quiet=quiet, statuses=below) == []
    moved_on = {str(held.quiet_key): QuietMark(breach(9).notification_id, NOW)}
    assert releasable(due, logged=frozenset(), quiet=moved_on, statuses=below) == []


def test_calendar_rules_have_no_quiet_period() -> None:
    reminders = [
        Candidate("deadline_approaching", "U-0001", "info", ("plan-a", "2026-11-15", "30")),
        Candidate("deadline_approaching", "U-0001", "info", ("plan-b", "2026-11-15", "30")),
    ]
    admission, marks = admit(reminders, logged=frozenset(), quiet={}, now=NOW, quiet_period=HOUR)
    assert admission.raised == reminders
    assert marks == {}


def test_backoff_doubles_up_to_the_cap_and_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(dt.timedelta(seconds=1), dt.timedelta(seconds=10), max_attempts=6)
    assert [policy.delay(n).total_seconds() for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert policy.delay(500) == dt.timedelta(seconds=10)
    assert after_attempt(succeeded=True, permanent=False, attempts=1, policy=policy) == (
        "delivered",
        None,
    )
    assert after_attempt(succeeded=False, permanent=False, attempts=2, policy=policy) == (
        "retry",
        dt.timedelta(seconds=2),
    )
    assert after_attempt(succeeded=False, permanent=True, attempts=1, policy=policy)[0] == "failed"
    assert after_attempt(succeeded=False, permanent=False, attempts=6, policy=policy)[0] == "failed"


def test_the_kafka_event_is_tried_until_delivered_at_the_capped_wait() -> None:
    """One event per notification (contract section 4): an outage never loses it."""
    policy = RetryPolicy(dt.timedelta(seconds=1), dt.timedelta(seconds=10), max_attempts=6)
    event = channel_policy(policy, "event")
    assert after_attempt(succeeded=False, permanent=False, attempts=10_000, policy=event) == (
        "retry",
        dt.timedelta(seconds=10),
    )
    assert after_attempt(succeeded=False, permanent=False, attempts=6, policy=event)[0] == "retry"
    for defaults in (policy, RetryPolicy(dt.timedelta(seconds=5), dt.timedelta(hours=1), None)):
        # days of an outage: base·2^(n-1) would overflow a timedelta long before 2^62
        assert [defaults.delay(n) for n in (45, 52, 61, 62, 10**6)] == [defaults.cap] * 5
    for channel in ("email", "webhook"):
        assert channel_policy(policy, channel) == policy
        gives_up = after_attempt(
            succeeded=False, permanent=False, attempts=6, policy=channel_policy(policy, channel)
        )
        assert gives_up[0] == "failed"


SECRET = b"s3cret"
BODY = b'{"id":"target_breached-abc"}'


def test_the_signature_is_hmac_sha256_over_the_timestamp_and_the_body() -> None:
    header = signature(SECRET, 1_700_000_000, BODY)
    expected = hmac.new(SECRET, b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify(SECRET, header, BODY, now=1_700_000_100) == 1_700_000_000


@pytest.mark.parametrize(
    ("secret", "header", "body", "now", "why"),
    [
        (SECRET, None, BODY, 1_700_000_000, "no signature"),
        (b"other", signature(SECRET, 1_700_000_000, BODY), BODY, 1_700_000_000, "mismatch"),
        (SECRET, signature(SECRET, 1_700_000_000, BODY), BODY + b" ", 1_700_000_000, "mismatch"),
        (SECRET, signature(SECRET, 1_700_000_000, BODY), BODY, 1_700_000_301, "tolerance"),
        (SECRET, "v1=abc", BODY, 1_700_000_000, "timestamp"),
    ],
)
def test_forged_tampered_and_replayed_requests_are_rejected(
    secret: bytes, header: str | None, body: bytes, now: int, why: str
) -> None:
    with pytest.raises(SignatureError, match=why):
        verify(secret, header, body, now=now)


def test_a_subscription_follows_a_subtree_some_rules_and_a_minimum_severity() -> None:
    subscription = Subscription(
        id="so-noi-vu",
        name="Sở Nội vụ",
        email="snv@example.vn",
        unit_id="A1",
        rules=["target_breached", "last_female_key_leader_left"],
        min_severity="warning",
    )
    chain = ["D1", "A1", "U-0001"]
    assert subscription.wants(rule="target_breached", severity="warning", chain=chain)
    assert subscription.wants(rule="last_female_key_leader_left", severity="critical", chain=chain)
    assert not subscription.wants(rule="target_breached", severity="info", chain=chain)
    assert not subscription.wants(rule="data_quality", severity="critical", chain=chain)
    assert not subscription.wants(rule="target_breached", severity="warning", chain=["A2"])
    everything = Subscription(id="all", name="All", webhook_url="http://127.0.0.1:9/hook")
    assert everything.wants(rule="data_quality", severity="info", chain=["X"])
    assert everything.channels() == [("webhook", "http://127.0.0.1:9/hook")]


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "a", "name": "A"},  # no channel
        {"id": "a", "name": "A", "email": "a@b.vn", "rules": ["no_such_rule"]},
        {"id": "a", "name": "A", "webhook_url": "ftp://x"},
        {"id": "a b", "name": "A", "email": "a@b.vn"},
    ],
)
def test_invalid_subscriptions_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Subscription.model_validate(fields)


DETAILS: dict[str, dict[str, Any]] = {
    "target_breached": {
        "unit_name": "Sở Nội vụ",
        "indicator": "female_key_leader_division_share",
        "value": 0.9,
        "numerator": 9,
        "denominator": 10,
        "target": {"plan": "lang-son-dolisa-2022", "year": 2030, "value": 0.95},
    },
    "last_female_key_leader_left": {"unit_name": "Phòng Tổ chức", "numerator": 0, "denominator": 1},
    "planning_floor_breached": {
        "unit_name": "Phòng Tổ chức",
        "pool_share": {"value": 0.2, "numerator": 1, "denominator": 5},
    },
    "recommendation_overdue": {
        "unit_name": "Phòng Tổ chức",
        "recommendation_id": "R-7",
        "inspection_id": "INS-2",
        "due": "2026-10-01",
    },
    "deadline_approaching": {
        "unit_name": "UBND tỉnh Lạng Sơn",
        "plan": "lang-son-dolisa-2022",
        "plan_title": "Kế hoạch thực hiện mục tiêu bình đẳng giới",
        "deadline": "annual-report",
        "deadline_title": "Báo cáo kết quả thực hiện hằng năm",
        "due": "2026-11-15",
        "days_left": 14,
    },
    "data_quality": {
        "unit_name": "Phòng Tổ chức",
        "day": "2026-11-20",
        "counts": {"position_not_held": 2},
        "total": 2,
    },
}
DETAILS["target_recovered"] = {**DETAILS["target_breached"], "value": 1.0, "numerator": 10}


def test_every_rule_has_a_vietnamese_and_an_english_message_naming_the_unit() -> None:
    assert set(DETAILS) == set(RULES)
    for rule, details in DETAILS.items():
        vi = render(rule, details, "vi")
        en = render(rule, details, "en")
        assert details["unit_name"] in vi[0]
        assert details["unit_name"] in en[0]
        assert vi != en


def test_messages_carry_the_figures() -> None:
    title, body = render("target_breached", DETAILS["target_breached"], "vi")
    assert "dưới mục tiêu" in title
    assert "90,0% (9/10)" in body
    assert "95,0% vào năm 2030" in body
    _, reminder = render("deadline_approaching", DETAILS["deadline_approaching"], "vi")
    assert "trước ngày 15/11/2026 (còn 14 ngày)" in reminder
    _, summary = render("data_quality", DETAILS["data_quality"], "en")
    assert "ends of positions not held: 2" in summary
