"""What is raised (the log and the quiet period) and when a failed delivery is tried again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from services.notifications.domain.rules import Candidate


@dataclass(frozen=True)
class QuietMark:
    """The last notification raised for a quiet key (unit, rule, indicator)."""

    notification_id: str
    raised_at: dt.datetime


@dataclass(frozen=True)
class Admission:
    raised: list[Candidate]  # new notifications, to be logged and delivered
    known: list[Candidate]  # already in the log: the same condition seen again
    suppressed: list[Candidate]  # inside the quiet period of an earlier notification


def admit(
    candidates: Iterable[Candidate],
    *,
    logged: frozenset[str],
    quiet: Mapping[str, QuietMark],
    now: dt.datetime,
    quiet_period: dt.timedelta,
) -> tuple[Admission, dict[str, QuietMark]]:
    """Sort candidates (in order) into raised, known and suppressed; returns the quiet marks
    the raised ones set. A candidate whose id is already logged is known (raised once). One
    whose quiet key had another notification raised less than ``quiet_period`` ago is
    suppressed; a mark carrying the candidate's own id does not suppress it (a retry after
    a crash between the mark and the log)."""
    raised: list[Candidate] = []
    known: list[Candidate] = []
    suppressed: list[Candidate] = []
    marks = dict(quiet)
    new_marks: dict[str, QuietMark] = {}
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
            continue
        raised.append(candidate)
        seen.add(identity)
        if key:
            marks[key] = new_marks[key] = QuietMark(identity, now)
    return Admission(raised, known, suppressed), new_marks


@dataclass(frozen=True)
class RetryPolicy:
    base: dt.timedelta
    cap: dt.timedelta
    max_attempts: int

    def delay(self, attempts: int) -> dt.timedelta:
        """Wait before the next try, after ``attempts`` failed ones: base·2^(n-1), capped."""
        exponent = max(0, attempts - 1)
        if exponent >= 62:
            return self.cap
        wait: dt.timedelta = self.base * (2**exponent)
        return min(self.cap, wait)


Outcome = Literal["delivered", "retry", "failed"]


def after_attempt(
    *, succeeded: bool, permanent: bool, attempts: int, policy: RetryPolicy
) -> tuple[Outcome, dt.timedelta | None]:
    """The delivery's fate after its ``attempts``-th try, and the wait before the next one."""
    if succeeded:
        return "delivered", None
    if permanent or attempts >= policy.max_attempts:
        return "failed", None
    return "retry", policy.delay(attempts)
