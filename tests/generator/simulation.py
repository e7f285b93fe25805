"""Month by month, what happens in the province's HR between go-live and ``now`` (and a
little after: decisions already taken that take effect later).

Each month draws its occurrences (trainings, hires, vacancies filled, planning reviews,
transfers, leavings, corrections, renames) at random instants, sorts them with anything
scheduled (the reorganisation, the HR system's mistakes) and applies them in time order,
each checking the state at its own instant, so every subject's events are consistent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.clock import VIETNAM
from tests.generator import organisation, personnel
from tests.generator.anomalies import schedule_anomalies
from tests.generator.restructuring import Reorganisation
from tests.generator.state import DEPUTY, HEAD, Person, ProvinceState, Snapshot, Unit

if TYPE_CHECKING:
    from tests.generator.model import ProvinceShape

Act = Callable[[datetime], None]
REORGANISATION_DAY = datetime(2025, 7, 1, tzinfo=VIETNAM)
TERM = timedelta(days=5 * 365 + 1)  # a leader's term (nhiệm kỳ bổ nhiệm): five years
PER_MONTH = {
    "training": 0.4 / 12,
    "correction": 0.03 / 12,
    "transfer": 0.03 / 12,
    "leaving": 0.012 / 12,
}


def history_start(now: datetime, years: int) -> datetime:
    """Go-live: ``years`` calendar years and a season before ``now``, so that some
    trainings fall outside the five-year window."""
    local = now.astimezone(VIETNAM)
    anniversary = datetime(local.year - years, local.month, min(local.day, 28), 8, tzinfo=VIETNAM)
    return anniversary - timedelta(days=90)


def _next_month(instant: datetime) -> datetime:
    local = instant.astimezone(VIETNAM)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=VIETNAM)


class Simulation:
    def __init__(self, state: ProvinceState, shape: ProvinceShape, now: datetime) -> None:
        self.state, self.shape, self.now = state, shape, now
        self.start = history_start(now, shape.years)
        self.root = organisation.initial_load(state, shape, self.start)
        self.live = self.cursor = self.start + timedelta(days=1)  # after the go-live load
        self.scheduled: list[tuple[datetime, Act]] = []
        at = REORGANISATION_DAY
        if not self.cursor + timedelta(days=60) < at <= now:
            at = _next_month(self.cursor + (now - self.cursor) / 2)
        if shape.restructuring:
            reorganisation = Reorganisation(state, self.root.unit_id, at, shape.anomalies)
            self.scheduled.extend(reorganisation.actions())
        if shape.anomalies:
            self.scheduled.extend(schedule_anomalies(state, self.cursor, now))

    def run(self) -> Snapshot:
        """Simulate up to ``now``, then the decisions that take effect later."""
        self._run_until(self.now, future=False)
        snapshot = self.state.snapshot()
        wanted = self.shape.future_rate * len(self.state.drafts)
        history = len(self.state.drafts)
        for _ in range(12):
            if len(self.state.drafts) - history >= wanted:
                break
            self._run_until(_next_month(self.cursor), future=True)
        return snapshot

    def _run_until(self, end: datetime, *, future: bool) -> None:
        while self.cursor < end:
            high = min(_next_month(self.cursor), end)
            self._month(self.cursor, high, future=future)
            self.cursor = high

    def _instant(self, low: datetime, high: datetime) -> datetime:
        instant = (low + (high - low) * self.state.rng.random()).replace(second=0, microsecond=0)
        return instant if instant > low else low + timedelta(minutes=1)

    def _month(self, low: datetime, high: datetime, *, future: bool) -> None:
        state, rng = self.state, self.state.rng
        acts: list[tuple[datetime, int, Act]] = []

        def add(time: datetime, act: Act) -> None:
            acts.append((time, len(acts), act))

        def at_random(act: Act) -> None:
            add(self._instant(low, high), act)

        for time, act in self.scheduled:
            if low < time <= high:
                add(time, act)
        for unit in state.open_units():
            for person_id in list(state.staff[unit.unit_id]):
                self._person_month(state.people[person_id], low, high, future, add, at_random)
            self._unit_month(unit, low, future, at_random)
        if not future:
            changes: tuple[tuple[float, Callable[[ProvinceState, datetime], None]], ...] = (
                (0.03, organisation.rename_somewhere),
                (0.01, organisation.move_division),
            )
            for chance, change in changes:
                if rng.random() < chance:
                    at_random(functools.partial(change, state))
            if rng.random() < 0.03:
                at_random(lambda t: organisation.establish_division(state, t, self.shape))
        for time, _, act in sorted(acts, key=lambda a: (a[0], a[1])):
            act(time)

    def _person_month(
        self,
        person: Person,
        low: datetime,
        high: datetime,
        future: bool,
        add: Callable[[datetime, Act], None],
        at_random: Callable[[Act], None],
    ) -> None:
        state, rng = self.state, self.state.rng

        def staff(act: Callable[[ProvinceState, datetime, Person], None]) -> Act:
            def run(time: datetime) -> None:
                if not person.left and not state.units[person.home].closed:
                    act(state, time, person)

            return run

        if low < person.retire_at <= high:
            add(person.retire_at, staff(lambda s, t, p: s.leave(t, p, "retired")))
        for (unit_id, role), since in person.positions.items():
            if low < since + TERM <= high:
                add(since + TERM, staff(self._term_end(unit_id, role, since)))
        draw = rng.random()
        for kind, act in (
            ("training", personnel.train),
            ("correction", personnel.correct),
            ("transfer", personnel.move_elsewhere),
            ("leaving", personnel.leave),
        ):
            if draw < PER_MONTH[kind]:
                if not future or kind in ("transfer", "leaving"):
                    at_random(staff(act))
                return
            draw -= PER_MONTH[kind]

    def _term_end(
        self,
        unit_id: str,
        role: str,
        since: datetime,
    ) -> Callable[[ProvinceState, datetime, Person], None]:
        def act(state: ProvinceState, time: datetime, person: Person) -> None:
            if person.positions.get((unit_id, role)) != since or state.units[unit_id].closed:
                return
            if state.rng.random() < 0.65:
                state.appoint(time, person, unit_id, role)  # bổ nhiệm lại: a new term
            else:
                state.end_position(time, person, unit_id, role)

        return act

    def _unit_month(
        self, unit: Unit, low: datetime, future: bool, at_random: Callable[[Act], None]
    ) -> None:
        state, rng = self.state, self.state.rng

        def open_unit(act: Callable[[datetime], None]) -> Act:
            def run(time: datetime) -> None:
                if not unit.closed:
                    act(time)

            return run

        def recruit(time: datetime) -> None:
            personnel.hire(state, time, unit, ages=(23, 35))

        if len(state.staff[unit.unit_id]) < unit.size_target and rng.random() < 0.25:
            at_random(open_unit(recruit))
        if not state.holders_of(unit.unit_id, HEAD) and rng.random() < 0.4:
            at_random(open_unit(lambda t: personnel.fill_head(state, t, unit)))
        if (
            len(state.holders_of(unit.unit_id, DEPUTY)) < unit.deputies_target
            and rng.random() < 0.12
        ):
            at_random(open_unit(lambda t: self._short_of_deputies(unit, t)))
        if unit is self.root:
            return
        local = low.astimezone(VIETNAM)
        current = personnel.period_start(local.year)
        if local.month == 11:  # the annual review (rà soát, bổ sung quy hoạch)
            if rng.random() < 0.5:
                period = personnel.period_name(current)
                at_random(open_unit(lambda t: personnel.plan_successors(state, t, unit, period, 1)))
            if rng.random() < 0.3:
                period = personnel.period_name(current)
                at_random(open_unit(lambda t: personnel.drop_successor(state, t, unit, period)))
        if local.year == current + 4 and local.month == 10:  # the next period's pool
            period = personnel.period_name(current + 5)
            count = rng.randint(2, 4)
            at_random(open_unit(lambda t: personnel.plan_successors(state, t, unit, period, count)))
        if local.year == current and 3 <= local.month <= 6 and rng.random() < 0.35:
            period = personnel.period_name(current - 5)  # the ended period's pool is cleared
            at_random(open_unit(lambda t: self._clear_pool(unit, period, t)))

    def _short_of_deputies(self, unit: Unit, time: datetime) -> None:
        if len(self.state.holders_of(unit.unit_id, DEPUTY)) < unit.deputies_target:
            personnel.fill_deputy(self.state, time, unit)

    def _clear_pool(self, unit: Unit, period: str, time: datetime) -> None:
        for person_id, role, entry_period in list(self.state.pools[unit.unit_id]):
            if entry_period == period:
                self.state.remove_planning(
                    time, self.state.people[person_id], unit.unit_id, role, period
                )
