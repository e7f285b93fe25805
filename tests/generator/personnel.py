"""What HR does to people: hiring, appointing, planning pools (quy hoạch), training,
transfers, corrections and leaving, each choosing plausible subjects from the state."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.clock import VIETNAM
from tests.generator.state import DEPUTY, HEAD, Person, ProvinceState, Unit

RETIREMENT_AGE = {"female": 57, "male": 61}  # Labour Code 2019, reached around 2026-2028
TRAINING_CATEGORIES = (
    ("political_theory", "LLCT", 15),
    ("state_management", "QLNN", 15),
    ("leadership", "LDQL", 8),
    ("professional", "CM", 25),
    ("foreign_language", "NN", 7),
    ("it", "CNTT", 10),
    ("gender_equality", "BDG", 5),
    ("other", "KHAC", 15),
)
PERIOD_ANCHOR = 2021  # planning periods run 2021-2026, 2026-2031, ...


def period_start(year: int) -> int:
    return PERIOD_ANCHOR + 5 * ((year - PERIOD_ANCHOR) // 5)


def period_name(start: int) -> str:
    return f"{start}-{start + 5}"


def _category(state: ProvinceState, unit: Unit) -> str:
    rng = state.rng
    in_service_unit = unit.level == "public_service_unit" or (
        unit.parent_id is not None and state.units[unit.parent_id].level == "public_service_unit"
    )
    if rng.random() < 0.08:
        return "other"
    if in_service_unit:
        return "public_employee"
    if unit.level == "province" or (unit.family == "district" and rng.random() < 0.3):
        return "cadre"
    return "civil_servant"


def hire(state: ProvinceState, time: datetime, unit: Unit, *, ages: tuple[int, int]) -> Person:
    rng = state.rng
    gender = "female" if rng.random() < unit.female_share else "male"
    age = rng.randint(ages[0], min(ages[1], RETIREMENT_AGE[gender] - 1))
    birth_year = time.year - age
    month = rng.randint(1, 12)
    retire_year, retire_month = birth_year + RETIREMENT_AGE[gender] + month // 12, month % 12 + 1
    return state.register_person(
        time,
        unit.unit_id,
        gender=gender,
        ethnic_minority=rng.random() < (0.75 if unit.family == "district" else 0.6),
        category=_category(state, unit),
        birth_year=birth_year,
        retire_at=datetime(retire_year, retire_month, 1, tzinfo=VIETNAM),
    )


def candidates(state: ProvinceState, unit: Unit, time: datetime) -> list[Person]:
    """Staff who may take a position in ``unit``: homed there or in one of its divisions,
    and not retiring within a year."""
    homes = [unit.unit_id, *state.child_divisions(unit.unit_id)]
    horizon = time + timedelta(days=365)
    return [
        state.people[p]
        for h in homes
        for p in state.staff[h]
        if state.people[p].retire_at > horizon
    ]


def _pick(
    state: ProvinceState,
    people: list[Person],
    unit: Unit,
    female_weight: float,
) -> Person | None:
    if not people:
        return None
    pool = {person_id for person_id, _, _ in state.pools[unit.unit_id]}
    weights = [
        (3.0 if p.person_id in pool else 1.0)
        * (female_weight if p.gender == "female" else 1.0)
        * (2.0 if p.home == unit.unit_id else 1.0)
        for p in people
    ]
    return state.rng.choices(people, weights)[0]


def take_up(state: ProvinceState, time: datetime, person: Person, unit: Unit, role: str) -> None:
    """Appoint, first ending what the appointee held in the unit or in their own division."""
    for held_unit, held_role in list(person.positions):
        if held_unit == unit.unit_id or (held_unit == person.home != unit.unit_id):
            state.end_position(time, person, held_unit, held_role)
    state.appoint(time, person, unit.unit_id, role)


def fill_head(state: ProvinceState, time: datetime, unit: Unit) -> None:
    if state.holders_of(unit.unit_id, HEAD):
        return
    senior = unit.level in ("province", "agency")  # fewer women the higher the post
    chosen = _pick(
        state, candidates(state, unit, time), unit, female_weight=0.35 if senior else 0.75
    )
    if chosen is not None:
        take_up(state, time, chosen, unit, HEAD)


def fill_deputy(state: ProvinceState, time: datetime, unit: Unit) -> None:
    people = [
        p
        for p in candidates(state, unit, time)
        if not any(u == unit.unit_id for u, _ in p.positions)
    ]
    senior = unit.level in ("province", "agency")
    chosen = _pick(state, people, unit, female_weight=0.45 if senior else 0.9)
    if chosen is not None:
        take_up(state, time, chosen, unit, DEPUTY)


def plan_successors(
    state: ProvinceState, time: datetime, unit: Unit, period: str, count: int
) -> None:
    """Add ``count`` people to the unit's pool for ``period`` (quy hoạch)."""
    rng = state.rng
    people = candidates(state, unit, time)
    rng.shuffle(people)
    for person in people[:count]:
        role = HEAD if rng.random() < 0.4 else DEPUTY
        if (unit.unit_id, role, period) not in person.planning:
            state.add_planning(time, person, unit.unit_id, role, period)


def drop_successor(state: ProvinceState, time: datetime, unit: Unit, period: str | None) -> None:
    entries = [e for e in state.pools[unit.unit_id] if period is None or e[2] == period]
    if entries:
        person_id, role, entry_period = state.rng.choice(entries)
        state.remove_planning(time, state.people[person_id], unit.unit_id, role, entry_period)


def train(state: ProvinceState, time: datetime, person: Person) -> None:
    rng = state.rng
    category, prefix, _ = rng.choices(TRAINING_CATEGORIES, [w for _, _, w in TRAINING_CATEGORIES])[
        0
    ]
    state.emit(
        time,
        "hr.training.completed",
        person.person_id,
        {"course_id": f"{prefix}-{time.year}-{rng.randint(1, 24):02d}", "category": category},
        source="lms/lang-son",
    )


def correct(state: ProvinceState, time: datetime, person: Person) -> None:
    """A correction of the person's record (hr.person.updated)."""
    rng = state.rng
    draw = rng.random()
    if draw < 0.4:
        person.ethnic_minority = not person.ethnic_minority
        data: dict[str, object] = {"ethnic_minority": person.ethnic_minority}
    elif draw < 0.7:
        person.category = rng.choice(["cadre", "civil_servant", "public_employee", "other"])
        data = {"category": person.category}
    elif draw < 0.95:
        person.birth_year += rng.choice((-1, 1))
        data = {"birth_year": person.birth_year}
    else:
        person.gender = "male" if person.gender == "female" else "female"
        data = {"gender": person.gender}
    state.emit(time, "hr.person.updated", person.person_id, data)


def move_elsewhere(state: ProvinceState, time: datetime, person: Person) -> None:
    """Transfer to a sibling unit mostly, sometimes to any unit of the same family."""
    rng = state.rng
    home = state.units[person.home]
    if home.parent_id is not None and rng.random() < 0.7:
        options = [u for u in state.children[home.parent_id] if u != home.unit_id]
    else:
        options = [
            u.unit_id
            for u in state.open_units()
            if u.family == home.family and u.level != "province" and u is not home
        ]
    options = [u for u in options if not state.units[u].closed]
    if options:
        state.transfer(time, person, rng.choice(options))


def leave(state: ProvinceState, time: datetime, person: Person) -> None:
    reason = state.rng.choices(["resigned", "dismissed", "deceased", "other"], [70, 5, 5, 20])[0]
    state.leave(time, person, reason)
