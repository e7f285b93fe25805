"""What is raised (the log and the quiet period) and when a failed delivery is tried again.

The quiet period holds back a breach or a recovery (``STATE_RULES``) rather than dropping
it. Per unit and indicator, the :class:`LastWord` keeps what subscribers were last told
(breached or recovered) and the transition held back: a suppressed one that says what they
were told clears it (the indicator is back where they last heard of it), any other is held
(the latest wins). A notification raised for the indicator is the new last word. When the
quiet period ends, a held one comes out if the indicator is still in its state
(:func:`releasable`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from services.notifications.domain.rules import Candidate, still_holds
from shared.backoff import doubling_wait
from shared.outbound import UnitIndicators


@dataclass(frozen=True)
class QuietMark:
    """The last notification raised for a quiet key (unit, rule, indicator)."""

    notification_id: str
    raised_at: dt.datetime


@dataclass(frozen=True)
class Held:
    """A breach or recovery the quiet period held back, until it ends."""

    candidate: Candidate
    suppressed_by: str  # the notification whose quiet period it fell in
    until: dt.datetime  # when that quiet period ends


@dataclass(frozen=True)
class LastWord:
    """Subscribers' last word on a unit's indicator, and what the quiet period holds back."""

    told: str | None = None  # the rule last raised (target_breached, target_recovered)
    held: Held | None = None


@dataclass(frozen=True)
class Admission:
    raised: list[Candidate]  # new notifications, to be logged and delivered
    known: list[Candidate]  # already in the log: the same condition seen again
    suppressed: list[Candidate]  # inside the quiet period of an earlier notification
    words: dict[str, LastWord] = field(default_factory=dict)  # by state key, those changed


def admit(
    candidates: Iterable[Candidate],
    *,
    logged: frozenset[str],
    quiet: Mapping[str, QuietMark],
    now: dt.datetime,
    quiet_period: dt.timedelta,
    words: Mapping[str, LastWord] | None = None,
) -> tuple[Admission, dict[str, QuietMark]]:
    """Sort candidates (in order) into raised, known and suppressed; returns the quiet marks
    the raised ones set. A candidate whose id is already logged is known (raised once). One
    whose quiet key had another notification raised less than ``quiet_period`` ago is
    suppressed; a mark carrying the candidate's own id does not suppress it (a retry after
    a crash between the mark and the log). ``words`` are the last words of the candidates'
    state keys; the admission has those it changes (see the module's docstring)."""
    raised: list[Candidate] = []
    known: list[Candidate] = []
    suppressed: list[Candidate] = []
    marks = dict(quiet)
    new_marks: dict[str, QuietMark] = {}
    last = dict(words or {})
    changed: dict[str, LastWord] = {}
    seen = set(logged)
    for candidate in candidates:
        identity = candidate.notification_id
        if identity in seen:
            known.append(candidate)
            continue
        key = candidate.quiet_key
        mark = marks.get(key) if key else None
        if (
            mark is not None
            and mark.notification_id != identity
            and now - mark.raised_at < quiet_period
        ):
            suppressed.append(candidate)
            state = candidate.state_key
            if state:
                told = last.get(state, LastWord()).told
                until = mark.raised_at + quiet_period
                held = (
                    None if candidate.rule == told else Held(candidate, mark.notification_id, until)
                )
                last[state] = changed[state] = LastWord(told, held)
            continue
        raised.append(candidate)
        seen.add(identity)
        if key:
            marks[key] = new_marks[key] = QuietMark(identity, now)
        if candidate.state_key:
            last[candidate.state_key] = changed[candidate.state_key] = LastWord(candidate.rule)
    return Admission(raised, known, suppressed, changed), new_marks


def releasable(
    due: Iterable[Held],
    *,
    logged: frozenset[str],
    quiet: Mapping[str, QuietMark],
    statuses: Mapping[str, UnitIndicators],
) -> list[Candidate]:
    """What held transitions, their quiet period over, come out now: those not logged yet,
    not superseded by a later notification of their rule (its quiet mark moved on), and
    whose indicator is still in the state they report in the unit's current status."""
    return [
        h.candidate
        for h in due
        if h.candidate.notification_id not in logged
        and (mark := quiet.get(h.candidate.quiet_key or "")) is not None
        and mark.notification_id == h.suppressed_by
        and still_holds(h.candidate, statuses.get(h.candidate.unit_id))
    ]


# The contract promises one event per notification: Kafka's delivery is never given up.
UNTIL_DELIVERED_CHANNELS = frozenset({"event"})


@dataclass(frozen=True)
class RetryPolicy:
    base: dt.timedelta
    cap: dt.timedelta
    max_attempts: int | None  # None: tried until delivered (or refused for good)

    def delay(self, attempts: int) -> dt.timedelta:
        """Wait before the next try, after ``attempts`` failed ones: base·2^(n-1), capped.
        (In float seconds: base·2^(n-1) as a timedelta overflows after about 45 attempts at
        a base of 5 s, and the event channel may try that often.)"""
        cap = self.cap.total_seconds()
        wait = doubling_wait(attempts, first=self.base.total_seconds(), longest=cap)
        return self.cap if wait >= cap else dt.timedelta(seconds=wait)


def channel_policy(policy: RetryPolicy, channel: str) -> RetryPolicy:
    """The policy of one channel: the Kafka event is tried again, at the capped wait, until
    Kafka takes it; e-mail and webhooks give up after ``max_attempts``."""
    if channel in UNTIL_DELIVERED_CHANNELS:
        return replace(policy, max_attempts=None)
    return policy


Outcome = Literal["delivered", "retry", "failed"]


def after_attempt(
    *, succeeded: bool, permanent: bool, attempts: int, policy: RetryPolicy
) -> tuple[Outcome, dt.timedelta | None]:
    """The delivery's fate after its ``attempts``-th try, and the wait before the next one."""
    if succeeded:
        return "delivered", None
    if permanent or (policy.max_attempts is not None and attempts >= policy.max_attempts):
        return "failed", None
    return "retry", policy.delay(attempts)
